"""Built pages in a real browser: headless Chromium loads them and runs their scripts.

Skipped when Chromium is not installed (`apt-get install chromium`). A hostile translation
that managed to create a script or an event handler would change the page's title when
Chromium loads the page; the source's own script must still run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest

from transflow.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")

ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Report from Goris</title>
<meta name="description" content="Families in Goris">
<script>document.addEventListener("DOMContentLoaded", function () {
  document.body.setAttribute("data-source-script", "ran"); });</script>
</head><body>
<h1>Report from Goris</h1>
<p>Read on <a href="https://oc-media.org/">OC Media</a> and <em>elsewhere</em>.</p>
<p><img src="a.jpg" alt="A street in Goris"> The town had 20,000 people.</p>
</body></html>
"""

# Each payload, if it ever became markup, would set document.title to PWNED.
PAYLOADS = [
    "<script>document.title='PWNED'</script>",
    "<img src=x onerror=\"document.title='PWNED'\">",
    "<svg onload=\"document.title='PWNED'\"></svg>",
    "<a1 href=\"javascript:document.title='PWNED'\" onclick=\"document.title='PWNED'\">OC</a1>",
    "\"><script>document.title='PWNED'</script>",
    "</title><script>document.title='PWNED'</script>",
    "<iframe srcdoc=\"<script>parent.document.title='PWNED'</script>\"></iframe>",
    "<body onload=\"document.title='PWNED'\">",
]


def dump_dom(page: Path, profile: Path) -> str:
    """Load a page in headless Chromium (scripts on) and return the DOM after load."""
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=2000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_translation_does_not_run_in_chromium(tmp_path: Path, payload: str) -> None:
    from click.testing import CliRunner

    (tmp_path / "transflow.toml").write_text('[project]\nlanguages = ["ru"]\n')
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "goris.html").write_text(ARTICLE)
    runner = CliRunner()
    assert runner.invoke(main, ["-C", str(tmp_path), "extract"]).exit_code == 0
    po_path = tmp_path / "locales" / "ru" / "goris.po"
    po = polib.pofile(str(po_path))
    for entry in po:
        entry.msgstr = payload + " " + entry.msgid
    po.save(str(po_path))
    result = runner.invoke(main, ["-C", str(tmp_path), "build", "--lang", "ru"])
    assert result.exit_code == 0, result.output
    dom = dump_dom(tmp_path / "build" / "ru" / "goris.html", tmp_path / "profile")
    assert 'data-source-script="ran"' in dom  # the page's own script did run
    # The title was never rewritten (a fallback marks it lang="en": the payload was refused).
    assert re.search(r"<title[^>]*>Report from Goris</title>", dom), dom[:400]
    assert "PWNED" not in dom.split("</title>")[0]


def test_translated_page_renders_in_chromium(tmp_path: Path) -> None:
    """The newsroom's Russian page loads; its text is Russian and the date localised."""
    from click.testing import CliRunner

    repo = Path(__file__).resolve().parent.parent
    for name in ("transflow.toml", "glossary.toml"):
        shutil.copy(repo / name, tmp_path / name)
    shutil.copytree(repo / "source", tmp_path / "source")
    shutil.copytree(repo / "locales", tmp_path / "locales")
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "build", "--lang", "ru",
                                       "goris-three-years-on"])
    assert result.exit_code == 0, result.output
    dom = dump_dom(tmp_path / "build" / "ru" / "goris-three-years-on.html", tmp_path / "p")
    assert '<html lang="ru"' in dom
    assert "Три года спустя" in dom
    assert "20 ноября 2026\u202fг." in dom  # CLDR puts a narrow no-break space before г.
