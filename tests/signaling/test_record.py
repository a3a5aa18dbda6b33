"""A sitting's record is a signed hash chain: an export verifies offline, and any edit is named."""

import json
import subprocess
import sys
from pathlib import Path

from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.support.server import Parts

ROOT = Path(__file__).resolve().parents[2]


def gikai(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gikai", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


async def test_an_exported_record_verifies_and_fails_after_any_edit(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"],
                                                          presence_detection=False)))
    services = Parts(client.app)
    meeting, participants, _ = await services.directory.ensure_rehearsal()
    for p in participants[:7]:
        await services.sittings.execute(meeting.id, lambda s, now, pid=p.id: s.connected(pid, now))
    chair = participants[0].id
    await services.sittings.execute(meeting.id, lambda s, now: s.open(chair, now))
    await services.sittings.execute(meeting.id, lambda s, now: s.call_presenter(chair, participants[2].id, now))

    out = tmp_path / "record.json"
    exported = gikai("record", "export", meeting.id, "--out", str(out), "--data", str(tmp_path))
    assert exported.returncode == 0, exported.stderr
    ok = gikai("verify", str(out))
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 9 entries"), ok.stdout + ok.stderr

    record = json.loads(out.read_text(encoding="utf-8"))

    def verify_tampered(change) -> str:
        copy = json.loads(json.dumps(record))
        change(copy["entries"])
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(copy, ensure_ascii=False), encoding="utf-8")
        result = gikai("verify", str(bad))
        assert result.returncode == 1
        return result.stderr

    edited = verify_tampered(lambda e: e[7]["data"].update(state="adjourned"))
    assert "entry 8" in edited and "changed" in edited
    deleted = verify_tampered(lambda e: e.pop(3))
    assert "entry 4" in deleted
    swapped = verify_tampered(lambda e: e.__setitem__(slice(1, 3), [e[2], e[1]]))
    assert "entry 2" in swapped

    def forge(entries):  # recompute the hash of an edited entry: the signature gives it away
        from gikai.orchestrator.domain.ledger import entry_hash

        e = entries[-1]
        e["data"]["holder_id"] = participants[3].id
        e["hash"] = entry_hash(meeting.id, e["seq"], e["at"], e["name"], e["actor_id"], e["agenda_item_id"],
                               e["data"], e["prev_hash"])

    assert "not signed" in verify_tampered(forge)
