"""Files only the instance's own user may read: the databases, the keys, the task queue, backups.

Created with mode 0600 at the moment they appear (`os.open(..., 0o600)`), not chmod-ed afterwards, so there is
no moment when another local user could open them. SQLite gives a database's -wal and -shm files the mode of
the database file, so creating the main file 0600 before SQLite opens it covers all three.

Not a process-wide umask: uploads and collected static files must stay readable by nginx (docs/deploy.md),
and Django gives those their own modes.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_MODE = 0o600


def create_private_file(path: str | os.PathLike[str], content: bytes = b"") -> bool:
    """Create `path` readable and writable by its owner only, holding `content`; True if it was created.

    An existing file is left as it is (and False returned), so two processes starting together agree on one
    file and a generated key is never replaced. The content is written to a temporary name first and linked
    into place, so no process ever reads a half-written key."""
    target = os.fspath(path)
    temporary = f"{target}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)  # whatever the umask
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        try:
            os.link(temporary, target)
        except FileExistsError:
            return False
        return True
    finally:
        if fd >= 0:
            os.close(fd)
        os.unlink(temporary)


def private_directory(path: str | os.PathLike[str]) -> Path:
    """Create the directory (and its parents) if missing; a new one gets mode 0700."""
    directory = Path(path)
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory
