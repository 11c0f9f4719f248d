"""`.pre-commit-hooks.yaml`, run by the real `pre-commit` in a temporary git repository
(issue 14, item 2): a commit with a glossary violation is refused with the finding's line, a
clean one passes.

pre-commit installs the hooks' environment the way a newsroom's machine would: a virtualenv
with this repository `pip install`ed into it (its dependencies come from the package index or
pip's cache). The environment is built once per test session (`PRE_COMMIT_HOME`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from transflow.cli import main

from .newsroom import REPO, break_glossary, copy_newsroom

yaml = pytest.importorskip("yaml", reason="PyYAML (a pre-commit dependency) is not installed")
pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install -e '.[test]')")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(not (REPO / ".git").exists(),
                       reason="not a git checkout: the hooks repository is copied from one"),
]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Desk", "GIT_AUTHOR_EMAIL": "desk@example.org",
    "GIT_COMMITTER_NAME": "Test Desk", "GIT_COMMITTER_EMAIL": "desk@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_ENV, PRE_COMMIT_HOME=str(home), NO_COLOR="1", PRE_COMMIT_COLOR="never",
               HOME=str(home.parent))
    # pre-commit must be the one of this interpreter's environment.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    return done.stdout


# What pip says when the package index cannot be reached (the hook environment needs it once).
NO_INDEX = ("Could not find a version that satisfies", "No matching distribution found",
            "NewConnectionError", "Temporary failure in name resolution")


def pre_commit(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    output = done.stdout + done.stderr
    if "An unexpected error has occurred" in output and any(s in output for s in NO_INDEX):
        pytest.skip("pre-commit could not install the hook environment: the package index "
                    "is unreachable from this machine")
    return done


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """This repository as it is on disk (committed or not), as a clean git repository.

    A clean copy gives pre-commit a stable (path, commit), so every test reuses the one hook
    environment it builds.
    """
    base = tmp_path_factory.mktemp("precommit")
    env = _env(base / "pre-commit-home")
    repo = base / "transflow"
    listed = subprocess.run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = REPO / rel
        if src.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    git(repo, "init", "-q", env=env)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "transflow under test", env=env)
    rev = git(repo, "rev-parse", "HEAD", env=env).strip()
    yield repo, rev, env


@pytest.fixture
def newsroom_repo(tmp_path: Path, hooks_repo: tuple[Path, str, dict[str, str]]) -> Path:
    """A git repository holding a copy of the newsroom, committed, hooks not yet installed."""
    _, _, env = hooks_repo
    root = copy_newsroom(tmp_path / "newsroom")
    git(root, "init", "-q", env=env)
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "newsroom", env=env)
    return root


def test_manifest_names_both_hooks() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"transflow-check", "transflow-extract-check"}
    assert by_id["transflow-check"]["entry"] == "transflow check"
    assert by_id["transflow-extract-check"]["entry"] == "transflow extract --check"
    for hook in hooks:
        assert hook["language"] == "python" and hook["pass_filenames"] is False
    valid = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest",
                            str(REPO / ".pre-commit-hooks.yaml")], capture_output=True, text=True)
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_try_repo_refuses_a_glossary_violation_and_passes_a_clean_change(
        newsroom_repo: Path, hooks_repo: tuple[Path, str, dict[str, str]]) -> None:
    repo, _, env = hooks_repo
    file, line = break_glossary(newsroom_repo)
    git(newsroom_repo, "add", file, env=env)
    refused = pre_commit(newsroom_repo, "try-repo", str(repo), "transflow-check", env=env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "transflow check" in refused.stdout and "Failed" in refused.stdout
    assert f"{file}:{line}: error: [glossary] forbidden rendering 'Ханкенди'" in refused.stdout
    git(newsroom_repo, "checkout", "--", ".", env=env)
    git(newsroom_repo, "reset", "-q", "--hard", env=env)
    po = newsroom_repo / file
    po.write_text(po.read_text("utf-8").replace("\n\n", "\n\n# reviewed by the desk\n", 1),
                  "utf-8")
    git(newsroom_repo, "add", file, env=env)
    passed = pre_commit(newsroom_repo, "try-repo", str(repo), "transflow-check", env=env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


def test_installed_hook_refuses_the_commit(
        newsroom_repo: Path, hooks_repo: tuple[Path, str, dict[str, str]]) -> None:
    repo, rev, env = hooks_repo
    config = {"repos": [{"repo": str(repo), "rev": rev, "hooks": [{"id": "transflow-check"}]}]}
    (newsroom_repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), "utf-8")
    git(newsroom_repo, "add", ".pre-commit-config.yaml", env=env)
    git(newsroom_repo, "commit", "-q", "-m", "hooks", env=env)
    installed = pre_commit(newsroom_repo, "install", env=env)
    assert installed.returncode == 0, installed.stderr
    head = git(newsroom_repo, "rev-parse", "HEAD", env=env)
    file, line = break_glossary(newsroom_repo)
    git(newsroom_repo, "add", file, env=env)
    commit = subprocess.run(["git", "commit", "-m", "Ханкенди"], cwd=newsroom_repo, env=env,
                            capture_output=True, text=True, timeout=900)
    output = commit.stdout + commit.stderr
    if "An unexpected error has occurred" in output and any(s in output for s in NO_INDEX):
        pytest.skip("pre-commit could not install the hook environment: the package index "
                    "is unreachable from this machine")
    assert commit.returncode != 0
    assert f"{file}:{line}: error: [glossary]" in commit.stdout + commit.stderr
    assert git(newsroom_repo, "rev-parse", "HEAD", env=env) == head  # nothing was committed


def _extract_has_check() -> bool:
    result = CliRunner().invoke(main, ["extract", "--help"])
    return "--check" in result.output


@pytest.mark.skipif(not _extract_has_check(),
                    reason="`transflow extract --check` does not exist on this branch yet "
                           "(the scale branch adds it); this test runs once they are merged")
def test_extract_check_hook_refuses_an_article_without_its_catalogues(
        newsroom_repo: Path, hooks_repo: tuple[Path, str, dict[str, str]]) -> None:
    repo, _, env = hooks_repo
    article = newsroom_repo / "source" / "goris-three-years-on.html"
    # A harmless edit of the source that does not change any unit: catalogues stay current.
    article.write_text(article.read_text("utf-8") + "\n", "utf-8")
    git(newsroom_repo, "add", "-A", env=env)
    passed = pre_commit(newsroom_repo, "try-repo", str(repo), "transflow-extract-check",
                        env=env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    text = article.read_text("utf-8")
    assert "Stepanakert" in text
    article.write_text(text.replace("Stepanakert", "Stepanakert city", 1), "utf-8")
    git(newsroom_repo, "add", "-A", env=env)
    refused = pre_commit(newsroom_repo, "try-repo", str(repo), "transflow-extract-check",
                         env=env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "locales/ru/goris-three-years-on.po" in refused.stdout
    assert "locales/templates/goris-three-years-on.pot" in refused.stdout
