"""A picture of the sitting (SVG): the agenda, the speeches, the votes and who was there, on
one time axis, with recesses shaded.

Every mark carries ``data-t``, its start in seconds from the sitting's start, so a page can
seek the recording's player when it is clicked, and a ``<title>`` that says in words what
the mark shows (screen readers read it; browsers show it on hover). All text is escaped.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from gikai.orchestrator.domain.chronicle import BallotRecord, Chronicle, Person
from gikai.orchestrator.reports.words import TIMELINE_WORDS as _WORDS
from gikai.orchestrator.reports.words import clock, duration, role_title, speaker, word

_WIDTH, _LABEL, _PAD = 1100, 170, 16
_TOP, _LANE, _GAP = 64, 22, 5
_FONT = '"Noto Sans CJK JP", "IPAPGothic", "IPAexGothic", "Hiragino Sans", "Yu Gothic", "IPAGothic", sans-serif'
_COLOURS = {"in_room": "#2b6cb0", "remote": "#2c7a7b", "away": "#d69e2e", "item": "#718096",
            "speech": "#553c9a", "adopted": "#276749", "rejected": "#c53030", "tied": "#b7791f", "open": "#4a5568"}


def _t(lang: str, key: str, **kw: str) -> str:
    return _WORDS[lang][key].format(**kw) if kw else _WORDS[lang][key]


def _text_width(text: str, size: float) -> float:
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * .6 for ch in text)


def _fit(text: str, width: float, size: float) -> str:
    """The text, shortened with an ellipsis to fit the width; "" when not even a little fits."""
    if _text_width(text, size) <= width:
        return text
    out = ""
    for ch in text:
        if _text_width(out + ch + "…", size) > width:
            break
        out += ch
    return out + "…" if len(out) >= 2 else ""


class _Canvas:
    def __init__(self, c: Chronicle) -> None:
        self.c = c
        self.total = max(60.0, (c.end - c.start).total_seconds())
        self.plot = _WIDTH - _LABEL - _PAD
        self.parts: list[str] = []

    def x(self, at: datetime) -> float:
        seconds = min(max(self.c.offset(at), 0.0), self.total)
        return _LABEL + seconds / self.total * self.plot

    def seek(self, at: datetime) -> str:
        return f"{max(0.0, min(self.c.offset(at), self.total)):.3f}".rstrip("0").rstrip(".")

    def mark(self, kind: str, start: datetime, end: datetime, y: float, fill: str, title: str,
             label: str = "", height: float = _LANE, extra: str = "") -> None:
        if end < self.c.start or start > self.c.end:
            return
        x0, x1 = self.x(start), self.x(end)
        w = max(x1 - x0, 2.0)
        text = _fit(label, w - 6, 11) if label else ""
        inner = (f'<text x="{x0 + 3:.1f}" y="{y + height / 2 + 4:.1f}" fill="#fff" font-size="11">'
                 f"{escape(text)}</text>") if text else ""
        self.parts.append(
            f'<g class="{kind}" data-t="{self.seek(start)}"{extra}><title>{escape(title)}</title>'
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{w:.1f}" height="{height}" rx="2" fill="{fill}"/>{inner}</g>')

    def lane_label(self, y: float, text: str, bold: bool = False) -> None:
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(f'<text x="{_PAD}" y="{y + _LANE / 2 + 4:.1f}" font-size="12"{weight}>'
                          f"{escape(_fit(text, _LABEL - _PAD - 8, 12))}</text>")
        self.parts.append(f'<line x1="{_LABEL}" x2="{_WIDTH - _PAD}" y1="{y + _LANE + _GAP / 2:.1f}" '
                          f'y2="{y + _LANE + _GAP / 2:.1f}" stroke="#e2e8f0"/>')


def _ticks(c: Chronicle, plot: float, total: float) -> list[datetime]:
    """Clock times on round minutes, as many as fit."""
    step = next((m for m in (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360) if total / 60 / m <= plot / 70), 720)
    local = c.local(c.start)
    first = local.replace(second=0, microsecond=0)
    first += timedelta(minutes=(-first.minute) % step if step < 60 else 0)
    if step >= 60:
        first = first.replace(minute=0) + timedelta(hours=1 if local.minute or local.second else 0)
    ticks, t = [], first
    while t <= c.local(c.end):
        if t >= local:
            ticks.append(t)
        t += timedelta(minutes=step)
    return ticks


def timeline_svg(c: Chronicle, lang: str = "ja") -> str:
    if lang not in _WORDS:
        raise ValueError(f"the timeline is written in 'ja' or 'en', not {lang!r}")
    cv = _Canvas(c)
    members = c.members()
    others = [p for p in c.others() if c.attended(p.id)]
    lanes = 3 + len(members) + len(others)
    bottom = _TOP + lanes * (_LANE + _GAP) + (8 if others else 0)
    height = bottom + 44

    # the axis and the grid
    cv.parts.append(f'<line x1="{_LABEL}" x2="{_WIDTH - _PAD}" y1="{_TOP - 8}" y2="{_TOP - 8}" stroke="#1a202c"/>')
    for tick in _ticks(c, cv.plot, cv.total):
        x = cv.x(tick)
        cv.parts.append(f'<g class="tick" data-t="{cv.seek(tick)}"><title>{tick:%H:%M}</title>'
                        f'<line x1="{x:.1f}" x2="{x:.1f}" '
                        f'y1="{_TOP - 12}" y2="{bottom}" stroke="#cbd5e0" stroke-dasharray="2 3"/>'
                        f'<text x="{x:.1f}" y="{_TOP - 16}" font-size="11" text-anchor="middle">'
                        f'{tick:%H:%M}</text></g>')

    y = _TOP
    cv.lane_label(y, _t(lang, "agenda"), bold=True)
    for item in c.items:
        for span in item.spans:
            title = f"{item.title} {clock(c, span.start)}–{clock(c, span.end)}"
            if item.result and item.decided_at:
                title += f" — {item.result}"
            cv.mark("item", span.start, span.end, y, _COLOURS["item"], title, item.title)
    y += _LANE + _GAP
    cv.lane_label(y, _t(lang, "speeches"), bold=True)
    for s in c.speeches:
        who = c.person(s.holder_id)
        title = (f"{speaker(c, s.holder_id, lang)} {word(lang, f'speech_kind.{s.kind}')} "
                 f"{clock(c, s.start)}–{clock(c, s.end)} ({duration(s.seconds, lang)})")
        cv.mark("speech", s.start, s.end, y, _COLOURS["speech"], title, who.name,
                extra=f" data-participant={quoteattr(s.holder_id)}")
    y += _LANE + _GAP
    cv.lane_label(y, _t(lang, "votes"), bold=True)
    votes_y = y
    y += _LANE + _GAP
    for p in members:
        _attendance_lane(cv, p, y, lang)
        y += _LANE + _GAP
    if others:
        y += 8
        for p in others:
            _attendance_lane(cv, p, y, lang)
            y += _LANE + _GAP

    # recesses, shaded over the lanes; clicks on the marks beneath still reach them
    for r in c.recesses:
        label = f"{_t(lang, 'recess')} {clock(c, r.start)}–{clock(c, r.end)} ({duration(r.seconds, lang)})"
        x0, x1 = cv.x(r.start), cv.x(r.end)
        cv.parts.append(
            f'<g class="recess" data-t="{cv.seek(r.start)}"><title>{escape(label)}</title>'
            f'<rect x="{x0:.1f}" y="{_TOP - 8}" width="{max(x1 - x0, 2):.1f}" height="{bottom - _TOP + 8}" '
            f'fill="url(#recess)" stroke="#718096" pointer-events="none"/>'
            f'<text x="{(x0 + x1) / 2:.1f}" y="{bottom + 14}" font-size="11" text-anchor="middle">'
            f'{escape(_fit(_t(lang, "recess"), max(x1 - x0, 30), 11))}</text></g>')
    for b in c.ballots:  # over the shading: a vote's result stays legible
        _ballot(cv, b, votes_y, lang)

    title = f"{c.title} — {_t(lang, 'timeline')}"
    desc = _t(lang, "desc", start=clock(c, c.start), end=clock(c, c.end))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" '
            f'height="{height}" role="img" aria-labelledby="timeline-title timeline-desc" lang="{lang}" '
            f'data-seconds="{cv.total:.3f}" data-x0="{_LABEL}" data-x1="{_LABEL + cv.plot}" '
            f"font-family={quoteattr(_FONT)}>"
            f'<title id="timeline-title">{escape(title)}</title><desc id="timeline-desc">{escape(desc)}</desc>'
            '<defs><pattern id="recess" width="8" height="8" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="8" height="8" fill="#e2e8f0" fill-opacity=".55"/>'
            '<line x1="0" y1="0" x2="0" y2="8" stroke="#a0aec0" stroke-opacity=".8" stroke-width="3"/></pattern>'
            '<pattern id="away" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="6" height="6" fill="#fefcbf"/><line x1="0" y1="0" x2="0" y2="6" '
            f'stroke="{_COLOURS["away"]}" stroke-width="3"/></pattern></defs>'
            f'<rect width="{_WIDTH}" height="{height}" fill="#fff"/>'
            f'<text x="{_PAD}" y="22" font-size="15" font-weight="bold">'
            f"{escape(_fit(title, _WIDTH - 2 * _PAD, 15))}</text>"
            + "".join(cv.parts) + _legend(height - 16, lang) + "</svg>\n")


def _ballot(cv: _Canvas, b: BallotRecord, y: float, lang: str) -> None:
    c = cv.c
    at = b.closed_at or b.opened_at
    if at is None:
        return
    outcome = word(lang, b.outcome) if b.outcome else word(lang, "open")
    counts = f"{word(lang, 'yes')} {b.yes}{word(lang, 'sep')}{word(lang, 'no_')} {b.no}" if b.yes is not None else ""
    title = f"{b.motion} — {outcome}" + (f" ({counts})" if counts else "")
    if b.decided_by_chair:
        title += " / " + word(lang, "chair_decided", chair=role_title(c, "chair", lang),
                              decision=word(lang, "adopted" if b.chair_decision == "yes" else "rejected"))
    fill = _COLOURS.get(b.outcome or "open", _COLOURS["open"])
    x = cv.x(at)
    mid = y + _LANE / 2
    # the result beside the mark, on its left when it would run off the right edge
    right = x + 12 + _text_width(outcome, 11) <= _WIDTH - _PAD / 2
    tx, anchor = (x + 12, "start") if right else (x - 12, "end")
    cv.parts.append(
        f'<g class="ballot" data-t="{cv.seek(b.opened_at or at)}" data-outcome={quoteattr(b.outcome or "open")}>'
        f"<title>{escape(title)}</title>"
        f'<polygon points="{x:.1f},{y + 1} {x + 9:.1f},{mid:.1f} {x:.1f},{y + _LANE - 1} {x - 9:.1f},{mid:.1f}" '
        f'fill="{fill}"/><text x="{tx:.1f}" y="{mid + 4:.1f}" font-size="11" fill="{fill}" text-anchor="{anchor}">'
        f"{escape(outcome)}</text></g>")


def _attendance_lane(cv: _Canvas, p: Person, y: float, lang: str) -> None:
    c = cv.c
    if p.is_member:
        label = f"{p.seat} {p.name}" if p.seat is not None else p.name
    else:
        role = role_title(c, p.role, lang)
        label = f"{p.name}({role})" if lang == "ja" else f"{p.name} ({role})"
    cv.lane_label(y, label)
    who = speaker(c, p.id, lang)
    for a in c.attended(p.id):
        when = {"from": clock(c, a.start), "to": clock(c, a.end)}
        title = _t(lang, "attended", who=who, how=word(lang, a.mode), **when)
        cv.mark("attendance", a.start, a.end, y + 3, _COLOURS[a.mode], title, height=_LANE - 6,
                extra=f' data-mode="{a.mode}" data-participant={quoteattr(p.id)}')
    for gap in c.away:
        if gap.participant_id != p.id:
            continue
        state = _WORDS[lang].get(f"state.{gap.state}", gap.state)
        when = {"from": clock(c, gap.start), "to": clock(c, gap.end)}
        title = _t(lang, "notpresent", who=who, state=state, **when)
        cv.mark("away", gap.start, gap.end, y + 3, "url(#away)", title, height=_LANE - 6,
                extra=f" data-state={quoteattr(gap.state)} data-participant={quoteattr(p.id)}")


def _legend(y: float, lang: str) -> str:
    entries = [(_COLOURS["item"], _t(lang, "agenda")), (_COLOURS["speech"], _t(lang, "speeches")),
               (_COLOURS["in_room"], word(lang, "in_room")), (_COLOURS["remote"], word(lang, "remote")),
               ("url(#away)", _t(lang, "away")), ("url(#recess)", _t(lang, "recess")),
               (_COLOURS["adopted"], word(lang, "adopted")), (_COLOURS["rejected"], word(lang, "rejected"))]
    out, x = ['<g class="legend">'], float(_LABEL)
    for fill, text in entries:
        out.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="14" height="12" fill="{fill}" stroke="#a0aec0"/>'
                   f'<text x="{x + 18:.1f}" y="{y:.1f}" font-size="11">{escape(text)}</text>')
        x += 26 + math.ceil(_text_width(text, 11))
    return "".join(out) + "</g>"
