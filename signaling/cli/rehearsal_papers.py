"""The rehearsal committee's agenda paper: a three-page budget summary, made when the rehearsal
is created, so that a rehearsal has papers on every screen from the start (the clerk's own
uploads come on top). Japanese text uses the IPA Gothic font when the machine has it (embedded
in the PDF), or else a standard Japanese PDF font that viewers supply."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from gikai.orchestrator.domain.model import Meeting
from gikai.orchestrator.service.documents import DocumentService

logger = logging.getLogger(__name__)

TITLE = "議案第1号 資料 令和8年度一般会計予算(リハーサル用)"
IPA_GOTHIC = (Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
              Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"))

# (区分, 予算額 千円, 前年度比) — made-up figures of a town of 15,000 people
BUDGET = [("議会費", 98_400, "+1.2%"), ("総務費", 1_052_300, "+4.8%"), ("民生費", 1_731_900, "+2.1%"),
          ("衛生費", 512_600, "-0.7%"), ("農林水産業費", 466_200, "+3.3%"), ("商工費", 301_500, "+9.6%"),
          ("土木費", 689_000, "-2.4%"), ("消防費", 244_800, "+0.5%"), ("教育費", 703_100, "+1.9%"),
          ("公債費", 598_700, "-1.1%")]
PAGES: list[tuple[str, list[str | tuple[str, str, str]]]] = [
    ("1. 予算の概要", ["一般会計の総額は 64億 2,600万円(前年度比 +2.0%)です。",
                   "デジタル変革推進計画に 1億 2,000万円を計上しました。",
                   "議会のオンライン化(遠隔出席・遠隔表決・ペーパーレス)を含みます。"]),
    ("2. 歳出の内訳(款別、千円)", [(name, f"{amount:,}", change) for name, amount, change in BUDGET]),
    ("3. 主な新規事業", ["オンライン議会の運用(タブレット 16台、通信費)  4,800 千円",
                    "行政手続のオンライン化  36,000 千円",
                    "地域の移動支援(デマンド交通)の実証  21,500 千円",
                    "審議の順序: 説明 → 質疑 → 討論 → 採決"]),
]


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics

    for path in IPA_GOTHIC:
        if path.exists():
            from reportlab.pdfbase.ttfonts import TTFont

            pdfmetrics.registerFont(TTFont("IPAGothic", str(path)))
            return "IPAGothic"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    return "HeiseiKakuGo-W5"


def rehearsal_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = _font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setTitle(TITLE)
    width, height = A4
    for n, (heading, lines) in enumerate(PAGES, start=1):
        pdf.setFont(font, 15)
        pdf.drawString(50, height - 60, TITLE)
        pdf.setFont(font, 26)
        pdf.drawString(50, height - 120, heading)
        pdf.setFont(font, 17)
        for i, line in enumerate(lines):
            y = height - 180 - 34 * i
            if isinstance(line, tuple):  # a table row: item, amount, change from last year
                pdf.drawString(60, y, line[0])
                pdf.drawRightString(400, y, line[1])
                pdf.drawRightString(500, y, line[2])
            else:
                pdf.drawString(60, y, line)
        pdf.setFont(font, 12)
        pdf.drawCentredString(width / 2, 40, f"- {n} / {len(PAGES)} -")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


async def add_rehearsal_papers(documents: DocumentService, meeting: Meeting, item_id: str) -> bool:
    """Attach the paper to the rehearsal's first agenda item; False (logged) if it could not be."""
    upload = documents.new_upload()
    try:
        upload.write_bytes(rehearsal_pdf())
        await documents.add(meeting.id, item_id, upload, "議案第1号資料.pdf", title=TITLE)
        return True
    except Exception:
        logger.exception("could not add the rehearsal's agenda paper")
        upload.unlink(missing_ok=True)
        return False
