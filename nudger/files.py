"""Owner-only files and folders: the data folder, the SQLite database, the key file.

They hold encrypted tokens, the key that decrypts them, and the contacts of the
people who signed up, so nobody else on the machine may read them: folders are
0700 and files 0600 from the moment they exist. One that is already looser (made
by an older nudger, or by hand) is tightened, and the log says so.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Create ``path`` owner-only (and any missing parent), or tighten it if others may read it."""
    if not path.parent.exists():  # mkdir(parents=True) would make parents with the umask's mode
        private_folder(path.parent)
    path.mkdir(mode=FOLDER_MODE, exist_ok=True)
    tighten(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and owner-only unless it exists; tighten it if it does."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    tighten(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file that is owner-only before the first byte lands."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb") as out:
        out.write(data)
    tighten(path, FILE_MODE)


def tighten(path: Path, mode: int) -> None:
    """Take away every permission beyond ``mode`` from a path that exists."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & ~mode:
            path.chmod(current & mode)
            log.warning("%s was open to others (mode %o): tightened to %o", path, current, mode)
    except FileNotFoundError:
        return
    except OSError as exc:  # not ours to change: say so, and carry on
        log.warning("%s is open to others and cannot be tightened: %s", path, exc)
