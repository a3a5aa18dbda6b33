"""The minutes as a document: sections of paragraphs, headings, key and value lists, tables
and a hash. The web page (html.py) and the PDF (pdf.py) are rendered from the same document,
so they always say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    caption: str = ""
    widths: tuple[float, ...] = ()  # relative column widths for the PDF
    nowrap: tuple[int, ...] = ()  # columns of times and lengths, kept on one line on the page
    compact: bool = False  # as narrow as its content on the page


@dataclass(frozen=True)
class Pairs:
    items: list[tuple[str, str]]


@dataclass(frozen=True)
class Code:
    text: str  # a hash: shown in a fixed-width font, broken anywhere


@dataclass(frozen=True)
class Heading:
    text: str  # a heading within a section (one vote)


Block = str | Table | Pairs | Code | Heading


@dataclass
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    lang: str
    title: str
    subtitle: str
    sections: list[Section]
    author: str = ""  # who the document is from (the body), for the PDF's metadata
