"""What a refresh keeps of the catalogues it reads: compact, and the same memory as before.

A cold refresh at 10,000 articles reads 20,000 catalogues; what it keeps of each while it
reads (stamp, row, recorded digest: `memory._ToRead`) and the read jobs (`memory._Jobs`) are
compact columns, and the reader processes keep one language's sent-set at a time. These
tests hold them to what the lists of tuples they replace gave.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from transflow import memory as memory_module
from transflow.memory import (
    DB_FILE,
    MEMORY_FILE_ORDER,
    SqliteMemory,
    _Jobs,
    _read_derived,
    _ToRead,
)

from .test_memory import (
    GEN_CORPUS,
    assert_same_answers,
    catalogues_of,
    needs_generator,
    newsroom,  # noqa: F401  (the fixture)
    po_text,
    queries,
    reference,
)


def fake_stat(size: int, mtime: int, ctime: int, ino: int) -> os.stat_result:
    # (st_mode, st_ino, st_dev, st_nlink, st_uid, st_gid, st_size, atime, mtime, ctime) and
    # the float and nanosecond times after them, as os.stat gives them.
    return os.stat_result((0o100644, ino, 1, 1, 0, 0, size, 0, 0, 0,
                           0.0, mtime / 1e9, ctime / 1e9, 0, mtime, ctime))  # fmt: skip


def test_to_read_gives_back_stamps_rows_and_digests_exactly() -> None:
    to_read = _ToRead()
    big_ino, old = (1 << 64) - 5, -1_000_000_000_000  # (an inode past 2**63, a time before 1970)
    digest = "0123456789abcdef" * 2
    to_read.add(("ru", "/l/ru/b.po", "b"), fake_stat(10, old, 7, big_ino), (4, *[None] * 7, digest))
    to_read.add(("ka", "/l/ka/c.po", "c"), None, None)
    to_read.add(("ka", "/l/ka/a.po", "a"), fake_stat(0, 1, 2, 3), (9, *[None] * 7, "not hex!"))
    assert len(to_read) == 3
    assert to_read.stamp(0) == (10, old, 7, big_ino)
    assert to_read.stamp(1) == (None, None, None, None)
    assert to_read.stamp(2) == (0, 1, 2, 3)
    assert list(to_read.ids) == [4, 0, 9]
    # (A recorded value that is no digest equals no digest a read works out: kept as none.)
    assert [to_read.digest(i) for i in range(3)] == [digest, None, None]
    ordered = to_read.in_memory_order()
    assert [cat[2] for cat in ordered.cats] == ["a", "c", "b"]
    assert [ordered.stamp(i) for i in range(3)] == [(0, 1, 2, 3), (None,) * 4,
                                                    (10, old, 7, big_ino)]  # fmt: skip
    assert list(ordered.ids) == [9, 0, 4]
    assert [ordered.digest(i) for i in range(3)] == [None, None, digest]
    assert ordered.in_memory_order() is ordered  # (already in order: no copy)


def test_read_jobs_are_made_when_asked_for_as_the_list_was() -> None:
    to_read = _ToRead()
    for i in range(7):
        to_read.add(("ka", f"/l/ka/{i}.po", str(i)), None,
                    (i + 1, *[None] * 7, f"{i:032x}") if i % 2 else None)  # fmt: skip
    expected = [(f"/l/ka/{i}.po", f"{i:032x}" if i % 2 else None, "ka") for i in range(7)]
    jobs = _Jobs(to_read)
    assert len(jobs) == 7 and list(jobs) == expected
    assert jobs[3] == expected[3] and jobs[-1] == expected[-1]
    assert jobs[2:5] == expected[2:5] and jobs[5:100] == expected[5:] and jobs[:0] == []
    with pytest.raises(IndexError):
        jobs[7]


def test_a_reader_keeps_the_sent_msgids_of_one_language_at_a_time(tmp_path: Path) -> None:
    ka1, ka2, ru = tmp_path / "ka1.po", tmp_path / "ka2.po", tmp_path / "ru.po"
    ka1.write_text(po_text(("Tbilisi council meets", "a")), "utf-8")
    ka2.write_text(po_text(("Tbilisi council meets", "b"), ("Batumi port reopens", "c")), "utf-8")
    ru.write_text(po_text(("Tbilisi council meets", "d")), "utf-8")
    memory_module._SENT.clear()
    memory_module._SENT_WORDS.clear()
    derived = [_read_derived((str(path), None, lang))[2]
               for path, lang in ((ka1, "ka"), (ka2, "ka"))]  # fmt: skip
    assert derived[0] is not None and derived[1] is not None
    # A msgid met again in the same language: its terms are not sent twice (the writer has
    # them by then); a new one's are.
    assert derived[0][1][0] is not None and derived[1][1] == [None, derived[1][1][1]]
    assert derived[1][1][1] is not None and set(memory_module._SENT) == {"ka"}
    _, _, other = _read_derived((str(ru), None, "ru"))
    # Another language: sent (its own terms).
    assert other is not None and other[1][0] == derived[0][1][0].replace("6b61x", "7275x")
    assert set(memory_module._SENT) == {"ru"} and set(memory_module._SENT_WORDS) == {"ru"}
    memory_module._SENT.clear()
    memory_module._SENT_WORDS.clear()


def tables(memory: SqliteMemory) -> list[list[tuple[object, ...]]]:
    con = memory.con
    con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab (main, words, 'row')")
    return [con.execute(sql).fetchall() for sql in (
        "SELECT path, lang, ord, base, size, mtime, ctime, ino, digest FROM catalogs ORDER BY path",
        "SELECT lang, msgid, key, hid FROM msgids ORDER BY key",
        "SELECT c.path, p.pos, m.msgid, p.msgstr FROM pairs p JOIN catalogs c ON c.id = p.cat"
        " JOIN msgids m ON m.id = p.mid ORDER BY c.path, p.pos",
        "SELECT term, n FROM df ORDER BY term",
        "SELECT m.msgid, w.msgstr FROM winners w JOIN msgids m ON m.id = w.mid ORDER BY m.key",
        "SELECT term, doc FROM temp.vocab ORDER BY term")]  # fmt: skip


@needs_generator
def test_reader_processes_in_small_windows_fill_the_memory_as_this_process_does(
        newsroom: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811  # fmt: skip
    # Languages listed out of memory order (the refresh sorts them), windows smaller than the
    # readers' chunks and a last window cut short: the same database as read here, one by one.
    assert GEN_CORPUS.is_file()
    root = tmp_path / "locales"
    subprocess.run(["cp", "-a", str(newsroom / "locales"), str(root)], check=True)
    (root / "memory").mkdir()
    (root / "memory" / "ru.po").write_text(po_text(("Imported unit about the talks", "Импорт")),
                                           "utf-8")  # fmt: skip
    cats = (catalogues_of(root, ("ru",)) + [("ru", str(root / "memory" / "ru.po"), MEMORY_FILE_ORDER)]
            + catalogues_of(root, ("ka",)))  # fmt: skip
    monkeypatch.setattr("transflow.memory.BULK_MIN_READS", 1)
    monkeypatch.setattr("transflow.memory.WINNER_MIN_PAIRS", 2)

    def fill(name: str, parallel: bool) -> list[list[tuple[object, ...]]]:
        monkeypatch.setattr("transflow.memory.PARALLEL_MIN_READS", 2 if parallel else 10**9)
        monkeypatch.setattr("transflow.memory.READ_WINDOW", 5)
        memory = SqliteMemory(tmp_path / name)
        stats = memory.refresh(cats)
        assert (stats.read, stats.parsed) == (len(cats), len(cats))
        assert assert_same_answers(memory, cats, n=60) > 5
        found = tables(memory)
        memory.close()
        return found

    assert len(cats) % 5 and len(cats) > 20
    here, readers = fill("here.sqlite3", False), fill("readers.sqlite3", True)
    assert readers == here and len(here[0]) == len(cats) and here[4]


@needs_generator
def test_a_refresh_meets_moved_gone_and_touched_catalogues_as_before(
        newsroom: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811  # fmt: skip
    # What a refresh looks at row by row: a catalogue only touched (new stamp, same bytes), one
    # now listed in another language, one deleted, one no longer listed. (No racy window: the
    # catalogues were all just copied, each would be read again.)
    monkeypatch.setattr("transflow.memory.RACY_WINDOW_NS", 0)
    root = tmp_path / "locales"
    subprocess.run(["cp", "-a", str(newsroom / "locales"), str(root)], check=True)
    cats = catalogues_of(root)
    memory = SqliteMemory(tmp_path / DB_FILE)
    memory.refresh(cats)
    ka = [cat for cat in cats if cat[0] == "ka"]
    os.utime(ka[1][1], ns=(10**18, 10**18))
    moved = ("ru", ka[2][1], ka[2][2] + "-moved")
    Path(ka[3][1]).unlink()
    now = [cat for cat in cats if cat not in (ka[2], ka[4])] + [moved]
    stats = memory.refresh(now)
    assert not memory.notes
    assert stats.stat == len(now)
    # Read: the touched one (a new stamp only), the moved one (new in its role); gone: its old
    # role, the deleted one, the one no longer listed.
    assert (stats.read, stats.parsed, stats.removed) == (2, 1, 3)
    rows = dict(memory.con.execute("SELECT path, mtime FROM catalogs").fetchall())
    assert rows[ka[1][1]] == 10**18 and ka[3][1] not in rows and ka[4][1] not in rows
    assert memory.con.execute("SELECT lang, ord FROM catalogs WHERE path = ?",
                              (ka[2][1],)).fetchone() == ("ru", moved[2])  # fmt: skip
    there = [cat for cat in now if Path(cat[1]).exists()]
    assert assert_same_answers(memory, there) > 5
    # And a memory filled from scratch from the same list answers the same.
    fresh = SqliteMemory(tmp_path / "fresh.sqlite3")
    fresh.refresh(now)
    # (Document frequencies: a word no msgid holds any more keeps a row of 0 when patched.)
    assert tables(fresh)[3] == [row for row in tables(memory)[3] if row[1]]
    for lang, msgid in queries(reference(there), 80, seed=5):
        assert fresh.lookup(lang, msgid) == memory.lookup(lang, msgid)


@needs_generator
def test_a_cold_fill_leaves_one_index_segment_and_the_same_answers(
        newsroom: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811  # fmt: skip
    # (FTS5 flushes its pending terms as it goes; the fill merges what it flushed into one
    # segment, so a lookup reads each term's posting list once.)
    root = tmp_path / "locales"
    subprocess.run(["cp", "-a", str(newsroom / "locales"), str(root)], check=True)
    cats = catalogues_of(root)
    monkeypatch.setattr("transflow.memory.BULK_MIN_READS", 1)
    monkeypatch.setattr("transflow.memory.WINNER_MIN_PAIRS", 2)
    memory = SqliteMemory(tmp_path / DB_FILE)
    memory.refresh(cats)
    assert memory.con.execute("SELECT count(DISTINCT segid) FROM words_idx").fetchone()[0] == 1
    assert assert_same_answers(memory, cats) > 20
    assert memory.con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    memory.con.execute("INSERT INTO words (words) VALUES ('integrity-check')")  # (raises if bad)
