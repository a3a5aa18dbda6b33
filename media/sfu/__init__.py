"""The SFU: rooms of peers that forward each other's encoded frames, never decoding or re-encoding.

- ``sfu.py``: :class:`SFU`, rooms by id; the only object the signaling layer holds on to
- ``room.py``: :class:`Room`, one sitting's peers, each subscribed to the others and to the shared screen
- ``peer.py``: :class:`Peer`, one participant's connection, negotiated by the server; the receiver tap
- ``viewer.py``: :class:`Viewer`, a receive-only peer (the public gallery) sent a few chosen publications
- ``forwarding.py``: :class:`UpTrack` (a publication) and :class:`DownTrack` (a subscription)
- ``layers.py``: VP8 temporal layers per subscriber: the layer chooser and the frame filter
- ``retransmit.py``: how often a packet a subscriber lost is sent again
- ``assembler.py``: RTP packets to complete frames on the marker bit, in place of aiortc's jitter buffer
- ``frames.py``: :class:`EncodedFrame`, time bases, VP8 keyframe test and temporal layer (TID)
- ``tasks.py``: :class:`TaskSet`, background tasks kept, logged and ended at close
- ``udp.py``: several datagrams per socket wake-up
- ``ice.py``: which local addresses are offered as ICE host candidates
- ``consent.py``: ICE consent checks retransmitted, so a busy server does not drop a peer that answered
"""
