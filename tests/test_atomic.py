"""nc_core.atomic: the one durable-write helper."""

from __future__ import annotations

import os
import time

import pytest

from nc_core.atomic import atomic_write, remove_stale_temporaries


def test_atomic_write_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "record.txt"
    atomic_write(path, lambda tmp: tmp.write_text("old"))
    seen = []

    def write(tmp):
        seen.append(tmp)
        assert path.read_text() == "old"  # the reader sees the old file until the rename
        tmp.write_text("new")

    atomic_write(path, write)
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["record.txt"]
    assert seen[0].parent == tmp_path and seen[0].name.startswith(".record.txt.") and seen[0].suffix == ".tmp"


def test_two_writers_never_share_a_temporary_name(tmp_path):
    names = []
    for _ in range(2):
        atomic_write(tmp_path / "x", lambda tmp: (names.append(tmp.name), tmp.write_text("x")))
    assert names[0] != names[1]


def test_a_failing_writer_leaves_the_old_file_and_nothing_else(tmp_path):
    path = tmp_path / "record.txt"
    path.write_text("old")

    def fail(tmp):
        tmp.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, fail)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["record.txt"]


def test_stale_temporaries_are_removed_live_ones_kept(tmp_path):
    old, live = tmp_path / ".a.parquet.123.abcd.tmp", tmp_path / ".b.parquet.456.ef01.tmp"
    for p in (old, live):
        p.write_text("x")
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    assert remove_stale_temporaries(tmp_path) == [old]
    assert not old.exists() and live.exists()
