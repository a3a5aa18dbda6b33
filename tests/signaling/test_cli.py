"""The clerk's commands from a terminal, on a data folder, as a clerk would type them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def gikai(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gikai", *args, "--data", str(data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_clerk_sets_up_a_committee_from_the_command_line(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeffseat,name,reading,role\n1,山田 太郎,やまだ たろう,委員長\n2,佐藤 花子,さとう はなこ,委員\n",
                      encoding="utf-8")
    body_id = gikai(tmp_path, "body", "create", "--name", "総務委員会", "--fixed", "2").stdout.strip()
    assert len(body_id) == 32
    assert "imported 2 members" in gikai(tmp_path, "member", "import", body_id, str(roster)).stdout
    again = gikai(tmp_path, "member", "import", body_id, str(roster))
    assert again.returncode == 2 and "seats already taken" in again.stderr
    listing = gikai(tmp_path, "body", "list").stdout
    member_id = next(line.split()[0] for line in listing.splitlines() if "佐藤" in line)
    meeting_id = gikai(tmp_path, "meeting", "create", "--body", body_id, "--title", "第1回",
                       "--at", "2026-03-10T10:00").stdout.strip()
    assert gikai(tmp_path, "meeting", "agenda", meeting_id, "議案第1号").returncode == 0
    assert "第1回" in gikai(tmp_path, "meeting", "list").stdout
    link = gikai(tmp_path, "member", "enrol", member_id).stdout.strip()
    assert link.startswith("http://localhost:8080/enrol#") and len(link) > 60
    missing = gikai(tmp_path, "member", "import", body_id, str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_a_clerk_turns_on_remote_attendance_by_permission_and_sees_it_in_the_list(tmp_path):
    body_id = gikai(tmp_path, "body", "create", "--name", "文教委員会", "--fixed", "6").stdout.strip()
    assert "遠隔出席" not in gikai(tmp_path, "body", "list").stdout, "off unless the body's rules say so"
    done = gikai(tmp_path, "body", "remote-permission", body_id, "on", "--deadline-hours", "24")
    assert done.returncode == 0 and "remote permission on, deadline 24 h" in done.stdout
    assert "遠隔出席は許可制 (締切 24 時間前)" in gikai(tmp_path, "body", "list").stdout
    negative = gikai(tmp_path, "body", "remote-permission", body_id, "on", "--deadline-hours", "-1")
    assert negative.returncode != 0
    assert gikai(tmp_path, "body", "remote-permission", body_id, "off").returncode == 0
    assert "遠隔出席" not in gikai(tmp_path, "body", "list").stdout
