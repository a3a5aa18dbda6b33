"""gikai across a real (if small) network: three "hosts" made of network namespaces.

- ``srv``: ``gikai serve`` over HTTPS (``--tls-cert``, a certificate of the test's own CA that the
  browsers trust by its key, ``--public-url``) with ``--media-ports`` and ``--turn-url``/
  ``--turn-secret``, and coturn (``use-auth-secret``, TURN over TLS on 443) next to it, as
  docs/network.md and docs/deployment.md set them up.
- ``a``: a Chromium member whose firewall (nftables, inside that namespace) lets out only TCP to
  ports 443 and 8443, as a network that allows nothing but HTTPS: no UDP, no TURN on 3478. Its
  media can only go through coturn over TLS (``turns:``); its selected candidate pair must be
  ``relay`` over ``tls``.
- ``b``: a Chromium member with UDP: it reaches the SFU directly, on a port of the media range.

Each sees and hears the other and is counted present (presence detection on: a face on camera
and the others' video received). Every UDP socket of the server lies in the media range.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import netns
from tests.support.certs import Certificate, make_certificate
from tests.support.coturn import Coturn, listening, start_coturn

from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, REPO, stop_server
from .fakemedia import write_scene_y4m, write_wav
from .helpers import wait_for

pytestmark = pytest.mark.e2e

SRV_A, A = "10.71.1.1", "10.71.1.2"  # the server's side and member A's, UDP blocked at A
SRV_B, B = "10.71.2.1", "10.71.2.2"  # member B's network, UDP allowed
HTTP_PORT, TURN_PORT = 8080, 3478
HTTPS_PORT, TURNS_PORT = 8443, 443
ORIGIN = f"https://{SRV_A}:{HTTPS_PORT}"  # --public-url: the one origin both members open
ONLY_HTTPS = """
table inet gikai_test {
  chain input { type filter hook input priority 0; policy accept; iif != "lo" meta l4proto udp drop; }
  chain output {
    type filter hook output priority 0; policy accept;
    oif != "lo" meta l4proto udp drop;
    oif != "lo" tcp dport != { 443, 8443 } drop;
  }
}
"""
MEDIA = (40000, 40019)
TOKEN = re.compile(r"/join#(\S+)")
SECRET = secrets.token_urlsafe(24)


def remote_videos(page: Any) -> dict[str, int]:
    return {v["participant"]: v["frames"] for v in page.evaluate("window.gikai.remoteVideos()")}


@contextlib.contextmanager
def server_and_two_networks(srv_a: str, a: str, srv_b: str, b: str) -> Iterator[netns.Namespaces]:
    """Namespaces ``srv``, ``a`` and ``b``: the server has an address on each member network."""
    why = netns.available()
    if why:
        pytest.skip(why)
    with netns.Namespaces("srv", "a", "b") as ns:
        ns.link("srv", srv_a, "a", a)
        ns.link("srv", srv_b, "b", b)
        ns.route_default("a", srv_a)
        ns.route_default("b", srv_b)
        yield ns


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[netns.Namespaces]:
    with server_and_two_networks(SRV_A, A, SRV_B, B) as ns:
        ns.nft("a", ONLY_HTTPS, tmp_path)
        yield ns


TURN_URLS = [f"turn:{SRV_A}:{TURN_PORT}?transport=udp", f"turn:{SRV_A}:{TURN_PORT}?transport=tcp",
             f"turns:{SRV_A}:{TURNS_PORT}?transport=tcp"]


def start_gikai(ns: netns.Namespaces, root: Path, certificate: Certificate) -> tuple[subprocess.Popen[bytes], Path, list[str]]:
    log = root / "server.log"
    command = ["ip", "netns", "exec", ns["srv"], sys.executable, "-m", "gikai", "serve",
               "--host", "0.0.0.0", "--port", str(HTTPS_PORT), "--data", str(root / "data"),
               "--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key), "--public-url", ORIGIN,
               "--media-address", SRV_A, "--media-address", SRV_B, "--media-ports", f"{MEDIA[0]}-{MEDIA[1]}",
               *(arg for url in TURN_URLS for arg in ("--turn-url", url))]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1", "GIKAI_TURN_SECRET": SECRET})
    tokens = wait_for("gikai serve's join links", lambda: process.poll() is None and len(
        found := TOKEN.findall(log.read_text(errors="replace"))) >= 3 and listening(HTTPS_PORT, ns["srv"]) and found)
    return process, log, tokens


def launch_in(playwright: Any, ns: str, folder: Path, camera: Path, microphone: Path, trust: str) -> Any:
    """Chromium inside namespace ``ns``: Playwright starts it through ``ip netns exec`` and drives
    it over the pipe it inherits, so no debugging port has to cross namespaces. ``trust`` is the
    flag that makes the server's origin secure to it (the test's key, or an http origin)."""
    wrapper = folder / f"chromium-{ns}"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {ns} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o700)
    return playwright.chromium.launch(executable_path=str(wrapper), args=[
        *CHROMIUM_FLAGS, trust,
        f"--use-file-for-fake-video-capture={camera}", f"--use-file-for-fake-audio-capture={microphone}"])


def join_in_namespaces(playwright: Any, hosts: netns.Namespaces, folder: Path, camera: Path, trust: str,
                       members: list[tuple[str, str, str]], browsers: list[Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each of ``members`` (name, namespace role, join URL) in a Chromium of its own inside that
    namespace, with its own voice; their pages and participant ids once joined. The browsers are
    added to ``browsers`` as they start, for the caller to close."""
    pages = {}
    for n, (name, role, url) in enumerate(members):
        microphone = write_wav(folder / f"microphone-{name}.wav", seconds=3, pitch=140 + 60 * n)
        browsers.append(launch_in(playwright, hosts[role], folder, camera, microphone, trust))
        pages[name] = join(browsers[-1], url)
    ids = {name: wait_for(f"{name}'s join reply", lambda p=page: p.evaluate("window.gikai.state.self?.id"))
           for name, page in pages.items()}
    return pages, ids


def join(browser: Any, url: str) -> Any:
    page = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP").new_page()
    page.goto(url)
    page.get_by_test_id("join-button").click()
    return page


def test_over_https_a_member_allowed_only_https_is_relayed_by_coturn_over_tls_and_one_with_udp_uses_the_media_ports(
        hosts: netns.Namespaces, playwright_instance: Any, tmp_path: Path) -> None:
    coturn: Coturn | None = None
    server: subprocess.Popen[bytes] | None = None
    browsers: list[Any] = []
    try:
        certificate = make_certificate(tmp_path / "tls", [SRV_A, SRV_B])
        coturn = start_coturn(tmp_path / "coturn", SRV_A, TURN_PORT, SECRET, (49160, 49200), netns=hosts["srv"],
                              tls=(certificate.cert, certificate.key, TURNS_PORT))
        server, _log, tokens = start_gikai(hosts, tmp_path, certificate)
        face = write_scene_y4m(tmp_path / "face.y4m", "face", width=320, height=180)
        pages, ids = join_in_namespaces(
            playwright_instance, hosts, tmp_path, face, f"--ignore-certificate-errors-spki-list={certificate.spki}",
            [("a", "a", f"{ORIGIN}/join#{tokens[0]}"), ("b", "b", f"{ORIGIN}/join#{tokens[2]}")], browsers)
        a, b = pages["a"], pages["b"]

        # The browsers were given the TURN servers with credentials of their own; the secret is in no page.
        given = a.evaluate("window.gikai.iceServers")
        assert given[0]["urls"] == TURN_URLS
        assert given[0]["username"].endswith(":" + ids["a"])
        for page in (a, b):
            assert SECRET not in page.content()

        # A's media goes through the relay, over TLS to coturn's 443; B's directly to a media port.
        pair_a = wait_for("A's selected candidate pair", lambda: a.evaluate("window.gikai.selectedPair()"))
        pair_b = wait_for("B's selected candidate pair", lambda: b.evaluate("window.gikai.selectedPair()"))
        assert pair_a["local"]["candidateType"] == "relay", pair_a
        assert pair_a["local"]["relayProtocol"] == "tls", pair_a
        assert pair_a["remote"]["address"] == SRV_A and MEDIA[0] <= pair_a["remote"]["port"] <= MEDIA[1], pair_a
        assert pair_b["local"]["candidateType"] == "host" and pair_b["local"]["address"] == B, pair_b
        assert pair_b["remote"]["candidateType"] == "host", pair_b
        # B has a route to both of the server's addresses: either host candidate will do.
        assert pair_b["remote"]["address"] in (SRV_A, SRV_B) and MEDIA[0] <= pair_b["remote"]["port"] <= MEDIA[1], pair_b

        # Each sees and hears the other.
        for page, me, other in ((a, "a", "b"), (b, "b", "a")):
            wait_for(f"{me} to show {other}'s video", lambda p=page, o=ids[other]: remote_videos(p).get(o, 0) > 0)
            shown = remote_videos(page)[ids[other]]
            wait_for(f"{me} to keep decoding {other}'s video",
                     lambda p=page, o=ids[other], s=shown: remote_videos(p).get(o, 0) - s >= 10)
            wait_for(f"{me} to hear {other}", lambda p=page, o=ids[other]: p.evaluate(
                "window.gikai.audioLevels()").get(o, 0) > 0)

        # Both are counted present: seen on camera by the server, and receiving the others.
        for page in (a, b):
            wait_for("both members counted present", lambda p=page: set(ids.values()) <= set(
                p.evaluate("window.gikai.state.sitting?.quorum?.counted") or []))

        # The public gallery, watched from A's network, is relayed the same way.
        meeting_id = a.evaluate("window.gikai.state.meeting.id")
        gallery = browsers[0].new_context(locale="ja-JP").new_page()
        gallery.goto(f"{ORIGIN}/gallery/{meeting_id}")
        pair_g = wait_for("the gallery's selected candidate pair",
                          lambda: gallery.evaluate("window.gikaiGallery?.selectedPair()"))
        assert pair_g["local"]["candidateType"] == "relay" and pair_g["local"]["relayProtocol"] == "tls", pair_g
        assert MEDIA[0] <= pair_g["remote"]["port"] <= MEDIA[1], pair_g
        assert SECRET not in gallery.content()

        # Everything the server process binds for media is inside the range (its HTTP socket is TCP).
        udp = netns.udp_ports_of(server.pid)
        assert udp and all(MEDIA[0] <= port <= MEDIA[1] for port in udp), udp

        report = (f"member A, only HTTPS allowed: local {pair_a['local']} -> remote {pair_a['remote']}\n"
                  f"member B with UDP: local {pair_b['local']} -> remote {pair_b['remote']}\n"
                  f"gallery viewer on A's network: local {pair_g['local']} -> remote {pair_g['remote']}\n"
                  f"server UDP ports: {udp}\n")
        print("\n" + report)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-network-candidates.txt").write_text(report)
    finally:
        for browser in browsers:
            browser.close()
        if server is not None:
            stop_server(server)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "e2e-server-network.log").write_bytes((tmp_path / "server.log").read_bytes())
        if coturn is not None:
            coturn.stop()


SRV_C, C = "10.71.3.1", "10.71.3.2"  # the server's private address behind a 1:1 NAT, and a client
PUBLIC = "198.51.100.9"  # the NAT's public address (TEST-NET-2)
NAT = f"""
table ip gikai_nat {{
  chain prerouting {{ type nat hook prerouting priority -100; ip daddr {PUBLIC} dnat to {SRV_C}; }}
}}
"""
# The client reaches the server's private addresses by TCP (the page, the socket) but not by UDP:
# media must go to the public address, through the NAT, as from the Internet to a cloud VM.
PRIVATE_UDP_DROPPED = """
table inet gikai_test {
  chain output { type filter hook output priority 0; policy accept; ip daddr 10.71.0.0/16 meta l4proto udp drop; }
}
"""


def test_behind_a_1to1_nat_the_public_media_address_is_announced_and_carries_the_media(tmp_path: Path) -> None:
    why = netns.available()
    if why:
        pytest.skip(why)
    with netns.Namespaces("srv", "c") as ns:
        ns.link("srv", SRV_C, "c", C)
        ns.route_default("c", SRV_C)
        ns.nft("srv", NAT, tmp_path)
        ns.nft("c", PRIVATE_UDP_DROPPED, tmp_path)
        log = tmp_path / "server.log"
        with open(log, "wb") as out:
            server = subprocess.Popen(
                ["ip", "netns", "exec", ns["srv"], sys.executable, "-m", "gikai", "serve", "--host", SRV_C,
                 "--port", str(HTTP_PORT), "--data", str(tmp_path / "data"), "--no-presence-detection",
                 "--media-address", SRV_C, "--media-address", PUBLIC, "--media-ports", f"{MEDIA[0]}-{MEDIA[1]}"],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            tokens = wait_for("gikai serve's join links", lambda: server.poll() is None and len(
                found := TOKEN.findall(log.read_text(errors="replace"))) >= 2
                and listening(HTTP_PORT, ns["srv"]) and found)
            assert f"announced as {PUBLIC} (1:1 NAT)" in log.read_text()
            members = subprocess.run(
                ["ip", "netns", "exec", ns["c"], sys.executable, "-m", "tests.support.netmember",
                 f"ws://{SRV_C}:{HTTP_PORT}/ws", *tokens[:2]],
                cwd=REPO, capture_output=True, text=True, timeout=180)
            assert members.returncode == 0, members.stdout + members.stderr
            pairs = [json.loads(line) for line in members.stdout.splitlines() if line.startswith("{")]
            assert len(pairs) == 2
            for pair in pairs:
                assert pair["local"]["address"] == C
                assert pair["remote"]["address"] == PUBLIC, pair  # the announced address, through the NAT
                assert MEDIA[0] <= pair["remote"]["port"] <= MEDIA[1], pair
            report = "".join(f"member behind the NAT's far side: {p['local']} -> {p['remote']}\n" for p in pairs)
            print("\n" + report)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "e2e-network-nat.txt").write_text(report)
        finally:
            stop_server(server)
