"""A real coturn (Debian's ``turnserver``) started by a test, configured as docs/network.md says:
``use-auth-secret`` with a ``static-auth-secret``, no CLI, its own database and log in the test's
folder; TURN over TLS (``turns:``) on a port of its own when given a certificate, else no TLS.
Optionally inside a network namespace the test made."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


@dataclass
class Coturn:
    process: subprocess.Popen[bytes]
    address: str
    port: int
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def listening(port: int, netns: str | None = None, proto: str = "t") -> bool:
    """Whether something listens on TCP (``t``) or UDP (``u``) ``port`` (in ``netns``)."""
    command = ["ss", "-Hln" + proto, f"sport = :{port}"]
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    return bool(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip())


def start_coturn(folder: Path, address: str, port: int, secret: str, relay_ports: tuple[int, int],
                 netns: str | None = None, loopback_peers: bool = False,
                 tls: tuple[Path, Path, int] | None = None) -> Coturn:
    """coturn on ``address:port`` (UDP and TCP), relaying from ``address`` on ``relay_ports``;
    with ``tls`` = (certificate chain, key, port) also TURN over TLS on that TCP port."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "turnserver.log"
    config = folder / "turnserver.conf"
    config.write_text("\n".join([
        f"listening-ip={address}", f"listening-port={port}", f"relay-ip={address}",
        f"min-port={relay_ports[0]}", f"max-port={relay_ports[1]}",
        "use-auth-secret", f"static-auth-secret={secret}", "realm=gikai.test",
        "fingerprint", "no-cli", "no-dtls", "no-multicast-peers",
        *([f"cert={tls[0]}", f"pkey={tls[1]}", f"tls-listening-port={tls[2]}", "no-tlsv1", "no-tlsv1_1"]
          if tls else ["no-tls"]),
        *(["allow-loopback-peers"] if loopback_peers else []),
        f"log-file={log}", "simple-log", "no-stdout-log",
        f"pidfile={folder / 'turnserver.pid'}", f"userdb={folder / 'turndb'}",
    ]) + "\n")
    config.chmod(0o600)  # it holds the secret
    command = [TURNSERVER, "-c", str(config)]
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    out = open(folder / "turnserver.out", "wb")  # noqa: SIM115 (the process writes to it until stopped)
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    running = Coturn(process, address, port, log)
    deadline = time.monotonic() + 30
    while not (listening(port, netns, "t") and listening(port, netns, "u") and (
            tls is None or listening(tls[2], netns, "t"))):
        if process.poll() is not None or time.monotonic() > deadline:
            running.stop()
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"turnserver did not start listening on {address}:{port}:\n{text[-3000:]}")
        time.sleep(0.1)
    return running
