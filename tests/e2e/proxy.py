"""A real reverse proxy for the end-to-end tests: nginx (Debian) running the repository's own
example configuration (deploy/nginx-gikai.conf), terminating TLS with the test's certificate
in front of a gikai on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .conftest import REPO

EXAMPLE = REPO / "deploy" / "nginx-gikai.conf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    folder: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(folder: Path, name: str, port: int, upstream_port: int, cert: Path, key: Path) -> Nginx:
    """nginx on 127.0.0.1:``port`` for ``name`` with ``cert``, forwarding to 127.0.0.1:``upstream_port``."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx is not installed (apt-get install -y nginx)")
    folder.mkdir(parents=True, exist_ok=True)
    site = (EXAMPLE.read_text(encoding="utf-8")
            .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
            .replace("gikai.town.example.jp;", f"{name};")
            .replace("/etc/letsencrypt/live/gikai.town.example.jp/fullchain.pem", str(cert))
            .replace("/etc/letsencrypt/live/gikai.town.example.jp/privkey.pem", str(key))
            .replace("127.0.0.1:8080", f"127.0.0.1:{upstream_port}"))
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} info;
events {{ worker_connections 256; }}
http {{
    access_log {folder / "access.log"};
{temp}
{site}
}}
""", encoding="utf-8")
    with open(folder / "stderr.log", "wb") as stderr:
        process = subprocess.Popen([binary, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                    "-e", str(folder / "error.log")], stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {(folder / 'stderr.log').read_text()} {(folder / 'error.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return Nginx(process, folder)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("nginx did not listen within 30 s")
