"""Text / JSON / GitHub / GitLab renderings of check findings and of status."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transflow.status import Counts, ProjectStatus

# ---------------------------------------------------------------------------
# Status renderers (owner: status helper). Findings renderers live in their own section.
# ---------------------------------------------------------------------------

# Colours as plain ANSI SGR codes (click.style is kept to cli.py), each with its use.
_ANSI: dict[str, str] = {
    "bold": "\x1b[1m",  # headers and language names
    "dim": "\x1b[2m",  # the empty part of a bar, footnotes
    "green": "\x1b[32m",  # complete
    "yellow": "\x1b[33m",  # half-way or better
    "red": "\x1b[31m",  # under half, and glossary errors
    "reset": "\x1b[0m",
}
STATUS_BAR_WIDTH = 12  # cells of the per-language bar
_BAR_EIGHTHS = " ▏▎▍▌▋▊▉"  # partial cells, so a bar moves with every 1/96th


def _paint(text: str, style: str, color: bool) -> str:
    return f"{_ANSI[style]}{text}{_ANSI['reset']}" if color and text else text


_ANSI_RE_PATTERN = "\x1b\\[[0-9;]*m"


def _display_width(text: str) -> int:
    """Terminal cells taken by `text`: colour codes 0, wide East Asian characters 2, marks 0."""
    import re
    import unicodedata

    width = 0
    for ch in re.sub(_ANSI_RE_PATTERN, "", text):
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, align: str) -> str:
    gap = " " * max(0, width - _display_width(text))
    return text + gap if align == "<" else gap + text


def _status_bar(percent: float) -> str:
    """A fixed-width bar of block characters: `█████▌░░░░░░`."""
    eighths = int(percent / 100 * STATUS_BAR_WIDTH * 8)
    full, part = divmod(min(eighths, STATUS_BAR_WIDTH * 8), 8)
    bar = "█" * full + (_BAR_EIGHTHS[part] if part else "")
    return bar + "░" * (STATUS_BAR_WIDTH - _display_width(bar))


def _shown_percent(translated: int, total: int, percent: float) -> float:
    """Percent rounded to 1 decimal, never 100.0 before the end nor 0.0 after the start."""
    shown = round(percent, 1)
    if shown >= 100.0 and translated < total:
        return 99.9
    if shown <= 0.0 and translated > 0:
        return 0.1
    return shown


def _percent_of(c: Counts) -> float:
    if c.words_total:
        return _shown_percent(c.words_translated, c.words_total, c.percent)
    return _shown_percent(c.translated, c.total, c.percent)


def _percent_style(percent: float, complete: bool) -> str:
    if complete or percent >= 100.0:
        return "green"
    return "yellow" if percent >= 50.0 else "red"


def _table(header: list[str], rows: list[list[str]], aligns: str,
           styles: list[list[str | None]], color: bool) -> list[str]:
    """Aligned columns separated by two spaces; `styles[r][c]` colours one cell."""
    widths = [max(_display_width(x) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(_paint(_pad(h, w, a), "bold", color)
                       for h, w, a in zip(header, widths, aligns, strict=True)).rstrip()]
    for row, row_styles in zip(rows, styles, strict=True):
        cells = []
        for cell, w, a, style in zip(row, widths, aligns, row_styles, strict=True):
            padded = _pad(cell, w, a)
            cells.append(_paint(padded, style, color) if style else padded)
        lines.append("  ".join(cells).rstrip())
    return lines


def _num(n: int) -> str:
    return f"{n:,}"


def render_status_table(status: ProjectStatus, *, per_article: bool, color: bool) -> str:
    """A terminal table per language (and per article, most words left first)."""
    from transflow.locales import language_name, native_name

    header = ["Language", "Entries", "Translated", "Fuzzy", "Untranslated", "Words",
              "Words left", "%", "", "Glossary errors"]
    aligns = "<>>>>>>><>"
    rows: list[list[str]] = []
    styles: list[list[str | None]] = []
    for lang in status.languages:
        c = lang.counts
        english, native = status.names.get(lang.lang) or (language_name(lang.lang),
                                                          native_name(lang.lang))
        name = english if native == english else f"{english} — {native}"
        pct = _percent_of(c)
        pstyle = _percent_style(pct, c.complete)
        bar = _status_bar(pct)
        filled = bar.rstrip("░")
        bar_cell = _paint(filled, pstyle, color) + _paint(bar[len(filled):], "dim", color)
        rows.append([f"{name} ({lang.lang})", _num(c.total), _num(c.translated), _num(c.fuzzy),
                     _num(c.untranslated), _num(c.words_total), _num(c.words_left),
                     f"{pct:.1f}%", bar_cell,
                     _num(c.glossary_errors) if status.glossary else "-"])
        styles.append(["bold", None, None, "yellow" if c.fuzzy else None, None, None, None,
                       pstyle, None, "red" if c.glossary_errors else None])
    lines = _table(header, rows, aligns, styles, color)
    notes = ["% = translated source words / all source words (fuzzy is not translated); "
             "words left = untranslated + fuzzy."]
    if not status.glossary:
        notes.append("Glossary errors: no glossary to check (or the glossary check is not an error).")
    if per_article:
        lines += ["", *_article_table(status, color)]
    lines += [""] + [_paint(n, "dim", color) for n in notes]
    return "\n".join(lines)


def _article_table(status: ProjectStatus, color: bool) -> list[str]:
    header = ["Article", "Lang", "Entries", "Translated", "Fuzzy", "Untranslated", "Words",
              "Words left", "%", "Glossary errors"]
    aligns = "<<>>>>>>>>"
    order = sorted(status.catalogs,
                   key=lambda cat: (-cat.counts.words_left, -cat.counts.untranslated,
                                    cat.article, cat.lang))
    rows, styles = [], []
    for cat in order:
        c = cat.counts
        pct = _percent_of(c)
        rows.append([cat.article, cat.lang, _num(c.total), _num(c.translated), _num(c.fuzzy),
                     _num(c.untranslated), _num(c.words_total), _num(c.words_left),
                     f"{pct:.1f}%" if cat.exists else "no PO",
                     _num(c.glossary_errors) if status.glossary else "-"])
        styles.append([None, None, None, None, "yellow" if c.fuzzy else None, None, None, None,
                       _percent_style(pct, c.complete) if cat.exists else "red",
                       "red" if c.glossary_errors else None])
    if not rows:
        return ["No articles."]
    return _table(header, rows, aligns, styles, color)


def _status_counts_json(c: Counts) -> dict[str, Any]:
    return {
        "total": c.total,
        "translated": c.translated,
        "fuzzy": c.fuzzy,
        "untranslated": c.untranslated,
        "obsolete": c.obsolete,
        "words": {"total": c.words_total, "translated": c.words_translated,
                  "fuzzy": c.words_fuzzy, "untranslated": c.words_untranslated},
        "percent": _percent_of(c),
        "glossary_errors": c.glossary_errors,
    }


def render_status_json(status: ProjectStatus) -> str:
    """The SPEC §6 JSON document: per language, and always per article."""
    import json

    from transflow.locales import language_name

    doc = {
        "source_language": status.source_language,
        "languages": {
            lang.lang: {"name": status.names[lang.lang][0] if lang.lang in status.names
                        else language_name(lang.lang), **_status_counts_json(lang.counts)}
            for lang in status.languages
        },
        "articles": [
            {"article": cat.article, "lang": cat.lang, "file": cat.file,
             **_status_counts_json(cat.counts)}
            for cat in status.catalogs
        ],
        # Catalogues whose article is gone from source/ (kept; nothing deletes them).
        "orphaned": [{"article": o.article, "lang": o.lang, "file": o.file}
                     for o in status.orphaned],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


# ---------------------------------------------------------------------------
# Findings and glossary renderers (owner: glossary helper).
# ---------------------------------------------------------------------------

if TYPE_CHECKING:
    from transflow.check import Finding
    from transflow.glossary import Glossary, Term

# Colours of the findings report, each with its use.
_FINDING_STYLE: dict[str, str] = {
    "error": "\x1b[1;31m",  # error severity
    "warning": "\x1b[33m",  # warning severity
    "where": "\x1b[1m",  # file:line
    "check": "\x1b[36m",  # [check] tag
    "reset": "\x1b[0m",
}
GITHUB_LEVELS = {"error": "error", "warning": "warning"}  # severity -> workflow command
# severity -> GitLab Code Quality severity (allowed: info, minor, major, critical, blocker).
# "major" for an error, the level GitLab shows as a real problem; "minor" for a warning.
GITLAB_SEVERITIES = {"error": "major", "warning": "minor"}


def _styled(text: str, style: str, color: bool) -> str:
    return f"{_FINDING_STYLE[style]}{text}{_FINDING_STYLE['reset']}" if color else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def findings_summary(findings: list[Finding]) -> str:
    """`2 errors, 1 warning in 2 files` or `No problems found.`"""
    if not findings:
        return "No problems found."
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    files = len({f.file for f in findings})
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {_plural(files, 'file')}."


def _github_escape(text: str, prop: bool = False) -> str:
    """Escape a workflow-command value (and, for properties, `:` and `,`)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def gitlab_fingerprint(finding: Finding, occurrence: int = 0) -> str:
    """A Code Quality fingerprint that survives edits elsewhere in the file.

    GitLab compares fingerprints between the base and the head of a merge request to tell new
    findings from fixed ones, so it hashes what the finding is about (file, check, context,
    msgid, term, message) and never its line number. `occurrence` tells apart findings
    identical in all of those (the same msgid under the same context twice).
    """
    import hashlib

    parts = [finding.file, finding.check, finding.msgctxt or "", finding.msgid,
             finding.term or "", finding.message]
    if occurrence:
        parts.append(str(occurrence))
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def render_gitlab(findings: list[Finding]) -> str:
    """Findings as GitLab Code Quality JSON: the report a merge request's widget shows.

    A list of `{description, check_name, fingerprint, severity, location: {path, lines:
    {begin}}}` (GitLab's required fields); an empty list when there is nothing to report.
    """
    import json

    seen: dict[str, int] = {}
    issues = []
    for f in findings:
        base = gitlab_fingerprint(f)
        n = seen.get(base, 0)
        seen[base] = n + 1
        issues.append({
            "description": f"[{f.check}] {f.message}",
            "check_name": f"transflow-{f.check}",
            "fingerprint": base if n == 0 else gitlab_fingerprint(f, n),
            "severity": GITLAB_SEVERITIES.get(f.severity, "minor"),
            "location": {"path": f.file, "lines": {"begin": max(f.line, 1)}},
        })
    return json.dumps(issues, ensure_ascii=False, indent=2)


def render_findings(findings: list[Finding], fmt: str, *, color: bool, summary: bool) -> str:
    """Findings as `text` (one line each), `json` (SPEC §5), `github` workflow commands or
    `gitlab` Code Quality JSON."""
    import json

    if fmt == "gitlab":
        return render_gitlab(findings)
    if fmt == "json":
        doc = {
            "findings": [f.to_json() for f in findings],
            "summary": {"errors": sum(f.severity == "error" for f in findings),
                        "warnings": sum(f.severity == "warning" for f in findings)},
        }
        return json.dumps(doc, ensure_ascii=False, indent=2)
    lines = []
    for f in findings:
        if fmt == "github":
            title = f"transflow {f.check}" + (f" ({f.term})" if f.term else "")
            lines.append(
                f"::{GITHUB_LEVELS.get(f.severity, 'warning')} file={_github_escape(f.file, True)},"
                f"line={f.line},title={_github_escape(title, True)}::{_github_escape(f.message)}"
            )
        elif fmt == "text":
            where = _styled(f"{f.file}:{f.line}:", "where", color)
            severity = _styled(f"{f.severity}:", f.severity if f.severity in _FINDING_STYLE
                               else "warning", color)
            check = _styled(f"[{f.check}]", "check", color)
            lines.append(f"{where} {severity} {check} {f.message}")
        else:
            raise ValueError(f"unknown findings format {fmt!r}")
    if summary:
        lines.append(findings_summary(findings))
    return "\n".join(lines)


class FindingsTally:
    """What the end of a streamed report says (`stream_findings` counts as it goes)."""

    __slots__ = ("errors", "warnings", "files", "_last")

    def __init__(self) -> None:
        self.errors = self.warnings = self.files = 0
        self._last: str | None = None

    def add(self, f: Finding) -> None:
        if f.severity == "error":
            self.errors += 1
        elif f.severity == "warning":
            self.warnings += 1
        if f.file != self._last:  # (sorted by file: a new file starts here)
            self.files += 1
            self._last = f.file

    @property
    def exit_code(self) -> int:
        """`findings_exit_code` of the findings counted."""
        return 1 if self.errors else 0

    def summary(self) -> str:
        """`findings_summary` of the findings counted."""
        if not (self.errors or self.warnings or self.files):
            return "No problems found."
        return (f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')} in "
                f"{_plural(self.files, 'file')}.")


def stream_findings(findings: Iterable[Finding], fmt: str, *, color: bool, summary: bool,
                    tally: FindingsTally | None = None) -> Iterator[str]:
    """`render_findings` and the line break `click.echo` adds, in pieces, as the findings
    come: a newsroom's report is tens of megabytes, never held whole. The pieces joined are
    byte for byte `render_findings(...) + "\n"` (nothing at all when that is empty); each
    text or github piece is whole lines. `findings` must be in report order (`sort_findings`):
    the file count and GitLab's repeated fingerprints are counted file by file. `tally` ends
    up with the counts (the exit code)."""
    import json

    tally = tally if tally is not None else FindingsTally()
    if fmt in ("json", "gitlab"):
        dumps = json.dumps
        yield '{\n  "findings": [' if fmt == "json" else "["
        pad = "\n    " if fmt == "json" else "\n  "
        first = True
        seen: dict[str, int] = {}
        last_file = None
        for f in findings:
            tally.add(f)
            if fmt == "json":
                item = f.to_json()
            else:
                if f.file != last_file:  # (a fingerprint has the file in it)
                    seen.clear()
                    last_file = f.file
                base = gitlab_fingerprint(f)
                n = seen.get(base, 0)
                seen[base] = n + 1
                item = {"description": f"[{f.check}] {f.message}",
                        "check_name": f"transflow-{f.check}",
                        "fingerprint": base if n == 0 else gitlab_fingerprint(f, n),
                        "severity": GITLAB_SEVERITIES.get(f.severity, "minor"),
                        "location": {"path": f.file, "lines": {"begin": max(f.line, 1)}}}
            # (A string's line breaks are escaped: every one here is the layout's.)
            yield ("" if first else ",") + pad + dumps(item, ensure_ascii=False,
                                                       indent=2).replace("\n", pad)
            first = False
        close = "]" if first else ("\n  ]" if fmt == "json" else "\n]")
        if fmt == "gitlab":
            yield close + "\n"
            return
        yield (f'{close},\n  "summary": {{\n    "errors": {tally.errors},\n'
               f'    "warnings": {tally.warnings}\n  }}\n}}\n')
        return
    if fmt not in ("text", "github"):
        raise ValueError(f"unknown findings format {fmt!r}")
    batch: list[str] = []
    for f in findings:
        tally.add(f)
        if fmt == "github":
            title = f"transflow {f.check}" + (f" ({f.term})" if f.term else "")
            batch.append(
                f"::{GITHUB_LEVELS.get(f.severity, 'warning')} file={_github_escape(f.file, True)},"
                f"line={f.line},title={_github_escape(title, True)}::{_github_escape(f.message)}\n"
            )
        else:
            where = _styled(f"{f.file}:{f.line}:", "where", color)
            severity = _styled(f"{f.severity}:", f.severity if f.severity in _FINDING_STYLE
                               else "warning", color)
            check = _styled(f"[{f.check}]", "check", color)
            batch.append(f"{where} {severity} {check} {f.message}\n")
        if len(batch) >= 1024:
            yield "".join(batch)
            batch = []
    if summary:
        batch.append(tally.summary() + "\n")
    if batch:
        yield "".join(batch)


def findings_exit_code(findings: list[Finding]) -> int:
    """1 when any finding has error severity, else 0."""
    return 1 if any(f.severity == "error" for f in findings) else 0


def _no_glossary() -> str:
    return "No glossary in this project (create glossary.toml; see `transflow init`)."


def render_glossary_list(glossary: Glossary | None, langs: list[str]) -> str:
    """One line per term: id, source form(s), renderings per language."""
    if glossary is None:
        return _no_glossary()
    if not glossary.terms:
        return "The glossary has no terms."
    lines = []
    width = max(len(t.id) for t in glossary.terms)
    for term in glossary.terms:
        parts = [" / ".join(term.source)]
        for lang in langs:
            approved = term.approved(lang)
            shown = " / ".join(approved) if approved else "—"
            if not term.translate:
                shown = "(kept)"
            parts.append(f"{lang}: {shown}")
        lines.append(f"{term.id.ljust(width)}  " + "  |  ".join(parts))
    for rule in glossary.rules:
        phrases = [" / ".join(rule.phrases[lang]) for lang in
                   [glossary.source_language, *langs] if lang in rule.phrases]
        lines.append(f"rule {rule.id}: " + "  |  ".join(phrases))
    summary = _plural(len(glossary.terms), 'term')
    if glossary.rules:
        summary += f", {_plural(len(glossary.rules), 'house-style rule')}"
    lines.append(f"{summary}.")
    return "\n".join(lines)


def render_glossary_term(glossary: Glossary | None, term_id: str, langs: list[str]) -> str:
    """A term in full: source forms, flags, note, and per language the renderings, the forms
    the matcher accepts (word by word), listed extra forms and forbidden renderings."""
    from transflow.errors import GlossaryError
    from transflow.morphology import load_morphology

    if glossary is None:
        raise GlossaryError(_no_glossary())
    rule = glossary.rule(term_id)
    if rule is not None:
        out = [f"{rule.id} (house-style rule)", f"  message: {rule.message}"]
        for lang in [glossary.source_language, *langs]:
            morph = load_morphology(lang)
            source = "no rules: exact matching" if not morph.inflects else morph.source
            out.append(f"  {lang} ({source}):")
            if lang not in rule.phrases:
                out.append("    no phrases (not checked in this language)")
            for phrase, phrase_words in glossary.rule_forms(rule, lang):
                out.append(f"    phrase: {phrase}")
                out += [f"      {word}: {forms}" for word, forms in phrase_words]
        return "\n".join(out)
    term: Term = glossary.term(term_id)
    lines = [f"{term.id}", f"  source: {' / '.join(term.source)}"]
    flags = []
    if not term.translate:
        flags.append("never translated (must appear unchanged)")
    if term.case_sensitive:
        flags.append("case-sensitive")
    if flags:
        lines.append(f"  {'; '.join(flags)}")
    if term.note:
        lines.append(f"  note: {term.note}")
    for lang in langs:
        morph = load_morphology(lang)
        rules = "no rules: exact matching" if not morph.inflects else morph.source
        lines.append(f"  {lang} ({rules}):")
        approved = term.approved(lang)
        if not approved:
            lines.append("    no rendering (not checked in this language)")
        for rendering, words in glossary.word_forms(term, lang):
            lines.append(f"    rendering: {rendering}")
            for word, rules, forms in words:
                lines.append(f"      {word} ({rules}): {forms}")
        for derived, words in glossary.word_forms(term, lang, derived=True):
            lines.append(f"    derived: {derived} (accepted in place of a rendering)")
            for word, rules, forms in words:
                lines.append(f"      {word} ({rules}): {forms}")
        for form in term.forms.get(lang, ()):
            lines.append(f"    listed form: {form} (+ clitics)")
        for bad in term.forbidden.get(lang, ()):
            lines.append(f"    forbidden: {bad} (in any form)")
    return "\n".join(lines)
