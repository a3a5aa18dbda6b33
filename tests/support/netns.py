"""Network namespaces made by a test: several "hosts" on one machine, joined by veth pairs, each
with its own firewall (nftables). Names are unique per run; everything is deleted on exit, also
after a failure, and every process started inside is ended first."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
from pathlib import Path
from types import TracebackType


def available() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "nft", "ss"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install -y iproute2 nftables)"
    return None


def run(*command: str, netns: str | None = None) -> str:
    if netns:
        command = ("ip", "netns", "exec", netns, *command)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout


class Namespaces:
    """``with Namespaces("srv", "a") as ns: ns.link("srv", "10.71.1.1", "a", "10.71.1.2")``."""

    def __init__(self, *roles: str) -> None:
        tag = f"gk{os.getpid() % 100000}{secrets.token_hex(2)}"
        self.names = {role: f"{tag}-{role}" for role in roles}
        self._made: list[str] = []

    def __getitem__(self, role: str) -> str:
        return self.names[role]

    def __enter__(self) -> Namespaces:
        try:
            for name in self.names.values():
                run("ip", "netns", "add", name)
                self._made.append(name)
                run("ip", "link", "set", "lo", "up", netns=name)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def link(self, a: str, a_address: str, b: str, b_address: str, prefix: int = 24) -> None:
        """A veth pair between roles ``a`` and ``b`` (made inside ``a``: no name in the root namespace)."""
        index = sum(1 for _ in run("ip", "-o", "link", netns=self[a]).splitlines())
        a_dev, b_dev = f"v{index}{b[:4]}", f"v{index}{a[:4]}"
        run("ip", "link", "add", a_dev, "type", "veth", "peer", "name", b_dev, "netns", self[b], netns=self[a])
        for role, dev, address in ((a, a_dev, a_address), (b, b_dev, b_address)):
            run("ip", "addr", "add", f"{address}/{prefix}", "dev", dev, netns=self[role])
            run("ip", "link", "set", dev, "up", netns=self[role])

    def route_default(self, role: str, via: str) -> None:
        run("ip", "route", "add", "default", "via", via, netns=self[role])

    def nft(self, role: str, ruleset: str, folder: Path) -> None:
        """Load an nftables ruleset inside ``role``'s namespace (it filters that "host" only)."""
        path = folder / f"{role}.nft"
        path.write_text(ruleset)
        run("nft", "-f", str(path), netns=self[role])

    def close(self) -> None:
        for name in reversed(self._made):
            pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
            for pid in pids:  # only processes this test started inside its own namespace
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self._made.clear()


DROP_UDP = """
table inet gikai_test {
  chain input { type filter hook input priority 0; policy accept; iif != "lo" meta l4proto udp drop; }
  chain output { type filter hook output priority 0; policy accept; oif != "lo" meta l4proto udp drop; }
}
"""


def udp_ports_of(pid: int) -> list[int]:
    """The local ports of every UDP socket process ``pid`` holds, read from /proc as seen from its
    own namespace (psutil looks the sockets up in the caller's namespace and finds none there)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return sorted(ports)
