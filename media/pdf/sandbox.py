"""PDF documents: what is in them (pages, sizes, text) and their pages as images, with PDFium at arm's length.

PDFium reads whatever a file says, and a broken or hostile PDF can make it crash, loop or eat
memory. So it never runs in the server's process. A :class:`PdfSandbox` keeps one worker
process (``worker.py`` run as a script) with its address space, CPU time, file writes and core
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
import contextlib
import hashlib
import json
import logging
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gikai.media.pdf import worker as worker_module
from gikai.media.pdf.worker import FRAME, MAX_HEADER, MAX_PAYLOAD, frame

logger = logging.getLogger(__name__)

MIN_WIDTH, MAX_WIDTH = 200, 1600
THUMBNAIL_WIDTH = 240
FORMATS = {"png": "image/png", "webp": "image/webp"}

WORKER = Path(worker_module.__file__).resolve()  # the worker process's script

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
    """One PDFium worker process; calls are serialised, each with a timeout.

    ``worker`` is the script the process runs: :data:`WORKER`, or one that speaks the same pipe
    format (the tests' misbehaving worker). It is read when a process starts.
    """

    def __init__(self, limits: Limits = Limits(), worker: Path = WORKER) -> None:
        self.limits = limits
        self.worker = worker
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self.restarts = 0  # workers replaced after a crash or timeout (for tests and logs)

    async def call(self, op: str, args: dict[str, Any]) -> tuple[Any, bytes]:
        async with self._lock:
            proc = await self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(frame({"op": op, "args": args}))
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
            sys.executable, "-B", str(self.worker), "--worker",
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
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
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


async def _read_frame(stream: asyncio.StreamReader) -> tuple[Any, bytes]:
    head, size = FRAME.unpack(await stream.readexactly(FRAME.size))
    if head > MAX_HEADER or size > MAX_PAYLOAD:
        raise ValueError("oversized frame from the PDF worker")
    header = json.loads(await stream.readexactly(head))
    return header, await stream.readexactly(size) if size else b""


class DocumentRenderer:
    """Inspect uploads and draw pages, each in its own sandboxed worker; pages cached on disk."""

    def __init__(self, cache_dir: Path, limits: Limits = Limits(), worker: Path = WORKER) -> None:
        self.cache_dir = cache_dir
        self.limits = limits
        self.inspector = PdfSandbox(limits, worker)
        self.painter = PdfSandbox(limits, worker)
        self._inflight: dict[Path, asyncio.Future[bytes]] = {}

    async def inspect(self, path: Path) -> DocumentInfo:
        if not looks_like_pdf(path):
            raise DocumentRejected("not_pdf", "the file does not start with %PDF-")
        result, _ = await self.inspector.call("inspect", {
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
