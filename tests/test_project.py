"""transflow.toml: discovery, defaults, and one-line errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from transflow.errors import ConfigError
from transflow.project import find_project_file, load_project, read_project

GOOD = """[project]
source_language = "en"
languages = ["ka", "ru"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "transflow.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path: Path) -> None:
    project = read_project(write(tmp_path, GOOD))
    assert project.languages == ("ka", "ru")
    assert project.source_dir == tmp_path.resolve() / "source"
    assert project.segmentation == "paragraph"
    assert project.checks["glossary"] == "error"
    assert project.checks["numbers"] == "warning"
    assert project.glossary_required is False
    assert project.po_path("ru", "a/b") == tmp_path.resolve() / "locales" / "ru" / "a" / "b.po"


def test_found_from_a_subfolder(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    sub = tmp_path / "source" / "deep"
    sub.mkdir(parents=True)
    assert find_project_file(sub) == (tmp_path / "transflow.toml").resolve()
    assert load_project(sub).root == tmp_path.resolve()


def test_articles_include_subfolders(tmp_path: Path) -> None:
    project = read_project(write(tmp_path, GOOD))
    (tmp_path / "source" / "politics").mkdir(parents=True)
    (tmp_path / "source" / "a.html").write_text("<p>x</p>")
    (tmp_path / "source" / "politics" / "b.html").write_text("<p>y</p>")
    (tmp_path / "source" / ".hidden.html").write_text("<p>z</p>")
    assert project.articles() == ["a", "politics/b"]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (GOOD + 'colour = "blue"\n', 4, "unknown key 'colour'"),
        ('[project]\nlanguages = "ka"\n', 2, "must be a list"),
        ('[project]\nlanguages = ["ka", "xx-notalang"]\n', 2, "unknown language code"),
        ('[project]\nsource_language = "en"\n', 1, "missing required key 'languages'"),
        (GOOD + "[build]\nmin_complete = 150\n", 5, "0 to 100"),
        (GOOD + "[build]\ninclude_fuzzy = 1\n", 5, "true or false"),
        (GOOD + '[checks]\nglossary = "fatal"\n', 5, '"error", "warning" or "off"'),
        (GOOD + '[checks]\nspelling = "error"\n', 5, "unknown key 'spelling'"),
        (GOOD + "[extras]\nx = 1\n", 4, "unknown table [extras]"),
        (GOOD + 'segmentation = "word"\n', 4, "segmentation"),
        ('[project]\nlanguages = ["ka",\n', 2, "TOML syntax error"),
        ('[project]\nlanguages = ["ka", "ka"]\n', 2, "twice"),
        ('[project]\nlanguages = ["en"]\n', 2, "source language"),
    ],
)
def test_bad_config_names_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        read_project(path)
    message = info.value.format()
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message
    assert "\n" not in message


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "transflow.toml"
    path.write_bytes(b'[project]\nlanguages = ["ka"]\n# \xff\xfe\n')
    with pytest.raises(ConfigError, match=r"transflow.toml:3: not valid UTF-8"):
        read_project(path)


def test_no_project(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no transflow.toml"):
        find_project_file(tmp_path)
