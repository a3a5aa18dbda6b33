"""Shared test set-up: media stays on loopback, with no STUN server."""

import pytest

from gikai.media.sfu.ice import set_host_addresses


@pytest.fixture(autouse=True, scope="session")
def loopback_media():
    set_host_addresses(["127.0.0.1"])
    yield
    set_host_addresses(None)
