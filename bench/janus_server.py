"""Janus (Debian package ``janus``, 1.1.x) as the benchmarks' reference SFU: VideoRoom plugin
and HTTP transport only, configured in a temporary folder, in a network namespace of its own.

Janus leaves loopback out of its ICE host candidates, so it cannot share 127.0.0.1 with its
clients as gikai's SFU does. It runs in a network namespace ``gjanus-<pid>-<hex>`` joined to
the root namespace by a veth pair with addresses from an unused 10.213.N.0/30: Janus binds its
HTTP API and gathers ICE candidates on the namespace's end (10.213.N.2), the clients stay in
the root namespace and offer the root end (10.213.N.1) as their only host candidate.
Everything it needs is written by :class:`JanusServer` (``janus -C <tmp>/janus.jcfg -F <tmp>``):
a plugins folder and a transports folder that each hold one link (``libjanus_videoroom.so``,
``libjanus_http.so``), empty event-handler and logger folders, no admin API, no websockets.
``close()`` ends Janus and deletes the namespace (which removes the veth pair); a namespace
left behind by a run that was killed outright is deleted by the next run.

Needs root (``ip netns``) and the ``janus`` binary. Only the standard library: the test
imports this file as ``bench.janus_server``, the benchmark as ``janus_server``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

PREFIX = "gjanus"
LIBS = Path("/usr/lib/x86_64-linux-gnu/janus")
HTTP_PORT = 8088
ROOM = 1234


def missing() -> str | None:
    """Why Janus cannot run here, or None."""
    if shutil.which("janus") is None:
        return "the janus binary is missing (apt-get install -y janus)"
    if os.geteuid() != 0:
        return "Janus runs in a network namespace of its own, which needs root"
    if shutil.which("ip") is None:
        return "ip is not installed (apt-get install -y iproute2)"
    for lib in ("plugins/libjanus_videoroom.so", "transports/libjanus_http.so"):
        if not (LIBS / lib).exists():
            return f"{LIBS / lib} is missing"
    return None


def _ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    command = ["ip", *args] if netns is None else ["ip", "netns", "exec", netns, "ip", *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout


def _remove_stale_namespaces() -> None:
    """Delete gjanus namespaces whose creating process is gone (a run killed with SIGKILL)."""
    for line in _ip("netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == PREFIX and parts[1].isdigit():
            try:
                os.kill(int(parts[1]), 0)
            except ProcessLookupError:
                _ip("netns", "del", name, check=False)


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.213.N.0/30 that no address or route of the root namespace touches."""
    used = _ip("-4", "-o", "addr") + _ip("-4", "route")
    taken = {ipaddress.ip_network(word, strict=False) for word in used.split()
             if word[:1].isdigit() and word.count(".") == 3}
    for _ in range(200):
        net = ipaddress.ip_network(f"10.213.{secrets.randbelow(254) + 1}.0/30")
        if not any(net.overlaps(t) for t in taken if t.prefixlen > 0):
            return net  # type: ignore[return-value]
    raise RuntimeError("no free 10.213.N.0/30 in the root namespace")


def _config(folder: Path, address: str, device: str, debug_level: int) -> None:
    """janus.jcfg and the two plugin/transport files, plus folders holding only those two."""
    for kind, lib in (("plugins", "libjanus_videoroom.so"), ("transports", "libjanus_http.so")):
        (folder / kind).mkdir()
        (folder / kind / lib).symlink_to(LIBS / kind / lib)
    (folder / "events").mkdir()
    (folder / "loggers").mkdir()
    # session_timeout 0: a client starved on a busy machine must not lose its session (and its
    # peer connections) between two long polls; every session ends with the scenario anyway.
    (folder / "janus.jcfg").write_text(f"""general: {{
  configs_folder = "{folder}"
  plugins_folder = "{folder}/plugins"
  transports_folder = "{folder}/transports"
  events_folder = "{folder}/events"
  loggers_folder = "{folder}/loggers"
  debug_level = {debug_level}
  interface = "{address}"
  session_timeout = 0
  protected_folders = []
}}
certificates: {{}}
media: {{
  rtp_port_range = "20000-40000"
}}
nat: {{
  nice_debug = false
  ice_enforce_list = "{device}"
}}
plugins: {{}}
transports: {{}}
loggers: {{}}
events: {{
  broadcast = false
}}
""")
    (folder / "janus.plugin.videoroom.jcfg").write_text("general: {\n  string_ids = false\n}\n")
    (folder / "janus.transport.http.jcfg").write_text(f"""general: {{
  json = "plain"
  base_path = "/janus"
  http = true
  port = {HTTP_PORT}
  ip = "{address}"
  https = false
}}
admin: {{
  admin_http = false
  admin_https = false
}}
cors: {{}}
""")


def _die_with_parent() -> None:
    """Janus ends with the process that started it, even one killed outright (Linux)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class JanusServer:
    """``with JanusServer() as janus: janus.url, janus.client_address, janus.pid``."""

    def __init__(self, debug_level: int = 3, start_timeout: float = 30.0) -> None:
        self.debug_level = debug_level
        self.start_timeout = start_timeout
        tag = secrets.token_hex(2)
        self.netns = f"{PREFIX}-{os.getpid()}-{tag}"
        self.device = f"gj{os.getpid() % 100000}{tag}"[:13]  # root end; the namespace end adds "n"
        self.client_address = ""
        self.server_address = ""
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._folder: Path | None = None
        self._netns_made = False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log(self) -> str:
        """What Janus printed (its log), for error messages."""
        if self._folder is None or not (self._folder / "janus.log").exists():
            return ""
        return (self._folder / "janus.log").read_text(errors="replace")

    def __enter__(self) -> JanusServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        _remove_stale_namespaces()
        net = _free_subnet()
        root_end, ns_end = (str(a) for a in list(net.hosts())[:2])
        _ip("netns", "add", self.netns)
        self._netns_made = True
        inner = self.device + "n"
        _ip("link", "add", self.device, "type", "veth", "peer", "name", inner, "netns", self.netns)
        _ip("addr", "add", f"{root_end}/30", "dev", self.device)
        _ip("link", "set", self.device, "up")
        _ip("addr", "add", f"{ns_end}/30", "dev", inner, netns=self.netns)
        _ip("link", "set", inner, "up", netns=self.netns)
        _ip("link", "set", "lo", "up", netns=self.netns)
        self.client_address, self.server_address = root_end, ns_end
        self.url = f"http://{ns_end}:{HTTP_PORT}/janus"
        self._folder = Path(tempfile.mkdtemp(prefix="gjanus-conf-"))
        _config(self._folder, ns_end, inner, self.debug_level)
        with open(self._folder / "janus.log", "wb") as log:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, "janus", "-C", str(self._folder / "janus.jcfg"),
                 "-F", str(self._folder), "-P", str(self._folder / "plugins"), "-o"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)  # ip netns exec execs janus: this pid is Janus's
        self._wait_ready()

    def _wait_ready(self) -> None:
        end = time.monotonic() + self.start_timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"janus ended with code {self.process.returncode}:\n{self.log[-3000:]}")
            try:
                info = self.request("/info", None)
                if "janus.plugin.videoroom" in info.get("plugins", {}):
                    return
                raise RuntimeError(f"janus started without the VideoRoom plugin:\n{self.log[-3000:]}")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > end:
                raise RuntimeError(f"janus did not answer within {self.start_timeout:g} s:\n{self.log[-3000:]}")
            time.sleep(0.1)

    def request(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """One synchronous call of the HTTP API (set-up only; clients use janus_client)."""
        data = None if body is None else json.dumps({**body, "transaction": secrets.token_hex(6)}).encode()
        with urllib.request.urlopen(urllib.request.Request(self.url + path, data=data),
                                    timeout=15) as response:
            answer: dict[str, Any] = json.loads(response.read())
        if answer.get("janus") == "error":
            raise RuntimeError(f"janus: {answer['error']}")
        return answer

    def create_room(self, room: int = ROOM, publishers: int = 64) -> int:
        """A VideoRoom room for ``publishers`` publishers, VP8 video and Opus audio only."""
        session = self.request("", {"janus": "create"})["data"]["id"]
        try:
            handle = self.request(f"/{session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})["data"]["id"]
            answer = self.request(f"/{session}/{handle}", {"janus": "message", "body": {
                "request": "create", "room": room, "publishers": publishers, "permanent": False,
                "videocodec": "vp8", "audiocodec": "opus", "bitrate": 0, "notify_joining": False}})
            data = answer["plugindata"]["data"]
            if data.get("videoroom") != "created":
                raise RuntimeError(f"janus: room not created: {data}")
            return room
        finally:
            with contextlib.suppress(Exception):
                self.request(f"/{session}", {"janus": "destroy"})

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._netns_made:
            # Anything else still inside is ours (nothing else knows this namespace's name).
            for pid in _ip("netns", "pids", self.netns, check=False).split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            _ip("netns", "del", self.netns, check=False)  # takes the veth pair with it
            self._netns_made = False
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
