"""PDFium at arm's length: real PDFs are read and drawn; broken, huge, crashing and hanging ones are
refused with a reason, the worker is replaced, and the calling process carries on.

The PDF makers here are shared with the persistence and HTTP tests.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from gikai.media.pdf.sandbox import DocumentRejected, DocumentRenderer, Limits, sha256_of

A4 = (595, 842)
# A worker that aborts or hangs on a marked PDF, as a hostile PDF can make PDFium do.
HOSTILE_WORKER = Path(__file__).with_name("pdf_hostile_worker.py")


# -- making PDFs ---------------------------------------------------------------------------
def assemble(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF file from numbered objects (1-based, in order), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def _stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(content), extra) + content + b"\nendstream"


def make_pdf(pages: list[str], size: tuple[int, int] = A4, sizes: list[tuple[int, int]] | None = None) -> bytes:
    """One page per string, its lines in Japanese-capable text (Adobe-Japan1, no font embedded:
    PDFium extracts the text exactly and draws it with a system font)."""
    font = (b"<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiMin-W3 /Encoding /UniJIS-UCS2-H "
            b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiMin-W3 "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> "
            b"/FontDescriptor << /Type /FontDescriptor /FontName /HeiseiMin-W3 /Flags 6 "
            b"/FontBBox [-123 -257 1001 910] /ItalicAngle 0 /Ascent 723 /Descent -241 /CapHeight 709 "
            b"/StemV 69 >> /DW 1000 >>] >>")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", font]
    kids = []
    for index, text in enumerate(pages):
        w, h = sizes[index] if sizes else size
        ops = [b"BT /F1 14 Tf 72 %d Td <%s> Tj ET" % (h - 72 - 20 * n, line.encode("utf-16-be").hex().encode())
               for n, line in enumerate(text.split("\n"))]
        objects.append(_stream(b"\n".join(ops)))
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 3 0 R >> >> "
                       b"/Contents %d 0 R >>" % (w, h, len(objects)))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    return assemble(objects)


def garbage_pdf() -> bytes:
    """Starts like a PDF, then noise: no cross-reference table, no objects."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\ntrailer << /Root 999 0 R >>\n%%EOF\n"


def truncated_pdf() -> bytes:
    good = make_pdf(["議案第1号", "二頁目"])
    return good[: len(good) // 2]


def many_pages_pdf(count: int) -> bytes:
    """``count`` pages, all the same page object: a tiny file that claims a huge page count."""
    kids = b" ".join([b"3 0 R"] * count)
    return assemble([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>"])


def _flate_repeated(unit: bytes, times: int) -> bytes:
    """A zlib stream of ``unit`` × ``times``, made without compressing all of it: a full flush makes
    each block independent, so the compressed block can simply be repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    checksum = 1
    for _ in range(times):
        checksum = zlib.adler32(unit, checksum)
    return b"\x78\xda" + block * times + end + checksum.to_bytes(4, "big")


def _one_page_with_content(compressed: bytes) -> bytes:
    return assemble([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                     _stream(compressed, b"/Filter /FlateDecode ")])


def decompression_bomb_pdf(gib: int = 2) -> bytes:
    """About 1 MB per GiB: a page whose content stream inflates to ``gib`` GiB of zeros."""
    return _one_page_with_content(_flate_repeated(b"\0" * (1 << 20), gib * 1024))


def slow_pdf(million_ops: int = 2) -> bytes:
    """A page of millions of tiny lines: seconds of PDFium time from a 50 kB file."""
    unit = b"0 0 m 1 1 l S\n" * 75_000
    return _one_page_with_content(_flate_repeated(unit, million_ops * 1_000_000 // 75_000))


def hostile_pdf(how: str, pdf: bytes | None = None) -> bytes:
    """A PDF that makes the hostile worker ``"abort"`` or ``"hang"`` (and the real one read it)."""
    return (pdf or make_pdf(["一"])) + b"%gikai-test: " + how.encode() + b"\n"


# -- tests -------------------------------------------------------------------------------------
@pytest.fixture
async def renderer(tmp_path):
    r = DocumentRenderer(tmp_path / "cache", Limits(timeout=15))
    yield r
    await r.close()


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


async def test_inspect_gives_pages_sizes_and_japanese_text(renderer, tmp_path):
    path = write(tmp_path, "bill.pdf", make_pdf(["議案第1号 町道の認定について\nRoad Act", "予算書 一般会計補正予算"],
                                                sizes=[A4, (842, 595)]))
    info = await renderer.inspect(path)
    assert info.page_count == 2
    assert [(p.width, p.height) for p in info.pages] == [(595.0, 842.0), (842.0, 595.0)]
    assert info.pages[0].text == "議案第1号 町道の認定について\nRoad Act"
    assert info.pages[1].text == "予算書 一般会計補正予算"


async def test_pages_are_drawn_as_png_or_webp_at_the_clamped_width(renderer, tmp_path):
    path = write(tmp_path, "bill.pdf", make_pdf(["議案第1号"]))
    png = Image.open(io.BytesIO(await renderer.render_page(path, 1, 800)))
    assert png.format == "PNG" and png.size[0] == 800 and abs(png.size[1] - 800 * 842 / 595) < 1
    assert png.convert("L").getextrema()[0] < 128, "the text is drawn, not a blank page"
    webp = Image.open(io.BytesIO(await renderer.render_page(path, 1, 600, "webp")))
    assert webp.format == "WEBP" and webp.size[0] == 600
    assert Image.open(io.BytesIO(await renderer.render_page(path, 1, 99_999))).size[0] == 1600
    assert Image.open(io.BytesIO(await renderer.render_page(path, 1, 1))).size[0] == 200
    assert Image.open(io.BytesIO(await renderer.thumbnail(path, 1))).size[0] == 240
    with pytest.raises(DocumentRejected) as missing:
        await renderer.render_page(path, 2, 800)
    assert missing.value.reason == "no_such_page"


async def test_a_drawn_page_is_cached_by_content_hash_page_and_width(renderer, tmp_path):
    path = write(tmp_path, "bill.pdf", make_pdf(["議案第1号"]))
    digest = sha256_of(path)
    calls = []
    real_call = renderer.painter.call

    async def counting(op, args):
        calls.append(args["width"])
        return await real_call(op, args)

    renderer.painter.call = counting
    together = await asyncio.gather(*(renderer.render_page(path, 1, 700, digest=digest) for _ in range(3)))
    assert len(set(together)) == 1 and calls == [700], "three viewers at once: drawn once"
    assert (tmp_path / "cache" / digest[:2] / f"{digest}-1-700.png").read_bytes() == together[0]
    path.unlink()  # the cache answers without the file or the worker
    assert await renderer.render_page(path, 1, 700, digest=digest) == together[0] and calls == [700]
    renderer.forget(digest)
    assert not list((tmp_path / "cache").rglob("*.png"))


async def test_a_file_that_is_not_a_pdf_never_reaches_pdfium(renderer, tmp_path):
    image = io.BytesIO()
    Image.new("RGB", (10, 10)).save(image, "PNG")
    with pytest.raises(DocumentRejected) as refused:
        await renderer.inspect(write(tmp_path, "photo.pdf", image.getvalue()))
    assert refused.value.reason == "not_pdf"
    assert renderer.inspector._proc is None, "no worker was even started"


@pytest.mark.parametrize("maker, reason", [(garbage_pdf, "unreadable"), (truncated_pdf, "unreadable"),
                                           (lambda: many_pages_pdf(100_000), "too_many_pages")])
async def test_broken_or_huge_pdfs_are_refused_and_the_worker_carries_on(renderer, tmp_path, maker, reason):
    with pytest.raises(DocumentRejected) as refused:
        await renderer.inspect(write(tmp_path, "bad.pdf", maker()))
    assert refused.value.reason == reason
    info = await renderer.inspect(write(tmp_path, "good.pdf", make_pdf(["一"])))
    assert info.page_count == 1 and renderer.inspector.restarts == 0, "a refusal is not a crash"


async def test_a_decompression_bomb_kills_only_the_worker(tmp_path):
    renderer = DocumentRenderer(tmp_path / "cache", Limits(timeout=30, memory=768 << 20))
    try:
        with pytest.raises(DocumentRejected) as refused:
            await renderer.inspect(write(tmp_path, "bomb.pdf", decompression_bomb_pdf(2)))
        assert refused.value.reason == "crashed", refused.value.detail
        assert renderer.inspector.restarts == 1
        assert (await renderer.inspect(write(tmp_path, "good.pdf", make_pdf(["一"])))).page_count == 1
    finally:
        await renderer.close()


async def test_a_worker_that_aborts_is_replaced(tmp_path):
    renderer = DocumentRenderer(tmp_path / "cache", Limits(timeout=15), worker=HOSTILE_WORKER)
    path = write(tmp_path, "good.pdf", make_pdf(["一"]))
    try:
        with pytest.raises(DocumentRejected) as refused:
            await renderer.inspect(write(tmp_path, "abort.pdf", hostile_pdf("abort")))
        assert refused.value.reason == "crashed"
        # The detail names the signal; asyncio reports 255 when another waiter in the process reaped
        # the child first (it happened once in CI, after the end-to-end tests), and then says so.
        assert "SIGABRT" in refused.value.detail or "exit code 255" in refused.value.detail
        assert (await renderer.inspect(path)).page_count == 1 and renderer.inspector.restarts == 1
    finally:
        await renderer.close()


async def test_a_hanging_worker_is_killed_at_the_timeout(tmp_path):
    renderer = DocumentRenderer(tmp_path / "cache", Limits(timeout=1), worker=HOSTILE_WORKER)
    path = write(tmp_path, "good.pdf", make_pdf(["一"]))
    try:
        await renderer.inspect(path)  # the worker is up: what follows measures the call, not the start
        hanging = write(tmp_path, "hang.pdf", hostile_pdf("hang"))
        started = time.monotonic()
        with pytest.raises(DocumentRejected) as refused:
            await renderer.inspect(hanging)
        assert refused.value.reason == "timeout" and time.monotonic() - started < 5
        assert (await renderer.inspect(path)).page_count == 1
    finally:
        await renderer.close()


async def test_a_pdf_that_takes_too_long_is_refused(tmp_path):
    renderer = DocumentRenderer(tmp_path / "cache", Limits(timeout=0.25))
    try:
        await renderer.inspect(write(tmp_path, "good.pdf", make_pdf(["一"])))
        with pytest.raises(DocumentRejected) as refused:
            await renderer.inspect(write(tmp_path, "slow.pdf", slow_pdf(2)))
        assert refused.value.reason in ("timeout", "crashed")  # crashed: out of memory first
    finally:
        await renderer.close()


async def test_the_worker_cannot_write_files(tmp_path):
    """A taken-over worker can read what it is given but not write: its file-size limit is zero."""
    renderer = DocumentRenderer(tmp_path / "cache")
    try:
        await renderer.inspect(write(tmp_path, "good.pdf", make_pdf(["一"])))
        proc = renderer.inspector._proc
        limits = Path(f"/proc/{proc.pid}/limits").read_text()  # noqa: ASYNC240  (procfs: nothing to wait for)
        assert any(line.startswith("Max file size") and line.split()[3] == "0" for line in limits.splitlines())
        assert any(line.startswith("Max address space") and int(line.split()[3]) == 1 << 30
                   for line in limits.splitlines())
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) >= 10
    finally:
        await renderer.close()
