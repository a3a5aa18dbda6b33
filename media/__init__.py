"""Media: the SFU on aiortc (rooms, peers, encoded-frame forwarding), analysis of the streams, the
archive's media files, and the PDF sandbox.

Knows rooms, peers, tracks and files; nothing of sittings, members or votes. The other layers
import from here; the rooms inside are:

- ``sfu/``: rooms, peers, viewers, up- and down-tracks, frame assembly and forwarding, UDP, ICE
- ``analysis/``: what a stream shows and sounds like (presence: a face, a voice, a live camera)
- ``archive/``: tracks recorded to WebM segments without re-encoding; the publishable MP4 rendered
- ``pdf/``: PDF documents read and drawn by PDFium in a sandboxed worker process
- ``errors.py``: the media errors, each with a stable code
"""

from gikai.media.analysis.presence import AudioObservation, Observation, PresenceMonitor, VideoObservation
from gikai.media.archive.recording import Recorder, SegmentInfo, recover
from gikai.media.archive.render import RenderCancelled, RenderError, RenderPlan, RenderResult, SourceFile, render
from gikai.media.errors import MediaError, MediaPortsExhausted, NegotiationError, PeerClosed, UnsupportedCodec
from gikai.media.pdf.sandbox import DocumentInfo, DocumentRejected, DocumentRenderer, Limits, PageInfo
from gikai.media.sfu.forwarding import DownTrack, UpTrack
from gikai.media.sfu.frames import EncodedFrame
from gikai.media.sfu.ice import set_host_addresses
from gikai.media.sfu.peer import Offer, Peer, SendOffer
from gikai.media.sfu.ports import PortRange, ensure_free_port, use_media_ports
from gikai.media.sfu.room import Room
from gikai.media.sfu.sfu import SFU
from gikai.media.sfu.viewer import Viewer

__all__ = [
    "SFU",
    "AudioObservation",
    "DocumentInfo",
    "DocumentRejected",
    "DocumentRenderer",
    "DownTrack",
    "EncodedFrame",
    "Limits",
    "MediaError",
    "MediaPortsExhausted",
    "NegotiationError",
    "Observation",
    "Offer",
    "PageInfo",
    "Peer",
    "PeerClosed",
    "PortRange",
    "PresenceMonitor",
    "Recorder",
    "RenderCancelled",
    "RenderError",
    "RenderPlan",
    "RenderResult",
    "Room",
    "SegmentInfo",
    "SendOffer",
    "SourceFile",
    "UnsupportedCodec",
    "UpTrack",
    "VideoObservation",
    "Viewer",
    "ensure_free_port",
    "recover",
    "render",
    "set_host_addresses",
    "use_media_ports",
]
