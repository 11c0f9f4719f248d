"""stampcache: per-file records keyed by a file's stamp (the cache of `status` and `check`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import transflow.stampcache as stampcache
from transflow.stampcache import StampCache, digest, file_stamp

from .damage import DAMAGES, dangling_link, empty, folder


def open_cache(folder: Path, key: str = "key 1") -> StampCache:
    return StampCache(str(folder / "build" / "test.cache"), key, label="test cache",
                      redo="computing again", root=str(folder) + os.sep)  # fmt: skip


def write(folder: Path, name: str, text: str) -> tuple[str, str, os.stat_result]:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name, str(path), path.stat()


def remember(folder: Path, files: dict[str, list[str]]) -> None:
    """Records for `files` (name -> payload), written as a command would."""
    cache = open_cache(folder)
    for name, payload in files.items():
        path = folder / name
        cache.store(name, path.stat(), digest(path.read_bytes()), payload)
    cache.save()


@pytest.fixture()
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled (outside the racy window)."""
    monkeypatch.setattr(stampcache, "RACY_WINDOW_NS", -10**12)


PAYLOADS = {
    "locales/ka/a.po": ["glossary", "error", "12", "\x01", "Tbilisi", "თბილისი", "tbilisi",
                        "multi\nline, tabs\t, quotes \" and a lone surrogate \udc80"],
    "locales/ka/b.po": [],
    "source/c.html": ["", "7"],
}


def make_files(folder: Path) -> None:
    for i, name in enumerate(PAYLOADS):
        write(folder, name, f"content {i}\n")


def test_an_unchanged_file_is_answered_without_reading_it(tmp_path: Path, settled: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    make_files(tmp_path)
    remember(tmp_path, PAYLOADS)
    cache = open_cache(tmp_path)
    assert not cache.notes

    def no_reading(path: str) -> str:
        raise AssertionError(f"read {path}")

    monkeypatch.setattr(stampcache, "file_digest", no_reading)
    names = list(PAYLOADS)
    stats = [(tmp_path / name).stat() for name in names]
    assert cache.fresh(names, stats) == list(PAYLOADS.values())
    for name, st in zip(names, stats, strict=True):
        assert cache.lookup(name, st, str(tmp_path / name)) == PAYLOADS[name]
    assert cache.hits == 2 * len(names)
    assert cache.fresh(["locales/ka/unknown.po"], [stats[0]]) == [None]


def test_a_touched_file_with_the_same_bytes_is_answered_and_its_stamp_refreshed(
        tmp_path: Path, settled: None) -> None:  # fmt: skip
    make_files(tmp_path)
    remember(tmp_path, PAYLOADS)
    name, path, _ = write(tmp_path, "locales/ka/a.po", "content 0\n")  # same bytes, new stamp
    st = os.stat(path)
    cache = open_cache(tmp_path)
    assert cache.fresh([name], [st]) == [None]  # the stamp says nothing
    assert cache.lookup(name, st, path) == PAYLOADS[name]  # the digest does
    cache.save()
    assert open_cache(tmp_path).fresh([name], [st]) == [PAYLOADS[name]]  # and now the stamp


def test_changed_bytes_are_a_miss(tmp_path: Path, settled: None) -> None:
    make_files(tmp_path)
    remember(tmp_path, PAYLOADS)
    name, path, st = write(tmp_path, "locales/ka/a.po", "content 0, edited\n")
    assert open_cache(tmp_path).lookup(name, st, path) is None


def test_a_file_saved_within_the_racy_window_is_hashed_again(tmp_path: Path) -> None:
    # Written and recorded within the same tick: the same size and mtime may hide a new content.
    name, path, st = write(tmp_path, "locales/ka/a.po", "content A\n")
    cache = open_cache(tmp_path)
    cache.store(name, st, digest(b"content A\n"), ["A"])
    cache.save()
    Path(path).write_text("content B\n", encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    now = os.stat(path)
    assert (now.st_size, now.st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    cache = open_cache(tmp_path)
    assert cache.fresh([name], [now]) == [None]
    assert cache.lookup(name, now, path) is None  # re-hashed: another content


def test_nothing_changed_nothing_written(tmp_path: Path, settled: None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    make_files(tmp_path)
    remember(tmp_path, PAYLOADS)
    cache = open_cache(tmp_path)
    for name in PAYLOADS:
        path = str(tmp_path / name)
        assert cache.lookup(name, os.stat(path), path) is not None
    cache.store_fact("\x01fact", ["x"])  # (new: this one is written)
    cache.save()

    def no_writing(*args: object) -> None:
        raise AssertionError("the cache was written although nothing changed")

    monkeypatch.setattr(StampCache, "_write", no_writing)
    cache = open_cache(tmp_path)
    for name in PAYLOADS:
        path = str(tmp_path / name)
        assert cache.lookup(name, os.stat(path), path) is not None
        cache.store(name, os.stat(path), digest(Path(path).read_bytes()), PAYLOADS[name])
    cache.store_fact("\x01fact", ["x"])
    assert not cache.dirty
    cache.save()


def test_facts_and_pruning(tmp_path: Path, settled: None) -> None:
    make_files(tmp_path)
    remember(tmp_path, PAYLOADS)
    cache = open_cache(tmp_path)
    assert cache.fact("\x01moot") is None
    cache.store_fact("\x01moot", ["yes"])
    cache.store_fact("not a fact name", ["no"])  # (refused: it could be a file's name)
    (tmp_path / "source" / "c.html").unlink()
    name, path, st = write(tmp_path, "locales/ru/new.po", "new\n")
    cache.store(name, st, digest(b"new\n"), ["1"])
    cache.save()
    again = open_cache(tmp_path)
    assert again.fact("\x01moot") == ["yes"]
    assert again.fact("not a fact name") is None
    assert again.names() == {"locales/ka/a.po", "locales/ka/b.po", "locales/ru/new.po",
                             "\x01moot"}  # the deleted file's record dropped


def test_what_cannot_be_written_is_not_kept(tmp_path: Path, settled: None) -> None:
    make_files(tmp_path)
    cache = open_cache(tmp_path)
    a = tmp_path / "locales/ka/a.po"
    cache.store("locales/ka/a.po", a.stat(), digest(a.read_bytes()), ["a NUL \0 inside"])
    cache.store("odd\nname", a.stat(), digest(a.read_bytes()), ["x"])
    assert not cache.dirty and cache.names() == set()


def test_another_key_is_an_empty_cache(tmp_path: Path, settled: None) -> None:
    make_files(tmp_path)
    remember(tmp_path, PAYLOADS)
    other = open_cache(tmp_path, key="key 2")
    assert other.names() == set()
    assert "changed" in other.notes[0] and "computing again" in other.notes[0]


def _wrong_rows(path: Path) -> None:
    """The same length, one payload byte changed: only the CRC can tell."""
    data = bytearray(path.read_bytes())
    at = data.index("თბილისი".encode())
    data[at:at + 3] = "ა".encode()  # (one Georgian letter for another, three bytes each)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [*DAMAGES, _wrong_rows])  # fmt: skip
def test_a_damaged_cache_is_empty_and_replaced(tmp_path: Path, settled: None,
                                               damage: Callable[[Path], None]) -> None:  # fmt: skip
    make_files(tmp_path)
    remember(tmp_path, PAYLOADS)
    path = tmp_path / "build" / "test.cache"
    damage(path)
    cache = open_cache(tmp_path)
    assert cache.names() == set()
    name = "locales/ka/a.po"
    a = tmp_path / name
    assert cache.lookup(name, a.stat(), str(a)) is None
    if damage not in (empty, dangling_link):  # (nothing there to speak of)
        assert cache.notes and "computing again" in cache.notes[0]
    cache.store(name, a.stat(), digest(a.read_bytes()), PAYLOADS[name])
    cache.save()
    if damage is folder:
        assert (path / "keep").read_text() == "mine"  # nobody's folder is touched
        return
    assert open_cache(tmp_path).fresh([name], [a.stat()]) == [PAYLOADS[name]]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".test.cache.")]


def test_the_stamp_covers_size_mtime_ctime_and_inode(tmp_path: Path) -> None:
    _, _, st = write(tmp_path, "x", "x")
    assert file_stamp(st) == f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def test_the_older_cache_it_replaces_is_deleted_on_a_save(tmp_path: Path, settled: None) -> None:
    make_files(tmp_path)
    old = tmp_path / "build" / "old.json"
    old.parent.mkdir(parents=True)
    old.write_text("{}")
    cache = StampCache(str(tmp_path / "build" / "test.cache"), "k", label="", redo="",
                       replaces="old.json")  # fmt: skip
    cache.save()  # (nothing changed: nothing written, nothing deleted)
    assert old.is_file()
    name = "locales/ka/a.po"
    a = tmp_path / name
    cache.store(name, a.stat(), digest(a.read_bytes()), ["x"])
    cache.save()
    assert not old.exists() and (tmp_path / "build" / "test.cache").is_file()


def test_a_run_s_records_spill_to_disk_and_read_back_the_same(tmp_path: Path, settled: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # Memory flat in the size of the newsroom (issue 11): a cold run's new records are
    # written, sorted, to a spill file every SPILL_AT of them; lookups and the save see them
    # as if they were held, a record made again wins over its spilled one.
    monkeypatch.setattr(stampcache, "SPILL_AT", 3)
    names = [f"locales/ka/a{i:02d}.po" for i in (7, 3, 11, 0, 5, 9, 1, 8, 2, 10, 4, 6)]
    stats = {name: write(tmp_path, name, f"content {name}\n")[2] for name in names}
    old = open_cache(tmp_path)
    old.store(names[0], stats[names[0]], digest(f"content {names[0]}\n".encode()), ["old"])
    old.store("source/gone.html", stats[names[0]], "d", ["gone"])  # (no such file: pruned)
    old.save()
    cache = open_cache(tmp_path)
    for n, name in enumerate(names):
        cache.store(name, stats[name], digest(f"content {name}\n".encode()), [f"first {n}", ""])
    cache.store_fact("\x01fact", ["a", "b"])
    cache.store(names[4], stats[names[4]], digest(f"content {names[4]}\n".encode()), ["again"])
    assert len(cache._runs) >= 3 and len(cache._changed) < 3  # (spilled)
    assert cache.recorded(names[4]) == ["again"] and cache.recorded(names[1]) == ["first 1", ""]
    assert cache.recorded(names[0]) == ["first 0", ""]  # (made in this run, not the old one)
    assert cache.fact("\x01fact") == ["a", "b"]
    assert cache.lookup(names[2], stats[names[2]], str(tmp_path / names[2])) == ["first 2", ""]
    assert cache.recorded("locales/ka/none.po") is None
    cache.save()
    again = open_cache(tmp_path)
    want = {name: ["again"] if n == 4 else [f"first {n}", ""] for n, name in enumerate(names)}
    assert again.names() == set(want) | {"\x01fact"}
    assert again.fresh(names, [stats[name] for name in names]) == [want[name] for name in names]
    assert again.fact("\x01fact") == ["a", "b"] and not again.notes
    again.close()


def test_a_spill_that_cannot_be_written_keeps_the_records_in_memory(
        tmp_path: Path, settled: None, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import tempfile

    monkeypatch.setattr(stampcache, "SPILL_AT", 2)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "read-only")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    names = [f"f{i}.po" for i in range(5)]
    stats = {name: write(tmp_path, name, name)[2] for name in names}
    cache = open_cache(tmp_path)
    for name in names:
        cache.store(name, stats[name], digest(name.encode()), [name])
    assert not cache._runs and len(cache._changed) == 5
    cache.save()
    again = open_cache(tmp_path)
    assert again.fresh(names, [stats[n] for n in names]) == [[n] for n in names]
    again.close()
