"""Members who speak from Python: aiortc clients that publish only a microphone
(tests/support/speaking.py), silent until the test makes them say something."""

from __future__ import annotations

from tests.support.speaking import SpeakingTrack, opus_speech
from tests.support.waiting import BROWSER_BOUND

from .socketmembers import SocketMembers, _Publisher

__all__ = ["Speakers", "opus_speech"]

class _Speaker(_Publisher):
    def __init__(self, ws_url: str, token: str) -> None:
        self.microphone = SpeakingTrack()
        super().__init__(ws_url, token, {"audio": self.microphone})  # a microphone only


class Speakers(SocketMembers):
    """A background event loop holding members who speak when told."""

    THREAD = "speakers"
    RUN_BOUND = 3 * BROWSER_BOUND

    def join(self, link: str) -> str:
        return self._add(lambda token: _Speaker(self.ws_url, token), link)

    def media_up(self, index: int) -> bool:
        pc = self.members[index].pc
        return pc is not None and pc.connectionState == "connected"

    def say(self, index: int, packets: list[bytes]) -> float:
        """Queue a sentence at a member's microphone; returns when its speech ends (time.time())."""
        async def queue() -> float:
            return float(self.members[index].microphone.say(packets))
        return float(self._run(queue()))
