"""Media: the SFU (rooms, peers, encoded-frame forwarding) on aiortc.

Knows rooms, peers and tracks (and records tracks to files); nothing of meetings, members or votes.
"""

from gikai.media.archive.recording import Recorder, SegmentInfo, recover
from gikai.media.errors import MediaError, NegotiationError, PeerClosed, UnsupportedCodec
from gikai.media.sfu.forwarding import DownTrack, UpTrack
from gikai.media.sfu.frames import EncodedFrame
from gikai.media.sfu.peer import Offer, Peer
from gikai.media.sfu.room import Room
from gikai.media.sfu.sfu import SFU

__all__ = [
    "SFU",
    "DownTrack",
    "EncodedFrame",
    "MediaError",
    "NegotiationError",
    "Offer",
    "Peer",
    "PeerClosed",
    "Recorder",
    "Room",
    "SegmentInfo",
    "UnsupportedCodec",
    "UpTrack",
    "recover",
]
