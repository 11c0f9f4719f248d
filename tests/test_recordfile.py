"""RecordFile: the findings cache whose payloads stay on disk until asked for.

The same answers as `StampCache` (an unchanged stamp answers, a touch answers after one hash,
a change is a miss, records of deleted files are dropped), with every payload checked by its
own CRC when it is read: a damaged payload is a miss, never a wrong answer.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from transflow import recordfile, stampcache
from transflow.recordfile import RecordFile

from .damage import DAMAGES, folder


def make(path: Path, key: str = "k") -> RecordFile:
    return RecordFile(str(path), key, label="test cache", redo="again", root=str(path.parent) + "/")


@pytest.fixture()
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stampcache, "RACY_WINDOW_NS", 0)  # (files written this very second)


def files(tmp_path: Path, n: int = 3) -> list[Path]:
    out = []
    for i in range(n):
        path = tmp_path / f"f{i}.po"
        path.write_text(f"content {i}\n", "utf-8")
        out.append(path)
    time.sleep(0.01)
    return out


def stored(tmp_path: Path) -> tuple[Path, list[Path]]:
    cache_path = tmp_path / "findings.cache"
    paths = files(tmp_path)
    cache = make(cache_path)
    for i, path in enumerate(paths):
        payload = [] if i == 0 else [f"field {i}", "", "ნაწილი\nline"]
        cache.store(path.name, path.stat(), stampcache.file_digest(str(path)), payload)
    cache.store_fact("\x01fact", ["moot"])
    cache.save()
    return cache_path, paths


def test_records_round_trip_without_reading_a_file(tmp_path: Path, settled: None) -> None:
    cache_path, paths = stored(tmp_path)
    cache = make(cache_path)
    handles = cache.ids([p.name for p in paths], [p.stat() for p in paths])
    assert [cache.read(h) for h in handles if h is not None] == [
        [], ["field 1", "", "ნაწილი\nline"], ["field 2", "", "ნაწილი\nline"]]
    assert cache.fact("\x01fact") == ["moot"]
    assert cache.hits == 3 and not cache.notes
    cache.save()
    assert not cache.dirty


def test_a_touch_costs_a_hash_and_a_change_is_a_miss(tmp_path: Path, settled: None) -> None:
    cache_path, paths = stored(tmp_path)
    time.sleep(0.01)
    os.utime(paths[1])
    paths[2].write_text("content 9\n", "utf-8")
    cache = make(cache_path)
    assert cache.ids([p.name for p in paths], [p.stat() for p in paths])[1:] == [None, None]
    touched = cache.lookup_id(paths[1].name, paths[1].stat(), str(paths[1]))
    assert touched is not None and cache.read(touched) == ["field 1", "", "ნაწილი\nline"]
    assert cache.lookup(paths[2].name, paths[2].stat(), str(paths[2])) is None
    cache.save()  # (the touched stamp refreshed: answered by its stamp next time)
    again = make(cache_path)
    assert again.ids([paths[1].name], [paths[1].stat()]) != [None]


def test_records_of_deleted_files_are_dropped_on_a_save(tmp_path: Path, settled: None) -> None:
    cache_path, paths = stored(tmp_path)
    paths[0].unlink()
    new = tmp_path / "new.po"
    new.write_text("new\n", "utf-8")
    cache = make(cache_path)
    cache.store(new.name, new.stat(), stampcache.file_digest(str(new)), ["n"])
    cache.save()
    after = make(cache_path)
    assert after.names() == {"f1.po", "f2.po", "new.po", "\x01fact"}
    assert after.lookup("f2.po", paths[2].stat(), str(paths[2])) == ["field 2", "", "ნაწილი\nline"]


def test_a_damaged_payload_is_a_miss_not_a_wrong_answer(tmp_path: Path, settled: None) -> None:
    cache_path, paths = stored(tmp_path)
    data = cache_path.read_bytes()
    at = data.index(b"field 2")
    cache_path.write_bytes(data[:at] + b"fiel! 2" + data[at + 7:])  # (same length)
    cache = make(cache_path)
    handles = cache.ids([p.name for p in paths], [p.stat() for p in paths])
    assert cache.read(handles[1]) == ["field 1", "", "ნაწილი\nline"]
    assert cache.read(handles[2]) is None


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__)
def test_any_damage_is_an_empty_cache(tmp_path: Path, settled: None, damage: object) -> None:
    cache_path, paths = stored(tmp_path)
    damage(cache_path)  # type: ignore[operator]
    cache = make(cache_path)
    assert cache.ids([p.name for p in paths], [p.stat() for p in paths]) == [None] * 3
    cache.store(paths[1].name, paths[1].stat(), "d", ["x"])
    cache.save()
    if damage is folder:
        assert (cache_path / "keep").read_text() == "mine"  # left alone
    else:  # (rebuilt: the new record answers)
        again = make(cache_path)
        (handle,) = again.ids([paths[1].name], [paths[1].stat()])
        assert handle is not None and again.read(handle) == ["x"]
        again.close()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_another_format_or_key_is_an_empty_cache_with_a_note(tmp_path: Path, settled: None) -> None:
    cache_path, paths = stored(tmp_path)
    assert make(cache_path, "other key").ids([paths[1].name], [paths[1].stat()]) == [None]
    data = cache_path.read_bytes()
    cache_path.write_bytes(data.replace(b"recordfile %d " % recordfile.FORMAT,
                                        b"recordfile %d " % (recordfile.FORMAT + 1), 1))
    cache = make(cache_path)
    assert cache.ids([paths[1].name], [paths[1].stat()]) == [None]
    assert any("of another format" in note for note in cache.notes)


def test_nothing_is_written_when_nothing_changed(tmp_path: Path, settled: None) -> None:
    cache_path, paths = stored(tmp_path)
    before = cache_path.stat()
    cache = make(cache_path)
    cache.ids([p.name for p in paths], [p.stat() for p in paths])
    cache.save()
    assert cache_path.stat().st_ino == before.st_ino
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_payload_with_a_nul_is_not_kept(tmp_path: Path, settled: None) -> None:
    cache_path, paths = stored(tmp_path)
    cache = make(cache_path)
    assert cache.store("x.po", paths[1].stat(), "d", ["a\0b"]) is None
    cache.close()


def test_a_killed_run_s_temporaries_are_removed_once_stale(tmp_path: Path, settled: None) -> None:
    cache_path, paths = stored(tmp_path)
    stale = tmp_path / ".findings.cache.dead1234.tmp"
    live = tmp_path / ".findings.cache.live5678.tmp"
    other = tmp_path / ".status.cache.x.tmp"
    for path in (stale, live, other):
        path.write_bytes(b"x" * 100)
    old = time.time() - recordfile.STALE_AFTER_S - 10
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    cache = make(cache_path)
    cache.store("new.po", paths[1].stat(), "d", ["n"])
    cache.save()
    assert not stale.exists()  # (a killed run's)
    assert live.exists() and other.exists()  # (a live run's; another cache's)


def test_spilled_records_keep_their_payloads(tmp_path: Path, settled: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # A cold check's records spill to disk every SPILL_AT (issue 11); their handles still
    # point at the payloads written to the next file, and the save keeps them all.
    monkeypatch.setattr(stampcache, "SPILL_AT", 2)
    cache_path, paths = tmp_path / "findings.cache", files(tmp_path, 7)
    cache = make(cache_path)
    for i, path in enumerate(paths):
        cache.store(path.name, path.stat(), stampcache.file_digest(str(path)),
                    [] if i == 3 else [f"finding {i}", "ნაწილი"])
    cache.store_fact("\x01fact", ["needed"])
    assert len(cache._runs) >= 3
    read = [cache.read(cache.recorded(p.name)) for p in paths]  # type: ignore[arg-type]
    want = [[] if i == 3 else [f"finding {i}", "ნაწილი"] for i in range(7)]
    assert read == want and cache.fact("\x01fact") == ["needed"]
    cache.save()
    again = make(cache_path)
    handles = again.ids([p.name for p in paths], [p.stat() for p in paths])
    assert [again.read(h) for h in handles if h is not None] == want
    assert again.fact("\x01fact") == ["needed"]
    again.close()
