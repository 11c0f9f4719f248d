"""`transflow.toml`: finding it, validating it, and the paths it implies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transflow.errors import ConfigError
from transflow.files import find_relative
from transflow.locales import is_known_language
from transflow.tomlfile import key_line, load_toml

PROJECT_FILE = "transflow.toml"
SEVERITIES = ("error", "warning", "off")
CHECK_NAMES = ("glossary", "style", "markup", "numbers", "untranslated-copy", "whitespace",
               "plurals")
SEGMENTATIONS = ("paragraph", "sentence")
SOURCE_SUFFIXES = (".html", ".htm")

# The schema as named data: table -> key -> (expected type(s), human description, default).
_SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], str, Any]]] = {
    "project": {
        "source_language": ((str,), "a language code", "en"),
        "languages": ((list,), "a list of language codes", None),
        "source_dir": ((str,), "a folder path", "source"),
        "locales_dir": ((str,), "a folder path", "locales"),
        "build_dir": ((str,), "a folder path", "build"),
        "glossary": ((str,), "a file path", None),
        "segmentation": ((str,), '"paragraph" or "sentence"', "paragraph"),
    },
    "build": {
        "min_complete": ((int, float), "a number from 0 to 100", 0),
        "include_fuzzy": ((bool,), "true or false", False),
    },
    "checks": {name: ((str,), '"error", "warning" or "off"', None) for name in CHECK_NAMES},
}
_REQUIRED = {("project", "languages")}
_DEFAULT_SEVERITY = {
    "glossary": "error",
    "style": "error",  # house-style [[rule]]s of the glossary file
    "markup": "error",
    "numbers": "warning",
    "untranslated-copy": "warning",
    "whitespace": "warning",
    "plurals": "error",
}


@dataclass(frozen=True, slots=True)
class Project:
    """A loaded, validated transflow project."""

    root: Path
    source_language: str
    languages: tuple[str, ...]
    source_dir: Path
    locales_dir: Path
    build_dir: Path
    glossary_path: Path | None
    glossary_required: bool
    segmentation: str = "paragraph"
    min_complete: float = 0.0
    include_fuzzy: bool = False
    checks: dict[str, str] = field(default_factory=lambda: dict(_DEFAULT_SEVERITY))

    @property
    def config_path(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def cache_dir(self) -> Path:
        return self.build_dir / ".cache"

    @property
    def templates_dir(self) -> Path:
        return self.locales_dir / "templates"

    def articles(self) -> list[str]:
        """Every article slug under `source_dir` (`politics/vote` for `source/politics/vote.html`)."""
        if not self.source_dir.is_dir():  # a typo in source_dir must not pass as "no articles"
            problem = "is a file, not a folder" if self.source_dir.exists() else "no such folder"
            raise ConfigError(f"{problem} (source_dir in {PROJECT_FILE})",
                              self.relative(self.source_dir))
        slugs = {rel.rsplit(".", 1)[0] for rel in find_relative(self.source_dir, SOURCE_SUFFIXES)}
        return sorted(slugs)

    def source_path(self, slug: str) -> Path:
        """The source HTML file of an article."""
        for suffix in SOURCE_SUFFIXES:
            path = self.source_dir / f"{slug}{suffix}"
            if path.is_file():
                return path
        return self.source_dir / f"{slug}.html"

    def pot_path(self, slug: str) -> Path:
        return self.templates_dir / f"{slug}.pot"

    def po_path(self, lang: str, slug: str) -> Path:
        return self.locales_dir / lang / f"{slug}.po"

    def build_path(self, lang: str, slug: str) -> Path:
        return self.build_dir / lang / f"{slug}.html"

    def relative(self, path: Path) -> str:
        """A path as the user sees it in messages: relative to the project root when inside it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def resolve_articles(self, names: tuple[str, ...] | list[str]) -> list[str]:
        """Turn command-line ARTICLE arguments (slugs or paths) into known slugs."""
        known = self.articles()
        if not names:
            return known
        chosen = []
        for name in names:
            slug = _slug_of(name, self)
            if slug not in known:
                raise ConfigError(f"no such article: {name}")
            chosen.append(slug)
        return sorted(set(chosen))


def _slug_of(name: str, project: Project) -> str:
    """`source/a.html`, `a.html`, `locales/ru/a.po` or `a` → `a`."""
    path = Path(name)
    if path.suffix in SOURCE_SUFFIXES + (".po", ".pot"):
        path = path.with_suffix("")
    for base in (project.source_dir, project.templates_dir, project.locales_dir):
        try:
            rel = (Path.cwd() / path).resolve().relative_to(base.resolve())
        except ValueError:
            continue
        if base == project.locales_dir and len(rel.parts) > 1:
            rel = Path(*rel.parts[1:])
        return rel.as_posix()
    return path.as_posix()


def find_project_file(start: Path) -> Path:
    """Walk up from `start` to the nearest `transflow.toml`, as git finds `.git`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no {PROJECT_FILE} in {start} or any parent folder (run `transflow init`)")


def load_project(start: Path | None = None) -> Project:
    """Find and load the project that contains `start` (default: the current folder)."""
    return read_project(find_project_file(start or Path.cwd()))


def read_project(path: Path) -> Project:
    """Load and validate one `transflow.toml`."""
    data, text = load_toml(path, ConfigError)
    _validate(data, text, path)
    root = path.parent.resolve()
    proj: dict[str, Any] = data.get("project", {})
    build: dict[str, Any] = data.get("build", {})
    checks = dict(_DEFAULT_SEVERITY)
    checks.update(data.get("checks", {}))
    glossary = proj.get("glossary")
    return Project(
        root=root,
        source_language=proj.get("source_language", "en"),
        languages=tuple(proj["languages"]),
        source_dir=root / proj.get("source_dir", "source"),
        locales_dir=root / proj.get("locales_dir", "locales"),
        build_dir=root / proj.get("build_dir", "build"),
        glossary_path=root / (glossary if glossary is not None else "glossary.toml"),
        glossary_required=glossary is not None,
        segmentation=proj.get("segmentation", "paragraph"),
        min_complete=float(build.get("min_complete", 0)),
        include_fuzzy=bool(build.get("include_fuzzy", False)),
        checks=checks,
    )


def _validate(data: dict[str, Any], text: str, path: Path) -> None:
    def fail(message: str, table: str | None, key: str | None = None) -> ConfigError:
        return ConfigError(message, path, key_line(text, table, key))

    for table, value in data.items():
        if table not in _SCHEMA:
            raise fail(f"unknown table [{table}] (expected one of: {', '.join(_SCHEMA)})", table)
        if not isinstance(value, dict):
            raise fail(f"{table} must be a table", None, table)
        for key, item in value.items():
            if key not in _SCHEMA[table]:
                expected = ", ".join(_SCHEMA[table])
                raise fail(f"unknown key {key!r} in [{table}] (expected one of: {expected})", table, key)
            types, expected, _ = _SCHEMA[table][key]
            if isinstance(item, bool) and bool not in types or not isinstance(item, types):
                raise fail(f"[{table}] {key} must be {expected}, not {item!r}", table, key)
    for table, key in _REQUIRED:
        if key not in data.get(table, {}):
            raise fail(f"missing required key {key!r} in [{table}]", table if table in data else None)
    proj = data["project"]
    langs = proj["languages"]
    if not langs:
        raise fail("[project] languages must list at least one language", "project", "languages")
    source = proj.get("source_language", "en")
    for lang in [source, *langs]:
        if not isinstance(lang, str) or not is_known_language(lang):
            key = "source_language" if lang == source else "languages"
            raise fail(f"unknown language code {lang!r} (expected a code such as 'ka' or 'pt-BR')", "project", key)
    if len(set(langs)) != len(langs):
        raise fail("[project] languages lists a language twice", "project", "languages")
    if source in langs:
        raise fail(f"the source language {source!r} cannot also be a target language", "project", "languages")
    if proj.get("segmentation", "paragraph") not in SEGMENTATIONS:
        raise fail(f"[project] segmentation must be {_SCHEMA['project']['segmentation'][1]}", "project", "segmentation")
    min_complete = data.get("build", {}).get("min_complete", 0)
    if not 0 <= min_complete <= 100:
        raise fail("[build] min_complete must be a number from 0 to 100", "build", "min_complete")
    for name, severity in data.get("checks", {}).items():
        if severity not in SEVERITIES:
            raise fail(f'[checks] {name} must be "error", "warning" or "off", not {severity!r}', "checks", name)
