"""The data folder holds the server's secrets (the join-link key, the record's signing key), the
SQLite database, recordings and documents: only the account that runs gikai may read it. The
folder is 0700 and the keys and database files 0600, whatever the umask; an older folder made
with looser modes is tightened at the next start."""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
SQLITE_FILE = "gikai.db"
SECRET_FILES = ("secret.key", "record-signing.key", SQLITE_FILE, f"{SQLITE_FILE}-wal", f"{SQLITE_FILE}-shm")


def prepare_data_folder(data_dir: Path, sqlite: bool) -> None:
    """Make the folder (0700) and, for SQLite, the empty database file (0600) before SQLite
    creates it with the umask's mode (its journal files then take the database's mode)."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    os.chmod(data_dir, FOLDER_MODE)
    database = data_dir / SQLITE_FILE
    if sqlite and not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    tighten_secrets(data_dir)


def tighten_secrets(data_dir: Path) -> None:
    """Keys and database files readable by their owner only (after they were made)."""
    for name in SECRET_FILES:
        path = data_dir / name
        if path.is_file() and path.stat().st_mode & 0o777 != FILE_MODE:
            os.chmod(path, FILE_MODE)
