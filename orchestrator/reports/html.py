"""A document (document.py) as a standalone, printable web page: no script, no outside
resources, every text escaped."""

from __future__ import annotations

import html

from gikai.orchestrator.reports.document import Block, Code, Document, Heading, Pairs

_CSS = """
:root { color-scheme: light; --line: #767676; }
body { font-family: "Noto Serif CJK JP", "IPAPMincho", "IPAexMincho", "Yu Mincho", "Hiragino Mincho ProN", serif;
       line-height: 1.6; color: #111; background: #fff; margin: 0; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
header { text-align: center; margin-bottom: 2rem; }
h1 { font-size: 1.6rem; margin: 0; } header p { margin: .25rem 0 0; font-size: 1.25rem; letter-spacing: .3em; }
h2 { font-size: 1.15rem; border-bottom: 2px solid #111; padding-bottom: .15rem; margin: 2rem 0 .75rem; }
h3 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #eee; }
dl { margin: 0 0 .75rem; }
dl > div { display: grid; grid-template-columns: 13em 1fr; gap: 1rem; padding: .2rem 0; border-bottom: 1px solid #ddd; }
dt { font-weight: bold; } dd { margin: 0; }
td.nowrap { white-space: nowrap; } table.compact { width: auto; min-width: 50%; }
code { font-family: "DejaVu Sans Mono", monospace; word-break: break-all; font-size: .9rem; }
@media print {
  @page { size: A4; margin: 18mm 16mm; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; } tr, dl > div { break-inside: avoid; } thead { display: table-header-group; }
}
"""


def _html_block(block: Block) -> str:
    e = html.escape
    if isinstance(block, str):
        return f"<p>{e(block)}</p>"
    if isinstance(block, Heading):
        return f"<h3>{e(block.text)}</h3>"
    if isinstance(block, Code):
        return f"<p><code>{e(block.text)}</code></p>"
    if isinstance(block, Pairs):
        inner = "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in block.items)
        return f"<dl>{inner}</dl>"
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in block.header)
    body = "".join("<tr>" + "".join(('<td class="nowrap">' if i in block.nowrap else "<td>") + f"{e(cell)}</td>"
                                    for i, cell in enumerate(row)) + "</tr>" for row in block.rows)
    caption = f"<caption>{e(block.caption)}</caption>" if block.caption else ""
    attrs = ' class="compact"' if block.compact else ""
    return f"<table{attrs}>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(doc: Document) -> str:
    e = html.escape
    parts = []
    for n, s in enumerate(doc.sections, start=1):
        blocks = "".join(_html_block(b) for b in s.blocks)
        parts.append(f'<section aria-labelledby="s{n}"><h2 id="s{n}">{e(s.heading)}</h2>{blocks}</section>')
    return (f'<!DOCTYPE html>\n<html lang="{doc.lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(doc.title)} {e(doc.subtitle)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<header><h1>{e(doc.title)}</h1><p>{e(doc.subtitle)}</p></header>\n"
            + "\n".join(parts) + "\n</main>\n</body>\n</html>\n")
