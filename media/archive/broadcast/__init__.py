"""The public broadcast: what the gallery shows (the floor holder or the shared screen, the
audible voices, a caption band with name and agenda item) encoded once per sitting as H.264 +
AAC into HLS (fMP4 segments and a rolling playlist) in a folder any HTTP server can serve.

- ``feed``: the server's side, taps on the shown publications and the process they feed
- ``worker``: the encoding process's loop, on its own clock
- ``live``: decoding, composing (the publishable video's canvas and mixer) and the HLS muxer
"""

from gikai.media.archive.broadcast.feed import LiveBroadcast

__all__ = ["LiveBroadcast"]
