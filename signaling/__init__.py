"""Signaling: the aiohttp edge (HTTP, WebSocket), auth, and the wiring of the layers."""
