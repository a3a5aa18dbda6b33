"""Security headers on every response, set in one middleware: the pages' Content Security Policy
(signaling/http/policy.py), no sniffing, no framing, no referrer; camera, microphone and screen
capture for this origin only. Over HTTPS (directly, through a trusted proxy, or when --public-url
is https) browsers are told to come back over HTTPS only.

A handler that serves a document with needs of its own (the minutes' HTML carries its style sheet
inline, allowed by its hash) sets ``Content-Security-Policy`` itself; it is left as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gikai.signaling.config import request_origin
from gikai.signaling.http.policy import CSP

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PERMISSIONS = ("camera=(self), microphone=(self), display-capture=(self), publickey-credentials-get=(self), "
               "geolocation=(), payment=(), usb=(), serial=()")
HSTS = "max-age=31536000"

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": PERMISSIONS,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _add(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:  # a socket after its handshake, a stream already sent
        return
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.scheme == "https" or request_origin(request).startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # refusals and 404s are responses too
        _add(request, exc)
        raise
    _add(request, response)
    return response
