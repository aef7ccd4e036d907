"""Secret and store files are 0600 from the first byte, not chmod-ed after being written."""

import os
import stat
import threading
from pathlib import Path

from loa.files import private_file, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_private_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        assert write_private(tmp_path / "keys" / "credentials.key", b"k1")
        assert private_file(tmp_path / "store" / "jobs.sqlite")
    finally:
        os.umask(old)
    assert mode(tmp_path / "keys" / "credentials.key") == 0o600
    assert mode(tmp_path / "keys") == 0o700
    assert mode(tmp_path / "store" / "jobs.sqlite") == 0o600


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    key = tmp_path / "credentials.key"
    assert write_private(key, b"first")
    assert not write_private(key, b"second")
    assert key.read_bytes() == b"first"
    assert not private_file(key)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials.key"]  # no temporary left


def test_racing_writers_end_with_one_whole_key(tmp_path: Path) -> None:
    key = tmp_path / "credentials.key"
    won: list[bytes] = []

    def make(value: bytes) -> None:
        if write_private(key, value):
            won.append(value)

    threads = [threading.Thread(target=make, args=(bytes([65 + i]) * 44,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert key.read_bytes() == won[0]
