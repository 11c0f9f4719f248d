"""No translation is ever lost (SPEC §3): SIGKILL `transflow extract` at random moments on a
large newsroom, run two at once, and save catalogues "as a translator" while it runs.

After every kill each catalogue must parse (`read_catalog` and `msgfmt -c`) and still hold
every msgstr it held before (as an active or an obsolete entry). The newsroom comes from
../shared/bench/gen_corpus.py (60 articles, ka and ru, ~4,000 units per language).
Kill delays are drawn (seeded) from [0, 1.2 × the duration of an unkilled run], so kills land
while reading, while merging, while writing, and a few after the run ended.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from transflow.catalog import read_catalog, render_catalog
from transflow.files import atomic_write

from .conftest import SHARED, needs_gettext

GEN_CORPUS = SHARED / "bench" / "gen_corpus.py"
ARTICLES = 60
KILLS = 25
SEED = 20261128
CONFIG = '[project]\nsource_language = "en"\nlanguages = ["ka", "ru"]\n'

pytestmark = [
    pytest.mark.skipif(not GEN_CORPUS.is_file(), reason=f"generator not found at {GEN_CORPUS}"),
    needs_gettext,
]

Msgstrs = dict[str, frozenset[str]]  # PO path (relative) → every non-empty msgstr in it


def _extract_cmd(root: Path) -> list[str]:
    return [sys.executable, "-m", "transflow", "-C", str(root), "extract"]


def _env() -> dict[str, str]:
    return dict(os.environ, NO_COLOR="1")


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated newsroom after its first extract."""
    root = tmp_path_factory.mktemp("newsroom") / "news"
    subprocess.run([sys.executable, str(GEN_CORPUS), str(root), "--articles", str(ARTICLES),
                    "--seed", "7"], check=True, capture_output=True)
    (root / "transflow.toml").write_text(CONFIG, "utf-8")
    result = subprocess.run(_extract_cmd(root), capture_output=True, text=True, env=_env())
    assert result.returncode == 0, result.stderr
    return root


def _po_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "locales").glob("*/*.po") if not p.name.startswith("."))


def _msgstrs_of(path: Path) -> frozenset[str]:
    po = read_catalog(path)  # raises CatalogError (path:line) if the file is damaged
    found = set()
    for entry in po:  # active and obsolete entries alike
        if entry.msgid == "":
            continue
        if entry.msgstr:
            found.add(entry.msgstr)
        found.update(v for v in entry.msgstr_plural.values() if v)
    return frozenset(found)


class Ledger:
    """What every catalogue holds, updated file by file as their bytes change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bytes: dict[Path, bytes] = {}
        self.held: dict[Path, frozenset[str]] = {}
        self.msgfmt_runs = 0
        self.verify(msgfmt_sample=0)

    def verify(self, msgfmt_sample: int | None = None) -> int:
        """Check every changed catalogue against what it held; return how many changed.

        Every changed file is read strictly (`read_catalog`); `msgfmt -c` runs on all of them,
        or on `msgfmt_sample` of them (seeded choice) to keep the kill loop short.
        """
        changed = []
        for path in _po_files(self.root):
            data = path.read_bytes()
            if self.bytes.get(path) != data:
                changed.append(path)
        missing = set(self.bytes) - set(_po_files(self.root))
        assert not missing, f"catalogues vanished: {sorted(map(str, missing))}"
        sample = changed
        if msgfmt_sample is not None and len(changed) > msgfmt_sample:
            sample = random.Random(len(changed)).sample(changed, msgfmt_sample)
        for path in sample:  # one file per call: msgfmt merges the files it is given
            result = subprocess.run(["msgfmt", "-c", "-o", os.devnull, str(path)],
                                    capture_output=True, text=True)
            assert result.returncode == 0, result.stderr[-2000:]
        self.msgfmt_runs += len(sample)
        for path in changed:
            now = _msgstrs_of(path)
            lost = self.held.get(path, frozenset()) - now
            assert not lost, f"{path}: lost {len(lost)} translations, e.g. {sorted(lost)[:3]}"
            self.held[path] = now
            self.bytes[path] = path.read_bytes()
        return len(changed)

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.held.values())


_P_RE = re.compile(r"<p>([^<]{30,}?)</p>")


def _edit_sources(root: Path, rng: random.Random, round_no: int, share: float = 0.1) -> None:
    """Change a paragraph (fuzzy), add one (new) or drop one (obsolete) in `share` of articles."""
    for path in sorted((root / "source").glob("*.html")):
        if rng.random() >= share:
            continue
        text = path.read_text("utf-8")
        paras = list(_P_RE.finditer(text))
        if len(paras) < 3:
            continue
        a, b = rng.sample(range(len(paras)), 2)
        edits = {a: f"<p>{paras[a].group(1)} Updated in round {round_no}.</p>", b: ""}
        if rng.random() < 0.5:
            edits[b] = f"<p>Round {round_no} brings a new paragraph about {path.stem[:20]}.</p>"
        out, last = [], 0
        for i, m in enumerate(paras):
            if i in edits:
                out += [text[last:m.start()], edits[i]]
                last = m.end()
        out.append(text[last:])
        path.write_text("".join(out), "utf-8")


def _template_bytes(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (root / "locales" / "templates").glob("*.pot")}


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the extract we started and the worker processes it forked (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(newsroom: Path, tmp_path: Path) -> None:
    root = tmp_path / "news"
    shutil.copytree(newsroom, root)
    rng = random.Random(SEED)
    ledger = Ledger(root)
    held_at_start = ledger.total
    assert held_at_start > 3000  # a newsroom with real work to lose
    # Calibrate: one unkilled run with the same kind of edits.
    _edit_sources(root, rng, 0)
    start = time.monotonic()
    subprocess.run(_extract_cmd(root), check=True, capture_output=True, env=_env())
    duration = time.monotonic() - start
    ledger.verify()
    outcomes = {"killed before writing": 0, "killed while staging": 0,
                "killed while renaming": 0, "finished": 0}
    for round_no in range(1, KILLS + 1):
        _edit_sources(root, rng, round_no)
        watched = [root / "locales" / d for d in ("templates", "ka", "ru")]
        stamps = [d.stat().st_mtime_ns for d in watched]
        templates = _template_bytes(root)
        start = time.monotonic()
        proc = subprocess.Popen(_extract_cmd(root), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=_env(), start_new_session=True)
        if round_no % 2:  # any moment of the run
            time.sleep(rng.uniform(0, 1.2 * duration))
        else:  # the write phase: wait for the first rename into locales/, then a little more
            while proc.poll() is None and [d.stat().st_mtime_ns for d in watched] == stamps:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.05))
        finished = proc.poll() is not None
        _kill_group(proc)
        if finished:
            duration = time.monotonic() - start  # track the machine's current speed
        changed = ledger.verify(msgfmt_sample=20) + sum(
            1 for k, v in _template_bytes(root).items() if templates.get(k) != v)
        staged = any((root / "locales").rglob(".*.tmp"))
        if finished:
            outcomes["finished"] += 1
        elif changed:
            outcomes["killed while renaming"] += 1
        elif staged:
            outcomes["killed while staging"] += 1
        else:
            outcomes["killed before writing"] += 1
    # The run after the storm completes, and still nothing is lost. Temporaries the killed runs
    # left are removed once stale (backdated here: a fresh one may be another writer's).
    for temp in (root / "locales").rglob(".*.tmp"):
        os.utime(temp, (time.time() - 3600, time.time() - 3600))
    result = subprocess.run(_extract_cmd(root), capture_output=True, text=True, env=_env())
    assert result.returncode == 0, result.stderr
    ledger.verify()
    for path in _po_files(root):  # and msgfmt -c on every catalogue at the end
        result = subprocess.run(["msgfmt", "-c", "-o", os.devnull, str(path)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
    assert ledger.total >= held_at_start
    leftovers = list((root / "locales").rglob(".*.tmp"))  # a completed run removes them
    print(f"\n{KILLS} kills: {outcomes}; {ledger.total} msgstrs held (from {held_at_start}); "
          f"calibrated run {duration:.1f}s")
    assert not leftovers, leftovers[:5]
    assert outcomes["killed while staging"] + outcomes["killed while renaming"] >= KILLS // 4, \
        outcomes
    assert outcomes["killed before writing"] > 0, outcomes


def test_two_extracts_at_once(newsroom: Path, tmp_path: Path) -> None:
    """The second run fails with a clear message (lock), or both complete; nothing is lost."""
    root = tmp_path / "news"
    shutil.copytree(newsroom, root)
    ledger = Ledger(root)
    _edit_sources(root, random.Random(SEED + 1), 99)
    procs = [subprocess.Popen(_extract_cmd(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=_env()) for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    for code, _out, err in results:
        assert "Traceback" not in err
        if code == 2:
            assert len(err.splitlines()) == 1
            assert "another transflow command is writing this project" in err
    ledger.verify()
    # And the project is in the state one clean run leaves: a further run changes nothing.
    again = subprocess.run(_extract_cmd(root), capture_output=True, text=True, env=_env())
    assert again.returncode == 0 and "0 files written" in again.stdout, again.stdout


def test_translator_saves_during_extract_survive(newsroom: Path, tmp_path: Path) -> None:
    """A translator saves catalogues (Poedit-style, whole file) at random moments of a real run.

    Whatever the moment (before extract read the file, between its read and its write, after
    its write) the translator's msgstr is in the file when both are done.
    """
    root = tmp_path / "news"
    shutil.copytree(newsroom, root)
    rng = random.Random(SEED + 2)
    _edit_sources(root, rng, 0)
    start = time.monotonic()
    subprocess.run(_extract_cmd(root), check=True, capture_output=True, env=_env())
    duration = time.monotonic() - start
    saves = 0
    for round_no in range(1, 3):
        _edit_sources(root, rng, round_no)
        targets = rng.sample(_po_files(root), 20)
        proc = subprocess.Popen(_extract_cmd(root), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_env())
        written: dict[Path, str] = {}
        deadline = time.monotonic() + 1.2 * duration
        for path in targets:
            time.sleep(max(0.0, rng.uniform(0, deadline - time.monotonic())) / len(targets))
            po = read_catalog(path)
            entry = next((e for e in po if e.msgid and not e.obsolete and not e.msgstr), None)
            if entry is None:
                continue
            entry.msgstr = f"перевод {round_no} {path.stem[:12]}"
            _editor_save(path, render_catalog(po))
            written[path] = entry.msgstr
            saves += 1
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 2), err
        if proc.returncode == 2:  # a file that kept changing: refused, said so, and left alone
            assert "changed on disk" in err or "keeps changing" in err, err
        for path, msgstr in written.items():
            assert msgstr in _msgstrs_of(path), (path, msgstr)
    assert saves > 0


def _editor_save(path: Path, text: str) -> None:
    """Save as an editor does: a temporary of its own naming in the same folder, then rename."""
    fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".save", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def test_extract_leaves_a_concurrent_writers_fresh_temporary(tmp_path: Path) -> None:
    """Extract cleans only its own staged files: `xliff import` (files.atomic_write) may be
    writing a catalogue at the same moment, without the lock."""
    from .smallproject import make_project

    root = make_project(tmp_path / "news")
    (root / "source" / "news.html").write_text(
        (root / "source" / "news.html").read_text("utf-8").replace("First item", "First point"),
        "utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".news.po.", suffix=".tmp", dir=root / "locales" / "ru")
    os.close(fd)  # what files.atomic_write has made, just before its os.replace
    result = subprocess.run(_extract_cmd(root), capture_output=True, text=True, env=_env())
    assert result.returncode == 0, result.stderr
    assert Path(tmp).exists()


@pytest.mark.parametrize("moment", ["after-read", "before-commit"])
def test_translator_save_between_read_and_write_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    """Deterministic: the translator saves every catalogue right after extract read them
    (hook on `_merge_language`), or right before the staged files are renamed (hook on
    `_commit`); the saved msgstrs and the new source entries are both in the result."""
    import transflow.extract as extract_mod
    from transflow.project import read_project

    from .smallproject import make_project

    root = make_project(tmp_path / "news")
    project = read_project(root / "transflow.toml")
    source = root / "source" / "news.html"
    source.write_text(source.read_text("utf-8").replace(
        "<ul>", "<p>A paragraph added by the editor.</p>\n<ul>"), "utf-8")
    saved: dict[Path, str] = {}

    def translator_saves() -> None:
        for lang in project.languages:
            path = project.po_path(lang, "news")
            po = read_catalog(path)
            entry = po.find("First item")
            assert entry is not None
            entry.msgstr = f"saved by the {lang} translator"
            atomic_write(path, render_catalog(po))
            saved[path] = entry.msgstr

    target = "_merge_language" if moment == "after-read" else "_commit"
    original = getattr(extract_mod, target)

    def hooked(*args: object, **kwargs: object) -> object:
        if target == "_commit":  # the save lands after every merge, before staging and renames
            if not saved:
                translator_saves()
            return original(*args, **kwargs)
        result = original(*args, **kwargs)  # this language's catalogues were just read
        if not saved:
            translator_saves()
        return result

    monkeypatch.setattr(extract_mod, target, hooked)
    extract_mod.extract_project(project, project.articles())
    assert len(saved) == 2
    for path, msgstr in saved.items():
        po = read_catalog(path)
        assert po.find("First item").msgstr == msgstr  # type: ignore[union-attr]
        assert po.find("A paragraph added by the editor.") is not None
