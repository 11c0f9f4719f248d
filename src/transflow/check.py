"""Check functions over translated catalogue entries → `Finding`s (SPEC §5).

Each check is a function of one entry's texts that returns messages; `check_catalog` runs the
enabled ones over every translated, non-fuzzy entry of a catalogue, and `check_project` over
the selected languages and articles. Findings are values: `report.py` renders them and decides
the exit code.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transflow.errors import CatalogError, InputError
from transflow.files import read_bytes

if TYPE_CHECKING:
    from decimal import Decimal

    import polib

    from transflow.glossary import Glossary
    from transflow.project import Project
    from transflow.recordfile import RecordFile

# The checking engine (glossary, morphology, the PO parser, inline markup) is imported where it
# is used: a warm `check` answers from the findings cache and never needs it.

# The checks in the order their findings are listed for one entry.
CHECK_NAMES = ("glossary", "style", "markup", "numbers", "untranslated-copy", "whitespace",
               "plurals")
SEVERITY_RANK = {"error": 0, "warning": 1}

# --- policy -----------------------------------------------------------------------------------

# untranslated-copy: a msgstr equal to its msgid is suspicious only when the msgid is real
# prose; names, acronyms and short labels are legitimately the same in every language.
COPY_MIN_WORDS = 3  # words with letters
COPY_MIN_LETTERS = 15  # letters in all
# numbers: digit groups, with the group and decimal separators of English, Russian, Georgian
# (1,000 / 1 000 / 1.5 / 1,5); a space only joins groups of exactly three digits.
_NUMBER_RE = re.compile(r"\d+(?:(?:[.,]|[ \u00a0\u202f\u2009](?=\d{3}(?!\d)))\d+)*")
# Markup inside which digits are not the text's numbers: tags (a1, h2, href="/2024/…"), entities,
# and printf/brace placeholders (%1$s, {0}).
_NOT_TEXT_RE = re.compile(r"</?[A-Za-z][^<>]*>|&#?\w+;|%\d+\$|\{\d*\}")
_DIGIT_RE = re.compile(r"\d")
# printf, python and brace placeholders: not words of the text (`%(class_name)s`, `{name}`).
_PLACEHOLDER_RE = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(?:\d+\$)?\d*(?:\.\d+)?[hlLqjzt]*[a-zA-Z%]"
                             r"|\{[^{}\s]*\}")
_DIGITS_RE = re.compile(r"\d+")
_WORD_WITH_LETTER_RE = re.compile(r"\w*[^\W\d_]\w*")
# printf-style directives as `msgfmt -c` reads them for c-format / python-format entries.
_C_FORMAT_RE = re.compile(
    r"%(?:(?P<pos>\d+)\$)?[-+ #0'I]*(?P<width>\*(?:\d+\$)?|\d+)?"
    r"(?:\.(?P<prec>\*(?:\d+\$)?|\d+))?(?P<size>hh|h|ll|l|L|q|j|z|Z|t)?"
    r"(?P<conv>[diouxXeEfFgGaAcCsSpnm%])"
)
_PY_FORMAT_RE = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
    r"(?P<conv>[diouxXeEfFgGcrsa%])"
)
_BRACE_FORMAT_RE = re.compile(r"(?<!\{)\{(?P<field>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")
# The conversions msgfmt treats as one argument type.
_C_TYPES = {**dict.fromkeys("di", "int"), **dict.fromkeys("ouxX", "unsigned int"),
            **dict.fromkeys("eEfFgGaA", "double"), "c": "char", "C": "wide char",
            "s": "string", "S": "wide string", "p": "pointer", "n": "count"}
_PY_TYPES = {**dict.fromkeys("diouxX", "integer"), **dict.fromkeys("eEfFgG", "number"),
             "c": "character", **dict.fromkeys("rsa", "string")}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one entry of one catalogue (the JSON fields of SPEC §5)."""

    check: str
    severity: str
    lang: str
    article: str
    file: str
    line: int
    msgctxt: str | None
    msgid: str
    msgstr: str
    term: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        """The SPEC §5 JSON object of this finding."""
        return {
            "check": self.check,
            "severity": self.severity,
            "lang": self.lang,
            "article": self.article,
            "file": self.file,
            "line": self.line,
            "msgctxt": self.msgctxt,
            "msgid": self.msgid,
            "msgstr": self.msgstr,
            "term": self.term,
            "message": self.message,
        }


# --- single checks (pure functions of an entry's texts) ---------------------------------------


def markup_problems(msgid: str, msgstr: str) -> list[str]:
    """Inline tags of the translation that differ from the source's (via `inline.tag_problems`)."""
    if "<" not in msgid and "<" not in msgstr:
        return []
    from transflow.inline import tag_problems

    return tag_problems(msgid, msgstr)


@functools.lru_cache(maxsize=4096)
def _number_values(token: str) -> frozenset[Decimal]:
    """The values a written number can mean: 1,000 → {1000, 1.000}; 1 000 → {1000}; 1,5 → {1.5}."""
    from decimal import Decimal, InvalidOperation  # (here: a warm check counts no number)

    token = re.sub(r"[\u00a0\u202f\u2009 ]", "", token)
    marks = [ch for ch in token if ch in ".,"]
    if not marks:
        candidates = [token]
    elif len(set(marks)) == 2:
        decimal_mark = token[max(token.rfind("."), token.rfind(","))]
        group = "," if decimal_mark == "." else "."
        candidates = [token.replace(group, "").replace(decimal_mark, ".")]
    elif len(marks) > 1:
        candidates = [token.replace(marks[0], "")]  # 1,000,000 or 1.000.000: groups
    else:
        mark = marks[0]
        whole, frac = token.split(mark)
        candidates = [f"{whole}.{frac}"]
        if len(frac) == 3:
            candidates.append(whole + frac)  # 1,000 (English) or 1.000 (German-style groups)
    values = set()
    for c in candidates:
        try:
            values.add(Decimal(c).normalize())
        except InvalidOperation:
            continue
    return frozenset(values)


def numbers_of(text: str) -> list[tuple[str, frozenset[Decimal]]]:
    """The numbers of a text outside markup, each with the values it can mean."""
    text = _NOT_TEXT_RE.sub(" ", text)
    return [(m.group(), _number_values(m.group())) for m in _NUMBER_RE.finditer(text)]


def number_problems(msgid: str, msgstr: str) -> list[str]:
    """Numbers of the source that the translation does not contain (in any usual notation)."""
    if not _DIGIT_RE.search(msgid):
        return []
    # The common case first: every digit run of the source is in the translation as written.
    if set(_DIGITS_RE.findall(_NOT_TEXT_RE.sub(" ", msgid))) <= set(
            _DIGITS_RE.findall(_NOT_TEXT_RE.sub(" ", msgstr))):
        return []
    source = numbers_of(msgid)
    if not source:
        return []
    target_values: set[Decimal] = set()
    for _, values in numbers_of(msgstr):
        target_values |= values
    missing = []
    for written, values in source:
        if not values & target_values and written not in missing:
            missing.append(written)
    return [f"number {n} of the source is missing from the translation" for n in missing]


def copy_problems(msgid: str, msgstr: str) -> list[str]:
    """A translation identical to a long source text: probably not translated."""
    if msgstr != msgid:
        return []
    from transflow.glossary import plain_text

    text = _PLACEHOLDER_RE.sub(" ", plain_text(msgid))
    words = _WORD_WITH_LETTER_RE.findall(text)
    letters = sum(ch.isalpha() for w in words for ch in w)
    if len(words) >= COPY_MIN_WORDS and letters >= COPY_MIN_LETTERS:
        return ["the translation is a copy of the source text"]
    return []


def whitespace_problems(msgid: str, msgstr: str) -> list[str]:
    """Leading/trailing whitespace that differs from the source, and doubled spaces."""
    if (msgid[:1] == msgstr[:1] or not (msgid[:1].isspace() or msgstr[:1].isspace())) and (
            msgid[-1:] == msgstr[-1:] or not (msgid[-1:].isspace() or msgstr[-1:].isspace())) \
            and "  " not in msgstr:
        return []  # the common case
    out = []
    if msgid[:1].isspace() != msgstr[:1].isspace() or (
        msgid[:1] == "\n") != (msgstr[:1] == "\n"):
        out.append("leading whitespace differs from the source")
    if msgid[-1:].isspace() != msgstr[-1:].isspace() or (
        msgid[-1:] == "\n") != (msgstr[-1:] == "\n"):
        out.append("trailing whitespace differs from the source")
    if "  " in msgstr.strip() and "  " not in msgid.strip():
        out.append("double space in the translation")
    return out


def _c_directives(text: str) -> tuple[dict[int, str], list[str]]:
    """Argument number → type of every printf directive (None: malformed)."""
    args: dict[int, str] = {}
    seq = 0
    errors: list[str] = []
    for m in _C_FORMAT_RE.finditer(text):
        conv = m.group("conv")
        if conv in "%m":
            continue
        for part in ("width", "prec"):
            value = m.group(part)
            if value and value.startswith("*"):
                seq += 1
                args.setdefault(seq, "int")
        if m.group("pos"):
            index = int(m.group("pos"))
        else:
            seq += 1
            index = seq
        kind = f"{m.group('size') or ''} {_C_TYPES.get(conv, conv)}".strip()
        if args.get(index, kind) != kind:
            errors.append(f"argument {index} is used with two types")
        args[index] = kind
    return args, errors


def _py_directives(text: str) -> tuple[dict[int | str, str], list[str]]:
    args: dict[int | str, str] = {}
    seq = 0
    for m in _PY_FORMAT_RE.finditer(text):
        conv = m.group("conv")
        if conv == "%":
            continue
        name = m.group("name")
        key: int | str
        if name is not None:
            key = name
        else:
            seq += 1
            key = seq
        args[key] = _PY_TYPES.get(conv, conv)
    return args, []


def _brace_fields(text: str) -> tuple[dict[int | str, str], list[str]]:
    fields: dict[int | str, str] = {}
    auto = 0
    for m in _BRACE_FORMAT_RE.finditer(text):
        name = m.group("field").split(".")[0].split("[")[0]
        if name == "":
            fields[auto] = "field"
            auto += 1
        else:
            fields[name] = "field"
    return fields, []


_FORMAT_PARSERS: dict[str, Callable[[str], Any]] = {
    "c-format": _c_directives,
    "python-format": _py_directives,
    "python-brace-format": _brace_fields,
}


def format_problems(flag: str, source: str, target: str, *, exact: bool,
                    form: str = "msgstr") -> list[str]:
    """Format directives of `target` that `msgfmt -c` would reject against `source`.

    With `exact` False (a plural form used for a single n), the translation may omit arguments.
    """
    parse = _FORMAT_PARSERS[flag]
    want, _ = parse(source)
    got, errors = parse(target)
    out = [f"{form}: {e}" for e in errors]
    for key, kind in got.items():
        if key not in want:
            out.append(f"{form}: format specification for argument {key} does not exist in "
                       f"the source")
        elif want[key] != kind:
            out.append(f"{form}: format specification for argument {key} is '{kind}' in the "
                       f"translation but '{want[key]}' in the source")
    if exact:
        for key in want:
            if key not in got:
                out.append(f"{form}: format specification for argument {key} of the source is "
                           f"missing")
    return out


@functools.lru_cache(maxsize=64)
def _plural_usage(plural_forms: str, nplurals: int) -> list[int]:
    """How many values of n in 0..999 select each plural form (as msgfmt checks)."""
    import gettext  # (here: a warm check reads no Plural-Forms)

    m = re.search(r"plural\s*=\s*([^;]+)", plural_forms)
    counts = [0] * nplurals
    if not m:
        return [2] * nplurals
    try:
        func = gettext.c2py(m.group(1).strip())
        for n in range(1000):
            index = int(func(n))
            if 0 <= index < nplurals:
                counts[index] += 1
    except (ValueError, SyntaxError, ZeroDivisionError, RecursionError):
        return [2] * nplurals
    return counts


def _nplurals(metadata: dict[str, str]) -> tuple[int | None, str]:
    header = metadata.get("Plural-Forms", "")
    m = re.search(r"nplurals\s*=\s*(\d+)", header)
    return (int(m.group(1)) if m else None), header


def plural_problems(entry: Any, nplurals: int | None,
                    usage: list[int]) -> list[str]:
    """Plural forms that are missing, extra or empty, and format directives msgfmt -c rejects."""
    out: list[str] = []
    flag = next((f for f in entry.flags if f in _FORMAT_PARSERS), None)
    if entry.msgid_plural:
        forms = entry.msgstr_plural
        if nplurals is not None and len(forms) != nplurals:
            out.append(f"{len(forms)} plural forms, but the header says nplurals={nplurals}")
        empty = [f"msgstr[{i}]" for i in sorted(forms) if not forms[i]]
        if empty:
            out.append(f"empty plural form{'s' if len(empty) > 1 else ''}: {', '.join(empty)}")
        if flag:
            for i in sorted(forms):
                if not forms[i]:
                    continue
                exact = not (i < len(usage) and usage[i] <= 1)
                out += format_problems(flag, entry.msgid_plural, forms[i], exact=exact,
                                       form=f"msgstr[{i}]")
    elif flag and entry.msgstr:
        out += format_problems(flag, entry.msgid, entry.msgstr, exact=True)
    return out


# --- reading (the one PO reader is `pofile`; see `read_entries`) -----------------------------


def read_entries(path: Path, display: Path | str | None = None) -> tuple[list[Any], dict[str, str]]:
    """The entries (header left out) and header fields of a catalogue, for checking and counting.

    `pofile.parse_entries` reads it: the strict reader `read_catalog` uses, without building
    polib objects. Malformed input raises `CatalogError` naming `display` (or `path`) and the
    line. Each entry has polib's field names and `msgid_line`, the line of its `msgid`.
    """
    from transflow.pofile import parse_entries

    where = path if display is None else display
    try:
        data = read_bytes(path)
    except InputError as e:
        raise CatalogError(e.message, where) from e
    parsed = parse_entries(data, where)
    return parsed.entries, parsed.metadata


# --- catalogues and projects ------------------------------------------------------------------


def is_checked(entry: Any) -> bool:
    """Translated (some msgstr non-empty), not fuzzy, not obsolete, not the header."""
    if entry.obsolete or "fuzzy" in entry.flags or not entry.msgid:
        return False
    if entry.msgid_plural:
        return any(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def _entry_texts(entry: Any) -> list[tuple[str, str, str]]:
    """(source, translation, label) pairs of an entry: one, or one per plural form."""
    if not entry.msgid_plural:
        return [(entry.msgid, entry.msgstr, "")]
    out = []
    for i in sorted(entry.msgstr_plural):
        source = entry.msgid if i == 0 else entry.msgid_plural
        out.append((source, entry.msgstr_plural[i], f"msgstr[{i}]: "))
    return out


def check_catalog(entries: Iterable[Any], metadata: dict[str, str], *, lang: str, article: str,
                  file: str, glossary: Glossary | None,
                  severities: dict[str, str]) -> list[Finding]:
    """Every finding of the enabled checks in one catalogue's entries, in file order.

    `entries` are `pofile.Entry`s or polib `POEntry`s; `metadata` the header fields.
    """
    from transflow.glossary import parse_ignore

    enabled = {name: severities.get(name, "error") for name in CHECK_NAMES
               if severities.get(name, "error") != "off"}
    if glossary is None:
        enabled.pop("glossary", None)
    if glossary is None or not glossary.has_rules(lang):
        enabled.pop("style", None)
    nplurals, plural_header = _nplurals(metadata)
    usage = _plural_usage(plural_header, nplurals) if nplurals else []
    findings: list[Finding] = []
    text_checks = [(name, func) for name, func in _TEXT_CHECKS if name in enabled]
    check_glossary = glossary is not None and "glossary" in enabled
    check_plurals = "plurals" in enabled
    check_style = glossary is not None and "style" in enabled
    for entry in entries:
        if entry.obsolete or not entry.msgid or "fuzzy" in entry.flags:
            continue
        plural = bool(entry.msgid_plural)
        if not (any(entry.msgstr_plural.values()) if plural else entry.msgstr):
            continue
        tcomment = entry.tcomment
        ignore = parse_ignore(tcomment) if tcomment and "transflow" in tcomment else _NO_IGNORE
        comment = entry.comment  # a waiver extract copied from the HTML (`#. transflow: ignore=`)
        if comment and "transflow: ignore" in comment:
            ignore = ignore | parse_ignore(comment)
        found: list[tuple[str, str, str | None]] = []  # (check, message, term)
        texts = _entry_texts(entry) if plural else [(entry.msgid, entry.msgstr, "")]
        if check_glossary and "glossary" not in ignore and glossary is not None:
            if plural:
                source = entry.msgid + "\n" + entry.msgid_plural
                target = "\n".join(t for _, t, _ in texts)
            else:
                source, target = entry.msgid, entry.msgstr
            for problem in glossary.check_entry(source, target, lang, ignore):
                found.append(("glossary", problem.message, problem.term))
        if check_style and "style" not in ignore and glossary is not None:
            for _, target, label in texts:
                if target:
                    found += [("style", label + p.message, None)
                              for p in glossary.style_problems(target, lang, ignore)]
        for name, func in text_checks:
            if name in ignore:
                continue
            for source, target, label in texts:
                if target:
                    found += [(name, label + message, None) for message in func(source, target)]
        if check_plurals and "plurals" not in ignore and (plural or entry.flags):
            found += [("plurals", m, None) for m in plural_problems(entry, nplurals, usage)]
        if found:
            shown = entry.msgstr_plural.get(0, "") if plural else entry.msgstr
            line = getattr(entry, "msgid_line", 0) or entry.linenum or 0
            findings += [Finding(check, enabled[check], lang, article, file, line,
                                 entry.msgctxt, entry.msgid, shown, term, message)
                         for check, message, term in found]
    return findings


_NO_IGNORE: frozenset[str] = frozenset()
_TEXT_CHECKS: tuple[tuple[str, Callable[[str, str], list[str]]], ...] = (
    ("markup", markup_problems),
    ("numbers", number_problems),
    ("untranslated-copy", copy_problems),
    ("whitespace", whitespace_problems),
)

IGNORE_ATTR = "data-transflow-ignore"  # HTML waiver: rule/term ids, space- or comma-separated


def _unit_ignore(element: Any) -> frozenset[str]:
    """The ids waived on an element or any ancestor by `data-transflow-ignore`."""
    found: set[str] = set()
    node = element
    while node is not None:
        value = node.get(IGNORE_ATTR) if hasattr(node, "get") else None
        if value:
            found.update(x for x in re.split(r"[,\s]+", value) if x)
        node = node.getparent()
    return frozenset(found)


def check_source_style(project: Project, glossary: Glossary | None,
                       slug: str) -> list[Finding]:
    """House-style findings in the English source of one article (`source/<slug>.html:LINE`).

    The units are the ones `extract` makes (`segment.walk_units`, split into sentences when the
    project segments by sentence); a unit is waived for the rule ids in `data-transflow-ignore`
    on its element or an ancestor (and in `Segment.ignore`, where segmentation provides it).
    """
    severity = project.checks.get("style", "error")
    lang = project.source_language
    if glossary is None or severity == "off" or not glossary.has_rules(lang):
        return []
    from transflow.segment import parse_html, split_unit, walk_units

    path = project.source_path(slug)
    if not path.is_file():
        return []
    data = read_bytes(path)
    # Most articles use none of the banned phrases: a look at the raw text spares the parse.
    if not glossary.style_problems(data.decode("utf-8", "replace"), lang):
        return []
    shown = project.relative(path)
    try:
        units = walk_units(parse_html(data, path))
    except InputError as e:
        raise InputError(e.message, shown, e.line) from e
    sentences = project.segmentation == "sentence"
    findings = []
    for unit in units:
        parts = split_unit(unit.msgid, True) if sentences and unit.attr is None else [unit.msgid]
        waived: frozenset[str] | None = None  # read only for a unit with a problem
        for text in parts:
            problems = glossary.style_problems(text, lang)
            if not problems:
                continue
            if waived is None:
                waived = _unit_ignore(unit.element) | getattr(unit.segment(), "ignore",
                                                              frozenset())
            if "style" in waived:
                break
            findings += [Finding("style", severity, lang, slug, shown, unit.line,
                                 unit.context or None, text, "", None, problem.message)
                         for problem in problems if problem.rule not in waived]
    return findings



def check_project(project: Project, langs: list[str], articles: list[str], *,
                  notes: list[str] | None = None,
                  inputs: list[str] | None = None) -> list[Finding]:  # fmt: skip
    """Check every translated, non-fuzzy entry of `locales/<lang>/<article>.po`: the findings
    in report order (`sort_findings`). See `iter_findings`."""
    return list(iter_findings(project, langs, articles, notes=notes, inputs=inputs))


def iter_findings(project: Project, langs: list[str], articles: list[str], *,
                  notes: list[str] | None = None,
                  inputs: list[str] | None = None) -> Iterator[Finding]:  # fmt: skip
    """`check_project`, the findings coming one file at a time (in report order), so that a
    newsroom's hundreds of thousands are never held at once.

    Everything that can fail (a catalogue that does not parse) fails before this returns:
    the catalogues the cache cannot answer for are checked first, their findings written to
    the cache as they come. The iterator then reads them back file by file, in order.

    Findings are cached per catalogue in `build/.cache/findings.cache` (a
    `recordfile.RecordFile`): a catalogue whose bytes, glossary, project settings and
    transflow code are unchanged is not read again, so a warm check of a newsroom is a stat
    per catalogue. `notes` receives what the cache did (for `-v`, once the iterator is
    done); `inputs` the source files whose house style was checked (the findings depend on
    them too).
    """
    _require_folder(project, project.source_dir, "source_dir in transflow.toml")
    _require_folder(project, project.locales_dir, "run `transflow extract` first")
    # A few catalogues (`check ARTICLE` after an edit) are checked directly: loading and
    # rewriting the findings of a whole newsroom would cost more than checking them.
    small = len(langs) * len(articles) < CACHE_MIN_CATALOGUES
    from transflow.recordfile import RecordFile
    from transflow.stampcache import gc_paused

    locales = os.fspath(project.locales_dir)
    shown = project.relative(project.locales_dir)  # how findings name the folder
    # What the first pass found of each language's catalogues, per article (`ABSENT`,
    # `CACHED`, `QUEUED`: one byte each, not a tuple per catalogue). The second pass (`emit`)
    # looks every one up again by name: its job's findings were recorded as they came.
    scanned: dict[str, bytearray] = {}
    loaded: list[Glossary | None] = []

    def glossary() -> Glossary | None:  # loaded only when something is checked
        if not loaded:
            loaded.append(glossary_for_checks(project))
        return loaded[0]

    # A cold check (no usable cache: a fresh clone, a changed glossary) checks every catalogue:
    # its workers are forked now, before this process holds anything of the newsroom (a
    # forked worker's RSS starts with every page of its parent's: issue 11's memory rule).
    with gc_paused():  # (the cache's directory: no garbage)
        cache: RecordFile | _NoCache = _NoCache() if small else RecordFile(
            os.path.join(project.cache_dir, FINDINGS_CACHE_FILE), _findings_key(project),
            label="check cache", redo="checking again", root=str(project.root) + os.sep,
            replaces=("check.cache", "check.json"))  # (the caches of transflow 0.1 and 0.2)
    early = contextlib.ExitStack()
    pools: list[tuple[Any, int]] = []
    # Findings that could not be recorded (a NUL in them: never in a valid PO), by file.
    held: dict[str, list[Finding]] = {}
    queued = 0
    try:
        with early:
            with gc_paused():  # (the cache's blocks and their answers: many objects, no garbage)
                if not small and cache.empty and hasattr(os, "fork"):
                    workers = _worker_count(len(langs) * len(articles))
                    if workers > 1:
                        pools.append((early.enter_context(_forked_pool(glossary(), workers)),
                                      workers))
                for lang in langs:
                    scanned[lang] = _cached_catalogues(project, cache, lang, articles, locales,
                                                       shown)
                    queued += scanned[lang].count(QUEUED)
            if queued:
                workers = pools[0][1] if pools else _worker_count(queued)
                jobs = _queued_jobs(scanned, langs, articles, locales, shown,
                                    by_article=workers > 1)
                results = (_check_in_workers(project, glossary(), jobs, workers, queued,
                                             pools[0][0] if pools else None)
                           if workers > 1 else
                           ((job, _check_files(project, glossary(), [job])[0]) for job in jobs))
                for job, (digest, job_findings) in results:  # (as they come: stored)
                    if job.st is None or cache.store(job.rel, job.st, digest,
                                                     _encode_findings(job_findings)) is None:
                        held[job.rel] = job_findings
        # House style in the English source itself, whatever --lang selects; cached per
        # source file like a catalogue (the key already covers the glossary's rules).
        catalogue_hits = cache.hits
        others: list[tuple[str, str, str, Any]] = []  # (a source file's findings: rel, "", "", them)
        if project.checks.get("style", "error") != "off":
            by_file: dict[str, list[Finding]] = {}
            for f in _source_style_findings(project, articles, cache, glossary, inputs):
                by_file.setdefault(f.file, []).append(f)
            others += sorted((rel, "", "", found) for rel, found in by_file.items())
    except BaseException:
        cache.close()
        raise
    # Report order: by file (within one, by line). Every language's catalogues come in the
    # same order of article (their paths differ only in the language's folder).
    by_name = sorted(range(len(articles)), key=lambda i: articles[i] + ".po")

    def catalogues(lang: str) -> Iterator[tuple[str, str, str, Any]]:
        states, prefix = scanned[lang], f"{shown}/{lang}/"
        for i in by_name:
            if states[i] != ABSENT:
                rel = f"{prefix}{articles[i]}.po"
                yield rel, lang, articles[i], held.pop(rel, None)

    def emit() -> Iterator[Finding]:
        import heapq
        import operator

        order = {name: i for i, name in enumerate(CHECK_NAMES)}
        units = heapq.merge(*map(catalogues, langs), others, key=operator.itemgetter(0))
        try:
            for rel, lang, article, where in units:
                if where is None:  # (answered by the cache, or checked, in the first pass)
                    where = cache.recorded(rel)
                    if where is None:  # (not there after all: checked again, never made up)
                        path = f"{locales}/{lang}/{article}.po"
                        where = _check_files(project, glossary(), [
                            _Job(lang, article, rel, path, os.stat(path))])[0][1]
                if type(where) is tuple and where[0] != 2 and where[4] == 0:
                    continue  # (no findings: most catalogues; nothing to read)
                if type(where) is list:  # (findings held: a source file's, or unstorable)
                    found = where
                else:
                    payload = cache.read(where)
                    if payload is None:  # (damaged since: checked again, never made up)
                        path = f"{locales}/{lang}/{article}.po"
                        found = _check_files(project, glossary(), [
                            _Job(lang, article, rel, path, os.stat(path))])[0][1]
                    else:
                        found = _decode_findings(payload, lang, article, rel)
                if len(found) > 1:
                    found.sort(key=lambda f: (f.line, order.get(f.check, 99)))
                yield from found
            cache.save()
        finally:
            cache.close()
        if notes is not None:
            notes.extend(cache.notes)
            notes.append(f"check: {catalogue_hits} catalogues answered from the cache, "
                         f"{queued} read; {cache.hits - catalogue_hits} source files' house "
                         "style from the cache")

    return emit()


# --- the whole report, replayed ---------------------------------------------------------------

REPORT_FORMATS = ("text", "json", "github", "gitlab")
REPLAY_FORMAT = 2  # bump when what a replay depends on changes
REPLAY_CHUNK = 1 << 18  # bytes of a replayed report written at a time
WRITE_CHUNK = 1 << 18  # characters of a report gathered before a write
# A report bigger than this is not kept for replay (nor written to a temporary past it): the
# report of a settled 10,000-article newsroom is 17 MB in JSON, but a project whose every
# entry has findings (html2po's raw-HTML msgids: 271 MB of JSON at 10,000 articles) would
# keep hundreds of MB per format and way of writing, to save a second that its findings
# cache already saves mostly. Such a check answers from the findings cache instead.
MAX_KEPT_REPORT = 32 << 20
NO_SOURCE = 0xFF  # in a kept report's source codes: the article had no source file checked


def run_check(project: Project, langs: list[str], articles: list[str], *, fmt: str,
              color: bool, summary: bool, write: Callable[[str], None],
              notes: list[str] | None = None) -> int:  # fmt: skip
    """Check, and write the report (`report.stream_findings`) as it comes; the exit code.

    The report of the last check in each format is kept (`build/.cache/check-<fmt>.out`, and
    `check-<fmt>.snapshot`; `-quiet`, `-color` after the format for those ways: its checksum,
    the exit code, and a digest of the list of articles and of the stamp of every catalogue
    and source file it was made from, with everything else it depends on: the options, the
    glossary, the project file, transflow's code). When nothing changed, that report is
    written again, byte for byte, without loading a single finding; the stamps are taken a
    batch at a time (`snapshot.stamps_digest`), so a newsroom's 30,000 inputs cost no memory.
    """
    import time

    from transflow import snapshot
    from transflow.report import FindingsTally, stream_findings

    started = time.time_ns()  # (before any stat: see `snapshot.settled`)
    notes = notes if notes is not None else []
    write = _Reader(write)
    key: tuple[Any, ...] | None = None
    # One kept report for each way of writing it (`check -q` and `check` alternate in CI).
    slot = f"check-{fmt}" + ("" if summary else "-quiet") + ("-color" if color else "")
    base = os.path.join(project.cache_dir, slot)
    snap_path, out_path = base + ".snapshot", base + ".out"
    if len(langs) * len(articles) >= CACHE_MIN_CATALOGUES and fmt in REPORT_FORMATS:
        key = ("check-report", REPLAY_FORMAT, fmt, color, summary, tuple(langs),
               _findings_key(project), os.fspath(project.locales_dir),
               project.relative(project.locales_dir), os.fspath(project.source_dir))  # fmt: skip
        code = _replay(project, snap_path, out_path, key, langs, articles, write, notes)
        if code is not None:
            return code
    sources: list[str] = []
    findings = iter_findings(project, langs, articles, notes=notes, inputs=sources)
    tally = FindingsTally()
    keep = _ReportCopy(out_path) if key is not None else None
    pending: list[str] = []
    size = 0
    try:
        for piece in stream_findings(findings, fmt, color=color, summary=summary, tally=tally):
            pending.append(piece)
            size += len(piece)
            if size >= WRITE_CHUNK:
                _write_both("".join(pending), write, keep)
                pending, size = [], 0
        if pending:
            _write_both("".join(pending), write, keep)
        if keep is not None and key is not None:
            codes = _source_codes(project, articles, sources)
            found = None if codes is None else _input_stamps(project, langs, articles, codes)
            if (found is not None and snapshot.settled_ns(found[1], started)
                    and keep.finish()):
                snapshot.save(snap_path, key, (snapshot.names_digest(articles), len(articles),
                                               codes, found[0], tally.exit_code, keep.length,
                                               keep.crc))
            else:
                snapshot.remove(snap_path)
                snapshot.remove(out_path)  # (the report of an older check: no use without it)
    finally:
        if keep is not None:
            keep.discard()
    return tally.exit_code


def _source_codes(project: Project, articles: list[str], sources: list[str]) -> bytes | None:
    """The source files checked (`iter_findings`' `inputs`, in article order) as one byte per
    article: the index of its suffix in `SOURCE_SUFFIXES`, `NO_SOURCE` for none (b"" when no
    source was checked: house style moot). None when they are not such paths (no snapshot)."""
    if not sources:
        return b""
    from transflow.project import SOURCE_SUFFIXES

    prefix = os.fspath(project.source_dir) + "/"
    codes = bytearray([NO_SOURCE]) * len(articles)
    k = 0
    for i, article in enumerate(articles):
        if k == len(sources):
            break
        for n, suffix in enumerate(SOURCE_SUFFIXES):
            if sources[k] == f"{prefix}{article}{suffix}":
                codes[i] = n
                k += 1
                break
    return bytes(codes) if k == len(sources) else None


def _input_stamps(project: Project, langs: list[str], articles: list[str],
                  codes: bytes) -> tuple[bytes, int, int] | None:  # fmt: skip
    """`snapshot.stamps_digest` of a check's inputs: every selected catalogue
    (`locales/<lang>/<article>.po`), then the source files `codes` names."""
    from transflow import snapshot

    locales = os.fspath(project.locales_dir)
    groups: list[tuple[str, Iterable[str]]] = [
        (f"{locales}/{lang}", map("{}.po".format, articles)) for lang in langs]
    if codes:
        from transflow.project import SOURCE_SUFFIXES

        groups.append((os.fspath(project.source_dir), (
            f"{article}{SOURCE_SUFFIXES[code]}"
            for article, code in zip(articles, codes, strict=True) if code != NO_SOURCE)))
    return snapshot.stamps_digest(groups)


class _Reader:
    """Where the report goes: `write`, until the reader goes away (`check | head` closing the
    pipe: `BrokenPipeError`). The check then goes on without writing: every catalogue's
    findings reach the cache, the report is kept whole, and the exit code is what the
    findings say (SPEC: 0 or 1), as if the reader had read it all."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.gone = False

    def __call__(self, text: str) -> None:
        if not self.gone:
            try:
                self.write(text)
            except BrokenPipeError:
                self.gone = True


def _write_both(text: str, write: Callable[[str], None], keep: _ReportCopy | None) -> None:
    write(text)
    if keep is not None:
        keep.add(text)


class _ReportCopy:
    """The report being written, copied to a temporary beside `check-<fmt>.out` (renamed into
    place by `finish`); any failure, or a report over `MAX_KEPT_REPORT`, only means no replay
    next time."""

    def __init__(self, path: str) -> None:
        from transflow.files import stage_file
        from transflow.recordfile import remove_stale_temporaries

        self.path = path
        self.crc = self.length = 0
        self.tmp: str | None = None
        self.fh: Any = None
        if os.path.isdir(path) and not os.path.islink(path):
            return  # someone's folder: leave it alone
        remove_stale_temporaries(path)
        try:
            self.tmp = stage_file(Path(path), b"", durable=False)
            self.fh = open(self.tmp, "wb")  # noqa: SIM115 (closed by finish or discard)
        except OSError:
            self.discard()

    def add(self, text: str) -> None:
        if self.fh is None:
            return
        import zlib

        data = text.encode("utf-8", "surrogatepass")
        if self.length + len(data) > MAX_KEPT_REPORT:
            self.discard()  # (too big to keep: see MAX_KEPT_REPORT)
            return
        try:
            self.fh.write(data)
        except OSError:
            self.discard()
            return
        self.crc, self.length = zlib.crc32(data, self.crc), self.length + len(data)

    def finish(self) -> bool:
        """Put the copy in place; True when it is there."""
        if self.fh is None or self.tmp is None:
            return False
        try:
            self.fh.close()
            self.fh = None
            os.replace(self.tmp, self.path)
        except OSError:
            self.discard()
            return False
        self.tmp = None
        return True

    def discard(self) -> None:
        import contextlib

        if self.fh is not None:
            with contextlib.suppress(OSError):
                self.fh.close()
            self.fh = None
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            self.tmp = None


def _replay(project: Project, snap_path: str, out_path: str, key: tuple[Any, ...],
            langs: list[str], articles: list[str], write: Callable[[str], None],
            notes: list[str]) -> int | None:  # fmt: skip
    """Write the kept report again when every input's stamp is the one it was made from: its
    exit code; None (having written nothing) when it cannot answer."""
    import zlib

    from transflow import snapshot

    value = snapshot.load(snap_path, key, notes, "check report")
    if value is None:
        return None
    try:
        names, count, codes, saved, code, length, crc = value
        if (type(names) is not bytes or type(codes) is not bytes or type(saved) is not bytes
                or code not in (0, 1) or type(length) is not int or type(crc) is not int
                or length > MAX_KEPT_REPORT):  # (kept under a higher cap: made again)
            return None
    except (TypeError, ValueError):
        notes.append(f"check report {snap_path}: damaged; not used")
        return None
    if (count != len(articles) or (codes and len(codes) != count)
            or snapshot.names_digest(articles) != names):
        return None
    now = _input_stamps(project, langs, articles, codes)
    if now is None or now[0] != saved:
        return None
    try:
        fh = open(out_path, "rb")  # noqa: SIM115 (closed below)
    except OSError:
        return None
    with fh:
        try:
            if os.fstat(fh.fileno()).st_size != length:
                return None
            running = 0  # first the checksum of it all: nothing is written from a bad copy
            while chunk := fh.read(REPLAY_CHUNK):
                running = zlib.crc32(chunk, running)
            fh.seek(0)
        except OSError:
            return None
        if running != crc:
            notes.append(f"check report {out_path}: damaged; not used")
            return None
        # From here on the report is being written: a failure is an error, not a retry.
        rest = b""
        while chunk := fh.read(REPLAY_CHUNK):
            # Whole lines at a time (`click.echo` looks for colour codes line by line).
            cut = chunk.rfind(b"\n") + 1
            if cut:
                write((rest + chunk[:cut]).decode("utf-8", "surrogatepass"))
                rest = chunk[cut:]
            else:
                rest += chunk
        if rest:
            write(rest.decode("utf-8", "surrogatepass"))
    notes.append(f"check: the report of the last check, every one of its {now[2]} files "
                 "unchanged")
    return int(code)


ABSENT, CACHED, QUEUED = 0, 1, 2  # what the first pass found of a catalogue


def _cached_catalogues(project: Project, cache: RecordFile | _NoCache, lang: str,
                       articles: list[str], locales: str, shown: str) -> bytearray:
    """What there is of each of a language's catalogues, by article: `ABSENT` (no PO),
    `CACHED` (the cache answers) or `QUEUED` (to be checked: `_queued_jobs`).

    The common case in bulk: one `listdir` says which exist, `map(os.stat)` stats them in C,
    `RecordFile.ids` answers them all; a catalogue whose stamp changed is then looked up
    alone (its digest may be unchanged). Anything unusual (a folder in the way, a file gone
    since the listing) takes the plain loop, which reports it as it always has. Nothing is
    kept of any catalogue but its byte: the report looks it up again, and a queued one is
    statted again when its job is made (20,000 jobs held at once were 15 MB, inherited by
    every worker).
    """
    folder, shown_folder = f"{locales}/{lang}", f"{shown}/{lang}"
    try:
        listed = set(os.listdir(folder))
    except OSError:
        listed = set()
    present = [i for i, article in enumerate(articles) if f"{article}.po" in listed]
    del listed
    states = bytearray(len(articles))  # (ABSENT)
    hits = cache.hits
    if len(present) < len(articles):  # (sub-folders; a case-insensitive file system)
        here = set(present)
        _catalogues_one_by_one(project, cache, lang, articles, locales, shown, states,
                               [i for i in range(len(articles)) if i not in here])
    # A batch at a time: the paths and stats of 10,000 catalogues are never held at once, and
    # a catalogue the cache answers keeps neither (only a miss is read again).
    for start in range(0, len(present), STAT_BATCH):
        batch = present[start:start + STAT_BATCH]
        paths = [f"{folder}/{articles[i]}.po" for i in batch]
        try:
            stats = list(map(os.stat, paths))
        except OSError:
            stats = None
        if stats is None or any(stat.S_ISDIR(st.st_mode) for st in stats):
            cache.hits = hits  # (counted again one by one)
            states = bytearray(len(articles))
            _catalogues_one_by_one(project, cache, lang, articles, locales, shown, states,
                                   range(len(articles)))
            return states
        rels = [f"{shown_folder}/{articles[i]}.po" for i in batch]
        for i, rel, path, st, cached in zip(batch, rels, paths, stats, cache.ids(rels, stats),
                                            strict=True):  # fmt: skip
            if cached is None:
                cached = cache.lookup_id(rel, st, path)
            states[i] = QUEUED if cached is None else CACHED
    return states


def _catalogues_one_by_one(project: Project, cache: RecordFile | _NoCache, lang: str,
                           articles: list[str], locales: str, shown: str, states: bytearray,
                           which: Iterable[int]) -> None:  # fmt: skip
    """`_cached_catalogues` for the articles `which`, a stat at a time: a missing catalogue
    is skipped, a folder in place of one is an error."""
    for i in which:
        article = articles[i]
        path = f"{locales}/{lang}/{article}.po"
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a folder, not a PO file", project.relative(Path(path)))
        rel = f"{shown}/{lang}/{article}.po"  # (= project.relative(path), without pathlib)
        states[i] = QUEUED if cache.lookup_id(rel, st, path) is None else CACHED


def _queued_jobs(scanned: dict[str, bytearray], langs: list[str], articles: list[str],
                 locales: str, shown: str, *, by_article: bool) -> Iterator[_Job]:
    """The jobs of the catalogues `_cached_catalogues` queued, made as they are checked (each
    statted again now: still before it is read). In the order they always were: language by
    language in the order of `articles`, or `by_article` (for workers: a chunk then holds both
    languages of an article, which share their msgids) by article, then language, by name.
    """
    if by_article:
        order = sorted(range(len(articles)), key=articles.__getitem__)
        pairs: Iterator[tuple[int, str]] = ((i, lang) for i in order
                                            for lang in sorted(langs))
    else:
        pairs = ((i, lang) for lang in langs for i in range(len(articles)))
    for i, lang in pairs:
        if scanned[lang][i] == QUEUED:
            article = articles[i]
            path = f"{locales}/{lang}/{article}.po"
            try:
                st: os.stat_result | None = os.stat(path)
            except OSError:  # (gone since: reading it reports what is wrong)
                st = None
            yield _Job(lang, article, f"{shown}/{lang}/{article}.po", path, st)


@dataclass(frozen=True, slots=True)
class _Job:
    """One catalogue the cache could not answer for."""

    lang: str
    article: str
    rel: str  # as findings name it (relative to the project root)
    path: str
    # Before reading: a save after it only costs a re-check next time (None: it could not be
    # statted, so it cannot be read either: the check reports that).
    st: os.stat_result | None


# A cache fact (not a file): whether the English source can have house-style findings at all.
_SOURCE_STYLE_FACT = "\x01source style"


def _source_style_findings(project: Project, articles: list[str], cache: RecordFile | _NoCache,
                           glossary: Callable[[], Glossary | None],
                           inputs: list[str] | None = None) -> list[Finding]:  # fmt: skip
    """`check_source_style` of every article, answered from the findings cache when unchanged.

    A glossary without house-style rules for the source language (the common case) makes the
    whole pass moot: the cache remembers that (its key covers the glossary), so a warm check
    does not even stat the sources.
    """
    lang = project.source_language
    moot = cache.fact(_SOURCE_STYLE_FACT)
    if moot is None:
        rules = glossary()
        moot = ["moot" if rules is None or not rules.has_rules(lang) else "needed"]
        cache.store_fact(_SOURCE_STYLE_FACT, moot)
    if moot == ["moot"]:
        return []
    findings: list[Finding] = []
    source_dir = os.fspath(project.source_dir)
    shown = project.relative(project.source_dir)
    from transflow.project import SOURCE_SUFFIXES

    for article in articles:
        for suffix in SOURCE_SUFFIXES:  # (as `Project.source_path`, without pathlib)
            path = f"{source_dir}/{article}{suffix}"
            try:
                st = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if stat.S_ISREG(st.st_mode):
                break
        else:
            continue  # no source file: nothing to check
        rel = f"{shown}/{article}{suffix}"
        if inputs is not None:
            inputs.append(path)
        cached = cache.lookup(rel, st, path)
        if cached is not None:
            findings += _decode_findings(cached, lang, article, rel)
            continue
        from transflow.stampcache import file_digest

        try:
            digest = file_digest(path)
        except OSError:
            digest = ""
        found = check_source_style(project, glossary(), article)
        if digest:
            cache.store(rel, st, digest, _encode_findings(found))
        findings += found
    return findings


def glossary_for_checks(project: Project) -> Glossary | None:
    """The project's glossary when a check needs it (None when both `glossary` and `style` are
    off): the file holds the terms and the house-style rules."""
    if project.checks.get("glossary") == "off" and project.checks.get("style") == "off":
        return None
    from transflow.glossary import load_project_glossary

    return load_project_glossary(project)


def _require_folder(project: Project, folder: Path, hint: str) -> None:
    """A missing source or locales folder is an input error, not a clean check of nothing."""
    if not folder.exists():
        raise InputError(f"no such folder ({hint})", project.relative(folder))
    if not folder.is_dir():
        raise InputError("is a file, not a folder", project.relative(folder))


PARALLEL_MIN_FILES = 40  # below this, starting worker processes costs more than it saves


def _worker_count(jobs: int) -> int:
    from transflow.processes import worker_count

    return worker_count(jobs, PARALLEL_MIN_FILES, 8)


def _check_files(project: Project, glossary: Glossary | None,
                 jobs: list[_Job]) -> list[tuple[str, list[Finding]]]:  # fmt: skip
    """(digest, findings) of each job's catalogue, in order: the digest of the very bytes
    checked, so that the cache never pairs findings with other content."""
    from transflow.pofile import parse_entries
    from transflow.stampcache import digest

    out: list[tuple[str, list[Finding]]] = []
    for job in jobs:
        try:
            data = read_bytes(Path(job.path))
        except InputError as e:
            raise CatalogError(e.message, job.rel) from e
        parsed = parse_entries(data, job.rel)
        out.append((digest(data),
                    check_catalog(parsed.entries, parsed.metadata, lang=job.lang,
                                  article=job.article, file=job.rel, glossary=glossary,
                                  severities=project.checks)))  # fmt: skip
    return out


# The parent's glossary, inherited by forked workers (None: each worker loads its own).
_INHERITED: list[Glossary | None] = []


def _check_chunk(project: Project, jobs: list[_Job]) -> list[tuple[str, list[Finding]]]:
    """Worker-process entry point: check a share of the files with one glossary."""
    import gc

    gc.enable()  # (an early pool is forked while `gc_paused`: parsing makes cycles)
    if _INHERITED:
        glossary = _INHERITED[0]
    else:
        glossary = glossary_for_checks(project)
    return _check_files(project, glossary, jobs)


CHUNK_MAX = 64  # catalogues a worker checks at a time (their findings cross in one message)


@contextlib.contextmanager
def _forked_pool(glossary: Glossary | None, workers: int) -> Iterator[Any]:
    """`processes.fork_pool`, its workers inheriting `glossary` (not loading their own)."""
    from transflow.processes import fork_pool

    _INHERITED[:] = [glossary]
    try:
        with fork_pool(workers) as pool:
            yield pool
    finally:
        _INHERITED.clear()


def _check_in_workers(project: Project, glossary: Glossary | None, jobs: Iterator[_Job],
                      workers: int, count: int, pool: Any = None,
                      ) -> Iterator[tuple[_Job, tuple[str, list[Finding]]]]:  # fmt: skip
    """Check the `count` jobs, as they come (by article: a chunk shares msgids), in worker
    processes: each job with its (digest, findings), a chunk at a time, in order.

    Memory flat in the size of the newsroom (issue 11): the jobs are made as they are sent
    and only a few chunks are in flight, so that neither the workers nor this process hold
    more than a few hundred catalogues' jobs or findings. `pool`: workers forked already
    (`_forked_pool`, before the first pass held anything); else they are forked now (with
    `fork`; `spawn` where there is none).
    """
    import collections
    import itertools
    import multiprocessing

    size = max(1, min(CHUNK_MAX, -(-count // (workers * 4))))
    chunks = iter(lambda: list(itertools.islice(jobs, size)), [])
    send: Callable[[list[_Job]], tuple[list[_Job], Callable[[], Any]]]
    with contextlib.ExitStack() as stack:
        if pool is None and "fork" not in multiprocessing.get_all_start_methods():
            import concurrent.futures

            executor = stack.enter_context(concurrent.futures.ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("spawn")))
            send = lambda chunk: (chunk, executor.submit(  # noqa: E731
                _check_chunk, project, chunk).result)
        else:
            forked = pool if pool is not None else stack.enter_context(
                _forked_pool(glossary, workers))
            send = lambda chunk: (chunk, forked.apply_async(  # noqa: E731
                _check_chunk, (project, chunk)).get)

        pending = collections.deque(map(send, itertools.islice(chunks, workers * 2)))
        while pending:
            chunk, result = pending.popleft()
            checked = result()
            following = next(chunks, None)
            if following is not None:  # (one sent for each received: a few in flight)
                pending.append(send(following))
            yield from zip(chunk, checked, strict=True)


# --- the findings cache -----------------------------------------------------------------------

CACHE_MIN_CATALOGUES = 16  # fewer selected catalogues than this: no cache (see check_project)
STAT_BATCH = 2048  # catalogues statted (and looked up in the cache) at a time


class _NoCache:
    """`RecordFile`'s interface, remembering nothing (a check of a few catalogues)."""

    hits = 0
    notes: list[str] = []
    empty = True

    def ids(self, names: list[str], stats: list[os.stat_result]) -> list[Any]:
        return [None] * len(names)

    def lookup_id(self, name: str, st: os.stat_result, path: str) -> Any:
        return None

    def lookup(self, name: str, st: os.stat_result, path: str) -> list[str] | None:
        return None

    def recorded(self, name: str) -> Any:
        return None

    def read(self, handle: Any) -> list[str] | None:
        return None

    def store(self, name: str, st: os.stat_result, content_digest: str,
              payload: list[str]) -> Any:  # fmt: skip
        return None  # (the caller keeps the findings)

    def fact(self, name: str) -> list[str] | None:
        return None

    def store_fact(self, name: str, payload: list[str]) -> None:
        pass

    def save(self) -> None:
        pass

    def close(self) -> None:
        pass


FINDINGS_CACHE_FILE = "findings.cache"  # a `recordfile.RecordFile` under build/.cache
# A finding in the cache: these eight fields (what the path already says, language, article
# and file, is left out); None as `_NONE`, which no real text can be (see `_encode_findings`).
_FINDING_FIELDS = 8
_NONE = "\x01"


def _findings_key(project: Project) -> str:
    """What every cached finding depends on besides its catalogue's bytes.

    The glossary file's bytes, the project file's bytes (severities, languages, the glossary's
    path) and transflow's code (`cachekey.code_fingerprint`): a change in any of them makes
    the whole cache stale.
    """
    from transflow.cachekey import code_fingerprint, file_digest

    return ":".join(("check", file_digest(project.glossary_path),
                     file_digest(project.config_path), str(project.glossary_path),
                     code_fingerprint()))  # fmt: skip


def _encode_findings(findings: list[Finding]) -> list[str]:
    """The cache payload of one file's findings (`_decode_findings` reads it back).

    A text that starts with `_NONE` could not be told from None: such findings are given a
    NUL, which `RecordFile.store` refuses, so that file is simply checked every time.
    """
    out: list[str] = []
    for f in findings:
        ctxt = _NONE if f.msgctxt is None else f.msgctxt
        term = _NONE if f.term is None else f.term
        if (f.msgctxt or "").startswith(_NONE) or (f.term or "").startswith(_NONE):
            return ["\0"]
        out += [f.check, f.severity, str(f.line), ctxt, f.msgid, f.msgstr, term, f.message]
    return out


def _decode_findings(payload: list[str], lang: str, article: str, rel: str) -> list[Finding]:
    """The findings of a cache payload, for the file `rel` of `article` in `lang`."""
    fields = iter(payload)
    return [Finding(check, severity, lang, article, rel, int(line),
                    None if ctxt == _NONE else ctxt, msgid, msgstr,
                    None if term == _NONE else term, message)
            for check, severity, line, ctxt, msgid, msgstr, term, message
            in zip(*[fields] * _FINDING_FIELDS, strict=False)]  # (eight fields at a time)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Stable report order: file, line, then check order."""
    order = {name: i for i, name in enumerate(CHECK_NAMES)}
    return sorted(findings, key=lambda f: (f.file, f.line, order.get(f.check, 99)))


def check_catalog_glossary(project: Project, glossary: Glossary | None, po: polib.POFile,
                           lang: str, article: str) -> int:
    """The number of error-severity glossary findings in one catalogue (for `status`)."""
    if glossary is None or project.checks.get("glossary", "error") != "error":
        return 0
    severities = {name: "off" for name in CHECK_NAMES} | {"glossary": "error"}
    findings = check_catalog(list(po), dict(po.metadata), lang=lang, article=article, file="",
                             glossary=glossary, severities=severities)
    return len(findings)
