"""The deployment files in deploy/ are read by the real programs that will run them: Caddy adapts
the Caddyfile, nginx tests its configuration, systemd checks the unit, and the flags the unit
and docs/deployment.md pass to ``gikai serve`` exist (the nginx file also runs in the e2e test)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gikai.signaling.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def _tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if found is None:
        pytest.fail(f"{name} is not installed (.ci/run installs it)")
    return found


def test_caddy_reads_the_caddyfile_and_proxies_to_gikai() -> None:
    out = subprocess.run([_tool("caddy"), "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert '"dial":"127.0.0.1:8080"' in out.stdout.replace(" ", "")
    assert "gikai.town.example.jp" in out.stdout


def test_nginx_accepts_the_site_configuration(tmp_path: Path) -> None:
    site = (DEPLOY / "nginx-gikai.conf").read_text(encoding="utf-8")
    # Self-signed stand-ins for the certificate paths, so that nginx -t can load them.
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=gikai.town.example.jp", "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    site = (site.replace("/etc/letsencrypt/live/gikai.town.example.jp/fullchain.pem", str(cert))
            .replace("/etc/letsencrypt/live/gikai.town.example.jp/privkey.pem", str(key))
            .replace("listen 443 ssl;", "listen 127.0.0.1:1 ssl;"))
    temp = "\n".join(f"{kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
                    f"http {{\naccess_log off;\n{temp}\n{site}\n}}\n", encoding="utf-8")
    out = subprocess.run([_tool("nginx"), "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for needed in ("proxy_set_header Upgrade $http_upgrade", "X-Forwarded-For", "X-Forwarded-Proto",
                   "proxy_http_version 1.1"):
        assert needed in site


def test_systemd_accepts_the_unit_and_gikai_knows_its_flags(tmp_path: Path) -> None:
    unit = (DEPLOY / "gikai.service").read_text(encoding="utf-8")
    command = re.search(r"^ExecStart=((?:.*\\\n)*.*)$", unit, re.MULTILINE)
    assert command is not None
    flags = set(re.findall(r"(--[a-z][a-z-]+)", command.group(1)))
    assert {"--public-url", "--trusted-proxy", "--data"} <= flags
    serve = next(a for a in build_parser()._actions if a.dest == "command").choices["serve"]  # type: ignore[index]
    known = {option for action in serve._actions for option in action.option_strings}
    missing = flags - known
    # --media-ports and --turn-* come with the TURN half of issue 13; everything else must exist now.
    assert missing <= {"--media-ports", "--turn-url", "--turn-secret"}, missing
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # a machine without systemd: the flags were still checked above
    # systemd-analyze verify needs the ExecStart binary to exist: point it at a stand-in.
    stand_in = tmp_path / "gikai"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    copy = tmp_path / "gikai.service"
    copy.write_text(unit.replace("/opt/gikai/venv/bin/gikai", str(stand_in))
                    .replace("EnvironmentFile=/etc/gikai/gikai.env", f"EnvironmentFile=-{tmp_path / 'env'}"))
    out = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    problems = [line for line in out.stderr.splitlines() if "gikai.service" in line
                and any(word in line for word in ("Unknown", "Invalid", "Failed to parse", "ignoring"))]
    assert problems == [], out.stderr
