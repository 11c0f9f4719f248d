"""Translation completeness: per-catalogue counts → `CatalogStatus`, summed per language.

Entries are classified exactly as GNU `msgfmt --statistics` does, so the figures agree with it
on every valid PO file: the header is not counted, obsolete (`#~`) entries are counted apart,
an entry whose first msgstr is empty is untranslated (fuzzy or not), a fuzzy entry with a
msgstr is fuzzy, anything else is translated (a plural entry counts as translated once its
`msgstr[0]` is filled; the `plurals` check reports the empty forms). Fuzzy is never translated.

Percentages are by source words (`count_words`): inline tags, URLs and placeholders are not
words. Per-catalogue counts are cached in `build/.cache/status.cache` (`stampcache`), keyed by
the file's stamp and content digest (and the glossary's digest for glossary errors), so an
unchanged project answers with one stat per catalogue, without reading a single PO file. The
cache is always safe to delete.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from transflow import __version__
from transflow import errors as errors_module
from transflow.errors import TransflowError
from transflow.files import read_bytes
from transflow.project import Project

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

    from transflow.glossary import Glossary
    from transflow.snapshot import Stamp, Stamps
    from transflow.stampcache import StampCache

CACHE_FILE = "status.cache"  # a `stampcache.StampCache` under build/.cache
# Bumped whenever counting rules change, so old cached figures are never trusted.
CACHE_FORMAT = 3
# Parse in worker processes only when there are at least this many catalogues per worker:
# below it, starting the workers costs more than it saves.
PARALLEL_MIN_JOBS = 50
MAX_WORKERS = 8  # more processes than this only fight over the disk
STAT_BATCH = 2048  # catalogues statted (and looked up in the cache) at a time

# What is not a word in a source string, each with the reason.
NON_WORDS: dict[str, str] = {
    # Inline tags in the light notation (`<a1>`, `</a1>`, `<br1/>`) or raw HTML (`<a href=…>`).
    "tag": r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>",
    # URLs and e-mail addresses are copied, not translated.
    "url": r"(?:https?|ftp)://\S+|www\.\S+|mailto:\S+|[\w.+-]+@[\w-]+\.[\w.-]+",
    # printf placeholders: %s, %d, %1$s, %.2f, %(name)s, %%.
    "printf": r"%(?:\([^)]*\))?[-+ #0]*(?:\d+\$)?(?:\d+|\*)?(?:\.\d+)?[hlLqjzt]*[diouxXeEfFgGcrsa%]",
    # Brace placeholders: {0}, {name}, {count:d}, and Ruby/ICU-style %{name}.
    "brace": r"%?\{[\w.:!\[\]-]*\}",
}
# The patterns of `count_words`, compiled on its first use (a warm status counts nothing, and
# compiling them is a good part of this module's import time).
_PATTERNS: list[re.Pattern[str]] = []


def _patterns() -> list[re.Pattern[str]]:
    """Inline tags; a cheap pre-test (every URL, e-mail and placeholder pattern above contains
    one of these); the other non-words; a word: letters and digits of any script (combining
    marks included), possibly joined by an apostrophe, hyphen, dot or comma between them
    (`don't`, `well-known`, `e.g`, `1,000`)."""
    if not _PATTERNS:
        _PATTERNS[:] = [
            re.compile(NON_WORDS["tag"]),
            re.compile(r"[%{@]|://|www\.|mailto:"),
            re.compile("|".join(f"(?:{p})" for k, p in NON_WORDS.items() if k != "tag")),
            re.compile(r"[^\W_]+(?:['’\-.,][^\W_]+)*"),
        ]
    return _PATTERNS


def count_words(text: str) -> int:
    """Count the words of a source string, ignoring inline tags, URLs and placeholders.

    >>> count_words("Read on <a1>OC Media</a1>, %(count)s times: https://oc-media.org/")
    5
    >>> count_words("Тбилиси — столица Грузии")
    3
    """
    tag_re, maybe_non_word_re, non_word_re, word_re = _PATTERNS or _patterns()
    if "<" in text:
        text = tag_re.sub(" ", text)
    if "&" in text:  # raw-HTML notation: `It&rsquo;s` is one word, `&nbsp;` a space
        import html  # (here: html.entities is a big table, and a warm status counts nothing)

        text = html.unescape(text)
    if maybe_non_word_re.search(text):  # most strings have no URL nor placeholder
        text = non_word_re.sub(" ", text)
    return len(word_re.findall(text))


@dataclass(frozen=True, slots=True)
class Counts:
    """Entries and source words of one catalogue (or a sum of catalogues), by state."""

    total: int = 0
    translated: int = 0
    fuzzy: int = 0
    untranslated: int = 0
    obsolete: int = 0
    words_total: int = 0
    words_translated: int = 0
    words_fuzzy: int = 0
    words_untranslated: int = 0
    glossary_errors: int = 0

    def __add__(self, other: Counts) -> Counts:
        return sum_counts([self, other])

    @property
    def percent(self) -> float:
        """Translated words / source words × 100 (by entries when no entry has a word)."""
        if self.words_total:
            return 100.0 * self.words_translated / self.words_total
        if self.total:
            return 100.0 * self.translated / self.total
        return 0.0

    @property
    def words_left(self) -> int:
        """Words still to translate or to review (untranslated + fuzzy)."""
        return self.words_untranslated + self.words_fuzzy

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.translated == self.total

    def with_glossary_errors(self, errors: int) -> Counts:
        """The same counts with `glossary_errors` replaced."""
        return Counts(self.total, self.translated, self.fuzzy, self.untranslated, self.obsolete,
                      self.words_total, self.words_translated, self.words_fuzzy,
                      self.words_untranslated, errors)


@dataclass(frozen=True, slots=True)
class CatalogStatus:
    """The counts of one article in one language."""

    article: str
    lang: str
    file: str  # as the user sees it, relative to the project root
    exists: bool  # False: no PO yet (counted from the POT when there is one)
    counts: Counts


@dataclass(frozen=True, slots=True)
class LanguageStatus:
    """The counts of one language, summed over the selected articles."""

    lang: str
    counts: Counts
    catalogs: int


@dataclass(frozen=True, slots=True)
class OrphanedCatalog:
    """A language's catalogue whose article no longer exists in `source/` (kept, not counted)."""

    article: str
    lang: str
    file: str  # as the user sees it, relative to the project root


@dataclass(frozen=True, slots=True)
class ProjectStatus:
    """The status of a project: per language and per catalogue."""

    source_language: str
    languages: tuple[LanguageStatus, ...]
    catalogs: Sequence[CatalogStatus]  # by article, then in the order of the languages
    glossary: bool = False  # True when glossary errors were counted
    stats: dict[str, int] = field(default_factory=dict, compare=False)  # cache hits, parses
    orphaned: tuple[OrphanedCatalog, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)  # what the cache did (for -v)
    # Language -> (English name, own name), as `locales` gives them (remembered by the cache:
    # Babel's locale data takes longer to load than a warm status of a newsroom).
    names: dict[str, tuple[str, str]] = field(default_factory=dict, compare=False)

    def below(self, pct: float) -> bool:
        """True when any selected language is under `pct` percent translated (by words)."""
        return any(lang.counts.percent < pct for lang in self.languages)


class LazyCatalogs(Sequence[CatalogStatus]):
    """`ProjectStatus.catalogs`, made on first use: the status table of a newsroom shows only
    the per-language sums, and 20,000 rows cost more than the rest of a warm status."""

    __slots__ = ("_make", "_rows")

    def __init__(self, make: Callable[[], tuple[CatalogStatus, ...]]) -> None:
        self._make: Callable[[], tuple[CatalogStatus, ...]] | None = make
        self._rows: tuple[CatalogStatus, ...] = ()

    def _all(self) -> tuple[CatalogStatus, ...]:
        if self._make is not None:
            self._rows, self._make = self._make(), None
        return self._rows

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __iter__(self) -> Iterator[CatalogStatus]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._all() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._all())


def sum_counts(items: Iterable[Counts]) -> Counts:
    """The field-wise sum of many `Counts` (fast: thousands of catalogues per language)."""
    # Column sums in C (zip, sum): 20,000 catalogues at 10,000 articles.
    columns = list(zip(*map(_as_tuple, items), strict=True))
    if not columns:
        return Counts()
    return Counts(*map(sum, columns))


def _as_tuple(c: Counts) -> tuple[int, ...]:
    return (c.total, c.translated, c.fuzzy, c.untranslated, c.obsolete, c.words_total,
            c.words_translated, c.words_fuzzy, c.words_untranslated, c.glossary_errors)


_ALL_FIELDS = [f.name for f in fields(Counts)]


def classify(entry: Any) -> str:
    """`translated`, `fuzzy` or `untranslated`, with msgfmt's rules (see the module docstring)."""
    first = entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr
    if not first:
        return "untranslated"
    if "fuzzy" in entry.flags:
        return "fuzzy"
    return "translated"


# msgid -> word count. Every language's catalogue of an article has the same msgids, and menus,
# footers and bylines repeat on every page: most strings are counted once per process. Two
# generations of WORD_MEMO_SIZE msgids (a msgid seen again moves into the current one), so what
# recurs stays and the memo does not grow with the newsroom: it held every msgid of a cold
# status's worker, 118 MB per worker at 10,000 articles (32 MB at 200). A worker counts a
# chunk of articles, both languages of each together: 1,024 keep them and what recurs (two
# generations of 8,192 paragraphs were still 8 MB a worker at 10,000 articles).
_WORDS: dict[str, int] = {}
_WORDS_BEFORE: dict[str, int] = {}
WORD_MEMO_SIZE = 1_024


def count_catalog(entries: Iterable[Any], *, as_template: bool = False) -> Counts:
    """Count the entries and source words of a catalogue (a POT: everything untranslated).

    `entries` are polib `POEntry`s (a `POFile`) or the `pofile.Entry`s of `check.read_entries`.
    """
    global _WORDS, _WORDS_BEFORE
    memo = _WORDS
    tally = {"translated": [0, 0], "fuzzy": [0, 0], "untranslated": [0, 0]}
    obsolete = 0
    for entry in entries:
        if entry.obsolete:
            obsolete += 1
            continue
        if not entry.msgid and not entry.msgctxt:
            continue  # a stray header-like entry: msgfmt does not count the header
        state = "untranslated" if as_template else classify(entry)
        slot = tally[state]
        slot[0] += 1
        words = memo.get(entry.msgid)
        if words is None:
            words = _WORDS_BEFORE.get(entry.msgid)
            if words is None:
                words = count_words(entry.msgid)
            if len(memo) >= WORD_MEMO_SIZE:
                _WORDS_BEFORE, _WORDS = memo, {}
                memo = _WORDS
            memo[entry.msgid] = words
        slot[1] += words
    return Counts(
        total=sum(n for n, _ in tally.values()),
        translated=tally["translated"][0],
        fuzzy=tally["fuzzy"][0],
        untranslated=tally["untranslated"][0],
        obsolete=obsolete,
        words_total=sum(w for _, w in tally.values()),
        words_translated=tally["translated"][1],
        words_fuzzy=tally["fuzzy"][1],
        words_untranslated=tally["untranslated"][1],
    )


# --- glossary errors -------------------------------------------------------------------------

def _glossary_key(project: Project) -> str | None:
    """The cache key of glossary errors, or None when there are no glossary errors to count.

    The key changes with the glossary file and the transflow version (its matcher and
    morphology rules); None when the glossary check is not an error or there is no glossary.
    """
    if project.checks.get("glossary", "error") != "error":
        return None
    path = project.glossary_path
    if path is None or not path.is_file():
        if project.glossary_required:
            from transflow.glossary import load_project_glossary

            load_project_glossary(project)  # the glossary's own error for a missing file
        return None
    from transflow.stampcache import digest

    return f"{digest(read_bytes(path))}:{__version__}"


# One loaded glossary per process (and per glossary content), shared by every catalogue.
_GLOSSARIES: dict[tuple[Path, str], Glossary | None] = {}


def _glossary_for(project: Project, key: str) -> Glossary | None:
    cache_key = (project.root, key)
    if cache_key not in _GLOSSARIES:
        from transflow.glossary import load_project_glossary

        _GLOSSARIES.clear()
        _GLOSSARIES[cache_key] = load_project_glossary(project)
    return _GLOSSARIES[cache_key]


# --- the cache -------------------------------------------------------------------------------


def _cache_key() -> str:
    """What every cached count depends on: the counting rules and transflow's version (and
    Babel's, for the language names the cache remembers)."""
    import babel

    return f"status:{CACHE_FORMAT}:{__version__}:babel={babel.__version__}"


def _counts_payload(counts: Counts, glossary: tuple[str, int] | None) -> list[str]:
    """A cache record's payload: the nine counts in one field, then the glossary errors with
    the key of the glossary they were counted with ("" when they were not counted)."""
    return [" ".join(map(str, _as_tuple(counts)[:-1])),
            "" if glossary is None else f"{glossary[0]} {glossary[1]}"]


_COUNT_FIELDS = _ALL_FIELDS[:-1]  # glossary errors are kept apart, with the glossary's key


# --- the project -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    """One catalogue to parse and count (the cache could not answer for it)."""

    key: str  # the cache key: the path relative to the project root
    path: str
    st: os.stat_result  # before reading: a save after it only costs a count next time
    as_template: bool  # no PO yet: count its POT, everything untranslated
    lang: str
    article: str
    glossary_key: str | None  # count glossary errors too (with this glossary)
    slot: int  # its place in the language's list of counts


def find_orphans(project: Project, langs: list[str], articles: list[str], *,
                 listings: dict[str, list[str]] | None = None) -> list[OrphanedCatalog]:  # fmt: skip
    """The PO files of `langs` whose article is not among `articles` (every article of the
    project): translations of a deleted or renamed article. Nothing deletes them.

    Only `locales/<lang>/` of the project's languages is looked at, so `locales/templates/`
    and `locales/memory/` (imported translation memory) are never taken for articles.
    `listings` may give the names in `locales/<lang>/` already listed (by `project_status`:
    those that are not the PO of one of `articles`, which is all that matters here).
    """
    known = set(articles)
    locales = project.relative(project.locales_dir)
    out = []
    for lang in langs:
        names = None if listings is None else listings.get(lang)
        for slug in _po_slugs(os.path.join(project.locales_dir, lang), "", names) - known:
            out.append(OrphanedCatalog(slug, lang, f"{locales}/{lang}/{slug}.po"))
    out.sort(key=lambda o: (o.article, langs.index(o.lang)))
    return out


def _po_slugs(folder: str, prefix: str, names: list[str] | None = None) -> set[str]:
    """The slugs of the `.po` files under `folder` (hidden names skipped, links not followed).

    `os.listdir` (unless `names` is its answer already) and set operations: 10,000 catalogues a
    language in a few ms; only names without `.po` are looked at further (sub-folders).
    """
    if names is None:
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return set()
    slugs = {prefix + name[:-3] for name in names if name.endswith(".po") and name[0] != "."}
    for name in names:
        if not name.endswith(".po") and name[0] != ".":
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.path.islink(path):
                slugs |= _po_slugs(path, f"{prefix}{name}/")
    return slugs


SNAPSHOT_FILE = "status.snapshot"  # the last whole answer (`snapshot`), beside status.cache
# A language's part of the snapshot: (stamps of its folder then of every PO, packed by
# `snapshot.pack`; the ten numbers of each PO, NUL-separated in one string (one object to
# load, split only when rows are asked for); their ten sums; the other names in the folder).
_SnapLang: TypeAlias = "tuple[bytes, str, tuple[int, ...], list[str]]"


def _load_snapshot(path: str, key: tuple[str, ...], articles: list[str],
                   notes: list[str]) -> tuple[dict[str, _SnapLang], dict[str, tuple[str, str]]]:  # fmt: skip
    """The languages and language names of the snapshot, when it was made for these inputs and
    exactly these articles (else nothing)."""
    from transflow import snapshot

    value = snapshot.load(path, key, notes, "status snapshot")
    if value is None:
        return {}, {}
    try:
        saved_articles, saved_langs, saved_names = value
        if saved_articles != "\0".join(articles):  # (no name has a NUL)
            return {}, {}
        width, n = len(_ALL_FIELDS), len(articles)
        langs: dict[str, _SnapLang] = {}
        for lang, (found, numbers, totals, listing) in saved_langs.items():
            # (Types checked in C: a snapshot of 20,000 catalogues is read on every run.)
            if (type(lang) is str and type(found) is bytes and type(numbers) is str
                    and numbers.count("\0") == n - 1 and (n or not numbers)
                    and type(totals) is tuple and len(totals) == width
                    and set(map(type, totals)) <= {int}
                    and type(listing) is list and set(map(type, listing)) <= {str}):
                langs[lang] = (found, numbers, totals, listing)
        names = {lang: (en, own) for lang, (en, own) in saved_names.items()
                 if type(en) is str and type(own) is str}
    except (TypeError, ValueError, AttributeError):  # (a value of another shape: unused)
        notes.append(f"status snapshot {path}: damaged; not used")
        return {}, {}
    return langs, names


def project_status(project: Project, langs: list[str], articles: list[str], *,
                   orphans: bool = False) -> ProjectStatus:  # fmt: skip
    """Count every selected article in every selected language (using and refreshing the cache).

    With `orphans` (`articles` is then every article of the project), catalogues left from
    deleted articles are listed too (`ProjectStatus.orphaned`).

    An unchanged project answers from `status.snapshot` (the last whole answer, with the stamp
    of every PO and of each language's folder: compared in C); a PO whose stamp changed is
    answered by `status.cache` (per file), else counted.
    """
    if not project.locales_dir.is_dir():  # not "0 entries, 0%": nothing was extracted yet
        raise errors_module.InputError("no such folder (run `transflow extract` first)",
                                       project.relative(project.locales_dir))
    import time

    from transflow import snapshot
    from transflow.stampcache import StampCache, gc_paused

    started = time.time_ns()  # (before any stat: see `snapshot.settled`)
    # Plain strings, not Path objects: thousands of catalogues, and a warm run is all stat().
    locales = project.relative(project.locales_dir)
    templates = project.relative(project.templates_dir)
    # `relative` gives an absolute path for a folder outside the project: then no prefix.
    root = "" if os.path.isabs(locales) else str(project.root) + os.sep
    glossary_key = _glossary_key(project)
    snap_path = os.path.join(project.cache_dir, SNAPSHOT_FILE)
    snap_key = (_cache_key(), glossary_key or "", root, locales, templates)
    snap_notes: list[str] = []
    # Each catalogue's ten counts as one string of numbers (straight from the cache on a warm
    # run), per language in the order of `articles`: summed in C below, made into `Counts`
    # only when the rows are asked for. None: counted by a job.
    numbers: dict[str, list[str | None]] = {}
    present: dict[str, list[bool]] = {}
    listings: dict[str, list[str]] = {}
    # The stamps the answer was made from, per language: its folder's, then each PO's (None:
    # not known, or no PO; the language then has no snapshot).
    found: dict[str, Any] = {}  # (a dict of the changed ones' for a language of `deltas`)
    # A language answered from the snapshot but for a few POs: its stamps packed, the newest
    # ctime, and the new stamps of the changed ones (by index) as `changed_stamps` saw them.
    packed_found: dict[str, tuple[bytes, int, dict[int, Stamp]]] = {}
    # ... and the slots that changed, with their numbers in the snapshot.
    deltas: dict[str, tuple[list[int], list[str]]] = {}
    sums: dict[str, tuple[int, ...]] = {}  # each language's ten sums
    # The languages answered whole by the snapshot: their saved part (no per-file work at all).
    whole: dict[str, _SnapLang] = {}
    cached = 0
    box: list[StampCache] = []

    def cache() -> StampCache:  # loaded only when the snapshot cannot answer everything
        if not box:
            box.append(StampCache(os.path.join(project.cache_dir, CACHE_FILE), _cache_key(),
                                  label="status cache", redo="counting again", root=root,
                                  replaces="status.json"))  # (transflow 0.1's JSON cache)
        return box[0]

    # The worker processes, forked before the first bulk work when neither the snapshot nor
    # the cache can answer (see `_run_jobs`): a forked worker's RSS starts with every page of
    # its parent.
    stack = contextlib.ExitStack()
    pools: list[Pool] = []
    with stack:
        with gc_paused():  # (the snapshot, the cache and their answers: many objects, no garbage)
            saved, saved_names = _load_snapshot(snap_path, snap_key, articles, snap_notes)

            def paths(lang: str) -> Iterator[str]:  # its folder, then each article's PO
                folder = f"{root}{locales}/{lang}"
                return itertools.chain((folder,), map(f"{folder}/".__add__,
                                                      map("{}.po".format, articles)))

            # Compared packed, a batch of stamps at a time: C comparisons of bytes, no 10,000
            # paths and tuples made at once, none of the saved ones loaded; the languages side
            # by side (`same_stamps_each`: a forked child stats the second).
            known = [lang for lang in langs if lang in saved]
            unchanged = dict(zip(known, snapshot.same_stamps_each(
                [(paths(lang), saved[lang][0]) for lang in known]), strict=True))
            for lang in langs:
                folder = f"{root}{locales}/{lang}"
                entry = saved.get(lang)
                if entry is not None and unchanged[lang]:
                    whole[lang] = entry
                    listings[lang] = entry[3]
                    present[lang] = [True] * len(articles)
                    sums[lang] = entry[2]
                    cached += len(articles)
                    continue
                delta = None
                if entry is not None:  # (something changed: which, below, a batch at a time)
                    delta = snapshot.changed_stamps(paths(lang), entry[0])
                if (entry is not None and delta is not None
                        and (0 not in delta[1] or _same_names(folder, articles, entry[3]))):
                    # The folder's names are the same (its stamp is, or it lists the same names:
                    # `extract` renames a new PO into place): only the POs' stamps count; the few
                    # that changed are answered by the cache, or counted. Neither the stamps nor
                    # the numbers of the others are made into objects.
                    packed, changed, newest, seen = delta
                    listings[lang] = entry[3]
                    present[lang] = [True] * len(articles)
                    found[lang] = {}  # (the stamps of the changed ones, as their jobs see them)
                    packed_found[lang] = (packed, newest, seen)
                    split = entry[1].split("\0") if articles else []
                    slots = [i - 1 for i in changed if i]  # (0: the folder)
                    deltas[lang] = (slots, [split[slot] for slot in slots])
                    numbers[lang] = cast("list[str | None]", split)
                    for slot in slots:
                        numbers[lang][slot] = None
                    cached += len(articles) - len(slots)
                    continue
                # No status.cache (a fresh clone, a deleted cache): everything is counted.
                # (With one, most answers are cached: forking for them would cost 20-50 ms.)
                if not pools and not box and _early_workers() > 1 and not os.path.exists(
                        os.path.join(project.cache_dir, CACHE_FILE)):  # fmt: skip
                    from transflow.processes import fork_pool

                    pools.append(stack.enter_context(fork_pool(_early_workers())))
                answers, exist, listing, stamped = _cached_language(cache(), root, locales,
                                                                    templates, lang, articles,
                                                                    glossary_key)
                numbers[lang], present[lang], found[lang] = answers, exist, stamped
                if listing is not None:
                    listings[lang] = listing
                cached += len(answers) - answers.count(None)
        rest = [lang for lang in langs if lang not in whole]

        def jobs() -> Iterator[_Job]:  # made as they are counted: 20,000 of them are never held
            nonlocal cached
            for i, article in enumerate(articles if rest else ()):  # by article: shared words
                for lang in rest:
                    if numbers[lang][i] is None:
                        job = _job(cache(), root, locales, templates, lang, article, i,
                                   glossary_key)
                        if isinstance(job, tuple):  # (answered after all: a re-hash, or no PO)
                            present[lang][i] = job[1]
                            found[lang][i + 1] = None if job[4] is None else snapshot.STAMP(job[4])
                            numbers[lang][i] = job[3]
                            cached += 1
                        else:
                            present[lang][i] = not job.as_template
                            found[lang][i + 1] = (None if job.as_template
                                                  else snapshot.STAMP(job.st))
                            yield job

        parsed = 0
        for job, digest, counts in _run_jobs(project, jobs(), pools[0] if pools else None):
            glossary = (job.glossary_key, counts.glossary_errors) if job.glossary_key else None
            cache().store(job.key, job.st, digest, _counts_payload(counts, glossary))
            numbers[job.lang][job.slot] = " ".join(map(str, _as_tuple(counts)))
            parsed += 1
        stats = {"cached": cached, "parsed": parsed}
    if all(lang in saved_names for lang in langs):
        names = {lang: saved_names[lang] for lang in langs}
    else:
        names = _language_names(cache(), langs)
    if box:
        box[0].save()
    per_lang: list[LanguageStatus] = []
    columns: dict[str, list[int]] = {}
    width = len(_ALL_FIELDS)

    def _column_sums(lang: str, width: int) -> list[int]:
        # The ten sums of a language counted afresh, a catalogue at a time: its 100,000
        # numbers are not made into one list unless the rows are asked for (issue 11).
        if lang in columns:
            values = columns[lang]
            return [sum(values[i::width]) for i in range(width)]
        totals = [0] * width
        for figures in (whole[lang][1].split("\0") if lang in whole
                        else cast("list[str]", numbers[lang])) if articles else ():
            totals = list(map(operator.add, totals, map(int, figures.split(" "))))
        return totals

    def values_of(lang: str) -> list[int]:
        # All of a language's numbers in one split and one map: C, not 20,000 `Counts`.
        if lang not in columns:
            joined = (whole[lang][1].replace("\0", " ") if lang in whole
                      else " ".join(cast("list[str]", numbers[lang])))  # (jobs filled all)
            columns[lang] = list(map(int, joined.split(" "))) if articles else []
        return columns[lang]

    for lang, (slots, olds) in deltas.items():  # the snapshot's sums, corrected
        corrected = list(saved[lang][2])
        try:
            for old, new in zip(olds, [numbers[lang][slot] for slot in slots], strict=True):
                for k, (a, b) in enumerate(zip(map(int, old.split(" ")),
                                               map(int, cast("str", new).split(" ")),
                                               strict=True)):  # fmt: skip
                    corrected[k] += b - a
        except ValueError:  # (numbers of another shape: summed again from all of them)
            continue
        sums[lang] = tuple(corrected)
    with gc_paused():
        for lang in langs:
            if lang in sums:
                totals = Counts(*sums[lang])
            else:
                totals = Counts(*_column_sums(lang, width))
                sums[lang] = _as_tuple(totals)
            per_lang.append(LanguageStatus(lang, totals, sum(present[lang])))
    if orphans and len(whole) < len(langs):  # (else it is the snapshot already)
        _save_snapshot(snap_path, snap_key, articles, langs, saved, whole, found, numbers,
                       sums, listings, {**saved_names, **names}, started, packed_found)

    def rows() -> tuple[CatalogStatus, ...]:
        out = []
        with gc_paused():
            for lang in langs:
                values, exist, prefix = values_of(lang), present[lang], f"{locales}/{lang}/"
                out += [CatalogStatus(article, lang, f"{prefix}{article}.po", exist[i],
                                      Counts(*values[i * width:(i + 1) * width]))
                        for i, article in enumerate(articles)]
            out.sort(key=lambda c: (c.article, langs.index(c.lang)))
        return tuple(out)

    notes = ([*box[0].notes] if box else []) + snap_notes
    return ProjectStatus(project.source_language, tuple(per_lang), LazyCatalogs(rows),
                         glossary=glossary_key is not None, stats=stats,
                         orphaned=tuple(find_orphans(project, langs, articles, listings=listings)
                                        if orphans else ()),
                         notes=tuple(notes), names=names)


def _same_names(folder: str, articles: list[str], others: list[str]) -> bool:
    """Whether `folder` lists a PO for every article (of those not in a sub-folder: the
    others' POs were statted) and, besides them, exactly `others` (the snapshot's names): then
    its contents are the ones the snapshot was made from, whatever its stamp says (statted
    before this listing: a later change is seen next time)."""
    try:
        listed = set(os.listdir(folder))
    except OSError:
        return False
    rest = listed.difference(f"{a}.po" for a in articles if "/" not in a)
    top = len(articles) - sum(1 for a in articles if "/" in a)
    return len(listed) - len(rest) == top and sorted(rest) == others


def _save_snapshot(path: str, key: tuple[str, ...], articles: list[str], langs: list[str],
                   saved: dict[str, _SnapLang], whole: dict[str, _SnapLang],
                   found: dict[str, Any], numbers: dict[str, list[str | None]],
                   sums: dict[str, tuple[int, ...]], listings: dict[str, list[str]],
                   names: dict[str, tuple[str, str]], started: int,
                   packed_found: dict[str, tuple[bytes, int, dict[int, Stamp]]],
                   ) -> None:  # fmt: skip
    """Keep this answer as the snapshot when every language's is whole (a PO for every
    article, every stamp known and settled, its folder listed); else the old one is wrong.

    `found` is a list of stamps for a language counted afresh, the stamps its jobs saw (by
    index) for one of `packed_found` (then every stamp is packed already)."""
    from transflow import snapshot

    out: dict[str, _SnapLang] = {}
    for lang in langs:
        if lang in whole:  # (unchanged)
            out[lang] = whole[lang]
            continue
        if lang in packed_found:
            packed, newest, seen = packed_found[lang]
            # Each job's stamp must be the one packed (a PO saved again between the two stats,
            # or gone: no snapshot), and all of them settled.
            if (any(seen.get(i) != stamp for i, stamp in found[lang].items())
                    or not snapshot.settled_ns(newest, started)):
                snapshot.remove(path)
                return
            out[lang] = (packed, "\0".join(cast("list[str]", numbers[lang])), sums[lang],
                         listings[lang])
            continue
        stamped: snapshot.Stamps = found[lang]
        if not stamped.complete() or lang not in listings:
            snapshot.remove(path)
            return
        if not snapshot.settled_ns(stamped.newest_ctime(), started):
            snapshot.remove(path)  # (the next run, once they have settled, makes one)
            return
        out[lang] = (stamped.pack(), "\0".join(cast("list[str]", numbers[lang])),
                     sums[lang], listings[lang])
    for lang, entry in saved.items():  # (another language's, from a run with --lang)
        out.setdefault(lang, entry)
    snapshot.save(path, key, ("\0".join(articles), out, names))


def _cached_language(cache: StampCache, root: str, locales: str, templates: str, lang: str,
                     articles: list[str], glossary_key: str | None,
                     ) -> tuple[list[str | None], list[bool], list[str] | None,
                                Stamps]:  # fmt: skip
    """The counts of one language's catalogues that the cache has under their current stamp
    (ten numbers in a string; None for the others), which articles have a PO, the names
    in the language's folder that are not the PO of an article of `articles` (None: it could
    not be listed), and the stamps of the folder then of each PO (None: not known).

    The common case in bulk: one `listdir` says which POs exist, `map(os.stat)` stats them in
    C, `StampCache.fresh` answers them all. The rest (no PO yet: its POT; a changed stamp:
    a re-hash) is for `_job`.
    """
    from transflow.snapshot import STAMP, Stamps

    folder = f"{locales}/{lang}"
    stamped = Stamps(len(articles) + 1)  # (packed: 20,000 tuples were 4 MB of a cold status)
    try:
        stamped[0] = STAMP(os.stat(root + folder))  # (before listing it: see `snapshot`)
        listing: list[str] | None = os.listdir(root + folder)
    except OSError:
        listing = None
    listed = set(listing or ())
    # (Not listed: no PO, or a sub-folder, or another case on a case-insensitive file system:
    # `_job` looks at those one by one, as it does at a catalogue whose stamp changed.)
    po_names = [f"{article}.po" for article in articles]
    exist = [name in listed for name in po_names]
    if listing is not None:  # what else is there, for `find_orphans` (usually nothing)
        listing = sorted(listed.difference(po_names))
    keys = [f"{folder}/{article}.po" for article, here in zip(articles, exist, strict=True)
            if here]  # fmt: skip
    found: list[str | None] = []
    done = 0  # (POs statted: their stamps are set from slot 1 on, when every PO is there)
    everything = sum(exist) == len(articles)
    tagged = f"{glossary_key} "  # how a record with this glossary's errors starts its tag
    cut = len(tagged)
    # A batch at a time: 10,000 `os.stat_result`s at once were 5 MB of a cold status's peak.
    for at in range(0, len(keys), STAT_BATCH):
        batch = keys[at:at + STAT_BATCH]
        try:
            stats = list(map(os.stat, [root + key for key in batch]))
        except OSError:  # (a file gone since the listing, a dangling link: `_job` will see)
            return [None] * len(articles), exist, listing, stamped
        # `_figures` inlined in comprehensions: 20,000 calls cost as much as the stats.
        answers = cache.fresh(batch, stats)
        if glossary_key is None:
            found += [None if p is None or len(p) != 2 or p[0].count(" ") != 8
                      else p[0] + " 0" for p in answers]  # fmt: skip
        else:
            found += [None if p is None or len(p) != 2 or p[0].count(" ") != 8
                      or not p[1].startswith(tagged) else f"{p[0]} {p[1][cut:]}"
                      for p in answers]  # fmt: skip
        if everything:
            stamped.set_from(1 + done, map(STAMP, stats))
        else:  # (slot by slot: the articles without a PO have none)
            slots = [i for i, here in enumerate(exist, 1) if here][done:done + len(stats)]
            for slot, st in zip(slots, stats, strict=True):
                stamped[slot] = STAMP(st)
        done += len(stats)
        del stats, answers
    if len(found) == len(articles):  # (every PO there: the common case)
        return found, exist, listing, stamped
    answered = iter(found)
    return [next(answered) if here else None for here in exist], exist, listing, stamped


def _figures(payload: list[str], glossary_key: str | None, tagged: str) -> str | None:
    """The ten numbers of a PO's cache payload, or None when they cannot answer (another
    glossary's errors, a payload of another shape)."""
    if len(payload) != 2 or payload[0].count(" ") != 8:
        return None
    figures, tag = payload
    if glossary_key is None:
        return figures + " 0"
    if tag.startswith(tagged):
        return f"{figures} {tag[len(tagged):]}"
    return None


def _job(cache: StampCache, root: str, locales: str, templates: str, lang: str, article: str,
         slot: int, glossary_key: str | None,
         ) -> _Job | tuple[str, bool, int, str, os.stat_result | None]:  # fmt: skip
    """What `_cached_language` could not answer: (lang, has a PO, slot, figures, the PO's
    stat) when the cache can after all (no PO nor POT; a PO or POT whose digest is
    unchanged), else a job."""
    key, exists = f"{locales}/{lang}/{article}.po", True
    path = root + key
    try:
        st = os.stat(path)
    except FileNotFoundError:
        key, exists = f"{templates}/{article}.pot", False
        path = root + key
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return lang, False, slot, "0 0 0 0 0 0 0 0 0 0", None
    want_glossary = glossary_key if exists else None
    payload = cache.lookup(key, st, path)
    if payload is not None:
        figures = _figures(payload, want_glossary, f"{want_glossary} ")
        if figures is not None:
            return lang, exists, slot, figures, st if exists else None
    return _Job(key, path, st, not exists, lang, article, want_glossary, slot)


def _language_names(cache: Any, langs: list[str]) -> dict[str, tuple[str, str]]:
    """Each language's English and own name, from the cache when it has them (Babel's version
    is in the cache key), else from Babel (and remembered)."""
    names = {}
    for lang in langs:
        fact = cache.fact(f"\x01name {lang}")
        if fact is None or len(fact) != 2:
            from transflow.locales import language_name, native_name

            fact = [language_name(lang), native_name(lang)]
            cache.store_fact(f"\x01name {lang}", fact)
        names[lang] = (fact[0], fact[1])
    return names


def _count_job(project: Project, job: _Job) -> tuple[str, Counts]:
    """Parse one catalogue and count it (and its glossary errors when asked), with the digest
    of the very bytes counted (so the cache never pairs counts with other content)."""
    # Imported here: a warm status parses nothing and should not pay for the check engine.
    from transflow.check import CHECK_NAMES, check_catalog
    from transflow.pofile import parse_entries
    from transflow.stampcache import digest

    try:
        data = read_bytes(Path(job.path))
    except errors_module.InputError as e:
        raise errors_module.CatalogError(e.message, job.key) from e  # named as the user sees it
    parsed = parse_entries(data, job.key)
    entries = parsed.entries
    counts = count_catalog(entries, as_template=job.as_template)
    if job.glossary_key is not None:
        glossary = _glossary_for(project, job.glossary_key)
        if glossary is not None:
            findings = check_catalog(entries, parsed.metadata, lang=job.lang,
                                     article=job.article, file=job.key, glossary=glossary,
                                     # glossary findings at error severity, nothing else
                                     severities={name: "off" for name in CHECK_NAMES}
                                     | {"glossary": "error"})
            counts = counts.with_glossary_errors(len(findings))
    return digest(data), counts


def _count_job_safely(project: Project,
                      job: _Job) -> tuple[str, Counts] | tuple[str, str, str | None, int | None]:
    """`_count_job` for a worker process: a TransflowError comes back as plain data."""
    try:
        return _count_job(project, job)
    except TransflowError as e:
        return (type(e).__name__, e.message, None if e.path is None else str(e.path), e.line)


def _count_chunk(project: Project, jobs: list[_Job],
                 ) -> list[tuple[str, Counts] | tuple[str, str, str | None, int | None]]:  # fmt: skip
    """Worker-process entry point: `_count_job_safely` of a few jobs."""
    import gc

    gc.enable()  # (an early pool is forked while `gc_paused`: parsing makes cycles)
    return [_count_job_safely(project, job) for job in jobs]


CHUNK = 32  # catalogues a worker counts at a time (their counts cross in one message)


def _early_workers() -> int:
    """The worker processes a cold status forks before it knows how many jobs there are."""
    return min(MAX_WORKERS, os.cpu_count() or 1) if hasattr(os, "fork") else 1


def _run_jobs(project: Project, jobs: Iterator[_Job],
              forked: Pool | None = None) -> Iterator[tuple[_Job, str, Counts]]:  # fmt: skip
    """Count the jobs, as they come, in worker processes when there are many (a cold status
    of a newsroom): each job with the digest and counts of its catalogue, in order.

    Memory flat in the size of the newsroom (issue 11): the jobs are made as they are sent,
    and only a few chunks are in flight, so neither this process nor a worker ever holds the
    newsroom's jobs or counts. A forked worker starts with every page of its parent in its
    RSS: `forked` is a pool forked before this process held the newsroom's stamps (by
    `project_status`, used when there are jobs enough for it); else the workers are forked as
    soon as there are jobs enough, before the rest are made.
    """
    first = list(itertools.islice(jobs, MAX_WORKERS * PARALLEL_MIN_JOBS))
    workers = min(MAX_WORKERS, os.cpu_count() or 1, len(first) // PARALLEL_MIN_JOBS)
    if workers < 2 or not hasattr(os, "fork"):
        for job in itertools.chain(first, jobs):
            yield (job, *_count_job(project, job))
        return
    import collections
    import functools

    from transflow.processes import fork_pool

    chunks = _chunks(itertools.chain(first, jobs), CHUNK)
    del first
    count = functools.partial(_count_chunk, project)
    if forked is not None:
        workers = _early_workers()  # (the early pool's size)
    with contextlib.nullcontext(forked) if forked is not None else fork_pool(workers) as pool:
        pending = collections.deque((chunk, pool.apply_async(count, (chunk,)))
                                    for chunk in itertools.islice(chunks, workers * 2))
        while pending:
            chunk, result = pending.popleft()
            counted = result.get()
            following = next(chunks, None)
            if following is not None:  # (one sent for each received: a few in flight)
                pending.append((following, pool.apply_async(count, (following,))))
            for job, outcome in zip(chunk, counted, strict=True):
                if len(outcome) == 4:
                    name, message, path, line = outcome
                    error_type = getattr(errors_module, name, TransflowError)
                    raise error_type(message, path, line)
                yield job, *cast("tuple[str, Counts]", outcome)


def _chunks(items: Iterator[_Job], size: int) -> Iterator[list[_Job]]:
    """`items` in lists of `size` (the last one shorter)."""
    while chunk := list(itertools.islice(items, size)):
        yield chunk
