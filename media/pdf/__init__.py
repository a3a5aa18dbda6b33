"""PDF documents (agenda papers): their pages, sizes and text, and their pages as images, with PDFium
never in the server's process.

- ``sandbox.py``: the server's side: :class:`PdfSandbox` (a worker process with limits and a timeout,
  replaced when it crashes or hangs) and :class:`DocumentRenderer` (inspect, draw, cache on disk)
- ``worker.py``: the worker process (run as a script) and the pipe format both sides speak
"""
