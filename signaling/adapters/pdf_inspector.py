"""The orchestrator's ``PdfInspector`` port over media's sandboxed PDFium."""

from __future__ import annotations

from pathlib import Path

from gikai.media.pdf.sandbox import DocumentRejected, DocumentRenderer
from gikai.orchestrator.service.documents import InspectedPdf, InvalidDocument


class SandboxInspector:
    def __init__(self, renderer: DocumentRenderer) -> None:
        self.renderer = renderer

    async def inspect(self, path: Path) -> InspectedPdf:
        try:
            return await self.renderer.inspect(path)
        except DocumentRejected as exc:
            raise InvalidDocument(exc.reason, exc.detail) from None
