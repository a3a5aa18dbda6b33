"""Analysis of the streams: what a published camera and microphone show and sound like.

- ``presence.py``: :class:`PresenceMonitor`: liveness from frames arriving (no decoding), and
  an analysis every second or so per track at its own cadence (the camera's next keyframe, the
  microphone's packets since the last one) in worker threads; a late verdict changes nothing
- ``judging.py``: the work done in those threads: decode, a dark or frozen picture, faces, a voice
"""
