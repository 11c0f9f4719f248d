"""What `transflow build` did: one result per page, and the report the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class PageResult(NamedTuple):
    """What build did with one output page.

    (A named tuple: a warm build of 10,000 articles makes 30,000 of them, at a third of a
    frozen dataclass's cost.)
    """

    lang: str
    article: str
    output: str  # path as shown to the user
    status: str  # "built", "up to date", "skipped"
    percent: float = 100.0
    units: int = 0
    fallbacks: int = 0
    warnings: tuple[str, ...] = ()
    is_source: bool = False


@dataclass(slots=True)
class BuildReport:
    """The outcome of `transflow build`.

    Pages are added with `add`, which counts them. With `keep_pages` (the default) every
    page is kept in `pages`; without it (the command line without `-v`, which shows no
    per-page lines) only the pages that `warning_lines` or the build's bookkeeping need: not
    up to date, or with warnings. A warm build of 10,000 articles then keeps none of its
    30,000 results.
    """

    pages: list[PageResult] = field(default_factory=list)
    min_complete: float = 0.0
    notes: list[str] = field(default_factory=list)  # shown with -v: caches set aside, leftovers
    keep_pages: bool = True
    counts: dict[str, int] = field(default_factory=dict)  # pages added, by status
    fallbacks: int = 0  # units of the pages added that fell back to the source

    def add(self, pages: list[PageResult]) -> None:
        """Count these pages (one article's) and keep them (see `keep_pages`)."""
        counts = self.counts
        for p in pages:
            counts[p.status] = counts.get(p.status, 0) + 1
            self.fallbacks += p.fallbacks
            if self.keep_pages or p.status != "up to date" or p.warnings:
                self.pages.append(p)

    @property
    def incomplete(self) -> bool:
        """True when a unit fell back to the source or a page was skipped (`--strict`)."""
        return self.fallbacks > 0 or bool(self.counts.get("skipped"))

    def count(self, status: str) -> int:
        """How many pages have this status."""
        return self.counts.get(status, 0)

    def summary(self) -> str:
        """One line: pages built, up to date, skipped, units that fell back."""
        built, fresh, skipped = self.count("built"), self.count("up to date"), self.count("skipped")
        fallbacks = self.fallbacks
        text = f"Built {built} page{'s' if built != 1 else ''}, {fresh} up to date"
        if skipped:
            text += f", {skipped} skipped (under {self.min_complete:g}% translated)"
        if fallbacks:
            text += f"; {fallbacks} unit{'s' if fallbacks != 1 else ''} fell back to the source text"
        return text + "."

    def detail_lines(self) -> list[str]:
        """One line per page (every page only with `keep_pages`)."""
        lines = []
        for p in self.pages:
            if p.status == "skipped":
                continue  # reported by warning_lines
            if p.is_source:
                lines.append(f"{p.output}: {p.status} (source)")
                continue
            extra = f", {p.fallbacks} fell back" if p.fallbacks else ""
            lines.append(f"{p.output}: {p.status} ({p.percent:g}% translated{extra})")
        return lines

    def warning_lines(self) -> list[str]:
        """Skipped pages and translations that could not be used."""
        lines = []
        for p in self.pages:
            if p.status == "skipped":
                lines.append(f"{p.output}: skipped: {p.percent:g}% translated, under "
                             f"min_complete {self.min_complete:g}%")
            lines.extend(p.warnings)
        return lines
