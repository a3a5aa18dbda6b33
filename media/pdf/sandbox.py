"""PDF documents: what is in them (pages, sizes, text) and their pages as images, with PDFium at arm's length.

PDFium reads whatever a file says, and a broken or hostile PDF can make it crash, loop or eat
memory. So it never runs in the server's process. A :class:`PdfSandbox` keeps one worker
process — this file run as a script — with its address space, CPU time, file writes and core
dumps limited and a lower scheduling priority, and every call has a wall-clock timeout. A worker
that crashes, times out or hits a limit is killed and replaced, and the call raises
:class:`DocumentRejected`. The worker answers in length-prefixed JSON plus raw image bytes, never
pickle: a worker taken over by a malicious file cannot run code in the server through the pipe.

:class:`DocumentRenderer` is the front: ``inspect``, ``render_page`` and ``thumbnail`` (page
numbers start at 1), with rendered pages cached on disk by (content hash, page, width, format).
Uploads are inspected in one worker and pages are drawn in another, so a slow upload does not
hold up the pages people are reading.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import signal
import struct
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MIN_WIDTH, MAX_WIDTH = 200, 1600
THUMBNAIL_WIDTH = 240
FORMATS = {"png": "image/png", "webp": "image/webp"}
_FRAME = struct.Struct(">II")  # header length, payload length
_MAX_HEADER = 64 << 20  # inspect() of 2,000 pages of text fits easily
_MAX_PAYLOAD = 64 << 20

REASONS = ("not_pdf", "unreadable", "encrypted", "too_many_pages", "no_such_page", "timeout", "crashed")


class DocumentRejected(Exception):
    """A file PDFium cannot (safely) handle. ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PageInfo:
    width: float  # points (1/72 inch), as displayed (after the page's rotation)
    height: float
    text: str


@dataclass(frozen=True)
class DocumentInfo:
    pages: tuple[PageInfo, ...]

    @property
    def page_count(self) -> int:
        return len(self.pages)


@dataclass(frozen=True)
class Limits:
    timeout: float = 20.0  # wall-clock seconds per call
    memory: int = 1 << 30  # bytes of address space for the worker
    max_pages: int = 2000
    max_text: int = 100_000  # characters of text kept per page
    max_pixels: int = MAX_WIDTH * MAX_WIDTH * 2  # a very tall page is drawn narrower, not huger
    startup: float = 30.0  # seconds for a new worker to import PDFium


def clamp_width(width: int) -> int:
    return max(MIN_WIDTH, min(MAX_WIDTH, int(width)))


def looks_like_pdf(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(5) == b"%PDF-"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- the parent's side --------------------------------------------------------------
class PdfSandbox:
    """One PDFium worker process; calls are serialised, each with a timeout."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self.restarts = 0  # workers replaced after a crash or timeout (for tests and logs)

    async def call(self, op: str, args: dict[str, Any]) -> tuple[Any, bytes]:
        async with self._lock:
            proc = await self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(_frame({"op": op, "args": args}))
                await proc.stdin.drain()
                header, payload = await asyncio.wait_for(_read_frame(proc.stdout), self.limits.timeout)
            except TimeoutError:
                await self._discard()
                raise DocumentRejected("timeout", f"no answer within {self.limits.timeout:g} s") from None
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                code = await self._discard()
                reason = "timeout" if code == -signal.SIGXCPU else "crashed"
                raise DocumentRejected(reason, f"the PDF worker stopped ({_exit_text(code)})") from None
            except BaseException:  # cancelled mid-call: the pipe's state is unknown
                await self._discard()
                raise
        if not isinstance(header, dict) or not header.get("ok"):
            answer = header if isinstance(header, dict) else {}
            said = answer.get("reason")
            raise DocumentRejected(said if said in REASONS else "unreadable", str(answer.get("detail") or "")[:300])
        return header.get("result"), payload

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self._proc is not None and self._proc.returncode is None:
            return self._proc
        if self._proc is not None:
            await self._discard()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-B", str(Path(__file__).resolve()), "--worker",
            str(self.limits.memory), str(self.limits.timeout),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        self._proc = proc
        assert proc.stdout is not None
        try:
            ready, _ = await asyncio.wait_for(_read_frame(proc.stdout), self.limits.startup)
        except (TimeoutError, asyncio.IncompleteReadError, ValueError):
            ready = None
        except BaseException:
            await self._discard()
            raise
        if not (isinstance(ready, dict) and ready.get("ready")):
            code = await self._discard()
            logger.error("the PDF worker did not start (%s): is pypdfium2 installed?", _exit_text(code))
            raise DocumentRejected("crashed", "the PDF worker did not start")
        return proc

    async def _discard(self) -> int | None:
        """Kill the worker (if alive) and forget it; the next call starts a new one."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.returncode is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
        code = await proc.wait()
        if proc.stdin is not None:
            proc.stdin.close()
        self.restarts += 1
        return code

    async def close(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()  # now, not after a call in progress times out
        async with self._lock:
            await self._discard()


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    data = json.dumps(header, ensure_ascii=False).encode()
    return _FRAME.pack(len(data), len(payload)) + data + payload


async def _read_frame(stream: asyncio.StreamReader) -> tuple[Any, bytes]:
    head, size = _FRAME.unpack(await stream.readexactly(_FRAME.size))
    if head > _MAX_HEADER or size > _MAX_PAYLOAD:
        raise ValueError("oversized frame from the PDF worker")
    header = json.loads(await stream.readexactly(head))
    return header, await stream.readexactly(size) if size else b""


class DocumentRenderer:
    """Inspect uploads and draw pages, each in its own sandboxed worker; pages cached on disk."""

    def __init__(self, cache_dir: Path, limits: Limits = Limits()) -> None:
        self.cache_dir = cache_dir
        self.limits = limits
        self.inspector = PdfSandbox(limits)
        self.painter = PdfSandbox(limits)
        # Test hook: the worker operation inspect() asks for ("_test_abort" and "_test_hang"
        # exist to prove a crashing or hanging PDFium leaves the server alone).
        self.inspect_op = "inspect"
        self._inflight: dict[Path, asyncio.Future[bytes]] = {}

    async def inspect(self, path: Path) -> DocumentInfo:
        if not looks_like_pdf(path):
            raise DocumentRejected("not_pdf", "the file does not start with %PDF-")
        result, _ = await self.inspector.call(self.inspect_op, {
            "path": str(path), "max_pages": self.limits.max_pages, "max_text": self.limits.max_text})
        try:
            pages = tuple(PageInfo(float(p["width"]), float(p["height"]), str(p["text"])[:self.limits.max_text])
                          for p in result["pages"])
        except (TypeError, KeyError, ValueError):
            raise DocumentRejected("crashed", "the PDF worker answered nonsense") from None
        if not pages or len(pages) > self.limits.max_pages:
            raise DocumentRejected("crashed", "the PDF worker answered nonsense")
        return DocumentInfo(pages)

    async def render_page(self, path: Path, page: int, width: int, fmt: str = "png",
                          digest: str | None = None) -> bytes:
        """Page ``page`` (from 1) as an image ``width`` pixels wide (clamped), from the cache if there."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {sorted(FORMATS)}")
        if page < 1:
            raise DocumentRejected("no_such_page", str(page))
        width = clamp_width(width)
        if digest is None:
            digest = await asyncio.to_thread(sha256_of, path)
        cached = self._cache_path(digest, page, width, fmt)
        if cached.exists():
            return cached.read_bytes()
        pending = self._inflight.get(cached)
        if pending is not None:  # someone else is drawing this page: wait for theirs
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[cached] = future
        try:
            _, image = await self.painter.call("render", {
                "path": str(path), "page": page, "width": width, "format": fmt,
                "max_pixels": self.limits.max_pixels})
            _write_atomically(cached, image)
            future.set_result(image)
            return image
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._inflight[cached]

    async def thumbnail(self, path: Path, page: int, fmt: str = "png", digest: str | None = None) -> bytes:
        return await self.render_page(path, page, THUMBNAIL_WIDTH, fmt, digest)

    def forget(self, digest: str) -> None:
        """Drop the cached images of a document whose file is gone."""
        folder = self.cache_dir / digest[:2]
        for cached in folder.glob(f"{digest}-*") if folder.is_dir() else []:
            cached.unlink(missing_ok=True)

    def _cache_path(self, digest: str, page: int, width: int, fmt: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError("digest must be a hex SHA-256")
        return self.cache_dir / digest[:2] / f"{digest}-{page}-{width}.{fmt}"

    async def close(self) -> None:
        await self.inspector.close()
        await self.painter.close()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# -- the worker's side (this file run as a script) -----------------------------------------
class _Refusal(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _open(path: str) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise _Refusal("encrypted" if "password" in str(exc).lower() else "unreadable", str(exc)) from None


def _inspect(path: str, max_pages: int, max_text: int) -> tuple[dict[str, Any], bytes]:
    pdf = _open(path)
    try:
        count = len(pdf)
        if count < 1:
            raise _Refusal("unreadable", "the document has no pages")
        if count > max_pages:
            raise _Refusal("too_many_pages", f"{count} pages, at most {max_pages}")
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


def _render(path: str, page: int, width: int, format: str, max_pixels: int) -> tuple[None, bytes]:
    import io

    pdf = _open(path)
    try:
        if not 1 <= page <= len(pdf):
            raise _Refusal("no_such_page", f"page {page} of {len(pdf)}")
        p = pdf[page - 1]
        try:
            w, h = p.get_size()
            if w <= 0 or h <= 0:
                raise _Refusal("unreadable", "a page without size")
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


def _test_abort(**_: Any) -> Any:
    os.abort()


def _test_hang(**_: Any) -> Any:
    while True:
        pass


_OPS: dict[str, Callable[..., tuple[Any, bytes]]] = {"inspect": _inspect, "render": _render, "_test_abort": _test_abort, "_test_hang": _test_hang}


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


def _serve(memory: int, cpu_seconds: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C is the server's business
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol
    import pypdfium2  # noqa: F401  (loaded before the limits, once)
    from PIL import Image  # noqa: F401

    _limit_myself(memory)

    def send(header: dict[str, Any], payload: bytes = b"") -> None:
        stdout.write(_frame(header, payload))
        stdout.flush()

    send({"ready": True})
    while True:
        head = stdin.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return  # the server is gone
        size, _ = _FRAME.unpack(head)
        request = json.loads(stdin.read(size))
        _cpu_budget(cpu_seconds)
        try:
            result, payload = _OPS[request["op"]](**request["args"])
            send({"ok": True, "result": result}, payload)
        except _Refusal as refusal:
            send({"ok": False, "reason": refusal.reason, "detail": refusal.detail})
        except MemoryError:
            send({"ok": False, "reason": "crashed", "detail": "out of memory"})
        except Exception as exc:  # whatever PDFium or Pillow raise on a bad file
            send({"ok": False, "reason": "unreadable", "detail": f"{type(exc).__name__}: {exc}"[:300]})


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    # Run as a script, this file's folder leads sys.path; media's modules must not shadow anything.
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path.pop(0)
    _serve(int(sys.argv[2]), float(sys.argv[3]) + 1)
