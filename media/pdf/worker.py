"""The PDF worker: the process that runs PDFium, and the pipe format both sides speak.

Started by :class:`gikai.media.pdf.sandbox.PdfSandbox` as a script (``python -B worker.py
--worker MEMORY SECONDS``), never imported into the server for its work: this module imports
only the standard library at the top, so that the client can import the pipe format from it and
the worker starts without the server's packages. Before it serves, the worker loads PDFium and
Pillow and then limits itself: address space, no core dumps, no file writes, a lower scheduling
priority, and CPU time per request (SIGXCPU past it).

Frames on the pipe are two big-endian lengths (header, payload), a JSON header and raw payload
bytes; never pickle: a worker taken over by a malicious file cannot run code in the server
through the pipe. Requests are ``{"op": ..., "args": {...}}``; answers ``{"ok": true, "result":
...}`` with the image as payload, or ``{"ok": false, "reason": ..., "detail": ...}``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from struct import Struct
from typing import Any

FRAME = Struct(">II")  # header length, payload length
MAX_HEADER = 64 << 20  # inspect() of 2,000 pages of text fits easily
MAX_PAYLOAD = 64 << 20

Op = Callable[..., tuple[Any, bytes]]


def frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    data = json.dumps(header, ensure_ascii=False).encode()
    return FRAME.pack(len(data), len(payload)) + data + payload


class Refusal(Exception):
    """A file the worker will not handle; ``reason`` is one the client knows (its REASONS)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


# -- operations --------------------------------------------------------------------------------
def _open(path: str) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise Refusal("encrypted" if "password" in str(exc).lower() else "unreadable", str(exc)) from None


def inspect(path: str, max_pages: int, max_text: int) -> tuple[dict[str, Any], bytes]:
    """Every page's size (points, as displayed) and text."""
    pdf = _open(path)
    try:
        count = len(pdf)
        if count < 1:
            raise Refusal("unreadable", "the document has no pages")
        if count > max_pages:
            raise Refusal("too_many_pages", f"{count} pages, at most {max_pages}")
        pages = []
        for index in range(count):
            page = pdf[index]
            try:
                width, height = page.get_size()
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
            pages.append({"width": width, "height": height, "text": text.replace("\r\n", "\n")[:max_text]})
        return {"pages": pages}, b""
    finally:
        pdf.close()


def render(path: str, page: int, width: int, format: str, max_pixels: int) -> tuple[None, bytes]:
    """Page ``page`` (from 1) drawn ``width`` pixels wide (narrower past ``max_pixels``), as PNG or WebP."""
    import io

    pdf = _open(path)
    try:
        if not 1 <= page <= len(pdf):
            raise Refusal("no_such_page", f"page {page} of {len(pdf)}")
        p = pdf[page - 1]
        try:
            w, h = p.get_size()
            if w <= 0 or h <= 0:
                raise Refusal("unreadable", "a page without size")
            scale = width / w
            if (w * scale) * (h * scale) > max_pixels:
                scale = math.sqrt(max_pixels / (w * h))
            scale *= 1 - 1e-9  # pypdfium2 rounds the bitmap's size up: 800.0000001 pixels would be 801
            image = p.render(scale=scale, may_draw_forms=False).to_pil()
        finally:
            p.close()
    finally:
        pdf.close()
    out = io.BytesIO()
    if format == "webp":
        image.save(out, "WEBP", quality=85, method=4)
    else:
        image.save(out, "PNG", compress_level=6)
    return None, out.getvalue()


OPS: Mapping[str, Op] = {"inspect": inspect, "render": render}


# -- the process -------------------------------------------------------------------------------
def _limit_myself(memory: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # reads files, writes none
    os.nice(10)  # the SFU's forwarding comes first


def _cpu_budget(seconds: float) -> None:
    """Allow this job ``seconds`` of CPU beyond what the worker has used (SIGXCPU after that)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))


def serve(memory: int, cpu_seconds: float, ops: Mapping[str, Op] = OPS) -> None:
    """Answer requests on stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C is the server's business
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol
    import pypdfium2  # noqa: F401  (loaded before the limits, once)
    from PIL import Image  # noqa: F401  (the same)

    _limit_myself(memory)

    def send(header: dict[str, Any], payload: bytes = b"") -> None:
        stdout.write(frame(header, payload))
        stdout.flush()

    send({"ready": True})
    while True:
        head = stdin.read(FRAME.size)
        if len(head) < FRAME.size:
            return  # the server is gone
        size, _ = FRAME.unpack(head)
        request = json.loads(stdin.read(size))
        _cpu_budget(cpu_seconds)
        try:
            result, payload = ops[request["op"]](**request["args"])
            send({"ok": True, "result": result}, payload)
        except Refusal as refusal:
            send({"ok": False, "reason": refusal.reason, "detail": refusal.detail})
        except MemoryError:
            send({"ok": False, "reason": "crashed", "detail": "out of memory"})
        except Exception as exc:  # whatever PDFium or Pillow raise on a bad file
            send({"ok": False, "reason": "unreadable", "detail": f"{type(exc).__name__}: {exc}"[:300]})


def main(argv: Sequence[str], ops: Mapping[str, Op] = OPS) -> None:
    """``--worker MEMORY SECONDS``: the arguments the sandbox starts the worker with."""
    if list(argv[:1]) != ["--worker"] or len(argv) != 3:
        sys.exit("usage: worker.py --worker MEMORY_BYTES CALL_SECONDS (started by the PDF sandbox)")
    serve(int(argv[1]), float(argv[2]) + 1, ops)


if __name__ == "__main__":
    # Run as a script, this file's folder leads sys.path; media's modules must not shadow anything.
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path.pop(0)
    main(sys.argv[1:])
