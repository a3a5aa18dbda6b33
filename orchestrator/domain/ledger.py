"""The sitting's record as a hash chain: each entry names the hash of the one before it.

Anyone can recompute the chain from an export; the server also signs each entry's hash
with its Ed25519 key (see orchestrator/service/signing.py), so an entry cannot be made up
either. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(meeting_id: str, seq: int, at: str, name: str, actor_id: str | None,
               agenda_item_id: str | None, data: dict[str, Any], prev_hash: str) -> str:
    body = {"meeting_id": meeting_id, "seq": seq, "at": at, "name": name, "actor_id": actor_id,
            "agenda_item_id": agenda_item_id, "data": data, "prev_hash": prev_hash}
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True)
class Problem:
    seq: int  # the first entry that does not check out (or the position where one is missing)
    reason: str


def verify_chain(meeting_id: str, entries: Sequence[dict[str, Any]],
                 signature_ok: Callable[[str, str], bool]) -> Problem | None:
    """The first entry that breaks the chain or its signature; None when all check out."""
    prev = GENESIS
    for expected_seq, e in enumerate(entries, start=1):
        seq = e.get("seq")
        if seq != expected_seq:
            return Problem(expected_seq, f"entry {expected_seq} is missing or out of order (found {seq})")
        if e.get("prev_hash") != prev:
            return Problem(seq, f"entry {seq} does not follow entry {seq - 1}")
        digest = entry_hash(meeting_id, seq, e["at"], e["name"], e.get("actor_id"), e.get("agenda_item_id"),
                            e.get("data", {}), e["prev_hash"])
        if digest != e.get("hash"):
            return Problem(seq, f"entry {seq} ({e.get('name')}) was changed after it was recorded")
        if not signature_ok(digest, e.get("signature", "")):
            return Problem(seq, f"entry {seq} is not signed by this server's key")
        prev = digest
    return None
