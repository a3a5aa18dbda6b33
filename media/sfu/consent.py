"""ICE consent freshness (RFC 7675) that a busy server does not mistake for a lost peer.

aioice checks consent every ~5 s with one STUN request that must be answered within 0.5 s (no
retransmission), and drops the peer after six misses in a row. A response that reaches a loaded
server's event loop after 0.5 s is counted as a miss although the peer answered: on a busy
2-core machine the SFU dropped browsers and Python peers alike (the member's socket closed, the
page reconnected, a chair's command was lost). Here each check is retransmitted (0.5, 1, 2 s), so
a late answer still counts; consent still expires when nothing comes back for six checks (the
30 s of RFC 7675, plus the retransmissions). Applied once, when the SFU module is imported.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import aioice.ice
from aioice import stun

RETRANSMISSIONS = 2  # three tries in 3.5 s: within one ~5 s consent interval


async def query_consent(self: Any) -> None:
    """aioice's ``Connection.query_consent`` (0.10–0.13) with retransmitted checks."""
    assert self.remote_password is not None
    failures = 0
    while True:
        await asyncio.sleep(aioice.ice.CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))
        for pair in self._nominated.values():
            request = self.build_request(pair, nominate=False)
            try:
                await pair.protocol.request(request, pair.remote_addr,
                                            integrity_key=self.remote_password.encode("utf8"),
                                            retransmissions=RETRANSMISSIONS)
                failures = 0
            except stun.TransactionError:
                failures += 1
            if failures >= aioice.ice.CONSENT_FAILURES:
                self._Connection__log_info("Consent to send expired")
                # read by media/sfu/dtls.py's failure_reason for the server's warning
                self.gikai_consent_failure = (f"ICE consent expired: {failures} checks in a row unanswered "
                                              f"(each tried {RETRANSMISSIONS + 1} times)")
                self._query_consent_task = None
                await self.close()
                return


def use_patient_consent() -> None:
    """Replace aioice's consent loop; a newer aioice that renamed what it uses fails loudly here."""
    for name in ("query_consent", "build_request", "close", "_Connection__log_info"):
        if not hasattr(aioice.ice.Connection, name):
            raise RuntimeError(f"aioice.ice.Connection has no {name}: check media/sfu/consent.py")
    for name in ("CONSENT_INTERVAL", "CONSENT_FAILURES"):
        if not hasattr(aioice.ice, name):
            raise RuntimeError(f"aioice.ice has no {name}: check media/sfu/consent.py")
    aioice.ice.Connection.query_consent = query_consent  # type: ignore[method-assign]
