"""Files that hold secrets or stored data are private from the first byte.

Writing a file and then ``chmod 600`` leaves a window in which it exists with the umask's mode
(usually 0644: readable by every local user). These create the file with mode 0600 in the same
``open`` call, and its folder with 0700, so there is no such window. SQLite creates a database's
``-wal`` and ``-shm`` files with the database file's mode, so a store created by
:func:`private_file` keeps them private too (sqlite.org/tempfiles.html; os_unix.c findCreateFileMode).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["private_file", "write_private"]


def _private_dir(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; True when this call created it."""
    _private_dir(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_private(path: Path, data: bytes) -> bool:
    """Write ``data`` to a new file of mode 0600; False (and nothing written) if it exists already.

    The content is written to a temporary file (mkstemp makes it 0600) and linked into place, which
    fails if the name exists: two processes making the same development key at once end with one
    key, and neither ever reads a half-written file.
    """
    _private_dir(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        Path(temporary).unlink()
    return True
