"""blockindex: sorted records in checksummed blocks, and the caches built on it
(`StampCache`, `RecordFile`): a lookup reads one block, a save merges a block at a time, an
old format or a damaged block is never misread."""

from __future__ import annotations

import marshal
import os
import zlib
from pathlib import Path

import pytest

from transflow import blockindex, recordfile, snapshot, stampcache
from transflow.recordfile import RecordFile
from transflow.stampcache import StampCache, digest


@pytest.fixture()
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled (outside the racy window)."""
    monkeypatch.setattr(stampcache, "RACY_WINDOW_NS", -10**12)


def cache_of(folder: Path, key: str = "k") -> StampCache:
    return StampCache(str(folder / "test.cache"), key, label="test cache", redo="again",
                      root=str(folder) + os.sep)  # fmt: skip


def many(folder: Path, n: int) -> list[tuple[str, os.stat_result]]:
    """n files, recorded in a StampCache with a payload naming each (written in a random
    order: the cache sorts them)."""
    out = []
    for i in range(n):
        path = folder / f"f{i:05d}.po"
        path.write_text(f"content {i}\n", "utf-8")
        out.append((path.name, path.stat()))
    cache = cache_of(folder)
    for name, st in reversed(out):
        cache.store(name, st, digest((folder / name).read_bytes()), [name, "ნაწილი"])
    cache.save()
    return out


def test_records_round_trip_in_blocks(tmp_path: Path, settled: None) -> None:
    files = many(tmp_path, 3 * blockindex.BLOCK_RECORDS + 5)  # (four blocks)
    cache = cache_of(tmp_path)
    assert cache._index is not None and len(cache._index.firsts) == 4
    names = [name for name, _ in files]
    assert cache.fresh(names, [st for _, st in files]) == [[n, "ნაწილი"] for n in names]
    assert [record[0] for record in cache._index] == sorted(names)  # (in order of name)
    assert cache.names() == set(names)
    cache.close()


def test_a_lookup_reads_one_block_not_the_index(tmp_path: Path, settled: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    files = many(tmp_path, 20 * blockindex.BLOCK_RECORDS)
    size = (tmp_path / "test.cache").stat().st_size
    read: list[int] = []
    real = os.pread

    def counting(fd: int, n: int, offset: int) -> bytes:
        data = real(fd, n, offset)
        read.append(len(data))
        return data

    monkeypatch.setattr(blockindex.os, "pread", counting)
    monkeypatch.setattr(stampcache.os, "pread", counting)
    decoded: list[int] = []
    real_decode = blockindex.decode_block

    def counting_decode(data: bytes, n: int) -> object:
        decoded.append(n)
        return real_decode(data, n)

    monkeypatch.setattr(blockindex, "decode_block", counting_decode)
    cache = cache_of(tmp_path)
    name, st = files[len(files) // 2]
    assert cache.lookup(name, st, str(tmp_path / name)) == [name, "ნაწილი"]
    # The header, the directory and one block: a small part of the file, one block decoded.
    assert decoded == [blockindex.BLOCK_RECORDS]
    assert sum(read) < size / 8
    cache.close()


def test_a_save_merges_the_old_records_with_the_new_in_order(tmp_path: Path, settled: None) -> None:
    files = many(tmp_path, 2 * blockindex.BLOCK_RECORDS + 3)
    (tmp_path / files[7][0]).unlink()  # (its record dropped on the next save)
    new = tmp_path / "f00003a.po"  # (sorts between two old ones)
    new.write_text("new\n", "utf-8")
    changed = tmp_path / files[200][0]
    changed.write_text("changed\n", "utf-8")
    cache = cache_of(tmp_path)
    cache.store(new.name, new.stat(), digest(b"new\n"), ["new"])
    assert cache.lookup(changed.name, changed.stat(), str(changed)) is None
    cache.store(changed.name, changed.stat(), digest(b"changed\n"), ["changed"])
    cache.save()
    again = cache_of(tmp_path)
    assert again._index is not None
    records = list(again._index)
    assert [r[0] for r in records] == sorted({n for n, _ in files} - {files[7][0]} | {new.name})
    by_name = {r[0]: r[3] for r in records}
    assert by_name[new.name] == ["new"] and by_name[changed.name] == ["changed"]
    assert by_name[files[8][0]] == [files[8][0], "ნაწილი"]
    again.close()


def test_a_damaged_block_loses_its_records_only(tmp_path: Path, settled: None) -> None:
    files = many(tmp_path, 3 * blockindex.BLOCK_RECORDS)
    path = tmp_path / "test.cache"
    data = bytearray(path.read_bytes())
    at = data.index(files[blockindex.BLOCK_RECORDS + 1][0].encode())  # (in the second block)
    data[at] ^= 1
    path.write_bytes(bytes(data))
    cache = cache_of(tmp_path)
    answers = cache.fresh([n for n, _ in files], [st for _, st in files])
    k = blockindex.BLOCK_RECORDS
    assert answers[:k] == [[n, "ნაწილი"] for n, _ in files[:k]]
    assert answers[k:2 * k] == [None] * k  # (never a wrong answer)
    assert answers[2 * k:] == [[n, "ნაწილი"] for n, _ in files[2 * k:]]
    assert any("damaged" in note for note in cache.notes)
    cache.close()


def test_an_old_format_status_cache_is_not_misread(tmp_path: Path, settled: None) -> None:
    """A cache written by transflow before blocks (format 2: one body loaded whole) holding a
    record for this very file and stamp: not used, rebuilt on the next save."""
    path = tmp_path / "a.po"
    path.write_text("a\n", "utf-8")
    st = path.stat()
    body = "\0".join([f"a.po\n{stampcache.file_stamp(st)}", digest(b"a\n"), "1", "WRONG"]
                     ).encode()  # fmt: skip
    (tmp_path / "test.cache").write_bytes(
        f"stampcache 2 {1:012d} {zlib.crc32(body):010d} {len(body):015d} k\n".encode() + body)
    cache = cache_of(tmp_path)
    assert cache.fresh(["a.po"], [st]) == [None]
    assert cache.lookup("a.po", st, str(path)) is None
    assert any("of another format" in note for note in cache.notes)
    cache.store("a.po", st, digest(b"a\n"), ["right"])
    cache.save()
    assert (tmp_path / "test.cache").read_bytes().startswith(b"stampcache 3 ")
    assert cache_of(tmp_path).fresh(["a.po"], [st]) == [["right"]]


def test_an_old_format_findings_cache_is_not_misread(tmp_path: Path, settled: None) -> None:
    """Format 1 of `RecordFile` (its index one marshal): not used, rebuilt on the next save."""
    path = tmp_path / "a.po"
    path.write_text("a\n", "utf-8")
    st = path.stat()
    payload = b"WRONG"
    head_len = len(f"recordfile 1 {0:015d} {0:015d} {0:010d} k\n")
    index = marshal.dumps(([f"a.po\n{stampcache.file_stamp(st)}"], [digest(b"a\n")],
                           [head_len], [len(payload)], [zlib.crc32(payload)], [1]))
    where = head_len + len(payload)
    (tmp_path / "f.cache").write_bytes(
        f"recordfile 1 {where:015d} {len(index):015d} {zlib.crc32(index):010d} k\n".encode()
        + payload + index)
    cache = RecordFile(str(tmp_path / "f.cache"), "k", label="check cache", redo="again",
                       root=str(tmp_path) + os.sep)  # fmt: skip
    assert cache.ids(["a.po"], [st]) == [None]
    assert any("of another format" in note for note in cache.notes)
    cache.store("a.po", st, digest(b"a\n"), ["right"])
    cache.save()
    again = RecordFile(str(tmp_path / "f.cache"), "k", label="", redo="")
    (handle,) = again.ids(["a.po"], [st])
    assert handle is not None and again.read(handle) == ["right"]
    again.close()
    assert recordfile.FORMAT == 2


def test_changed_stamps_finds_the_few_that_changed(tmp_path: Path) -> None:
    paths = []
    for i in range(snapshot.DIGEST_BATCH + 10):  # (more than one batch)
        path = tmp_path / f"{i}.po"
        path.write_text("x", "utf-8")
        paths.append(str(path))
    packed = snapshot.pack([snapshot.STAMP(os.stat(p)) for p in paths])
    assert snapshot.changed_stamps(paths, packed)[1:] == ([], max(
        os.stat(p).st_ctime_ns for p in paths), {})  # fmt: skip
    for i in (3, snapshot.DIGEST_BATCH + 2):
        Path(paths[i]).write_text("a longer content, another size", "utf-8")
    found = snapshot.changed_stamps(paths, packed)
    assert found is not None
    now = [snapshot.STAMP(os.stat(p)) for p in paths]
    assert found[0] == snapshot.pack(now)
    assert found[1] == [3, snapshot.DIGEST_BATCH + 2]
    assert found[3] == {i: now[i] for i in found[1]}
    assert snapshot.changed_stamps(paths[:-1], packed) is None  # (another number of files)
    assert snapshot.changed_stamps(paths, packed[:-3]) is None


def test_a_save_holds_a_few_blocks_not_every_record(tmp_path: Path, settled: None) -> None:
    """Merging one change into a big cache goes a block at a time: its memory is a small part
    of what holding every record costs."""
    import tracemalloc

    files = many(tmp_path, 30 * blockindex.BLOCK_RECORDS)
    cache = cache_of(tmp_path)
    assert cache._index is not None
    tracemalloc.start()
    everything = list(cache._index)
    whole = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del everything
    name, _ = files[100]
    path = tmp_path / name
    path.write_text("changed\n", "utf-8")
    cache.store(name, path.stat(), digest(b"changed\n"), ["changed"])
    tracemalloc.start()
    cache.save()
    saving = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert saving < whole / 4, (saving, whole)
    assert cache_of(tmp_path).fresh([name], [path.stat()]) == [["changed"]]
