"""The meeting: bodies, members, sittings and their rules. Knows nothing of HTTP or WebRTC."""
