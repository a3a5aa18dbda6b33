"""A running app's parts, as the tests inspect them: the app keeps each under its own key."""

from __future__ import annotations

from aiohttp import web

from gikai.signaling.app import DATABASE, TASKS
from gikai.signaling.auth.sessions import ACCOUNTS
from gikai.signaling.gallery.endpoint import GALLERY_SOCKETS
from gikai.signaling.http import state
from gikai.signaling.ws.endpoint import MEMBER_SOCKETS


class Parts:
    def __init__(self, app: web.Application) -> None:
        members = app[MEMBER_SOCKETS]
        self.app = app
        self.accounts = app[ACCOUNTS]
        self.admin = app[state.ADMIN]
        self.archive = app[state.ARCHIVE]
        self.directory = app[state.DIRECTORY]
        self.tokens = app[state.TOKENS]
        self.sittings = app[state.SITTINGS]
        self.db = app[DATABASE]
        self.hub = members.hub
        self.sfu = members.media.sfu
        self.connections = members.connections
        self.gallery = app[GALLERY_SOCKETS].gallery
        self.background = app[TASKS].running
