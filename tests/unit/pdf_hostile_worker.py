"""The PDF sandbox's worker, for tests: a PDF carrying a mark makes it do what a hostile PDF can make
PDFium do, abort the process or loop forever; every other file is read by the real worker's code.

The sandbox starts this script in place of ``media/pdf/worker.py`` (``PdfSandbox(worker=...)``),
with the same arguments and limits. It loads the real worker from its file, not through the
``gikai`` package, so that it starts as lightly as the real one does.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

MARK = b"%gikai-test: "  # followed by "abort" or "hang"


def _real_worker() -> Any:
    path = Path(__file__).resolve().parents[2] / "media" / "pdf" / "worker.py"
    spec = importlib.util.spec_from_file_location("gikai_pdf_worker", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _misbehaving(op: Any) -> Any:
    def run(path: str, **args: Any) -> Any:
        with open(path, "rb") as f:
            data = f.read()
        if MARK + b"abort" in data:
            os.abort()
        if MARK + b"hang" in data:
            while True:
                pass
        return op(path=path, **args)

    return run


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path.pop(0)  # as the real worker does: the tests' modules must not shadow anything
    worker = _real_worker()
    worker.main(sys.argv[1:], {name: _misbehaving(op) for name, op in worker.OPS.items()})
