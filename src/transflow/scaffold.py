"""`transflow init`: a new, working project with a starter glossary and one sample article."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from transflow.errors import ConfigError
from transflow.files import atomic_write
from transflow.locales import is_known_language
from transflow.project import PROJECT_FILE

_GITIGNORE = "/build/\n"


def render_project_file(languages: list[str]) -> str:
    """The text of a fresh `transflow.toml` for these target languages."""
    langs = ", ".join(f'"{lang}"' for lang in languages)
    return f"""[project]
source_language = "en"
languages = [{langs}]
source_dir = "source"
locales_dir = "locales"
build_dir = "build"
glossary = "glossary.toml"
segmentation = "paragraph"   # or "sentence"

[build]
min_complete = 0             # percent of words translated below which an article is not built
include_fuzzy = false

[checks]                     # "error", "warning" or "off"
glossary = "error"
markup = "error"
numbers = "warning"
"""


def init_project(target: Path, languages: list[str], *, force: bool = False) -> list[Path]:
    """Create a project in `target`; return the files written. Refuses to overwrite a project."""
    if not languages:
        raise ConfigError("--languages must name at least one language")
    for lang in languages:
        if not is_known_language(lang) or lang == "en":
            raise ConfigError(f"unknown or invalid target language code {lang!r}")
    if (target / PROJECT_FILE).exists():
        raise ConfigError(f"{target / PROJECT_FILE} already exists; not overwriting it")
    if target.exists() and any(target.iterdir()) and not force:
        raise ConfigError(f"{target} is not empty (use --force to add a project to it)")
    data = resources.files("transflow") / "data"
    files: dict[Path, str] = {
        target / PROJECT_FILE: render_project_file(languages),
        target / "glossary.toml": (data / "starter-glossary.toml").read_text("utf-8"),
        target / "source" / "welcome.html": (data / "sample-article.html").read_text("utf-8"),
        target / ".gitignore": _GITIGNORE,
    }
    written = []
    for path, text in files.items():
        if path.exists():
            continue
        atomic_write(path, text)
        written.append(path)
    for lang in languages:
        (target / "locales" / lang).mkdir(parents=True, exist_ok=True)
    return written
