"""Reports drawn from a sitting's record: the minutes (data, document, web page, PDF) and the timeline picture."""
