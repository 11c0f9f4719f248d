"""Review pages in headless Chromium: the DOM, the console, the filters, hostile translations.

Skipped when Chromium is not installed (`apt-get install chromium`). Two ways in:

- `--dump-dom` (the flags of tests/test_browser.py), with `--enable-logging=stderr` so every
  console message (errors, refused inline code under the CSP) shows up in stderr, and with
  `--blink-settings=scriptEnabled=false` for "JavaScript off";
- the DevTools protocol over `--remote-debugging-pipe`, to click a filter with a real mouse
  event (`Input.dispatchMouseEvent` at the radio button) and read which rows are hidden.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from transflow.catalog import read_catalog, render_catalog
from transflow.cli import main
from transflow.review.render import SCRIPT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
REPO = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SLUG = "sadakhlo-market-traders"  # has translated, fuzzy and untranslated units in ru


def dump_dom(url: str, profile: Path, *, scripts: bool = True) -> tuple[str, list[str]]:
    """Load a page; return the DOM after load and the console messages Chromium logged."""
    assert CHROMIUM is not None
    extra = [] if scripts else ["--blink-settings=scriptEnabled=false"]
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000",
         "--enable-logging=stderr", "--v=0", *extra, "--dump-dom", url],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.stdout, console


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review") / "news"
    root.mkdir()
    for name in ("transflow.toml", "glossary.toml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "source", root / "source")
    shutil.copytree(REPO / "locales", root / "locales")
    po = root / "locales" / "ru" / f"{SLUG}.po"
    # one glossary finding (a forbidden rendering) and one rejected markup, for the DOM checks
    catalog = read_catalog(po)
    for entry in catalog:
        if entry.msgstr and "Азербайджан" in entry.msgstr and not entry.fuzzy:
            entry.msgstr = entry.msgstr.replace("Азербайджан", "Азербайджан (Ханкенди)", 1)
            break
    for entry in catalog:
        if entry.msgstr and "<a1>" in entry.msgstr and not entry.fuzzy:
            entry.msgstr = entry.msgstr.replace("<a1>", "<a1 href=\"javascript:alert(1)\">", 1)
            break
    po.write_text(render_catalog(catalog), "utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["-C", str(root), "build"]).exit_code == 0
    result = runner.invoke(main, ["-C", str(root), "review"])
    assert result.exit_code == 0, result.output
    return root


def _rows(dom: str) -> list[Any]:
    return lxml_html.document_fromstring(dom).xpath("//table[@class='units']/tbody/tr")


def test_rows_statuses_highlights_findings_in_the_dom(newsroom: Path, tmp_path: Path) -> None:
    page = newsroom / "build" / "review" / "ru" / f"{SLUG}.html"
    dom, console = dump_dom(page.as_uri(), tmp_path / "p")
    assert console == []  # no error, no refused script or style
    doc = lxml_html.document_fromstring(dom)
    rows = _rows(dom)
    catalog = [e for e in read_catalog(newsroom / "locales" / "ru" / f"{SLUG}.po")
               if not e.obsolete]
    assert len(rows) == len(catalog)
    statuses = [r.get("data-status") for r in rows]
    assert {"translated", "fuzzy", "untranslated", "rejected"} <= set(statuses)
    assert doc.xpath("//fieldset[@class='filters']")[0].get("hidden") is None  # script ran
    # highlights: terms in the English, matched renderings in the Russian
    assert doc.xpath("//td[1]//mark[@class='term' and text()='Armenia']")
    assert doc.xpath("//td[2]//mark[@class='match']")
    assert doc.xpath("//td[2]//mark[@class='forbidden' and text()='Ханкенди']")
    # findings on their row, as check prints them
    check = CliRunner().invoke(main, ["-C", str(newsroom), "check", "--lang", "ru", SLUG])
    lines = [x for x in check.output.splitlines() if x.startswith("locales/")]
    assert lines
    for line in lines:
        where = line.split(": ", 1)[0]
        row = doc.xpath(f"//tr[.//th//a[string(.)='{where}']]")[0]
        assert line in [p.text_content() for p in row.xpath(".//p[contains(@class,'finding')]")]
    rejected = [r for r in rows if r.get("data-status") == "rejected"][0]
    assert "rejected by build (markup)" in rejected.text_content()
    assert not doc.xpath("//a[starts-with(@href, 'javascript')]")


def test_content_is_all_there_without_javascript(newsroom: Path, tmp_path: Path) -> None:
    page = newsroom / "build" / "review" / "ru" / f"{SLUG}.html"
    with_js, _ = dump_dom(page.as_uri(), tmp_path / "a")
    tools = DevTools(tmp_path / "b")
    try:
        tools.open(page.as_uri() + "#filter=fuzzy", scripts=False)
        without = tools.outer_html()
        ran = tools.problems()
    finally:
        tools.close()
    assert ran == []
    rows = _rows(without)
    assert len(rows) == len(_rows(with_js))
    assert all(r.get("hidden") is None for r in rows)  # nothing hidden by a filter
    doc = lxml_html.document_fromstring(without)
    assert doc.get("data-filter") is None and doc.xpath("//body")[0].get("data-filter") == "all"
    assert doc.xpath("//fieldset[@class='filters']")[0].get("hidden") is not None
    assert doc.xpath("//mark[@class='term']") and doc.xpath("//p[@class='diff']//ins")
    assert doc.xpath("//p[contains(@class, 'finding')]")
    assert doc.xpath("//span[@role='tooltip']")


@pytest.mark.parametrize("name", ["fuzzy", "untranslated", "problems"])
def test_filter_from_the_url_fragment(newsroom: Path, tmp_path: Path, name: str) -> None:
    page = newsroom / "build" / "review" / "ru" / f"{SLUG}.html"
    dom, console = dump_dom(f"{page.as_uri()}#filter={name}", tmp_path / "p")
    assert console == []
    shown = [r for r in _rows(dom) if r.get("hidden") is None]
    hidden = [r for r in _rows(dom) if r.get("hidden") is not None]
    assert shown and hidden
    if name == "problems":
        assert all(r.get("data-problem") is not None for r in shown)
        assert all(r.get("data-problem") is None for r in hidden)
    else:
        assert {r.get("data-status") for r in shown} == {name}
        assert name not in {r.get("data-status") for r in hidden}


class DevTools:
    """A minimal DevTools-protocol client over Chromium's --remote-debugging-pipe."""

    def __init__(self, profile: Path):
        assert CHROMIUM is not None
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        self.proc = self._spawn(profile, to_chrome_r, from_chrome_w)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    @staticmethod
    def _spawn(profile: Path, read_fd: int, write_fd: int) -> subprocess.Popen[bytes]:
        """Chromium reads commands on its fd 3 and writes replies on its fd 4."""
        assert CHROMIUM is not None

        def fds() -> None:
            # via fds >= 10 first: a pipe end may itself be fd 3 or 4
            high_r = fcntl.fcntl(read_fd, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(write_fd, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        return subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
             "--window-size=1280,900", "about:blank"],
            close_fds=False, preexec_fn=fds, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: bool = True) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def _read(self, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            assert time.monotonic() < deadline, "no reply from Chromium"
            chunk = os.read(self.from_chrome, 65536)
            assert chunk, "Chromium closed the pipe"
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def wait_event(self, method: str) -> dict[str, Any]:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            event = self._read()
            if event.get("method") == method:
                return event
            self.events.append(event)

    def open(self, url: str, *, scripts: bool = True) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        if not scripts:
            self.send("Emulation.setScriptExecutionDisabled", {"value": True})
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        return result["result"].get("value")

    def outer_html(self) -> str:
        """The document as it is now (through the DOM domain: works with scripts off)."""
        root = self.send("DOM.getDocument", {"depth": 0})["root"]
        return str(self.send("DOM.getOuterHTML", {"nodeId": root["nodeId"]})["outerHTML"])

    def click(self, selector: str) -> None:
        """A real mouse click (pressed + released) at the middle of the element."""
        box = self.evaluate(f"(function(){{var r=document.querySelector({json.dumps(selector)})"
                            ".getBoundingClientRect();return [r.x+r.width/2,r.y+r.height/2];})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def problems(self) -> list[Any]:
        """Console errors, uncaught exceptions and log entries (CSP refusals) seen so far."""
        return [e for e in self.events if e.get("method") in (
            "Runtime.exceptionThrown", "Runtime.consoleAPICalled", "Log.entryAdded")]

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except AssertionError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.to_chrome)
        os.close(self.from_chrome)


def test_clicking_the_filters_hides_and_shows_rows(newsroom: Path, tmp_path: Path) -> None:
    page = newsroom / "build" / "review" / "ru" / f"{SLUG}.html"
    tools = DevTools(tmp_path / "p")
    try:
        tools.open(page.as_uri())
        visible = ("JSON.stringify(Array.prototype.map.call(document.querySelectorAll("
                   "'tbody tr'), function (r) { return [r.dataset.status, r.hidden, "
                   "r.offsetParent !== null]; }))")
        settle = "new Promise(function (r) { setTimeout(function () { r(1); }, 100); })"
        before = json.loads(tools.evaluate(visible))
        assert all(not hidden and shown for _, hidden, shown in before)
        tools.click("input[name=filter][value=fuzzy]")
        tools.evaluate(settle)
        after = json.loads(tools.evaluate(visible))
        assert [s for s, hidden, shown in after if shown] == [
            s for s, _, _ in before if s == "fuzzy"]
        assert all(hidden == (s != "fuzzy") for s, hidden, _ in after)
        assert tools.evaluate("location.hash") == "#filter=fuzzy"
        tools.click("input[name=filter][value=all]")
        tools.evaluate(settle)
        assert all(shown for _, _, shown in json.loads(tools.evaluate(visible)))
        assert tools.problems() == []
        # a glossary term's tooltip (its required rendering) shows on keyboard focus only
        tip = ("(function () { var m = document.querySelector('td mark.term');"
               " var t = document.getElementById(m.getAttribute('aria-describedby'));"
               " return [getComputedStyle(t).display, t.textContent]; })()")
        display, text = tools.evaluate(tip)
        assert display == "none" and "→" in text
        tools.evaluate("document.querySelector('td mark.term').focus()")
        display, _ = tools.evaluate(tip)
        assert display != "none"
    finally:
        tools.close()


def test_index_in_the_browser_links_and_sorts(newsroom: Path, tmp_path: Path) -> None:
    index = newsroom / "build" / "review" / "index.html"
    dom, console = dump_dom(index.as_uri(), tmp_path / "a")
    assert console == []
    doc = lxml_html.document_fromstring(dom)
    rows = doc.xpath("//tbody/tr")
    assert len(rows) == 10
    left = [int(r.get("data-left")) for r in rows]
    assert left == sorted(left, reverse=True)  # most work left first, without script
    for row in rows:
        for a in row.iter("a"):
            assert (index.parent / a.get("href")).is_file(), a.get("href")
    dom, console = dump_dom(index.as_uri() + "#sort=article", tmp_path / "b")
    assert console == []
    articles = [r.get("data-article") for r in lxml_html.document_fromstring(dom).xpath(
        "//tbody/tr")]
    assert articles == sorted(articles)


PAYLOADS_FILE = REPO / "tests" / "xss" / "payloads.txt"
MARK = "document.title='PWNED'"
PAYLOADS = [line.replace("alert(1)", MARK) for line in PAYLOADS_FILE.read_text("utf-8").splitlines()
            if line and not line.startswith("# ")] + [
    f"\" onmouseover=\"{MARK}\" autofocus onfocus=\"{MARK}\" x=\"",
    f"' onfocus='{MARK}' autofocus x='",
    f"</script><script>{MARK}</script>",
    f"</style><script>{MARK}</script>",
    f"javascript:{MARK}",
    f"<a1>javascript:{MARK}</a1>",
    f"</td></tr></tbody></table><script>{MARK}</script>",
    f"</mark><img src=x onerror=\"{MARK}\">",
]


@pytest.mark.parametrize("csp", [True, False], ids=["as-written", "without-csp"])
def test_hostile_translations_do_not_run(tmp_path: Path, csp: bool) -> None:
    """Every payload in a msgstr, a translator comment, a `#.` and a `#|` of one page; the page
    is loaded as written and again with its CSP removed (escaping alone must hold)."""
    root = tmp_path / "news"
    (root / "source").mkdir(parents=True)
    (root / "transflow.toml").write_text('[project]\nlanguages = ["ru"]\n', "utf-8")
    (root / "glossary.toml").write_text(
        '[[term]]\nid = "stepanakert"\nen = "Stepanakert"\nru = "Степанакерт"\n'
        f'note = "\\"><script>{MARK}</script>"\n', "utf-8")
    paragraphs = "".join(f'<p>Unit {i} from <a href="/x">Stepanakert</a>.</p>\n'
                         for i in range(len(PAYLOADS)))
    (root / "source" / "a.html").write_text(
        f"<!DOCTYPE html><html lang=en><head><title>T</title></head><body>\n{paragraphs}"
        "</body></html>\n", "utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["-C", str(root), "extract"]).exit_code == 0
    po_path = root / "locales" / "ru" / "a.po"
    catalog = read_catalog(po_path)
    units = [e for e in catalog if e.msgid.startswith("Unit ")]
    assert len(units) == len(PAYLOADS)
    for entry, payload in zip(units, PAYLOADS, strict=True):
        entry.msgstr = payload
        entry.tcomment = payload
        entry.comment = payload
        if len(payload) % 2:
            entry.flags.append("fuzzy")
            entry.previous_msgid = payload
    po_path.write_text(render_catalog(catalog), "utf-8")
    result = runner.invoke(main, ["-C", str(root), "review"])
    assert result.exit_code == 0, result.output
    page = root / "build" / "review" / "ru" / "a.html"
    if not csp:
        text = page.read_text("utf-8")
        text, n = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
        assert n == 1
        page.write_text(text, "utf-8")
    dom, console = dump_dom(page.as_uri(), tmp_path / "p")
    assert "PWNED" not in dom.split("</title>")[0]
    assert console == []  # nothing tried to run and was refused, nothing failed
    doc = lxml_html.document_fromstring(dom)
    assert [s.text for s in doc.iter("script")] == [SCRIPT]
    assert not doc.xpath("//iframe|//img|//object|//embed|//svg[not(@class='bar')]|//math")
    for el in doc.iter():
        if isinstance(el.tag, str):
            assert not [n for n in el.attrib if n.lower().startswith("on")], el.tag
    rows = _rows(dom)
    assert len(rows) == len(catalog) - sum(1 for e in catalog if e.obsolete)
    assert doc.xpath("//fieldset[@class='filters']")[0].get("hidden") is None  # our script ran
