"""The newsroom's tools (issue 14): `check --format gitlab` (item 1) and the CI recipes of
docs/ci.md (item 3), whose YAML must parse and whose commands must exist in the CLI."""

from __future__ import annotations

import json
import re
import shlex
import textwrap
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from transflow.check import Finding
from transflow.cli import main
from transflow.report import GITLAB_SEVERITIES, gitlab_fingerprint, render_findings

from .newsroom import REPO, break_glossary, copy_newsroom

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (pip install -e '.[test]')")

GITLAB_ALLOWED = {"info", "minor", "major", "critical", "blocker"}

ERROR = Finding("glossary", "error", "ru", "news/vote", "locales/ru/news/vote.po", 12, None,
                "In Stepanakert", "В Ханкенди", "stepanakert",
                "forbidden rendering 'Ханкенди' (term stepanakert: use 'Степанакерт')")
WARNING = Finding("numbers", "warning", "ka", "a", "locales/ka/a.po", 3, "menu", "In 2023, 5%",
                  "2023 წელს", None, "number 5 of the source is missing")


def assert_code_quality_shape(doc: object) -> None:
    """GitLab's Code Quality report: a list of issues with exactly the fields it requires."""
    assert isinstance(doc, list)
    for issue in doc:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert isinstance(issue["fingerprint"], str) and len(issue["fingerprint"]) == 64
        int(issue["fingerprint"], 16)
        assert issue["severity"] in GITLAB_ALLOWED
        assert set(issue["location"]) == {"path", "lines"}
        assert isinstance(issue["location"]["path"], str)
        assert set(issue["location"]["lines"]) == {"begin"}
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["location"]["lines"]["begin"] >= 1
    fingerprints = [issue["fingerprint"] for issue in doc]
    assert len(set(fingerprints)) == len(fingerprints), "GitLab would merge duplicate fingerprints"


def test_gitlab_shape_and_fields() -> None:
    doc = json.loads(render_findings([ERROR, WARNING], "gitlab", color=False, summary=True))
    assert_code_quality_shape(doc)
    assert doc[0] == {
        "description": "[glossary] forbidden rendering 'Ханкенди' (term stepanakert: use "
                       "'Степанакерт')",
        "check_name": "transflow-glossary",
        "fingerprint": gitlab_fingerprint(ERROR),
        "severity": "major",
        "location": {"path": "locales/ru/news/vote.po", "lines": {"begin": 12}},
    }
    assert doc[1]["severity"] == "minor" and doc[1]["check_name"] == "transflow-numbers"
    assert GITLAB_SEVERITIES == {"error": "major", "warning": "minor"}


def test_gitlab_empty_is_an_empty_list_without_summary() -> None:
    assert json.loads(render_findings([], "gitlab", color=False, summary=True)) == []


def test_gitlab_fingerprint_ignores_the_line_but_not_the_content() -> None:
    from dataclasses import replace

    assert gitlab_fingerprint(replace(ERROR, line=400)) == gitlab_fingerprint(ERROR)
    for change in ({"file": "locales/ka/news/vote.po"}, {"msgid": "In Stepanakert today"},
                   {"check": "markup"}, {"message": "other"}, {"msgctxt": "title"}):
        assert gitlab_fingerprint(replace(ERROR, **change)) != gitlab_fingerprint(ERROR), change
    # Stable across runs and processes: a plain sha256, no salt.
    import hashlib

    expected = hashlib.sha256("\x00".join(
        [ERROR.file, ERROR.check, "", ERROR.msgid, "stepanakert", ERROR.message]
    ).encode()).hexdigest()
    assert gitlab_fingerprint(ERROR) == expected


def test_gitlab_identical_findings_get_distinct_stable_fingerprints() -> None:
    from dataclasses import replace

    twin = replace(ERROR, line=30)
    doc = json.loads(render_findings([ERROR, twin], "gitlab", color=False, summary=False))
    assert_code_quality_shape(doc)
    again = json.loads(render_findings([ERROR, replace(twin, line=31)], "gitlab",
                                       color=False, summary=False))
    assert [i["fingerprint"] for i in doc] == [i["fingerprint"] for i in again]


def test_cli_check_format_gitlab_on_the_newsroom(tmp_path: Path) -> None:
    root = copy_newsroom(tmp_path / "newsroom")
    runner = CliRunner()
    clean = runner.invoke(main, ["-C", str(root), "check", "--format", "gitlab"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout) == []
    file, line = break_glossary(root)
    result = runner.invoke(main, ["-C", str(root), "check", "--format", "gitlab"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert_code_quality_shape(doc)
    glossary = [i for i in doc if i["check_name"] == "transflow-glossary"]
    assert len(glossary) == 1
    assert glossary[0]["location"] == {"path": file, "lines": {"begin": line}}
    assert glossary[0]["severity"] == "major"
    assert "Ханкенди" in glossary[0]["description"]
    # The same finding after an edit above it keeps its fingerprint (GitLab sees no new issue).
    po = root / file
    text = po.read_text("utf-8")
    head_end = text.index("\n\n") + 2
    po.write_text(text[:head_end] + "# a new translator comment\n#  on two lines\n"
                  + text[head_end:], "utf-8")
    moved = json.loads(runner.invoke(main, ["-C", str(root), "check", "--format",
                                            "gitlab"]).stdout)
    moved_glossary = [i for i in moved if i["check_name"] == "transflow-glossary"]
    assert moved_glossary[0]["location"]["lines"]["begin"] == line + 2
    assert moved_glossary[0]["fingerprint"] == glossary[0]["fingerprint"]


# ----------------------------------------------------------------------------- docs/ci.md

DOCS = REPO / "docs"
FENCE_RE = re.compile(r"^( *)```yaml\n(.*?)^\1```", re.M | re.S)
COMMAND_RE = re.compile(r"(?:^|(?<=[\s;&|(]))transflow(?=\s)([^\n;&|>]*)")


def yaml_blocks(doc: Path) -> list[str]:
    """The ```yaml fenced blocks of a Markdown file."""
    return [textwrap.dedent(m.group(2)) for m in FENCE_RE.finditer(doc.read_text("utf-8"))]


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def transflow_commands(doc: Path) -> list[list[str]]:
    """Every `transflow …` command line named in a YAML file or the YAML blocks of a
    Markdown document, as argv."""
    commands = []
    if doc.suffix == ".md":
        texts = [t for block in yaml_blocks(doc) for t in _strings(yaml.safe_load(block))]
    else:  # a pre-commit manifest: the hooks' entries (their names are prose)
        texts = [hook["entry"] for hook in yaml.safe_load(doc.read_text("utf-8"))]
    for text in texts:
        for m in COMMAND_RE.finditer(text):
            argv = shlex.split(m.group(1))
            if argv:
                commands.append(argv)
    return commands


def resolve(argv: list[str]) -> tuple[list[str], list[str]]:
    """Walk argv through the real click CLI: (command path, problems)."""
    cmd: click.Command = main
    path: list[str] = []
    problems: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        params = {opt: p for p in cmd.params if isinstance(p, click.Option)
                  for opt in (*p.opts, *p.secondary_opts)}
        if arg.startswith("-") and arg not in ("-", "--"):
            name = arg.split("=", 1)[0]
            if name in ("-h", "--help"):
                continue
            option = params.get(name)
            if option is None:
                problems.append(f"`{' '.join(['transflow', *path])}` has no option {name}")
                continue
            if not (option.is_flag or option.count) and "=" not in arg:
                if not args:
                    problems.append(f"{name} needs a value")
                else:
                    value = args.pop(0)
                    if isinstance(option.type, click.Choice) and value not in option.type.choices:
                        problems.append(f"{name} {value}: not one of {list(option.type.choices)}")
            continue
        if isinstance(cmd, click.Group):
            sub = cmd.commands.get(arg)
            if sub is None:
                problems.append(f"`{' '.join(['transflow', *path])}` has no command {arg!r}")
                return path, problems
            cmd = sub
            path.append(arg)
            continue
        # A positional argument of the command: it must take one.
        if not any(isinstance(p, click.Argument) for p in cmd.params):
            problems.append(f"`{' '.join(['transflow', *path])}` takes no argument {arg!r}")
    if isinstance(cmd, click.Group):
        problems.append(f"`{' '.join(['transflow', *path])}` needs a command")
    return path, problems


CI_DOC = DOCS / "ci.md"


def test_ci_recipes_are_yaml_and_have_every_step() -> None:
    blocks = [yaml.safe_load(b) for b in yaml_blocks(CI_DOC)]
    assert len(blocks) == 3  # GitHub Actions, GitLab CI, pre-commit config
    github, gitlab, precommit = blocks
    steps = github["jobs"]["transflow"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache@"))
    assert cache["with"]["path"] == "build/.cache"
    assert "hashFiles('locales/**/*.po'" in cache["with"]["key"]
    for needed in ("transflow extract --check", "transflow check --format github",
                   "transflow status", "transflow build"):
        assert any(r.startswith(needed) for r in runs), needed
    assert any("--fail-under" in r for r in runs)
    scripts = [line for job in gitlab.values() if isinstance(job, dict) and "script" in job
               for line in job["script"]]
    for needed in ("transflow extract --check", "transflow check --format gitlab",
                   "transflow status", "transflow build"):
        assert any(line.startswith(needed) for line in scripts), needed
    report = gitlab["translations"]["artifacts"]["reports"]["codequality"]
    assert "transflow check --format gitlab > " + report + " || true" in scripts
    assert gitlab["default"]["cache"]["paths"] == ["build/.cache/"]
    hooks = {h["id"] for h in precommit["repos"][0]["hooks"]}
    manifest = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks == manifest


def _extract_has_check() -> bool:
    return "--check" in CliRunner().invoke(main, ["extract", "--help"]).output


@pytest.mark.parametrize(
    "argv", transflow_commands(CI_DOC) + transflow_commands(REPO / ".pre-commit-hooks.yaml"),
    ids=" ".join)
def test_ci_recipe_commands_exist_in_the_cli(argv: list[str]) -> None:
    path, problems = resolve(argv)
    if path == ["extract"] and "--check" in argv and not _extract_has_check():
        pytest.skip("`transflow extract --check` does not exist on this branch yet (the scale "
                    "branch adds it); this test runs once they are merged")
    assert problems == []


def test_the_command_resolver_catches_mistakes() -> None:
    assert resolve(["check", "--format", "gitlab"]) == (["check"], [])
    assert resolve(["-C", "newsroom", "check"]) == (["check"], [])
    assert resolve(["check", "--format", "junit"])[1] == [
        "--format junit: not one of ['text', 'json', 'github', 'gitlab']"]
    assert resolve(["status", "--fail-below", "5"])[1][0] == "`transflow status` has no option --fail-below"
    assert resolve(["publish"])[1] == ["`transflow` has no command 'publish'"]
    assert resolve(["memory"])[1] == ["`transflow memory` needs a command"]
    assert resolve(["memory", "export", "--lang", "ru", "ru.tmx"]) == (["memory", "export"], [])


def test_readme_pre_commit_snippet_names_the_offered_hooks() -> None:
    blocks = [yaml.safe_load(b) for b in yaml_blocks(REPO / "README.md")]
    configs = [b for b in blocks if isinstance(b, dict) and "repos" in b]
    assert len(configs) == 1
    manifest = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {h["id"] for h in configs[0]["repos"][0]["hooks"]} == manifest
