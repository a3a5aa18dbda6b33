"""The pages' Content Security Policy, and a document's own (signaling/ops/headers.py sets them).

The pages load only their own scripts and style sheets: no inline script, no ``<style>``, no
``style`` attribute (the client styles through ``element.style``, which CSP allows), so the policy
needs no ``'unsafe-inline'``. Nothing may frame a page (a vote button clickjacked).
"""

from __future__ import annotations

import base64
import hashlib
import re

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def document_csp(html: str) -> str:
    """The policy for a standalone document whose only inline part is its ``<style>`` elements
    (the minutes): those exact style sheets, by their hashes, and nothing else inline."""
    hashes = "".join(
        " 'sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode() + "'"
        for css in _STYLE.findall(html))
    return CSP.replace("style-src 'self'", f"style-src 'self'{hashes}")
