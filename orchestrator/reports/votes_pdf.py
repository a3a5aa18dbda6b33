"""議員別賛否 (votes.py's table) as an A4 landscape PDF, in the minutes' Japanese fonts.

Eight ballots to a table: a sitting with more gets more tables, each repeating the seat, the
name and the reading, so every column stays wide enough to read the motion. Reproducible: the
same record gives the same bytes.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from gikai.orchestrator.reports.pdf import japanese_fonts
from gikai.orchestrator.reports.votes import LABELS, VoteTable, grid

BALLOTS_PER_TABLE = 8


def votes_pdf(table: VoteTable, lang: str = "ja") -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    mincho, gothic = japanese_fonts()
    words = LABELS[lang]
    page = landscape(A4)
    body = ParagraphStyle("body", fontName=mincho, fontSize=9.5, leading=13, wordWrap="CJK")
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=11, alignment=1)
    name = ParagraphStyle("name", parent=cell, alignment=0)
    head = ParagraphStyle("head", parent=cell, fontName=gothic, fontSize=7.5, leading=9.5)
    h1 = ParagraphStyle("h1", parent=body, fontName=gothic, fontSize=15, leading=20, alignment=1)

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(xml_escape(text), style)

    rows = grid(table, lang)
    members = len(table.rows)
    width = page[0] - 28 * mm
    fixed = [10 * mm, 34 * mm, 36 * mm]
    subtitle = f"{table.body_name}　{table.title}　{table.date}" if lang == "ja" else \
        f"{table.body_name} — {table.title} — {table.date}"
    story: list[Any] = [para(str(words["title"]), h1), para(subtitle, ParagraphStyle("sub", parent=h1, fontSize=11))]
    if not table.final:
        story.append(para(str(words["live"]), ParagraphStyle("live", parent=body, alignment=1)))
    story.append(Spacer(1, 4 * mm))
    starts = range(0, max(1, len(table.columns)), BALLOTS_PER_TABLE)
    for n, start in enumerate(starts):
        chosen = list(range(3 + start, 3 + min(start + BALLOTS_PER_TABLE, len(table.columns))))
        each = (width - sum(fixed)) / max(len(chosen), BALLOTS_PER_TABLE // 2)  # a few ballots: wider columns
        data = []
        for i, row in enumerate(rows):
            style = head if i == 0 else cell
            data.append([para(row[0], style), para(row[1], head if i == 0 else name),
                         para(row[2], head if i == 0 else name), *(para(row[j], style) for j in chosen)])
        t = PdfTable(data, colWidths=fixed + [each] * len(chosen), repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("LINEABOVE", (0, members + 1), (-1, members + 1), 1.2, colors.black),
            ("BACKGROUND", (0, members + 1), (-1, -1), colors.HexColor("#f6f6f6")),
        ]))
        if n:
            story.append(PageBreak())
        story.append(t)

    def footer(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(mincho, 8)
        canvas.drawCentredString(page[0] / 2, 8 * mm, f"- {canvas.getPageNumber()} -")
        canvas.restoreState()

    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, pagesize=page, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=12 * mm,
                            bottomMargin=14 * mm, title=f"{words['title']} {table.title}", lang=lang,
                            invariant=1, creator="gikai", author=table.body_name)
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
