"""Bad input never produces a traceback (SPEC §9): every malformed file of tests/bad_inputs/,
and every missing file or folder, through every command that reads it, as a real process.

Each (case, command) must exit 2 with exactly one line on stderr that names the file (and its
line where the input has one), print no traceback, and leave every file of the project as it
was. `build/.cache/` is left out of the comparison: it holds the lock file and caches, which
SPEC §2 declares always safe to delete.
"""

from __future__ import annotations

import gzip
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from .smallproject import ForkServer, make_project, run_transflow, translate_first_item, tree_digest

BAD = Path(__file__).resolve().parent / "bad_inputs"

COMMANDS: dict[str, tuple[str, ...]] = {
    "extract": ("extract",),
    "check": ("check",),
    "check-json": ("check", "--format", "json"),
    "check-github": ("check", "--format", "github"),
    "status": ("status",),
    "status-json": ("status", "--json"),
    "build": ("build",),
    "glossary-list": ("glossary", "list"),
    "glossary-show": ("glossary", "show", "stepanakert"),
    "review": ("review",),
}
CHECK_STATUS = ("check", "check-json", "check-github", "status", "status-json")
# Which commands read each kind of file.
# Review reads no source HTML: its rows come from the catalogues (a bad page is extract's and
# build's to refuse).
READERS: dict[str, tuple[str, ...]] = {
    "config": tuple(COMMANDS),
    "glossary": ("extract", *CHECK_STATUS, "glossary-list", "glossary-show", "review"),
    "po": ("extract", *CHECK_STATUS, "build", "review"),
    "html": ("extract", "build"),
}
TARGET = {
    "config": "transflow.toml",
    "glossary": "glossary.toml",
    "po": "locales/ru/news.po",
    "html": "source/news.html",
}
# Inputs with no line to point at: the whole file is the problem.
NO_LINE = {
    "config/empty.toml",  # nothing written, so `languages` is missing from no line
    "html/binary.html",
    "html/utf16_bom_odd_bytes.html",
    "html/nul_bytes.html",  # "binary data": the whole file is refused
    "po/binary_garbage.po",
    "po/utf16.po",
    "po/unknown_charset.po",
}


@dataclass(frozen=True)
class Case:
    """One bad input: what to do to the valid project, and which commands must reject it."""

    name: str
    commands: tuple[str, ...]
    names_file: str  # the file (or folder) the message must name
    line: bool  # the message must carry `file:LINE:`


def _file_cases() -> list[Case]:
    cases = []
    for kind in ("config", "glossary", "po", "html"):
        for path in sorted((BAD / kind).iterdir()):
            rel = f"{kind}/{path.name}"
            target = TARGET[kind]
            cases.append(Case(rel, READERS[kind], Path(target).name, rel not in NO_LINE))
    return cases


MISSING_CASES = [
    # A typo in source_dir must not make check/status pass on nothing.
    Case("missing/source-folder", ("extract", *CHECK_STATUS, "build", "review"), "source", False),
    # Before the first extract there is nothing to check, count or build (extract creates it).
    Case("missing/locales-folder", (*CHECK_STATUS, "build", "review"), "locales", False),
    Case("missing/glossary-set-in-config",
         ("extract", *CHECK_STATUS, "glossary-list", "glossary-show", "review"),
         "glossary.toml", False),
    Case("missing/transflow.toml", tuple(COMMANDS), "transflow.toml", False),
    Case("missing/source-is-a-file", ("extract", *CHECK_STATUS, "build", "review"), "source", False),
    Case("missing/po-is-a-folder", ("extract", *CHECK_STATUS, "build", "review"),
         "news.po", False),
]
CASES = _file_cases() + MISSING_CASES


def _apply(case: Case, root: Path) -> None:
    """Put the bad input in place inside the project copy at `root`."""
    kind, _, name = case.name.partition("/")
    if kind == "missing":
        if name == "source-folder":
            shutil.rmtree(root / "source")
        elif name == "locales-folder":
            shutil.rmtree(root / "locales")
        elif name == "glossary-set-in-config":
            (root / "glossary.toml").unlink()
        elif name == "transflow.toml":
            (root / "transflow.toml").unlink()
        elif name == "source-is-a-file":
            shutil.rmtree(root / "source")
            (root / "source").write_text("not a folder\n")
        elif name == "po-is-a-folder":
            (root / "locales/ru/news.po").unlink()
            (root / "locales/ru/news.po").mkdir()
        return
    data = (BAD / case.name).read_bytes()
    if case.name.endswith(".gz"):
        data = gzip.decompress(data)
    (root / TARGET[kind]).write_bytes(data)


@pytest.fixture(scope="module")
def valid_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small valid project after extract, one translation, a build and a review."""
    root = translate_first_item(make_project(tmp_path_factory.mktemp("valid") / "news"))
    for args in (("extract",), ("build",), ("check",), ("status",), ("review",)):
        result = run_transflow(root, *args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return root


def _outcome(case: Case, command: str, valid_project: Path, tmp_path: Path,
             runner: ForkServer | None) -> tuple[int, str, str, list[str]]:
    """Copy the project, break it, run one command; (exit code, stdout, stderr, changed paths)."""
    # One copy per command: a command that wrongly wrote something must not hide another's.
    root = tmp_path / command / "news"
    shutil.copytree(valid_project, root)
    _apply(case, root)
    before = tree_digest(root)
    if runner is None:
        result = run_transflow(root, *COMMANDS[command])
    else:
        result = runner.run(root, *COMMANDS[command])
    after = tree_digest(root)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return result.returncode, result.stdout, result.stderr, changed


def _problems(case: Case, command: str, code: int, out: str, err: str,
              changed: list[str]) -> list[str]:
    lines = err.splitlines()
    where = f"{case.name} | {command}: exit {code}, stderr {err[-600:]!r}"
    problems = []
    if "Traceback" in out + err:
        problems.append(f"{where}: traceback")
    if code != 2:
        problems.append(f"{where}: exit code {code}, expected 2")
    if len(lines) != 1:
        problems.append(f"{where}: {len(lines)} stderr lines, expected 1")
    elif case.names_file not in lines[0]:
        problems.append(f"{where}: the message does not name {case.names_file}")
    elif case.line and not re.search(re.escape(case.names_file) + r":\d+: ", lines[0]):
        problems.append(f"{where}: no line number after {case.names_file}")
    if changed:
        problems.append(f"{where}: changed {changed}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    case: Case, valid_project: Path, tmp_path: Path, server: ForkServer
) -> None:
    problems = []
    for command in case.commands:
        problems += _problems(case, command,
                              *_outcome(case, command, valid_project, tmp_path, server))
    assert not problems, "\n".join(problems)


# The fork server must answer as `python -m transflow` does: one case of each kind, every
# command that reads it, also as a fresh interpreter.
PLAIN = ["config/syntax_error.toml", "glossary/duplicate_id.toml", "po/truncated.po",
         "html/binary.html", "missing/source-folder"]


@pytest.mark.parametrize("name", PLAIN)
def test_same_answer_from_a_fresh_interpreter(name: str, valid_project: Path,
                                               tmp_path: Path, server: ForkServer) -> None:
    (case,) = [c for c in CASES if c.name == name]
    for command in case.commands:
        plain = _outcome(case, command, valid_project, tmp_path / "plain", None)
        forked = _outcome(case, command, valid_project, tmp_path / "forked", server)
        assert not _problems(case, command, *plain)
        assert plain[0] == forked[0]
        assert plain[2].replace("/plain/", "/") == forked[2].replace("/forked/", "/")


def test_bad_input_corpus_counts() -> None:
    """The corpus is as large as the closing note says (update both together)."""
    by_kind = {kind: sum(1 for c in CASES if c.name.startswith(kind + "/"))
               for kind in ("config", "glossary", "po", "html", "missing")}
    runs = sum(len(c.commands) for c in CASES)
    assert by_kind == {"config": 21, "glossary": 17, "po": 18, "html": 5, "missing": 6}, by_kind
    assert runs == 21 * 10 + 17 * 9 + 18 * 8 + 5 * 2 + (8 + 7 + 9 + 10 + 8 + 8) == 567, runs


# Not bad input: issue 12 says "a document with nothing to translate gets an empty catalogue
# and an identical page, not an error", and an empty or whitespace-only file is such a
# document (binary data, NUL bytes and undecodable bytes above stay errors).
NOTHING_TO_TRANSLATE = Path(__file__).resolve().parent / "nothing_to_translate"


@pytest.mark.parametrize("name", sorted(p.name for p in NOTHING_TO_TRANSLATE.iterdir()))
def test_empty_source_is_a_page_with_nothing_to_translate(
    name: str, valid_project: Path, tmp_path: Path, server: ForkServer
) -> None:
    import subprocess

    root = tmp_path / "news"
    shutil.copytree(valid_project, root)
    data = (NOTHING_TO_TRANSLATE / name).read_bytes()
    assert not data.strip()
    (root / "source/news.html").write_bytes(data)
    for args in (("extract",), ("build",), ("check",), ("status",), ("review",)):
        result = server.run(root, *args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
    # Empty catalogues (the header only), valid for gettext; none of the old units stay active.
    for po in (root / "locales/templates/news.pot", root / "locales/ru/news.po",
               root / "locales/ka/news.po"):
        checked = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(po)],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, (po, checked.stderr)
        active = [block for block in po.read_text("utf-8").split("\n\n")
                  if "\nmsgid " in "\n" + block and 'msgid ""\nmsgstr ""' not in block
                  and not block.lstrip().startswith("#~")]
        assert active == [], (po, active)
    # Every language's page is the source, byte for byte.
    for lang in ("en", "ru", "ka"):
        assert (root / "build" / lang / "news.html").read_bytes() == data, lang
