"""``/metrics`` for Prometheus (``prometheus-client``), read from the live objects at each scrape.

Nothing is counted on the forwarding path for this: members and gallery viewers come from the
sockets' registers, streams, packets and bytes from the SFU's rooms and its RTP senders'
statistics (media/sfu/stats.py), presence from the live sittings, open ballots from the ballot
service, recording bytes from the recorder's finished segments, errors from the sockets and the
JSON API as they are sent (wire.ErrorTally). Each app has its own registry, so several apps (in
tests) never share a number.

Who may scrape: only addresses in ``--metrics-allow`` (default loopback), judged on the client's
address (the forwarded one when the request comes through a trusted proxy). The numbers say
nothing secret, but how many members are connected during a closed session is nobody's business.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gikai.media import SFU
from gikai.media.sfu.stats import ForwardingCount, ForwardingTally
from gikai.orchestrator.domain.presence import Presence
from gikai.orchestrator.domain.voting import BallotState
from gikai.orchestrator.service.ballots import BallotService
from gikai.orchestrator.service.sittings import SittingService
from gikai.signaling.adapters.captions import CaptionsBridge
from gikai.signaling.adapters.recordings import Recordings
from gikai.signaling.config import CONFIG, address_in
from gikai.signaling.gallery.seats import Gallery
from gikai.signaling.ops.health import LoopLag
from gikai.signaling.wire import ERRORS, ErrorTally
from gikai.signaling.ws.hub import Hub

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The classic text format, which every Prometheus (2.x and 3.x) and agent reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Sources:
    """The live objects the numbers are read from (given by signaling/app.py)."""

    hub: Hub
    gallery: Gallery
    sfu: SFU
    sittings: SittingService
    ballots: BallotService
    recordings: Recordings
    loop_lag: LoopLag
    errors: ErrorTally
    captions: CaptionsBridge


@dataclass
class Snapshot:
    members: int = 0
    viewers: int = 0
    forwarding: ForwardingCount = field(default_factory=lambda: ForwardingCount(0, 0, 0, 0, 0))
    presence: Counter[str] = field(default_factory=Counter)
    open_ballots: int = 0
    recording_bytes: int = 0
    recordings_active: int = 0
    loop_lag: float = 0.0
    loop_lag_worst: float = 0.0
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    captions: int = 0
    captioned_streams: int = 0
    recogniser_seconds: float = 0.0


class GikaiCollector(Collector):
    """Writes the last snapshot taken as metric families."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterable[Metric]:
        return list(self._families(self.snapshot))

    @staticmethod
    def _families(s: Snapshot) -> Iterator[Metric]:
        def gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, text, value=value)

        yield gauge("gikai_members_connected", "Member sockets joined to a sitting", s.members)
        yield gauge("gikai_gallery_viewers", "Public gallery viewers watching", s.viewers)
        yield gauge("gikai_sfu_rooms", "SFU rooms (sittings with media)", s.forwarding.rooms)
        yield gauge("gikai_sfu_peers", "SFU peer connections of members", s.forwarding.peers)
        yield gauge("gikai_forwarded_streams", "Subscriptions being forwarded", s.forwarding.streams)
        yield CounterMetricFamily("gikai_forwarded_packets", "RTP packets sent to subscribers",
                                  value=s.forwarding.packets)
        yield CounterMetricFamily("gikai_forwarded_bytes", "RTP bytes sent to subscribers",
                                  value=s.forwarding.bytes)
        yield gauge("gikai_event_loop_lag_seconds", "How late the event loop woke a timer, last", s.loop_lag)
        yield gauge("gikai_event_loop_lag_worst_seconds", "Worst event-loop lag of the last ~10 s",
                    s.loop_lag_worst)
        presence = GaugeMetricFamily("gikai_presence", "Participants of live sittings by presence state",
                                     labels=["state"])
        for state in Presence:
            presence.add_metric([state.value], s.presence.get(state.value, 0))
        yield presence
        yield gauge("gikai_ballots_open", "Ballots open now", s.open_ballots)
        yield CounterMetricFamily("gikai_recording_bytes", "Bytes of finished recording segments",
                                  value=s.recording_bytes)
        yield gauge("gikai_recordings_active", "Sittings being recorded now", s.recordings_active)
        errors = CounterMetricFamily("gikai_errors", "Error replies sent, by channel and code",
                                     labels=["channel", "code"])
        for (channel, code), count in sorted(s.errors.items()):
            errors.add_metric([channel, code], count)
        yield errors
        yield CounterMetricFamily("gikai_captions", "Live captions sent (each to every member, viewer and screen)",
                                  value=s.captions)
        yield gauge("gikai_captioned_microphones", "Microphones being recognised for live captions now",
                    s.captioned_streams)
        yield CounterMetricFamily("gikai_recogniser_cpu_seconds", "CPU seconds the speech recogniser spent",
                                  value=s.recogniser_seconds)


class Metrics:
    """The app's registry and what fills it at each scrape."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self.registry = CollectorRegistry(auto_describe=False)
        self.collector = GikaiCollector()
        self.registry.register(self.collector)
        self._forwarding = ForwardingTally()
        self._lock = asyncio.Lock()

    async def snapshot(self) -> Snapshot:
        src = self.sources
        presence: Counter[str] = Counter()
        open_ballots = 0
        for sitting in src.sittings.live():
            presence.update(tracker.state.value for tracker in sitting.presence.values())
            ballot = await src.ballots.latest(sitting.meeting.id)
            open_ballots += ballot is not None and ballot.state is BallotState.OPEN
        return Snapshot(
            members=sum(len(m.attendees) for m in src.hub.meetings.values()),
            viewers=src.gallery.viewers,
            forwarding=await self._forwarding.count(src.sfu.rooms.values()),
            presence=presence, open_ballots=open_ballots,
            recording_bytes=src.recordings.bytes_written, recordings_active=len(src.recordings.active),
            loop_lag=src.loop_lag.last, loop_lag_worst=src.loop_lag.worst,
            errors=Counter(src.errors.counts),
            captions=src.captions.delivered, captioned_streams=src.captions.watching(),
            recogniser_seconds=src.captions.engine.busy_seconds if src.captions.engine is not None else 0.0,
        )

    async def exposition(self) -> bytes:
        async with self._lock:  # one snapshot per text, even with two scrapers at once
            self.collector.snapshot = await self.snapshot()
            return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)


async def metrics(request: web.Request) -> web.Response:
    if not address_in(request.remote or "", request.app[CONFIG].metrics_allow):
        raise web.HTTPForbidden(text="metrics are not served to this address (see --metrics-allow)")
    body = await request.app[METRICS].exposition()
    response = web.Response(body=body, headers={"Cache-Control": "no-store"})
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


@web.middleware
async def count_http_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The JSON API's refusals (signaling/http/common.py ``fail``) counted by their code."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" and exc.text:
            try:
                code = json.loads(exc.text).get("code")
            except (ValueError, AttributeError):
                code = None
            if isinstance(code, str):
                request.app[ERRORS].add("http", code)
        raise
