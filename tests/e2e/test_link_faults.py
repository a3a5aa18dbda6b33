"""One member's bad link costs the others nothing, and the member comes back by themselves.

Three "hosts" made of network namespaces: the server (``srv``), member A's network (``a``) and
the network of members B and C (``b``), all three Chromium with a face on camera. A's link first
loses 5% of its packets each way, then is cut (every packet dropped) for 10 s, then restored.
Both fit in the grace periods of the body's rules, so A is counted throughout. This machine's
kernel has no ``netem`` qdisc (``tc qdisc add ... netem`` answers "Specified qdisc kind is
unknown"), so the loss is nftables' ``numgen random`` inside A's namespace and no delay is added;
a kernel with netem would add the issue's 150 ms here. Measured at B: how many of C's video
frames B decodes per second before, during the lossy spell and during the cut (C is on a good link: its rate must not
drop). A's page is never reloaded: after the cut its media comes back by itself (ICE consent
outlives 10 s; a longer cut fails ICE and the page rejoins), and A sees B again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import netns
from tests.support.coturn import listening

from .conftest import ARTIFACTS, REPO, stop_server
from .fakemedia import write_scene_y4m
from .helpers import wait_for
from .test_network import TOKEN, join_in_namespaces, remote_videos, server_and_two_networks

pytestmark = pytest.mark.e2e

SRV_A, A = "10.72.1.1", "10.72.1.2"
SRV_B, B = "10.72.2.1", "10.72.2.2"
HTTP_PORT = 8080
ORIGINS = f"http://{SRV_A}:{HTTP_PORT},http://{SRV_B}:{HTTP_PORT}"
WINDOW = 5.0  # seconds over which a decode rate is taken
SETTLE = 3.0  # seconds into the cut after which no frame of A's can still reach B


@pytest.fixture
def hosts() -> Iterator[netns.Namespaces]:
    with server_and_two_networks(SRV_A, A, SRV_B, B) as ns:
        yield ns


def start_gikai(ns: netns.Namespaces, root: Path) -> tuple[subprocess.Popen[bytes], Path, list[str]]:
    log = root / "server.log"
    command = ["ip", "netns", "exec", ns["srv"], sys.executable, "-m", "gikai", "serve",
               "--host", "0.0.0.0", "--port", str(HTTP_PORT), "--data", str(root / "data"),
               "--media-address", SRV_A, "--media-address", SRV_B]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    tokens = wait_for("gikai serve's join links", lambda: process.poll() is None and len(
        found := TOKEN.findall(log.read_text(errors="replace"))) >= 4 and listening(HTTP_PORT, ns["srv"]) and found)
    return process, log, tokens


def device(ns: netns.Namespaces, role: str, peer_address: str) -> str:
    """The interface of ``role`` on the link that reaches ``peer_address``."""
    route = netns.run("ip", "-o", "route", "get", peer_address, netns=ns[role])
    match = re.search(r"\bdev (\S+)", route)
    assert match, route
    return match.group(1)


FAULT = """
table inet gikai_fault {{
  chain input {{ type filter hook input priority 0; policy accept; iif "{dev}" {rule} }}
  chain output {{ type filter hook output priority 0; policy accept; oif "{dev}" {rule} }}
}}
"""


def impair(ns: netns.Namespaces, rule: str | None, folder: Path) -> None:
    """An nftables ``rule`` for every packet in and out of A's link, inside A's namespace; None: clear."""
    subprocess.run(["ip", "netns", "exec", ns["a"], "nft", "delete", "table", "inet", "gikai_fault"],
                   capture_output=True)  # none there yet is fine
    if rule is not None:
        ns.nft("a", FAULT.format(dev=device(ns, "a", SRV_A), rule=rule), folder)


def watch(page: Any, of: str, member: str, seconds: float = WINDOW) -> tuple[float, list[str]]:
    """Over ``seconds``: frames of ``of``'s video that ``page`` decodes per second, and the
    presence states of ``member`` that ``page`` was shown (``+counted``: in the quorum)."""
    before, t0 = remote_videos(page).get(of, 0), time.monotonic()
    seen: list[str] = []

    def sample() -> bool:
        sitting = page.evaluate("window.gikai.state.sitting") or {}
        state = (sitting.get("presence", {}).get(member) or {}).get("state", "?")
        counted = member in (sitting.get("quorum", {}).get("counted") or [])
        label = f"{state}{'+counted' if counted else ''}"
        if not seen or seen[-1] != label:
            seen.append(label)
        return time.monotonic() - t0 >= seconds

    wait_for(f"{seconds:.0f} s of watching", sample, interval=0.25)
    return (remote_videos(page).get(of, 0) - before) / (time.monotonic() - t0), seen


def test_a_lossy_then_cut_link_costs_the_others_nothing_and_the_member_returns_without_a_reload(
        hosts: netns.Namespaces, playwright_instance: Any, tmp_path: Path) -> None:
    server: subprocess.Popen[bytes] | None = None
    browsers: list[Any] = []
    try:
        server, log, tokens = start_gikai(hosts, tmp_path)
        face = write_scene_y4m(tmp_path / "face.y4m", "face", width=320, height=180)
        pages, ids = join_in_namespaces(
            playwright_instance, hosts, tmp_path, face, f"--unsafely-treat-insecure-origin-as-secure={ORIGINS}",
            [("a", "a", f"http://{SRV_A}:{HTTP_PORT}/join#{tokens[0]}"),
             ("b", "b", f"http://{SRV_B}:{HTTP_PORT}/join#{tokens[2]}"),
             ("c", "b", f"http://{SRV_B}:{HTTP_PORT}/join#{tokens[3]}")], browsers)
        a, b = pages["a"], pages["b"]
        for me, page in pages.items():
            for other in ids:
                if other != me:
                    wait_for(f"{me} to decode {other}'s video",
                             lambda p=page, o=ids[other]: remote_videos(p).get(o, 0) >= 10)
        a.evaluate("window.__notReloaded = true")

        watch(b, ids["c"], ids["a"])  # the first seconds of decoding catch up: not the baseline
        quiet, _ = watch(b, ids["c"], ids["a"])
        impair(hosts, "numgen random mod 100 < 5 drop;", tmp_path)
        lossy, a_lossy_states = watch(b, ids["c"], ids["a"], 2 * WINDOW)
        a_lossy, _ = watch(a, ids["b"], ids["a"])  # A itself still gets video over the lossy link
        impair(hosts, "drop;", tmp_path)
        # The cut's first seconds still show frames that were in flight or waiting in B's jitter
        # buffer and decoder (on a loaded machine, up to a second's worth); after SETTLE none of
        # A's frames can reach B any more.
        _, a_cut_states = watch(b, ids["c"], ids["a"], SETTLE)
        a_at_b = remote_videos(b).get(ids["a"], 0)
        cut, a_cut_late_states = watch(b, ids["c"], ids["a"], 10.0 - SETTLE)
        a_at_b = remote_videos(b).get(ids["a"], 0) - a_at_b  # A's frames B decoded in the settled cut
        a_cut_states += a_cut_late_states[1:] if a_cut_late_states[:1] == a_cut_states[-1:] else a_cut_late_states
        impair(hosts, None, tmp_path)
        restored_at = time.monotonic()

        # A's media comes back by itself (no reload): A decodes B's video again
        shown = remote_videos(a).get(ids["b"], 0)
        wait_for("A to decode B's video again after the cut",
                 lambda: remote_videos(a).get(ids["b"], 0) - shown >= 10 or (remote_videos(a).get(ids["b"], 0) < shown
                                                                           and remote_videos(a).get(ids["b"], 0) >= 10),
                 timeout=120)
        back = time.monotonic() - restored_at
        assert a.evaluate("window.__notReloaded === true"), "A's page was reloaded"
        wait_for("A counted in the quorum again", lambda: ids["a"] in (
            b.evaluate("window.gikai.state.sitting.quorum.counted") or []), timeout=120)
        after, _ = watch(b, ids["c"], ids["a"])

        # C's video at B goes on through A's trouble. Chromium's decode rate on a busy 2-core machine
        # swings by a third from one window to the next by itself, so only a collapse fails here;
        # the figures are printed and kept in artifacts/e2e-link-faults.txt
        for name, value in (("lossy", lossy), ("cut", cut), ("after", after)):
            assert value >= 0.5 * quiet, f"B decoded C at {value:.1f} fps {name}, {quiet:.1f} before"
        assert a_lossy > 0, "A kept receiving video over the lossy link"
        # the grace period held through the lossy spell: A stayed present and counted
        assert a_lossy_states == ["present+counted"], a_lossy_states
        # the cut was real (none of A's frames reached B), and it is shorter than the grace the body's
        # rules give a lost link (link_lost_after_seconds, 10 s; the picture's absence counts as the
        # link's once A's reception reports stop): A stayed counted, nobody left the quorum for it
        assert a_at_b == 0, f"B decoded {a_at_b} of A's frames {SETTLE:.0f}-10 s into the cut of A's link"
        assert a_cut_states == ["present+counted"], a_cut_states

        report = (f"B decoding C (fps): quiet {quiet:.1f}, A lossy (5% loss each way) {lossy:.1f}, A cut {cut:.1f}, "
                  f"after {after:.1f}; A decoding B while lossy {a_lossy:.1f} fps; A as B saw it: lossy {a_lossy_states}, "
                  f"cut {a_cut_states} (A's frames at B {SETTLE:.0f}-10 s into the cut: {a_at_b}); A's video back {back:.1f} s "
                  f"after the link was restored, page not reloaded\n")
        print("\n" + report)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-link-faults.txt").write_text(report)
        (ARTIFACTS / "e2e-server-link-faults.log").write_bytes(log.read_bytes())
    finally:
        for browser in browsers:
            browser.close()
        if server is not None:
            stop_server(server)
