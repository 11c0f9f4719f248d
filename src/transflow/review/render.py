"""HTML of the review pages: pure functions of `model.ArticleReview`s and index summaries.

Safety by construction: every string from a catalogue, a source file, the glossary or a file
name passes through `_e` (`html.escape` with `quote=True`, in text and in attributes alike);
the only markup is written here. Light tags are shown as badges of escaped text, never as
elements. The inline script embeds no data: it reads `data-*` attributes and the URL fragment,
compares them with fixed strings, and only toggles `hidden` and reorders rows. A
Content-Security-Policy allows exactly the page's own style and script (by hash) and nothing
from the network, so even an escaping bug could not load or run anything.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple
from urllib.parse import quote

from transflow.check import CHECK_NAMES
from transflow.locales import language_name, native_name
from transflow.memo import Memo
from transflow.review.model import KEEP_NOTE, STATUSES, ArticleReview, Row, Shown, TermNote

# Label of each status (never colour alone: the label is always written).
STATUS_LABEL = {
    "translated": "translated",
    "fuzzy": "fuzzy",
    "untranslated": "untranslated",
    "rejected": "rejected by build (markup)",
}
STATUS_NOTE = {
    "translated": "the published page shows this translation",
    "fuzzy": "needs review; the published page shows the English",
    "fuzzy-used": "needs review; the published page shows it anyway (include_fuzzy)",
    "untranslated": "the published page falls back to the English",
    "rejected": "build refuses its markup; the published page shows the English",
}
TERM_STATE_LABEL = {
    "found": "✓ found",
    "missing": "✗ missing",
    "forbidden": "✗ forbidden rendering",
    "ignored": "ignored (# transflow: ignore)",
    "not translated": "not translated yet",
    "not found": "not found in the translation (not checked: fuzzy, or the check is off)",
}
FILTERS = (("all", "All rows"), ("problems", "Only problems"),
           ("untranslated", "Only untranslated"), ("fuzzy", "Only fuzzy"))

FONT_STACK = ('"Noto Sans", "Noto Sans Georgian", "DejaVu Sans", "Segoe UI", '
              '"Helvetica Neue", Arial, sans-serif')

CSS = """
:root{--ok:#1b7f3b;--fuzzy:#a86400;--un:#6b6b6b;--bad:#b3261e;--ink:#1d1d1f;--line:#d6d6d6;
--soft:#f6f6f4}
*{box-sizing:border-box}
body{margin:0;padding:1rem 1.25rem 3rem;font:15px/1.5 FONT;color:var(--ink);background:#fff}
h1{font-size:1.45rem;margin:.2rem 0 .4rem;line-height:1.25}
h1 small{font-weight:normal;color:#555}
a{color:#0b57a4}
a:focus-visible,button:focus-visible,input:focus-visible,mark:focus{outline:3px solid #f0b400;
outline-offset:1px}
.crumbs,.meta{margin:.2rem 0;color:#444}
.summary{display:flex;flex-wrap:wrap;gap:.4rem 1.4rem;align-items:center;margin:.5rem 0}
.bar{width:14rem;height:.8rem;border:1px solid #999;vertical-align:middle;background:#fff}
td .bar{width:9rem}
.b-t{fill:var(--ok)}.b-f{fill:var(--fuzzy)}.b-u{fill:#e2e2e2}
.legend{list-style:none;padding:0;margin:.4rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1rem}
.filters{border:1px solid var(--line);border-radius:6px;padding:.3rem .8rem;margin:.6rem 0;
display:flex;flex-wrap:wrap;gap:.2rem 1.2rem}
.filters legend{font-weight:bold;padding:0 .3rem}
.filters[hidden],[data-js][hidden]{display:none}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.45rem .55rem;border-bottom:1px solid var(--line)}
thead th{position:sticky;top:0;background:#fff;border-bottom:2px solid #888;z-index:1}
.units td{width:42%}
.units tbody th{font-weight:normal;font-size:.85rem;width:12rem;max-width:12rem;border-left:6px solid}
.units tbody th .file{font-size:.7rem;color:#555;overflow-wrap:anywhere}
.units tbody th a.line{display:block;overflow-wrap:anywhere}
tr.st-translated>th{border-left-color:var(--ok)}
tr.st-fuzzy>th{border-left-color:var(--fuzzy)}
tr.st-untranslated>th{border-left-color:var(--un)}
tr.st-rejected>th{border-left-color:var(--bad)}
tr.st-fuzzy,tr.st-untranslated{background:var(--soft)}
tr.st-rejected{background:#fdf1f0}
.status{display:inline-block;margin-top:.25rem;padding:0 .45rem;border-radius:3px;color:#fff;
font-size:.8rem;font-weight:bold}
.status.st-translated{background:var(--ok)}.status.st-fuzzy{background:var(--fuzzy)}
.status.st-untranslated{background:var(--un)}.status.st-rejected{background:var(--bad)}
.line{font-family:"DejaVu Sans Mono",monospace}
.text{white-space:pre-wrap;overflow-wrap:anywhere;font-size:1rem}
.empty{color:#777;font-style:italic}
.fallback{color:#666}
.ctx,.occ{font-size:.8rem;color:#555;margin:0 0 .2rem}
.ctx span{display:inline-block;background:#ecebe6;border-radius:3px;padding:0 .35rem;margin-right:.3rem}
.tag{font:.75rem "DejaVu Sans Mono",monospace;background:#e7eefc;color:#223f7a;border:1px solid #b7c7ea;
border-radius:3px;padding:0 .2rem;margin:0 .05rem;white-space:nowrap}
mark{border-radius:2px;padding:0 .05rem;color:inherit;cursor:help}
mark.term{background:#fff2a8;border-bottom:2px solid #c9a400}
mark.match{background:#d7f2dc;border-bottom:2px solid var(--ok)}
mark.missing{background:#fde2df;border-bottom:2px dashed var(--bad)}
mark.forbidden{background:#f9c9c4;border-bottom:3px double var(--bad);text-decoration:line-through}
.tip{display:none;position:absolute;z-index:5;max-width:28rem;margin-top:1.6rem;margin-left:-4rem;
padding:.3rem .5rem;background:#222;color:#fff;border-radius:4px;font-size:.8rem;white-space:normal}
mark:hover+.tip,mark:focus+.tip{display:inline-block}
.diff{margin:.35rem 0 0;font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}
.diff del{background:#fbd3cf;color:#7a1a12}
.diff ins{background:#cdeecf;color:#14501f;text-decoration:none;border-bottom:1px solid #14501f}
.label{font-weight:bold;font-size:.8rem;color:#444}
.notes{margin:.35rem 0 0;padding:0;list-style:none;font-size:.85rem}
.notes li{margin:.1rem 0}
.finding{font:.8rem/1.4 "DejaVu Sans Mono",monospace;white-space:pre-wrap;overflow-wrap:anywhere;
margin:.25rem 0;padding:.2rem .4rem;border-left:4px solid}
.sev-error{border-color:var(--bad);background:#fdecea}
.sev-warning{border-color:var(--fuzzy);background:#fff5e0}
.comment{font-size:.85rem;margin:.3rem 0 0;padding:.2rem .4rem;background:#eef4fb;white-space:pre-wrap}
.num{text-align:right;font-variant-numeric:tabular-nums}
.index td,.index th{white-space:nowrap}
.index td.checks,.index td.build{white-space:normal;font-size:.85rem}
.built{color:var(--ok)}.skipped{color:var(--bad)}.notbuilt{color:#666}
.sort{font-size:.75rem;margin-left:.3rem}
footer{margin-top:1.5rem;font-size:.8rem;color:#555}
@media print{
body{padding:0;font-size:10pt}
.filters,.sort,.tip,.crumbs a{display:none}
thead th{position:static}
tr{break-inside:avoid}
a{color:inherit;text-decoration:none}
.status{color:#000;background:none!important;border:1px solid #000}
mark{background:none!important}
mark.term,mark.match{border-bottom:1px solid #000}
mark.missing,mark.forbidden{border-bottom:2px dashed #000}
}
""".replace("FONT", FONT_STACK).strip()

# The one script of both pages. It embeds no data: it reads `data-*` attributes and the URL
# fragment (`#filter=fuzzy`, `#sort=left`), compared with fixed values only.
SCRIPT = """
(function () {
  "use strict";
  var doc = document;
  var FILTERS = ["all", "problems", "untranslated", "fuzzy"];
  var SORTS = ["left", "findings", "pct", "article"];
  function each(selector, fn) { Array.prototype.forEach.call(doc.querySelectorAll(selector), fn); }
  function filter(name) {
    if (FILTERS.indexOf(name) < 0) { name = "all"; }
    each("tr[data-status]", function (row) {
      var status = row.getAttribute("data-status");
      row.hidden = name === "problems" ? !row.hasAttribute("data-problem")
        : name !== "all" && status !== name;
    });
    each("input[name=filter]", function (input) { input.checked = input.value === name; });
    doc.body.setAttribute("data-filter", name);
  }
  function sort(key) {
    if (SORTS.indexOf(key) < 0) { return; }
    each("tbody[data-sortable]", function (body) {
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        if (key === "article") {
          return a.getAttribute("data-article").localeCompare(b.getAttribute("data-article"));
        }
        var x = parseFloat(a.getAttribute("data-" + key)), y = parseFloat(b.getAttribute("data-" + key));
        return key === "pct" ? x - y : y - x;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
    doc.body.setAttribute("data-sort", key);
  }
  function fromHash() {
    var m = /^#(filter|sort)=([a-z]+)$/.exec(location.hash);
    if (m && m[1] === "filter") { filter(m[2]); } else if (m) { sort(m[2]); }
  }
  each("[data-js]", function (el) { el.hidden = false; });
  doc.addEventListener("change", function (event) {
    var t = event.target;
    if (t.name === "filter") { location.hash = "filter=" + t.value; }
  });
  doc.addEventListener("click", function (event) {
    var t = event.target.closest ? event.target.closest("button[data-sort]") : null;
    if (t) { location.hash = "sort=" + t.getAttribute("data-sort"); }
  });
  window.addEventListener("hashchange", fromHash);
  fromHash();
}());
""".strip()


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


CSP = ("default-src 'none'; "
       f"style-src '{_sha256(CSS)}'; script-src '{_sha256(SCRIPT)}'; "
       "img-src 'none'; base-uri 'none'; form-action 'none'")


def _e(text: str) -> str:
    """Escape for HTML text and (double-quoted) attribute values alike (`html.escape`, quote=True)."""
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return html.escape(text, quote=True)
    return text  # (five C scans: faster than a regular expression on these short texts)


def _href(path: str) -> str:
    """A relative link to a file of ours: percent-encoded, so no scheme (`javascript:`) survives."""
    return _e(quote(path, safe="/"))


@functools.lru_cache(maxsize=64)
def _lang_label(lang: str) -> str:
    """Plain text: `Russian (русский)` (for titles)."""
    english, native = language_name(lang), native_name(lang)
    return english if english == native else f"{english} ({native})"


@functools.lru_cache(maxsize=64)
def _lang_html(lang: str) -> str:
    """`Russian (<span lang="ru">русский</span>)`: the native name marked as its language."""
    english, native = language_name(lang), native_name(lang)
    if english == native:
        return _e(english)
    return f'{_e(english)} (<span lang="{_e(lang)}">{_e(native)}</span>)'


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n"
            f'<body data-filter="all">\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n')


def _bar(translated: int, fuzzy: int, total: int) -> str:
    """A stacked bar (translated | fuzzy | rest) as SVG shapes: no inline style needed."""
    if total <= 0:
        t = f = 0.0
    else:
        t = round(100.0 * translated / total, 2)
        f = round(100.0 * fuzzy / total, 2)
    label = f"{t:g}% of words translated, {f:g}% fuzzy"
    return (f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
            f'aria-label="{_e(label)}"><title>{_e(label)}</title>'
            f'<rect class="b-u" x="0" y="0" width="100" height="10"/>'
            f'<rect class="b-t" x="0" y="0" width="{t:g}" height="10"/>'
            f'<rect class="b-f" x="{t:g}" y="0" width="{f:g}" height="10"/></svg>')


def render_shown(shown: Shown, id_prefix: str) -> str:
    """A displayed text: escaped, light tags as badges, glossary marks with their tooltips.

    Each mark is focusable and described by the tooltip that follows it (`aria-describedby`),
    so the required rendering shows on hover and on keyboard focus, without script.
    """
    if not shown.marks:
        return _e(shown.text) if not shown.tags else _render_shown(shown, "")
    return _render_shown(shown, _e(id_prefix))


# A tooltip's escaped text, per tip: a page repeats a few dozen tips over a hundred marks, and
# every page the same glossary's (the tips are the same string objects: `model.Highlighter`).
_TIPS: Memo[str, str] = Memo(2048)  # (two generations: at most 4,096 tips, as before)


def _tip_html(tip: str) -> str:
    html_tip = _TIPS.get(tip) or _TIPS.recall(tip)
    if html_tip is None:
        html_tip = _e(tip)
        _TIPS.put(tip, html_tip)
    return html_tip


# A glossary mark and its tooltip, written alike by both paths of `_render_shown`.
_MARK_OPEN = '<mark class="{}" tabindex="0" aria-describedby="{}">'
_MARK_CLOSE = '</mark><span class="tip" role="tooltip" id="{}">{}</span>'


def _render_shown(shown: Shown, id_prefix: str) -> str:
    """`render_shown`'s work; `id_prefix` escaped already."""
    text = shown.text
    if not shown.tags:  # (most texts: the marks alone, one piece each; `_MARK_OPEN` and
        out = []        # `_MARK_CLOSE` written out as one f-string)
        pos = 0
        for n, (start, end, kind, tip) in enumerate(shown.marks):
            out.append(f'{_e(text[pos:start])}<mark class="{kind}" tabindex="0" '
                       f'aria-describedby="{id_prefix}-{n}">{_e(text[start:end])}</mark>'
                       f'<span class="tip" role="tooltip" id="{id_prefix}-{n}">'
                       f"{_tip_html(tip)}</span>")
            pos = end
        out.append(_e(text[pos:]))
        return "".join(out)
    tags = list(shown.tags)
    out = []
    pos = 0
    t = 0

    def emit(upto: int) -> None:
        nonlocal pos, t
        while t < len(tags) and tags[t][0] <= upto:
            at, tag = tags[t]
            if at < pos:
                at = pos
            out.append(_e(text[pos:at]))
            out.append(f'<span class="tag">{_e(tag)}</span>')
            pos = at
            t += 1
        out.append(_e(text[pos:upto]))
        pos = upto

    for n, mark in enumerate(shown.marks):
        emit(mark.start)
        tip_id = f"{id_prefix}-{n}"  # (the prefix is escaped already)
        out.append(_MARK_OPEN.format(mark.kind, tip_id))
        # tags inside a mark: those strictly inside it; one at its end belongs after it
        while t < len(tags) and tags[t][0] < mark.end:
            at, tag = tags[t]
            out.append(_e(text[pos:at]))
            out.append(f'<span class="tag">{_e(tag)}</span>')
            pos = at
            t += 1
        out.append(_e(text[pos : mark.end]))
        pos = mark.end
        out.append(_MARK_CLOSE.format(tip_id, _tip_html(mark.tip)))
    emit(len(text))
    while t < len(tags):
        out.append(f'<span class="tag">{_e(tags[t][1])}</span>')
        t += 1
    return "".join(out)


def _term_note(note: TermNote, source_lang: str, lang: str) -> str:
    """One line of a row's term list, each text marked with its language."""
    state = TERM_STATE_LABEL.get(note.state, note.state)
    where = "" if note.pointed or note.state in ("missing", "not translated") else (
        " — the matcher found it but cannot point at the words here")
    src, tgt = _e(source_lang), _e(lang)
    if note.state == "forbidden":
        use = f': use <span lang="{tgt}">{_e(note.wanted)}</span>' if note.wanted else ""
        return (f'<li><span lang="{tgt}">{_e(note.source)}</span>: {_e(state)} '
                f"(term {_e(note.term)}{use})</li>")
    wanted_lang = src if note.wanted.endswith(KEEP_NOTE) else tgt
    return (f'<li><span lang="{src}">{_e(note.source)}</span> → '
            f'<span lang="{wanted_lang}">{_e(note.wanted)}</span>: {_e(state)}{_e(where)}</li>')


@functools.lru_cache(maxsize=16)
def _status_html(status: str, include_fuzzy: bool) -> str:
    """A row's status badge (the same few strings on every row of every page)."""
    note_key = "fuzzy-used" if status == "fuzzy" and include_fuzzy else status
    return (f'<span class="status st-{_e(status)}" title="{_e(STATUS_NOTE[note_key])}">'
            f"{_e(STATUS_LABEL[status])}</span>")


class _PageParts(NamedTuple):
    """What every row of one page writes the same way, escaped once per page."""

    po_file: str  # the catalogue's path
    source_open: str  # `<div class="text" lang="en">`
    target_open: str  # `<div class="text" lang="ru">`
    source_lang: str
    lang: str
    # per status: the row's head after its line number (`</a><br>` and the status badge)
    badges: dict[str, str]
    source_lang_raw: str  # (unescaped: `_term_note` escapes it)
    lang_raw: str

    @classmethod
    def of(cls, review: ArticleReview) -> _PageParts:
        """The parts of `review`'s page."""
        src, lang = _e(review.source_language), _e(review.lang)
        badges = {status: f"</a><br>{_status_html(status, review.include_fuzzy)}"
                  for status in STATUSES}
        return cls(_e(review.po_file), f'<div class="text" lang="{src}">',
                   f'<div class="text" lang="{lang}">', src, lang, badges,
                   review.source_language, review.lang)


_NO_FINDINGS: list[tuple[str, str]] = []


def _row_html(row: Row, finding_lines: dict[int, list[tuple[str, str]]],
              page: _PageParts) -> str:
    """One row of an article's table (a hundred thousand on a cold run: strings are joined
    with `+` and f-strings, no lists, escaping skipped where the text is ours)."""
    line = row.line
    rid = f"l{line}" if line else f"r{row.number}"  # digits only: no escaping needed
    status = row.status  # one of STATUSES: needs no escaping
    problem = " data-problem" if row.findings or status != "translated" else ""
    out = (f'<tr id="{rid}" class="st-{status}" data-status="{status}"{problem}>'
           f'<th scope="row"><a class="line" href="#{rid}"><span class="file">{page.po_file}'
           f"</span>:{line}{page.badges[status]}")
    if row.msgctxt is not None:
        out += f'<div class="ctx">msgctxt: <span lang="">{_e(row.msgctxt)}</span></div>'
    out += "</th><td>"
    # English
    if row.context:
        out += '<p class="ctx">' + "".join([f"<span>{_e(c)}</span>" for c in row.context]) \
            + "</p>"
    source = row.source
    # (most texts have neither marks nor tags: no id prefix to make)
    out += (f"{page.source_open}{_e(source.text)}</div>" if not source.marks and not source.tags
            else f"{page.source_open}{render_shown(source, f'{rid}-s')}</div>")
    previous = row.previous
    if previous is not None:
        if all(op == "=" for op, _ in previous):
            why = "" if row.previous_msgctxt is None else (
                " Its context changed: #| msgctxt "
                + (f'“<span lang="">{_e(row.previous_msgctxt)}</span>”' if row.previous_msgctxt
                   else "(none)") + " → "
                + (f'“<span lang="">{_e(row.msgctxt)}</span>”' if row.msgctxt else "(none)")
                + ".")
            out += ('<p class="diff"><span class="label">The English is unchanged since this '
                    f"translation (#| msgid = msgid).</span>{why}</p>")
        else:
            out += ('<p class="diff"><span class="label">English changed since this '
                    'translation (#| msgid → msgid):</span> <span lang="'
                    f'{page.source_lang}">'
                    + "".join([_e(text) if op == "=" else f"<del>{_e(text)}</del>" if op == "-"
                               else f"<ins>{_e(text)}</ins>" for op, text in previous])
                    + "</span></p>")
    if row.terms:
        out += ('<ul class="notes" aria-label="glossary terms">'
                + "".join([_term_note(n, page.source_lang_raw, page.lang_raw)
                           for n in row.terms]) + "</ul>")
    if row.occurrences:
        out += f'<p class="occ">{_e("; ".join(row.occurrences))}</p>'
    out += "</td><td>"
    # Translation
    for label, shown in row.translations:
        if label:
            out += f'<span class="label">{_e(label)}</span>'
        if not shown.marks and not shown.tags and shown.text:
            out += f"{page.target_open}{_e(shown.text)}</div>"
        elif shown.text or shown.tags:
            out += f"{page.target_open}{render_shown(shown, f'{rid}-t{label}')}</div>"
        else:
            out += '<div class="empty">(no translation: the English is published)</div>'
    if row.markup:
        out += '<ul class="notes">' + "".join(
            [f"<li>markup: {_e(p)}</li>" for p in row.markup]) + "</ul>"
    if row.tcomment:
        out += ('<p class="comment" lang=""><span class="label">Translator comment:</span> '
                f"{_e(row.tcomment)}</p>")
    if row.findings:
        for severity, text in finding_lines.get(line, _NO_FINDINGS):
            out += f'<p class="finding sev-{severity}">{_e(text)}</p>'
    return out + "</td></tr>"


def _finding_lines(review: ArticleReview) -> dict[int, list[tuple[str, str]]]:
    """Each row's findings (severity, line) as `transflow check` prints them (report's text)."""
    from transflow.report import render_findings

    out: dict[int, list[tuple[str, str]]] = {}
    for row in review.rows:
        for f in row.findings:
            text = render_findings([f], "text", color=False, summary=False)
            out.setdefault(row.line, []).append((f.severity, text))
    return out


def _build_state(summary: dict[str, Any], built: bool, up: str, *, long: bool = True) -> str:
    """Built (a link to the page), skipped under min_complete, or not built yet.

    The percentage is build's own (translated source words / all source words).
    """
    lang, article = summary["lang"], summary["article"]
    pct, floor = summary["percent"], summary["min_complete"]
    if pct < floor:
        return (f'<span class="skipped">skipped by build: {pct:g}% &lt; min_complete '
                f"{floor:g}%</span>")
    if built:
        link = f'<a class="built" href="{_href(f"{up}../{lang}/{article}.html")}">built</a>'
        return f"{link} ({pct:g}% of words translated)" if long else link
    return f'<span class="notbuilt">not built yet ({pct:g}%: run transflow build)</span>'


def render_article(review: ArticleReview, summary: dict[str, Any] | None = None) -> str:
    """The review page of one article in one language (`summary`: its `summary()`, when the
    caller has it already)."""
    s = review.summary() if summary is None else summary
    up = "../" * (1 + review.article.count("/"))
    lang_label = _lang_label(review.lang)
    counts = {status: 0 for status in STATUSES}
    for row in review.rows:
        counts[row.status] += 1
    finding_lines = _finding_lines(review)
    page = _PageParts.of(review)
    words = s["words"]
    legend = "".join(
        f'<li><span class="status st-{st}">{_e(STATUS_LABEL[st])}</span> {counts[st]}</li>'
        for st in STATUSES)
    filters = "".join(
        f'<label><input type="radio" name="filter" value="{value}"'
        f'{" checked" if value == "all" else ""}> {label}</label>' for value, label in FILTERS)
    checks = ", ".join(f"{name} {n}" for name, n in s["findings"].items()) or "none"
    glossary_note = "" if review.glossary else (
        "<p class=\"meta\">No glossary (or its check is off): no terms are highlighted.</p>")
    body = f"""<header>
<p class="crumbs"><a href="{_href(up + 'index.html')}">← All reviews</a></p>
<h1><span lang="">{_e(review.article)}</span> <small>— {_lang_html(review.lang)}</small></h1>
<p class="meta"><span class="line">{_e(review.po_file)}</span> · build:
{_build_state(s, review.built, up)}</p>
<div class="summary">{_bar(words["translated"], words["fuzzy"], words["total"])}
<span>{words["translated"]:,} of {words["total"]:,} words translated, {words["fuzzy"]:,} fuzzy,
{words["untranslated"]:,} untranslated</span><span>Findings: {_e(checks)}</span></div>
<ul class="legend" aria-label="rows by status">{legend}</ul>
{glossary_note}<fieldset class="filters" data-js hidden><legend>Show</legend>{filters}</fieldset>
</header>
<main>
<table class="units">
<thead><tr><th scope="col">Entry</th><th scope="col">English</th>
<th scope="col">{_lang_html(review.lang)}</th></tr></thead>
<tbody>
{chr(10).join([_row_html(row, finding_lines, page) for row in review.rows])}
</tbody>
</table>
</main>
<footer>Highlights: <mark class="term">glossary term</mark> (hover or focus: its required
rendering), <mark class="match">the words that satisfied it</mark>,
<mark class="missing">term whose rendering is missing or forbidden</mark>,
<mark class="forbidden">forbidden rendering</mark>. Findings are printed as
<code>transflow check</code> prints them. Generated by <code>transflow review</code>.</footer>"""
    return _page(f"Review: {review.article} — {lang_label}", body)


def index_order(summaries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most work left first: untranslated + fuzzy words, then findings, then article and language."""
    return sorted(summaries, key=lambda s: (
        -(s["words"]["untranslated"] + s["words"]["fuzzy"]),
        -(sum(s["findings"].values()) + s.get("rejected", 0)), s["article"], s["lang"]))


def render_index(summaries: Sequence[dict[str, Any]], built: dict[tuple[str, str], bool],
                 languages: Sequence[str]) -> str:
    """The index: every reviewed article × language, most work left first."""
    rows = []
    totals: dict[str, list[int]] = {lang: [0, 0, 0, 0] for lang in languages}
    for s in index_order(summaries):
        article, lang = s["article"], s["lang"]
        w = s["words"]
        left = w["untranslated"] + w["fuzzy"]
        n_findings = sum(s["findings"].values())
        if lang in totals:
            t = totals[lang]
            t[0] += w["translated"]
            t[1] += w["fuzzy"]
            t[2] += w["total"]
            t[3] += n_findings
        checks = ", ".join(f"{_e(name)}&nbsp;{n}" for name, n in sorted(
            s["findings"].items(), key=lambda kv: CHECK_NAMES.index(kv[0])
            if kv[0] in CHECK_NAMES else 99))
        if s.get("rejected"):
            checks += (", " if checks else "") + f"rejected&nbsp;markup&nbsp;{s['rejected']}"
        pct_words = 100.0 * w["translated"] / w["total"] if w["total"] else 100.0
        rows.append(
            f'<tr data-article="{_e(article)}" data-left="{left}" data-findings="{n_findings}" '
            f'data-pct="{pct_words:.2f}"><td><a href="{_href(f"{lang}/{article}.html")}" '
            f'lang="">{_e(article)}</a></td><td>{_lang_html(lang)}</td>'
            f'<td>{_bar(w["translated"], w["fuzzy"], w["total"])} {pct_words:.1f}%</td>'
            f'<td class="num">{w["translated"]:,}</td><td class="num">{w["fuzzy"]:,}</td>'
            f'<td class="num">{w["untranslated"]:,}</td><td class="num"><b>{left:,}</b></td>'
            f'<td class="checks">{checks or "none"}</td>'
            f'<td class="build">{_build_state(s, built.get((lang, article), False), "", long=False)}'
            "</td></tr>")
    lang_lines = []
    for lang in languages:
        translated, fuzzy, total, findings = totals[lang]
        lang_lines.append(
            f"<li><b>{_lang_html(lang)}</b> {_bar(translated, fuzzy, total)} "
            f"{translated:,} of {total:,} words translated, {fuzzy:,} fuzzy; "
            f"{findings:,} findings</li>")
    sort_buttons = {key: (f'<button class="sort" type="button" data-js hidden data-sort="{key}" '
                          f'aria-label="sort by {label}">sort</button>')
                    for key, label in (("article", "article"), ("pct", "progress"),
                                       ("left", "words left"), ("findings", "findings"))}
    body = f"""<header>
<h1>Translation review</h1>
<p class="meta">{len(summaries):,} pages (article × language), most work left first
(words left: untranslated + fuzzy, counted as <code>transflow status</code> counts them).
Each article links to its review page (English | translation, statuses, glossary terms,
findings) and to its built page.</p>
<ul class="legend">{"".join(lang_lines)}</ul>
</header>
<main>
<table class="index">
<thead><tr><th scope="col">Article{sort_buttons["article"]}</th><th scope="col">Language</th>
<th scope="col">Progress{sort_buttons["pct"]}</th><th scope="col" class="num">Translated</th>
<th scope="col" class="num">Fuzzy</th><th scope="col" class="num">Untranslated</th>
<th scope="col" class="num">Words left{sort_buttons["left"]}</th>
<th scope="col">Findings{sort_buttons["findings"]}</th>
<th scope="col">Build</th></tr></thead>
<tbody data-sortable>
{chr(10).join(rows)}
</tbody>
</table>
</main>
<footer>Generated by <code>transflow review</code>. Words are counted as
<code>transflow status</code> counts them; build's percentage (translated source words) decides
whether a page is built.</footer>"""
    return _page("Translation review", body)
