"""A small valid transflow project on disk, and helpers to run the real CLI against it.

Shared by the reliability and security tests (tests/test_reliability.py, test_security.py,
test_kill.py): they need a real process (`python -m transflow`) to see tracebacks and exit codes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

CONFIG = """\
[project]
source_language = "en"
languages = ["ka", "ru"]
glossary = "glossary.toml"
"""

GLOSSARY = """\
[[term]]
id = "stepanakert"
en = "Stepanakert"
ka = "სტეფანაკერტი"
ru = "Степанакерт"
forbidden = { ru = ["Ханкенди"] }
"""

ARTICLE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>News from Stepanakert</title>
<meta name="description" content="A report from Stepanakert">
<meta property="og:title" content="Stepanakert news">
<script>var x = 1;</script>
</head>
<body>
<h1>News from Stepanakert</h1>
<p>Read on <a href="https://oc-media.org/">OC Media</a> and <em>elsewhere</em>.</p>
<p><img src="a.jpg" alt="A view of the city"> The city had 50 000 people.</p>
<ul><li>First item</li><li>Second <strong>item</strong></li></ul>
<p><abbr title="Organization for Security and Co-operation in Europe">OSCE</abbr> monitors came.</p>
</body>
</html>
"""


def run_transflow(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m transflow -C ROOT ARGS…` as a real process (no colour, no terminal)."""
    env = dict(os.environ, NO_COLOR="1", PYTHONHASHSEED="0")
    return subprocess.run(
        [sys.executable, "-m", "transflow", "-C", str(root), *args],
        capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
    )


def make_project(root: Path, *, article: str = ARTICLE) -> Path:
    """Write a small project (one article, ka and ru, a glossary) and run a first extract."""
    (root / "source").mkdir(parents=True)
    (root / "transflow.toml").write_text(CONFIG, "utf-8")
    (root / "glossary.toml").write_text(GLOSSARY, "utf-8")
    (root / "source" / "news.html").write_text(article, "utf-8")
    result = run_transflow(root, "extract")
    assert result.returncode == 0, result.stderr
    return root


def translate_first_item(root: Path, translation: str = "Первый пункт") -> Path:
    """Translate the small project's "First item" into Russian (one translator's work)."""
    po = root / "locales/ru/news.po"
    po.write_text(po.read_text("utf-8").replace(
        'msgid "First item"\nmsgstr ""', f'msgid "First item"\nmsgstr "{translation}"'), "utf-8")
    return root


def tree_digest(root: Path, *, exclude: tuple[str, ...] = ("build/.cache",)) -> dict[str, str]:
    """Path → sha256 of every file under `root` (paths under `exclude` left out)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(rel == e or rel.startswith(e + "/") for e in exclude):
            continue
        if path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[rel + "/"] = "dir"
    return out


# A fork server: one Python process imports transflow once, then runs each command in a
# forked child exactly as `python -m transflow` would (runpy of `transflow.__main__`), with
# stdout/stderr captured to files. A real process per command (exit code, uncaught
# tracebacks), without paying the interpreter start and imports ~500 times.
_FORK_SERVER = r"""
import json, os, runpy, sys, tempfile, traceback
import transflow.cli, transflow.extract, transflow.check, transflow.status, transflow.build
import transflow.glossary, transflow.report
out_fd, err_fd = (tempfile.TemporaryFile() for _ in range(2))
for line in sys.stdin:
    job = json.loads(line)
    for f in (out_fd, err_fd):
        f.seek(0); f.truncate()
    pid = os.fork()
    if pid == 0:
        os.dup2(out_fd.fileno(), 1); os.dup2(err_fd.fileno(), 2)
        os.environ["NO_COLOR"] = "1"
        sys.argv = ["transflow", "-C", job["root"], *job["args"]]
        code = 0
        try:
            runpy.run_module("transflow", run_name="__main__", alter_sys=True)
        except SystemExit as e:
            if isinstance(e.code, int) or e.code is None:
                code = e.code or 0
            else:
                print(e.code, file=sys.stderr); code = 1
        except BaseException:
            traceback.print_exc(); code = 1
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    res = []
    for f in (out_fd, err_fd):
        f.seek(0); res.append(f.read().decode("utf-8", "replace"))
    sys.__stdout__.write(json.dumps({"code": code, "out": res[0], "err": res[1]}) + "\n")
    sys.__stdout__.flush()
"""


class ForkServer:
    """Runs transflow commands in forked children of one long-lived interpreter."""

    def __init__(self) -> None:
        env = dict(os.environ, NO_COLOR="1", PYTHONHASHSEED="0")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _FORK_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env=env,
        )

    def run(self, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one command; the same result `run_transflow` would give."""
        import json

        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"root": str(root), "args": list(args)}) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        return subprocess.CompletedProcess(["transflow", *args], reply["code"], reply["out"],
                                           reply["err"])

    def close(self) -> None:
        """Stop the server."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
