"""The archive: past sittings to find, each read from its signed record, with its recordings,
minutes, and the programme (who is on screen and heard when) of the publishable video.

Everything here is derived from the record and the recording files it names; nothing is
stored twice. Export writes one self-contained folder; import reads one back (verifying the
record and every file's hash) into ``<data>/imported/<meeting id>/``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gikai.orchestrator.domain.audit import audit
from gikai.orchestrator.domain.chronicle import Chronicle, build_chronicle
from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.ledger import verify_chain
from gikai.orchestrator.domain.transcript import Sentence, SpeechText
from gikai.orchestrator.persistence.archive import ListedSitting
from gikai.orchestrator.reports.minutes import Words, minutes_html, minutes_json, minutes_pdf
from gikai.orchestrator.reports.timeline import timeline_svg
from gikai.orchestrator.reports.votes import VoteTable, vote_table, votes_csv
from gikai.orchestrator.reports.votes_pdf import votes_pdf
from gikai.orchestrator.service.signing import Signer, signature_checker
from gikai.orchestrator.service.unit_of_work import UnitOfWorkFactory

EXPORT_FORMAT = "gikai-archive/1"
CHAIR_ROLES = ("chair",)


class ArchiveError(Exception):
    """An export folder that does not check out (named file, reason)."""


@dataclass(frozen=True)
class Track:
    key: str  # <participant id>-<slot>: audio, video (the camera) or screen
    participant_id: str
    kind: str  # "audio", "video" or "screen" (a shared screen)
    segments: list[dict[str, Any]]  # {path, start, end, sha256} with start/end in seconds from the opening


@dataclass
class Programme:
    """The publishable video as data: the render job turns it into pictures and sound."""

    duration: float
    shots: list[tuple[float, float, str | None]] = field(default_factory=list)  # participant on screen
    audio: list[tuple[float, float, str]] = field(default_factory=list)  # participant heard
    captions: list[tuple[float, float, list[str]]] = field(default_factory=list)


class ArchiveService:
    def __init__(self, units: UnitOfWorkFactory, signer: Signer, recordings_root: Path, imported_root: Path) -> None:
        self._units = units
        self.signer = signer
        self.recordings_root = recordings_root
        self.imported_root = imported_root

    # -- finding sittings ------------------------------------------------------------
    async def sittings(self, q: str = "", body: str = "", on: date | None = None,
                       speaker: str = "") -> list[dict[str, Any]]:
        """Past and current sittings, held here or imported, newest first; ``q`` searches titles,
        agenda items and the words spoken, ``speaker`` the names of those who held the floor."""
        async with self._units() as uow:
            listed = await uow.archive.held_sittings()
            spoken = {f.meeting_id for f in await uow.transcripts.search(q, limit=2000)} if q.strip() else set()
            speakers: dict[str, set[str]] = {}  # who held the floor, by sitting
            if speaker:
                for sitting in listed:
                    names = {p.id: p.name for p in await uow.directory.participants(sitting.id)}
                    grants = [e for e in await uow.record.events(sitting.id) if e.name == Entry.FLOOR_GRANTED]
                    speakers[sitting.id] = {names.get(e.data.get("holder_id", ""), "") for e in grants}
        here = {s.id for s in listed}
        for sitting, holders in await asyncio.to_thread(self._imported_sittings):
            if sitting.id not in here:
                listed.append(sitting)
                speakers[sitting.id] = holders
        listed.sort(key=lambda s: s.scheduled_at, reverse=True)
        found = []
        for sitting in listed:
            text = " ".join([sitting.title, sitting.body_name, *sitting.agenda]).casefold()
            if q and q.casefold() not in text and sitting.id not in spoken:
                continue
            if body and body.casefold() not in sitting.body_name.casefold():
                continue
            if on and sitting.scheduled_at.date() != on:
                continue
            if speaker and not any(speaker.casefold() in n.casefold() for n in speakers.get(sitting.id, ())):
                continue
            found.append({"id": sitting.id, "title": sitting.title, "body": sitting.body_name,
                          "state": sitting.state, "scheduled_at": sitting.scheduled_at.isoformat(),
                          "place": sitting.place, "agenda": sitting.agenda})
        return found

    def _imported_sittings(self) -> list[tuple[ListedSitting, set[str]]]:
        """The sittings imported from other servers (read from their checked export folders), each
        with who held the floor."""
        out = []
        for manifest_path in sorted(self.imported_root.glob("*/archive.json")):
            imported = self._imported(manifest_path.parent.name)
            if imported is None:
                continue
            facts, record = imported
            names = {p["id"]: p["name"] for p in facts["participants"]}
            out.append((ListedSitting(
                facts["id"], facts["title"], facts["body"], facts["state"],
                datetime.fromisoformat(facts["scheduled_at"]), facts["place"],
                [i["title"] for i in sorted(facts["agenda"], key=lambda i: i["position"])]),
                {names.get(e["data"].get("holder_id", ""), "") for e in record["entries"]
                 if e["name"] == Entry.FLOOR_GRANTED}))
        return out

    def _imported(self, meeting_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(meeting facts, the signed record as exported) of an imported sitting, or None."""
        folder = self.imported_root / meeting_id
        if not (folder / "archive.json").is_file():
            return None
        manifest = json.loads((folder / "archive.json").read_text(encoding="utf-8"))
        record = json.loads((folder / "record.json").read_text(encoding="utf-8"))
        return manifest["meeting"], record

    # -- one sitting -----------------------------------------------------------------
    async def record(self, meeting_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(meeting facts and roster, the record's entries)."""
        imported = await asyncio.to_thread(self._imported, meeting_id)
        if imported is not None:
            return imported[0], imported[1]["entries"]
        async with self._units() as uow:
            meeting = await uow.directory.meeting(meeting_id)
            if meeting is None:
                raise NotFound(f"meeting {meeting_id}")
            body = await uow.directory.body(meeting.body_id)
            people = await uow.directory.participants(meeting_id)
            items = await uow.directory.agenda(meeting_id)
            entries = await uow.record.entries(meeting_id)
        facts = {
            "id": meeting.id, "title": meeting.title, "place": meeting.place,
            "scheduled_at": meeting.scheduled_at.isoformat(), "state": meeting.state.value,
            "body": body.name if body else "", "body_kind": body.kind.value if body else None,
            "participants": [{"id": p.id, "name": p.name, "reading": p.reading, "role": p.role.value, "seat": p.seat}
                             for p in people],
            "agenda": [{"id": i.id, "position": i.position, "title": i.title, "kind": i.kind.value} for i in items],
        }
        return facts, entries

    async def signed_record(self, meeting_id: str) -> dict[str, Any]:
        """The record as ``gikai verify`` reads it, with the key that signed it: this server's,
        or for an imported sitting the key of the server that held it."""
        imported = await asyncio.to_thread(self._imported, meeting_id)
        if imported is not None:
            return imported[1]
        facts, entries = await self.record(meeting_id)
        return {"format": "gikai-record/1", "meeting_id": meeting_id, "title": facts["title"],
                "public_key": self.signer.public_pem(), "entries": entries}

    async def chronicle(self, meeting_id: str) -> Chronicle:
        facts, entries = await self.record(meeting_id)
        return chronicle_of(facts, entries)

    async def tracks(self, meeting_id: str) -> list[Track]:
        c = await self.chronicle(meeting_id)
        return tracks_of(c)

    def recording_file(self, meeting_id: str, relative: str) -> Path:
        """The path of one recorded segment, refusing anything outside the sitting's folder."""
        for root in (self.recordings_root / meeting_id, self.imported_root / meeting_id / "recordings"):
            path = (root / relative).resolve()
            if root.resolve() in path.parents and path.suffix == ".webm" and path.is_file():
                return path
        raise NotFound(f"recording {relative}")

    async def retention_years(self) -> dict[str, int]:
        """Each body's years of keeping recordings, by body id (for :meth:`expired`)."""
        async with self._units() as uow:
            return await uow.directory.retention_years()

    async def words(self, meeting_id: str) -> Words:
        """The speeches' texts (as they read now) and whether they are final, for the minutes; an
        imported sitting's from its exported minutes.json."""
        _, entries = await self.record(meeting_id)
        final = next(({**e["data"], "at": e["at"]} for e in entries if e["name"] == Entry.MINUTES_FINALISED), None)
        if await asyncio.to_thread(self._imported, meeting_id) is not None:
            return Words(await asyncio.to_thread(self._imported_texts, meeting_id), final)
        async with self._units() as uow:
            return Words(await uow.transcripts.texts(meeting_id), final)

    def _imported_texts(self, meeting_id: str) -> dict[int, SpeechText]:
        path = self.imported_root / meeting_id / "minutes.json"
        speeches = json.loads(path.read_text(encoding="utf-8")).get("speeches", []) if path.is_file() else []
        return {int(s["index"]): SpeechText(int(s["index"]), s["speaker_id"],
                                            [Sentence(x["start"], x["end"], x["text"]) for x in s["sentences"]],
                                            s.get("model") or "")
                for s in speeches if s.get("sentences")}

    async def minutes(self, meeting_id: str, fmt: str, lang: str = "ja") -> tuple[bytes, str]:
        c = await self.chronicle(meeting_id)
        words = await self.words(meeting_id)
        if fmt == "html":
            return minutes_html(c, lang, words).encode(), "text/html; charset=utf-8"
        if fmt == "pdf":
            return minutes_pdf(c, lang, words), "application/pdf"
        if fmt == "json":
            return json.dumps(minutes_json(c, words), ensure_ascii=False, indent=1).encode(), "application/json"
        raise NotFound(f"minutes as {fmt}")

    async def votes(self, meeting_id: str, fmt: str, ballot_id: str | None = None, encoding: str = "utf-8",
                    lang: str = "ja") -> tuple[bytes, VoteTable]:
        """議員別賛否 of the sitting, or of one ballot, from its record: as CSV or as PDF."""
        table = vote_table(await self.chronicle(meeting_id), ballot_id)
        if fmt == "csv":
            return votes_csv(table, encoding, lang), table
        return await asyncio.to_thread(votes_pdf, table, lang), table

    async def timeline(self, meeting_id: str, lang: str = "ja") -> str:
        return timeline_svg(await self.chronicle(meeting_id), lang)

    # -- export, import, retention ------------------------------------------------------
    async def export(self, meeting_id: str, out: Path) -> dict[str, Any]:
        """recordings/, record.json, minutes.{html,pdf,json} (ja), archive.json (the manifest)."""
        facts, _ = await self.record(meeting_id)
        record = await self.signed_record(meeting_id)
        words = await self.words(meeting_id)
        # Copying recordings and rendering the minutes take a while: not on the event loop.
        return await asyncio.to_thread(self._write_export, meeting_id, facts, record, words, out)

    def _write_export(self, meeting_id: str, facts: dict[str, Any], record: dict[str, Any], words: Words,
                      out: Path) -> dict[str, Any]:
        c = chronicle_of(facts, record["entries"])
        out.mkdir(parents=True, exist_ok=True)
        files: dict[str, str] = {}
        for track in tracks_of(c):
            for seg in track.segments:
                source = self.recording_file(meeting_id, seg["path"])
                target = out / "recordings" / seg["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                files[f"recordings/{seg['path']}"] = _sha256(target)
        documents = {"record.json": json.dumps(record, ensure_ascii=False, indent=1).encode(),
                     "minutes.html": minutes_html(c, "ja", words).encode(), "minutes.pdf": minutes_pdf(c, "ja", words),
                     "minutes.json": json.dumps(minutes_json(c, words), ensure_ascii=False, indent=1).encode()}
        for name, data in documents.items():
            (out / name).write_bytes(data)
            files[name] = hashlib.sha256(data).hexdigest()
        manifest = {"format": EXPORT_FORMAT, "meeting": facts, "chain_head": c.chain_head, "files": files,
                    "exported_at": datetime.now().astimezone().isoformat(timespec="seconds")}
        (out / "archive.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        return manifest

    def import_folder(self, folder: Path) -> str:
        """Check an export (the record's chain, signatures and decisions; every file's hash and
        every recording the record names) and copy it into the archive. Returns the meeting id."""
        manifest = _read_json(folder / "archive.json")
        if manifest.get("format") != EXPORT_FORMAT:
            raise ArchiveError("archive.json: not a gikai archive export")
        for name, digest in manifest.get("files", {}).items():
            path = (folder / name).resolve()
            if folder.resolve() not in path.parents or not path.is_file():
                raise ArchiveError(f"{name}: missing")
            if _sha256(path) != digest:
                raise ArchiveError(f"{name}: its content does not match the manifest")
        record = _read_json(folder / "record.json")
        problem = verify_chain(record["meeting_id"], record["entries"], signature_checker(record["public_key"]))
        if problem is None:
            problem, _ = audit(record["entries"])
        if problem is not None:
            raise ArchiveError(f"record.json: entry {problem.seq}: {problem.reason}")
        for e in record["entries"]:
            if e["name"] == Entry.RECORDING_SEGMENT:
                name = f"recordings/{e['data']['path']}"
                if manifest["files"].get(name) != e["data"]["sha256"]:
                    raise ArchiveError(f"{name}: not the file the record names")
        meeting_id = str(record["meeting_id"])
        target = self.imported_root / meeting_id
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(folder, target)
        return meeting_id

    async def expired(self, now: datetime, retention_years: Callable[[str], int]) -> list[str]:
        """Sittings whose recordings are past their body's retention (``retention_years(body_id)``)."""
        async with self._units() as uow:
            rows = await uow.archive.adjourned_sittings()
        out = []
        for meeting_id, body_id, scheduled_at in rows:
            years = retention_years(body_id)
            past = years > 0 and scheduled_at + timedelta(days=365 * years + years // 4) < now
            if past and (self.recordings_root / meeting_id).exists():
                out.append(meeting_id)
        return out


def chronicle_of(facts: dict[str, Any], entries: list[dict[str, Any]]) -> Chronicle:
    return build_chronicle(
        entries, facts["participants"], meeting_id=facts["id"], title=facts["title"], body_name=facts["body"],
        body_kind=facts.get("body_kind"), place=facts.get("place", ""),
        scheduled_at=datetime.fromisoformat(facts["scheduled_at"]) if facts.get("scheduled_at") else None,
        agenda=facts.get("agenda", ()))


def tracks_of(c: Chronicle) -> list[Track]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    kinds: dict[str, str] = {}
    for seg in c.recordings:
        if not seg.path:
            continue
        by_key.setdefault(seg.key, []).append({
            "path": seg.path, "sha256": seg.sha256, "start": round(c.offset(seg.start), 3),
            "end": round(c.offset(seg.end), 3) if seg.end else None})
        # A shared screen is a video too; it is "screen" here so that a player looking for a
        # participant's camera does not take it.
        slot = seg.key.rsplit("-", 1)[-1]
        kinds[seg.key] = "screen" if slot == "screen" else seg.kind or slot
    return [Track(key, key.rsplit("-", 1)[0], kinds[key], sorted(segs, key=lambda s: s["start"]))
            for key, segs in sorted(by_key.items())]


def programme(c: Chronicle, lang: str = "ja") -> Programme:
    """Follow the floor: the speaker on screen and heard while they hold the floor, the chair
    otherwise; no picture in recess; a caption with the name and the agenda item."""
    from gikai.orchestrator.reports.minutes import role_title

    duration = max(0.0, c.offset(c.end))
    chair = next((p.id for p in c.people.values() if p.role in CHAIR_ROLES), None)
    cuts: list[tuple[float, float, str | None]] = []
    t = 0.0
    for s in sorted(c.speeches, key=lambda s: s.start):
        start, end = max(t, c.offset(s.start)), c.offset(s.end)
        if start > t:
            cuts.append((t, start, chair))
        if end > start:
            cuts.append((start, end, s.holder_id))
            t = end
    if t < duration:
        cuts.append((t, duration, chair))
    recesses = [(c.offset(r.start), c.offset(r.end)) for r in c.recesses]
    p = Programme(duration)
    for start, end, who in _without(cuts, recesses):
        p.shots.append((start, end, who))
        if who:
            p.audio.append((start, end, who))
            if chair and who != chair:
                p.audio.append((start, end, chair))  # the chair is heard throughout the floor
            person = c.person(who)
            item = _item_at(c, start)
            p.captions.append((start, end, [f"{person.name} {role_title(c, person.role, lang)}".strip(),
                                            item or c.title]))
    for start, end in recesses:
        p.shots.append((start, end, None))
        p.captions.append((start, end, ["休憩中" if lang == "ja" else "In recess", c.title]))
    p.shots.sort()
    p.captions.sort(key=lambda x: x[0])
    return p


def _without(cuts: list[tuple[float, float, str | None]],
             holes: list[tuple[float, float]]) -> list[tuple[float, float, str | None]]:
    out = []
    for start, end, who in cuts:
        pieces = [(start, end)]
        for h0, h1 in holes:
            pieces = [q for a, b in pieces for q in ((a, min(b, h0)), (max(a, h1), b)) if q[1] - q[0] > 0.001]
        out += [(a, b, who) for a, b in pieces]
    return out


def _item_at(c: Chronicle, t: float) -> str | None:
    for item in c.items:
        for span in item.spans:
            if c.offset(span.start) <= t < c.offset(span.end):
                return item.title
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"{path.name}: {exc}") from None
    if not isinstance(found, dict):
        raise ArchiveError(f"{path.name}: not a JSON object")
    return found
