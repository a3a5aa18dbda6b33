"""A document (document.py) as an A4 PDF, reproducible (the same document gives the same bytes).

It uses reportlab's built-in Japanese CID fonts (HeiseiMin-W3, HeiseiKakuGo-W5): no font
file and no system binary is needed; the PDF reader supplies the glyphs. reportlab is
imported when a PDF is made, not when the reports are imported.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from gikai.orchestrator.reports.document import Code, Document, Heading, Pairs

_MINCHO, _GOTHIC = "HeiseiMin-W3", "HeiseiKakuGo-W5"


def japanese_fonts() -> tuple[str, str]:
    """The names of the Mincho (body) and Gothic (headings) fonts, registered with reportlab."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    for font in (_MINCHO, _GOTHIC):
        if font not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(font))
    return _MINCHO, _GOTHIC


def render_pdf(doc: Document) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    japanese_fonts()
    body = ParagraphStyle("body", fontName=_MINCHO, fontSize=9.5, leading=14, wordWrap="CJK")
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11.5)
    head = ParagraphStyle("head", parent=cell, fontName=_GOTHIC)
    h1 = ParagraphStyle("h1", parent=body, fontName=_GOTHIC, fontSize=16, leading=22, alignment=1)
    h2 = ParagraphStyle("h2", parent=body, fontName=_GOTHIC, fontSize=11.5, leading=16, spaceBefore=10, spaceAfter=4,
                        keepWithNext=1)
    h3 = ParagraphStyle("h3", parent=body, fontName=_GOTHIC, fontSize=10, leading=14, spaceBefore=6, spaceAfter=2,
                        keepWithNext=1)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(xml_escape(text), style)

    width = A4[0] - 36 * mm
    story: list[Any] = [para(doc.title, h1), para(doc.subtitle, h1), Spacer(1, 6 * mm)]
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))])
    for s in doc.sections:
        story.append(para(s.heading, h2))
        for b in s.blocks:
            if isinstance(b, str):
                story.append(para(b))
            elif isinstance(b, Heading):
                story.append(para(b.text, h3))
            elif isinstance(b, Code):
                story.append(Paragraph(xml_escape(b.text), ParagraphStyle("code", parent=body, fontName="Courier",
                                                                          fontSize=8.5)))
            elif isinstance(b, Pairs):
                t = PdfTable([[para(k, head), para(v, cell)] for k, v in b.items], colWidths=[width * .3, width * .7])
                t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), .3,
                                                                                   colors.lightgrey)]))
                story.append(t)
            else:
                total = sum(b.widths) if b.widths else len(b.header)
                share = width * (.6 if b.compact else 1)
                widths = [share * w / total for w in (b.widths or (1,) * len(b.header))]
                rows = [[para(h, head) for h in b.header]] + [[para(x, cell) for x in row] for row in b.rows]
                t = PdfTable(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
                t.setStyle(grid)
                story.append(t)
            story.append(Spacer(1, 2 * mm))

    def footer(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(_MINCHO, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"- {canvas.getPageNumber()} -")
        canvas.restoreState()

    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"{doc.title} {doc.subtitle}", lang=doc.lang,
                            invariant=1, creator="gikai", author=doc.author)
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
