"""Media: the SFU (rooms, peers, encoded-frame forwarding) on aiortc.

Knows rooms, peers and tracks (and records tracks to files); nothing of meetings, members or votes.
"""

from .errors import MediaError, NegotiationError, PeerClosed, UnsupportedCodec
from .forwarding import DownTrack, UpTrack
from .frames import EncodedFrame
from .peer import Offer, Peer
from .recording import Recorder, SegmentInfo, recover
from .room import Room
from .sfu import SFU

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
