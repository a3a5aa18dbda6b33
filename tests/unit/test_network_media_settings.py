"""The settings for media across a network, as ``gikai serve`` checks them at start-up: the port
range, the TURN URLs and secret, and the TURN REST credentials' shape (coturn's acceptance of
them is tests/signaling/test_turn_relay.py)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from gikai.media import PortRange
from gikai.media.sfu.ice import split_media_addresses
from gikai.signaling.turn import TurnServers, credential, validate_url

SECRET = "s3cret-shared-with-coturn"


def test_a_credential_names_its_expiry_and_holder_and_is_the_secrets_hmac_sha1() -> None:
    servers = TurnServers(("turn:turn.example.jp:3478?transport=udp", "turns:turn.example.jp:443?transport=tcp"),
                          SECRET, ttl=7200)
    (given,) = servers.ice_servers("participant-7", now=1_700_000_000.4)
    assert given["urls"] == ["turn:turn.example.jp:3478?transport=udp", "turns:turn.example.jp:443?transport=tcp"]
    assert given["username"] == "1700007200:participant-7"
    assert len(base64.b64decode(given["credential"])) == 20  # an SHA-1 digest
    assert given["credential"] == credential(SECRET, "1700007200:participant-7")
    assert given["credential"] != credential(SECRET + "x", "1700007200:participant-7")
    assert given["credential"] != credential(SECRET, "1700007201:participant-7")
    assert servers.ice_servers("participant-8", now=1_700_000_000)[0]["credential"] != given["credential"]


def test_the_secret_is_in_no_repr_and_no_turn_means_no_ice_servers() -> None:
    servers = TurnServers(("turn:10.0.0.1:3478",), SECRET)
    assert SECRET not in repr(servers)
    assert TurnServers((), "").ice_servers("p") == []


@pytest.mark.parametrize("url", [
    "turn:turn.example.jp:3478?transport=udp", "turn:turn.example.jp", "turns:turn.example.jp:443?transport=tcp",
    "turn:192.0.2.10:3478?transport=tcp", "turn:[2001:db8::1]:3478",
])
def test_turn_urls_browsers_take_are_accepted(url: str) -> None:
    assert validate_url(url) == url


@pytest.mark.parametrize("url", [
    "stun:turn.example.jp:3478", "turn://turn.example.jp:3478", "http://turn.example.jp", "turn:",
    "turn:host:99999", "turn:host:3478?transport=sctp", "turns:host:443?transport=udp", "turn:user@host:3478",
    "turn:host:3478/path",
])
def test_turn_urls_browsers_would_refuse_are_refused_at_start_up(url: str) -> None:
    with pytest.raises(ValueError):
        validate_url(url)


def test_a_short_secret_and_a_short_lifetime_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        TurnServers(("turn:host:3478",), "short")
    with pytest.raises(ValueError, match="a second"):
        TurnServers(("turn:host:3478",), SECRET, ttl=0)


def test_media_port_ranges() -> None:
    ports = PortRange.parse("40000-40099")
    assert (len(ports), 40000 in ports, 40099 in ports, 40100 in ports, str(ports)) == (100, True, True, False,
                                                                                         "40000-40099")
    assert len(PortRange.parse("40000")) == 1
    for wrong in ("40099-40000", "80-90", "40000-70000", "a-b", ""):
        with pytest.raises(ValueError):
            PortRange.parse(wrong)


def test_a_media_address_no_interface_has_is_announced_not_bound() -> None:
    assert split_media_addresses(["127.0.0.1", "203.0.113.7"]) == (["127.0.0.1"], ["203.0.113.7"])
    assert split_media_addresses(["203.0.113.7"]) == (["auto"], ["203.0.113.7"])
    assert split_media_addresses(["auto", "127.0.0.1"]) == (["auto", "127.0.0.1"], [])
    with pytest.raises(ValueError):
        split_media_addresses(["gikai.example.jp"])


@pytest.mark.parametrize(("args", "says"), [
    (["--media-ports", "40099-40000"], "--media-ports: media ports must satisfy"),
    (["--turn-url", "turn:host:3478"], "--turn-url needs --turn-secret"),
    (["--turn-secret", SECRET], "--turn-secret without --turn-url"),
    (["--turn-url", "stun:host:3478", "--turn-secret", SECRET], "TURN URL must look like"),
    (["--turn-ttl", "60"], "--turn-ttl: TURN credentials must live at least 600 seconds"),
    (["--media-address", "gikai.example.jp"], "--media-address: neither an address of this host"),
])
def test_gikai_serve_stops_at_once_with_a_clear_message_for_wrong_network_settings(args: list[str], says: str) -> None:
    done = subprocess.run([sys.executable, "-m", "gikai", "serve", *args], capture_output=True, text=True,
                          timeout=60, env={k: v for k, v in os.environ.items() if k != "GIKAI_TURN_SECRET"})
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert SECRET not in done.stderr
