"""The `transflow` command line: the click group, its commands and the exit-code table.

This is the only module that imports click. Each command parses its options, calls one
library function and renders the result. Exit codes: 0 ok, 1 findings (check errors,
status under --fail-under, build --strict fallbacks), 2 usage/configuration/input errors.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from transflow import __version__
from transflow.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, TransflowError
from transflow.progress import Progress, no_progress
from transflow.project import Project, load_project


@dataclass
class Settings:
    """Global options shared by every command."""

    directory: Path | None
    verbosity: int

    def project(self) -> Project:
        return load_project(self.directory)

    def echo(self, message: str, level: int = 0, err: bool = False) -> None:
        """Print unless quieter than `level` (-q is -1, -v is 1)."""
        if self.verbosity >= level:
            click.echo(message, err=err)

    @property
    def color(self) -> bool:
        return use_color(sys.stdout)

    def progress(self) -> Progress:
        """A progress bar on a terminal (stderr), silence elsewhere or with -q."""
        if self.verbosity < 0 or not sys.stderr.isatty():
            return no_progress

        def bar(items: Sequence[Any], label: str) -> ContextManager[Iterable[Any]]:
            return click.progressbar(items, label=label, file=sys.stderr, show_pos=True)

        return bar


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def fail(error: TransflowError) -> NoReturn:
    """Print the error's one line and exit with its code.

    A path under the current folder is shown relative to it, as `check` names files, so
    every command names a file the same way (`source/a.html`, not `/home/…/source/a.html`).
    """
    if error.path is not None and os.path.isabs(error.path):
        with contextlib.suppress(ValueError, OSError):
            error.path = Path(error.path).relative_to(Path.cwd())
    click.echo(f"transflow: {error.format()}", err=True)
    sys.exit(error.exit_code)


class LanguageType(click.ParamType):
    """A language code known to Babel."""

    name = "LANG"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from transflow.locales import is_known_language

        if not is_known_language(str(value)):
            self.fail(f"unknown language code {value!r}", param, ctx)
        return str(value)


LANG = LanguageType()


def usage_error(error: click.UsageError, ctx: click.Context | None) -> NoReturn:
    """Print a usage error as one line, naming the command and where its help is; exit 2.

    (Click's own form is four lines, the usage synopsis first: in a CI log the error would be
    the last of them. gettext's tools, and every other transflow error, say it on one line.)
    """
    ctx = error.ctx or ctx
    where = ctx.command_path if ctx is not None else "transflow"
    message = error.format_message().rstrip(".")
    click.echo(f"{where}: {message} (see '{where} --help')", err=True)
    sys.exit(EXIT_INPUT)


class TransflowGroup(click.Group):
    """Turns every `TransflowError` raised by a command into a one-line message and exit code,
    and a usage error (an unknown option, a bad value) into one line too."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        """Parse the global options; a usage error in them is one line (`usage_error`)."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `transflow` alone: the help, as click prints it
        except click.UsageError as e:
            usage_error(e, parent)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as e:
            usage_error(e, ctx)
        except TransflowError as e:
            fail(e)
        except OSError as e:
            # The environment, not a bug: a full disk, a permission denied. Named by the file
            # the user knows (not our temporary), with what to do.
            from transflow.files import describe_os_error

            verbose = ctx.obj is not None and getattr(ctx.obj, "verbosity", 0) > 0
            message = describe_os_error(e, verbose=verbose)
            click.echo(message if e.filename else f"transflow: {message}", err=True)
            sys.exit(EXIT_INPUT)
        except KeyboardInterrupt:
            click.echo("transflow: interrupted", err=True)
            sys.exit(130)


def _select_languages(project: Project, langs: tuple[str, ...]) -> list[str]:
    from transflow.errors import ConfigError

    for lang in langs:
        if lang not in project.languages:
            raise ConfigError(
                f"language {lang!r} is not in this project (languages: {', '.join(project.languages)})"
            )
    return list(langs) or list(project.languages)


def _articles(project: Project, names: tuple[str, ...]) -> list[str]:
    """The ARTICLE arguments of `status` and `check` as slugs; every article without any (the
    listing of `source/` answered from a snapshot when no folder of it changed)."""
    if names:
        return project.resolve_articles(names)
    from transflow.snapshot import project_articles

    return project_articles(project)


lang_option = click.option(
    "--lang", "langs", multiple=True, type=LANG, help="Only this language (repeatable)."
)
articles_argument = click.argument("articles", nargs=-1, metavar="[ARTICLE]...")


@click.group(cls=TransflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="transflow")
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run as if started in DIR (the project is found from there).",
)
@click.option("-q", "--quiet", count=True, help="Print less (errors and findings only).")
@click.option("-v", "--verbose", count=True, help="Print more (every file touched).")
@click.pass_context
def main(ctx: click.Context, directory: Path | None, quiet: int, verbose: int) -> None:
    """Translation workflow for multilingual newsrooms.

    Segments HTML articles into gettext catalogues, enforces the terminology glossary,
    reports completeness and builds the translated pages.
    """
    if directory is not None and not directory.is_dir():
        raise click.BadParameter(f"no such folder: {directory}", param_hint="-C")
    ctx.obj = Settings(directory=directory, verbosity=verbose - quiet)


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--languages", default="ka,ru", show_default=True, help="Comma-separated target languages.")
@click.option("--force", is_flag=True, help="Write into a folder that already has files.")
@click.pass_obj
def init(settings: Settings, directory: Path | None, languages: str, force: bool) -> None:
    """Create a new project in DIRECTORY (default: the current folder)."""
    from transflow.scaffold import init_project

    base = settings.directory or Path.cwd()
    target = base / directory if directory is not None else base
    langs = [lang.strip() for lang in languages.split(",") if lang.strip()]
    created = init_project(target, langs, force=force)
    for path in created:
        settings.echo(f"created {path}", level=1)
    settings.echo(f"Initialised a transflow project in {target} ({len(created)} files).")
    settings.echo(f"Next: transflow -C {target} extract && transflow -C {target} status")


@main.command()
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 listing the files extract would change (CI).")
@articles_argument
@click.pass_obj
def extract(settings: Settings, check_only: bool, articles: tuple[str, ...]) -> None:
    """Segment source articles into POT templates and merge them into every PO catalogue."""
    project = settings.project()
    from transflow.extract import extract_project

    report = extract_project(project, project.resolve_articles(articles),
                             progress=settings.progress(), check=check_only)
    for note in report.notes:
        settings.echo(note, level=1, err=True)
    for line in report.detail_lines():
        # `--check` lists the files even with -q: they are the answer.
        settings.echo(line, level=-1 if check_only else 1)
    settings.echo(report.summary())
    if check_only and report.written:
        sys.exit(EXIT_FINDINGS)


@main.command()
@lang_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github", "gitlab"]),
    default="text",
    show_default=True,
    help="Output format of the findings.",
)
@articles_argument
@click.pass_obj
def check(settings: Settings, langs: tuple[str, ...], fmt: str, articles: tuple[str, ...]) -> None:
    """Check translations: glossary, markup, numbers, copies, whitespace, plurals."""
    project = settings.project()
    selected = _select_languages(project, langs)
    from transflow.check import run_check

    notes: list[str] = []

    def write(text: str) -> None:
        try:
            click.echo(text, nl=False)
        except BrokenPipeError:
            # The reader is gone (`check | head`): run_check finishes without writing (the
            # cache saved, the exit code the findings'); what is left in stdout's buffer goes
            # nowhere, rather than failing again when Python flushes it at exit.
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            os.close(null)
            raise

    # The report is written as it is made (tens of megabytes in a newsroom), or replayed whole
    # when nothing changed; the notes of -v come after it.
    code = run_check(project, selected, _articles(project, articles), fmt=fmt,
                     color=settings.color and fmt == "text",
                     summary=settings.verbosity >= 0 or fmt != "text", write=write, notes=notes)
    for note in notes:
        settings.echo(note, level=1, err=True)
    sys.exit(code)


@main.command()
@lang_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (always per article).")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PCT",
              help="Exit 1 when a selected language is under PCT percent translated.")
@click.option("--articles", "per_article", is_flag=True, help="Add the per-article table.")
@articles_argument
@click.pass_obj
def status(settings: Settings, langs: tuple[str, ...], as_json: bool, fail_under: float | None,
           per_article: bool, articles: tuple[str, ...]) -> None:
    """Report translation completeness per language (and per article)."""
    project = settings.project()
    selected = _select_languages(project, langs)
    from transflow.report import render_status_json, render_status_table
    from transflow.status import project_status

    # Orphaned catalogues (article gone from source/) are a fact about the whole project.
    result = project_status(project, selected, _articles(project, articles),
                            orphans=not articles)
    for note in result.notes:
        settings.echo(note, level=1, err=True)
    if as_json:
        click.echo(render_status_json(result))
    else:
        click.echo(render_status_table(result, per_article=per_article, color=settings.color))
        for orphan in result.orphaned:
            click.echo(f"orphaned: {orphan.file} (no source for {orphan.article}; "
                       "its translations are kept)")
    if fail_under is not None and result.below(fail_under):
        sys.exit(EXIT_FINDINGS)


@main.command()
@lang_option
@click.option("--min-complete", type=click.FloatRange(0, 100), metavar="PCT",
              help="Skip articles under PCT percent translated (default from transflow.toml).")
@click.option("--include-fuzzy", is_flag=True, default=None,
              help="Use fuzzy translations instead of falling back to the source.")
@click.option("--strict", is_flag=True, help="Exit 1 when any unit fell back or an article was skipped.")
@click.option("--force", is_flag=True, help="Rebuild everything, even unchanged pages.")
@articles_argument
@click.pass_obj
def build(settings: Settings, langs: tuple[str, ...], min_complete: float | None,
          include_fuzzy: bool | None, strict: bool, force: bool, articles: tuple[str, ...]) -> None:
    """Write the translated HTML pages to build/<lang>/ (and the source to build/en/)."""
    project = settings.project()
    selected = _select_languages(project, langs)
    from transflow.build import build_project

    report = build_project(
        project,
        selected,
        project.resolve_articles(articles),
        min_complete=project.min_complete if min_complete is None else min_complete,
        include_fuzzy=project.include_fuzzy if include_fuzzy is None else include_fuzzy,
        force=force,
        progress=settings.progress(),
        every_article=not articles,
        keep_pages=settings.verbosity >= 1,  # (only -v shows a line per page)
    )
    if settings.verbosity >= 1:  # (30,000 lines at 10,000 articles: made only to be shown)
        for line in report.notes:
            settings.echo(line, level=1, err=True)
        for line in report.detail_lines():
            settings.echo(line, level=1)
    for line in report.warning_lines():
        settings.echo(line, level=0, err=True)
    settings.echo(report.summary())
    if strict and report.incomplete:
        sys.exit(EXIT_FINDINGS)


@main.command()
@lang_option
@click.option("--force", is_flag=True, help="Rewrite every page, even unchanged ones.")
@articles_argument
@click.pass_obj
def review(settings: Settings, langs: tuple[str, ...], force: bool, articles: tuple[str, ...]) -> None:
    """Write review pages to build/review/: English | translation, statuses, terms, findings."""
    project = settings.project()
    selected = _select_languages(project, langs)
    from transflow.review import review_project

    report = review_project(project, selected, project.resolve_articles(articles), force=force,
                            progress=settings.progress())
    for line in report.detail_lines():
        settings.echo(line, level=1)
    settings.echo(report.summary())


@main.group()
def glossary() -> None:
    """Show the terminology glossary."""


@glossary.command("list")
@lang_option
@click.pass_obj
def glossary_list(settings: Settings, langs: tuple[str, ...]) -> None:
    """List every term with its renderings."""
    from transflow.glossary import load_project_glossary
    from transflow.report import render_glossary_list

    project = settings.project()
    click.echo(render_glossary_list(load_project_glossary(project), _select_languages(project, langs)))


@glossary.command("show")
@click.argument("term_id")
@lang_option
@click.pass_obj
def glossary_show(settings: Settings, term_id: str, langs: tuple[str, ...]) -> None:
    """Show one term: renderings, the forms the matcher accepts, forbidden variants, note."""
    from transflow.glossary import load_project_glossary
    from transflow.report import render_glossary_term

    project = settings.project()
    click.echo(render_glossary_term(load_project_glossary(project), term_id,
                                    _select_languages(project, langs)))


@glossary.command("import")
@click.argument("tbx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print the terms that would be added; change nothing.")
@click.pass_obj
def glossary_import(settings: Settings, tbx: Path, dry_run: bool) -> None:
    """Add the terms of a TBX file (e.g. a Weblate glossary) to glossary.toml."""
    project = settings.project()
    from transflow.interchange import import_tbx, read_glossary_terms, render_glossary_toml

    gpath = _glossary_path(project)
    with _writing(project, gpath.parent, (f".{gpath.name}.*.tmp",)):
        existing = read_glossary_terms(gpath, project.source_language) if gpath.is_file() else []
        result = import_tbx(tbx, source_language=project.source_language,
                            languages=project.languages, existing=existing)
        for problem in result.skipped:
            settings.echo(f"skipped: {problem}", level=1, err=True)
        addition = render_glossary_toml(result.terms, comment=f"imported from {tbx.name}")
        if dry_run:
            click.echo(addition, nl=False)
        elif result.terms:
            old = gpath.read_text("utf-8") if gpath.is_file() else ""
            joined = old + ("\n" if old and not old.endswith("\n\n") else "") + addition
            _replace_glossary(joined, gpath, project.source_language)
    settings.echo(f"{len(result.terms)} terms {'would be ' if dry_run else ''}added, "
                  f"{len(result.skipped)} skipped (-v lists them)")


@glossary.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the TBX here instead of standard output.")
@click.pass_obj
def glossary_export(settings: Settings, output: Path | None) -> None:
    """Write the glossary as TBX for CAT tools."""
    project = settings.project()
    from transflow.files import atomic_write
    from transflow.interchange import read_glossary_terms, render_tbx

    data = render_tbx(read_glossary_terms(_glossary_path(project), project.source_language),
                      source_language=project.source_language, languages=project.languages)
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        atomic_write(output, data)


def _replace_glossary(text: str, path: Path, source_language: str) -> None:
    """Replace the editors' glossary with `text`, only once it loads as a glossary.

    The candidate is staged beside the glossary (`.glossary.toml.<random>.tmp`, removed by the
    next writing command if this one is killed), validated, then renamed into place.
    """
    import os

    from transflow.files import stage_file
    from transflow.glossary import load_glossary

    tmp = stage_file(path, text.encode("utf-8"))
    try:
        load_glossary(Path(tmp), source_language, display=str(path))
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _writing(project: Project, folder: Path, stale: tuple[str, ...]) -> ContextManager[None]:
    """Hold the project lock and first remove this command's temporaries from a killed run."""
    from transflow.files import writing

    return writing(project.cache_dir / "lock", folder, stale)


def _glossary_path(project: Project) -> Path:
    from transflow.errors import GlossaryError

    if project.glossary_path is None:
        raise GlossaryError("this project has no glossary")
    return project.glossary_path


@main.group()
def xliff() -> None:
    """Exchange one catalogue with CAT tools as XLIFF 1.2."""


@xliff.command("export")
@click.argument("lang", type=LANG)
@click.argument("article")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")
@click.pass_obj
def xliff_export(settings: Settings, lang: str, article: str, output: Path | None) -> None:
    """Write locales/LANG/ARTICLE.po as XLIFF."""
    project = settings.project()
    _select_languages(project, (lang,))
    (slug,) = project.resolve_articles([article])
    from transflow.catalog import read_catalog
    from transflow.files import atomic_write
    from transflow.interchange import render_xliff

    po_path = project.po_path(lang, slug)
    data = render_xliff(read_catalog(po_path), original=project.relative(po_path),
                        source_language=project.source_language, target_language=lang)
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        atomic_write(output, data)


@xliff.command("import")
@click.argument("lang", type=LANG)
@click.argument("article")
@click.argument("xliff_file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def xliff_import(settings: Settings, lang: str, article: str, xliff_file: Path) -> None:
    """Apply the translations of an XLIFF file to locales/LANG/ARTICLE.po (never clears one)."""
    project = settings.project()
    _select_languages(project, (lang,))
    (slug,) = project.resolve_articles([article])
    from transflow.catalog import read_catalog, write_catalog
    from transflow.files import read_bytes
    from transflow.interchange import apply_xliff

    po_path = project.po_path(lang, slug)
    with _writing(project, po_path.parent, (f".{po_path.name}.*.tmp",)):
        po = read_catalog(po_path)
        result = apply_xliff(po, read_bytes(xliff_file), xliff_file)
        for problem in result.problems:
            settings.echo(problem, level=0, err=True)
        if result.updated:
            write_catalog(po_path, po)
    settings.echo(result.summary())


@main.group()
def memory() -> None:
    """Exchange the translation memory with CAT tools as TMX 1.4b."""


@memory.command("export")
@click.option("--lang", "lang", required=True, type=LANG, help="The target language to export.")
@click.argument("tmx", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def memory_export(settings: Settings, lang: str, tmx: Path) -> None:
    """Write every translated entry of locales/LANG/ (and locales/memory/LANG.po) to TMX."""
    project = settings.project()
    _select_languages(project, (lang,))
    from transflow.memoryio import export_memory

    count = export_memory(project, lang, tmx)
    settings.echo(f"{count} units ({project.source_language} → {lang}) written to {tmx}")


@memory.command("import")
@click.argument("tmx", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def memory_import(settings: Settings, tmx: Path) -> None:
    """Add a TMX file's units to locales/memory/LANG.po, which extract fills from."""
    project = settings.project()
    from transflow.memoryio import import_memory

    result = import_memory(project, tmx)
    for problem in result.skipped:
        settings.echo(f"skipped: {problem}", level=1, err=True)
    for line in result.summary_lines():
        settings.echo(line)


if __name__ == "__main__":
    main()

__all__ = ["main", "EXIT_OK"]
