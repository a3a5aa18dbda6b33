"""Shared fixtures of the media tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gikai.media import SFU


@pytest.fixture
async def sfu() -> AsyncIterator[SFU]:
    """An SFU of the test's own, closed after it."""
    sfu = SFU()
    yield sfu
    await sfu.close()
