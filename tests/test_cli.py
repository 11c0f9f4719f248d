"""The CLI skeleton: version, help, -C, init, and clean errors (exit 2, one line, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from transflow import __version__
from transflow.cli import main

COMMANDS = ["init", "extract", "check", "status", "build", "glossary"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), prog_name="transflow")
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert __version__ in out


@pytest.mark.parametrize("command", COMMANDS)
def test_help_everywhere(command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0
    assert "Usage:" in out


def test_init_makes_a_working_project(tmp_path: Path) -> None:
    code, out, err = run("-C", str(tmp_path), "init", "news")
    assert code == 0, err
    project = tmp_path / "news"
    assert (project / "transflow.toml").is_file()
    assert (project / "glossary.toml").is_file()
    assert (project / "source" / "welcome.html").is_file()
    # A second init refuses to overwrite.
    code, _, err = run("-C", str(project), "init")
    assert code == 2
    assert "already exists" in err


def test_init_rejects_unknown_language(tmp_path: Path) -> None:
    code, _, err = run("-C", str(tmp_path), "init", "x", "--languages", "ka,qq-zz")
    assert code == 2
    assert "qq-zz" in err
    assert not (tmp_path / "x" / "transflow.toml").exists()


def test_malformed_config_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "transflow.toml").write_text('[project]\nlanguages = ["ka"]\nfoo = 1\n')
    for command in ("status", "check", "build", "extract"):
        code, out, err = run("-C", str(tmp_path), command)
        assert code == 2, (command, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert "transflow.toml:3:" in lines[0]
        assert "Traceback" not in err + out


@pytest.mark.parametrize(("args", "where", "what"), [
    (["bogus"], "transflow", "No such command 'bogus'"),
    (["--nope"], "transflow", "No such option '--nope'"),
    (["status", "--nope"], "transflow status", "No such option '--nope'"),
    (["check", "--format", "xml"], "transflow check", "'xml' is not one of"),
    (["build", "--lang", "qq-zz"], "transflow build", "unknown language code 'qq-zz'"),
    (["memory", "export"], "transflow memory export", "Missing argument 'TMX'"),
    (["-C", "/no/such/folder", "status"], "transflow", "no such folder: /no/such/folder"),
])
def test_usage_errors_are_one_line_exit_2(args: list[str], where: str, what: str) -> None:
    # A usage error is one line naming the command and its help, as gettext's tools print
    # theirs (click's own form is four lines, the usage synopsis first).
    code, out, err = run(*args)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{where}: "), lines[0]
    assert what in lines[0]
    assert lines[0].endswith(f"(see '{where} --help')")
    assert "Traceback" not in err + out


def test_no_command_prints_the_help() -> None:
    code, out, err = run()
    assert code == 2
    assert "Usage:" in out + err and "Commands:" in out + err


def test_no_project_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run("-C", str(tmp_path), "status")
    assert code == 2
    assert "no transflow.toml" in err


def test_unknown_lang_option(tmp_path: Path) -> None:
    run("-C", str(tmp_path), "init", "p")
    code, _, err = run("-C", str(tmp_path / "p"), "status", "--lang", "de")
    assert code == 2
    assert "'de' is not in this project" in err


def test_python_dash_m() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "transflow", "--version"], capture_output=True, text=True, check=True
    )
    assert __version__ in out.stdout


def test_glossary_export_import_round_trip(tmp_path: Path) -> None:
    run("-C", str(tmp_path), "init", "p")
    project = tmp_path / "p"
    tbx = tmp_path / "g.tbx"
    code, _, err = run("-C", str(project), "glossary", "export", "-o", str(tbx))
    assert code == 0, err
    assert b"<martif" in tbx.read_bytes()
    # Importing our own export adds nothing: every term is already there.
    before = (project / "glossary.toml").read_bytes()
    code, out, err = run("-C", str(project), "glossary", "import", str(tbx))
    assert code == 0, err
    assert out.startswith("0 terms added")
    assert (project / "glossary.toml").read_bytes() == before


def test_glossary_import_bad_xml_is_exit_2(tmp_path: Path) -> None:
    run("-C", str(tmp_path), "init", "p")
    bad = tmp_path / "bad.tbx"
    bad.write_text("<martif><text>\n<body>\n</martif>")
    before = (tmp_path / "p" / "glossary.toml").read_bytes()
    code, _, err = run("-C", str(tmp_path / "p"), "glossary", "import", str(bad))
    assert code == 2
    assert "bad.tbx:" in err and "Traceback" not in err
    assert (tmp_path / "p" / "glossary.toml").read_bytes() == before


def test_errors_survive_pickling() -> None:
    """Errors raised in worker processes keep their path and line."""
    import pickle

    from transflow.errors import CatalogError

    error = pickle.loads(pickle.dumps(CatalogError("bad escape", Path("a.po"), 7)))
    assert isinstance(error, CatalogError)
    assert (error.path, error.line, error.format()) == (Path("a.po"), 7, "a.po:7: bad escape")


@pytest.mark.parametrize("command", ["extract", "build"])
def test_an_unreadable_source_is_named_by_its_path(tmp_path: Path, command: str) -> None:
    """A link loop in source/: one line naming `source/loop.html` (not the bare file name
    an `os.stat(..., dir_fd=)` error carries), exit 2."""
    code, _, err = run("-C", str(tmp_path), "init", "news")
    assert code == 0, err
    project = tmp_path / "news"
    if command != "extract":
        code, _, err = run("-C", str(project), "extract")
        assert code == 0, err
    (project / "source" / "loop.html").symlink_to("loop.html")
    code, out, err = run("-C", str(project), command)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err + out, err
    assert "source/loop.html" in lines[0] and "symbolic links" in lines[0], lines[0]


@pytest.mark.parametrize("command", ["extract", "check", "status", "build"])
def test_errors_name_files_relative_to_the_current_folder(tmp_path: Path, command: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Run inside the project, every command names a broken file the same way, as a path
    from here (`locales/ka/welcome.po:N`), the way `check` names its findings."""
    code, _, err = run("-C", str(tmp_path), "init", "news", "--languages", "ka")
    assert code == 0, err
    project = tmp_path / "news"
    code, _, err = run("-C", str(project), "extract")
    assert code == 0, err
    with (project / "locales" / "ka" / "welcome.po").open("ab") as po:
        po.write(b'\nmsgid "broken\n')
    monkeypatch.chdir(project)
    code, out, err = run(command)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("transflow: locales/ka/welcome.po:"), err
