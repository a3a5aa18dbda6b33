"""Errors raised by the media layer. Each has a stable ``code`` for the protocol."""


class MediaError(Exception):
    code = "media_error"


class UnsupportedCodec(MediaError):
    """The remote description offers none of the codecs the SFU forwards (VP8, Opus)."""

    code = "unsupported_codec"


class NegotiationError(MediaError):
    """An SDP answer could not be applied (malformed, stale, or out of turn)."""

    code = "negotiation_failed"


class PeerClosed(MediaError):
    code = "peer_closed"


class MediaPortsExhausted(MediaError):
    """Every UDP port of the configured media range (``--media-ports``) is in use: no new peer
    can be connected until someone leaves."""

    code = "media_ports_full"


class SpeechModelError(MediaError):
    """The speech recognition model is missing, damaged, or not a CTranslate2 Whisper folder."""

    code = "speech_model_invalid"
