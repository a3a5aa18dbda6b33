"""Shared test set-up: media stays on loopback, with no STUN server; servers the tests start make
no live captions unless a test asks (``--asr-model auto``): a recogniser per server would load the
two cores of a CI machine for nothing."""

import os

import pytest

from gikai.media.sfu.ice import set_host_addresses

os.environ.setdefault("GIKAI_ASR_MODEL", "off")  # inherited by every `gikai serve` a test starts


@pytest.fixture(autouse=True, scope="session")
def loopback_media():
    set_host_addresses(["127.0.0.1"])
    yield
    set_host_addresses(None)
