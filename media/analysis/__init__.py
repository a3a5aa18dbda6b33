"""Analysis of the streams: what a published camera and microphone show and sound like.

- ``presence.py``: :class:`PresenceMonitor`, its own decoder fed from the forwarded frames, a few
  analyses a second in worker threads: a live camera, a face, a dark or frozen picture, a voice
"""
