"""What ``pip install .`` puts on a machine: one import name, and every file the server serves."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _wheel(tmp_path: Path) -> zipfile.ZipFile:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "--disable-pip-version-check", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("gikai-*.whl")
    return zipfile.ZipFile(wheel)


def test_the_wheel_installs_one_top_level_name_and_the_whole_web_client(tmp_path):
    names = _wheel(tmp_path).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"gikai"}

    served = subprocess.run(["git", "ls-files", "web"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    served = [f for f in served if f.endswith((".html", ".js", ".css", ".png", ".svg", ".ico"))]
    assert served, "git lists no web files"
    missing = [f for f in served if f"gikai/{f}" not in names]
    assert missing == [], f"web files left out of the wheel: {missing}"
    assert "gikai/orchestrator/persistence/migrations/script.py.mako" in names
    assert any(n.startswith("gikai/orchestrator/persistence/migrations/versions/") for n in names)
