"""files.py under faults: error lines that name the user's file, the closed save window,
stale temporaries of killed runs, a real full disk and a real permission denial."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from transflow import files

from .smallproject import make_project, run_transflow

# --- messages ------------------------------------------------------------------------------


def test_write_error_names_the_target_and_what_to_do() -> None:
    full = files.write_error(OSError(errno.ENOSPC, "No space left on device"),
                             Path("locales/ru/a.po")).format()
    assert full.startswith("locales/ru/a.po: ")
    assert "free some space" in full
    denied = files.write_error(OSError(errno.EACCES, "Permission denied"),
                               Path("build/ka/a.html")).format()
    assert denied == "build/ka/a.html: cannot write: permission denied: check the permissions of build/ka/"


@pytest.mark.parametrize("temporary", [
    "locales/ru/.news.po.md1ro_zc.extract.tmp",
    "locales/ru/.news.po.ab_cd123.tmp",
])
def test_a_temporary_is_shown_as_the_file_it_replaces(temporary: str) -> None:
    assert files.user_path(temporary) == "locales/ru/news.po"
    error = OSError(errno.EACCES, "Permission denied", temporary)
    line = files.describe_os_error(error)
    assert line.startswith("locales/ru/news.po: ") and ".tmp" not in line
    assert temporary in files.describe_os_error(error, verbose=True)


# --- the save window -----------------------------------------------------------------------


def _stage(path: Path, data: bytes) -> str:
    return files.stage_file(path, data, suffix=".test.tmp")


@pytest.fixture(params=["renameat2", "portable"])
def platform(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every save-window test runs with Linux's exchange and with the portable fallback."""
    if request.param == "renameat2":
        if files._load_renameat2() is None:
            pytest.skip("renameat2 is not available on this platform")
    else:
        monkeypatch.setattr(files, "_rename2", lambda src, dst, flags: False)
    return str(request.param)


def test_replace_when_nobody_saved(tmp_path: Path, platform: str) -> None:
    path = tmp_path / "a.po"
    path.write_bytes(b"old")
    tmp = _stage(path, b"new")
    assert files.replace_if_unchanged(tmp, path, b"old") is None
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.po"]


def test_the_displaced_file_is_handed_to_the_caller(tmp_path: Path, platform: str) -> None:
    """With `displaced`, the old content that came out of the exchange is left for the caller
    to delete (a cold extract deletes thousands in the background), under the temporary's
    name; on the portable path `os.replace` itself removed it."""
    path = tmp_path / "a.po"
    path.write_bytes(b"old")
    tmp = _stage(path, b"new")
    displaced: list[str] = []
    assert files.replace_if_unchanged(tmp, path, b"old", displaced=displaced) is None
    assert path.read_bytes() == b"new"
    if platform == "renameat2":
        assert displaced == [tmp] and Path(tmp).read_bytes() == b"old"
    else:
        assert displaced == [] and not Path(tmp).exists()
    files.delete_files(displaced)()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.po"]


def test_a_save_in_the_window_is_never_displaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 platform: str) -> None:
    """A save in the window is put back in place, whatever the caller does with `displaced`."""
    path = tmp_path / "a.po"
    path.write_bytes(b"old")
    tmp = _stage(path, b"merged from old")
    monkeypatch.setattr(files, "_before_exchange", lambda target: target.write_bytes(b"saved"))
    displaced: list[str] = []
    assert files.replace_if_unchanged(tmp, path, b"old", displaced=displaced) == b"saved"
    assert displaced == [] and path.read_bytes() == b"saved"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.po"]


def test_delete_files_waits_and_skips_what_is_gone(tmp_path: Path) -> None:
    names = []
    for i in range(50):
        (tmp_path / f"f{i}").write_bytes(b"x" * i)
        names.append(str(tmp_path / f"f{i}"))
    names.append(str(tmp_path / "never-there"))
    (tmp_path / "kept").write_bytes(b"k")
    wait = files.delete_files(names)
    wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
    files.delete_files([])()  # nothing to delete: nothing to wait for


def test_delete_files_reports_an_error_when_waited_for(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    wait = files.delete_files([str(tmp_path / "folder")])  # (unlink of a folder fails)
    with pytest.raises(OSError):
        wait()


def test_a_save_in_the_window_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      platform: str) -> None:
    """The translator saves after the caller read the file and before the replacement."""
    path = tmp_path / "a.po"
    path.write_bytes(b"old")
    tmp = _stage(path, b"merged from old")

    def translator_saves(target: Path) -> None:
        target.write_bytes(b"translator's save")

    monkeypatch.setattr(files, "_before_exchange", translator_saves)
    current = files.replace_if_unchanged(tmp, path, b"old")
    assert current == b"translator's save"
    assert path.read_bytes() == b"translator's save"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.po"]


def test_a_save_replacing_the_file_by_rename_is_kept(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Editors save by renaming a new file over the old one: the exchange still sees it."""
    if files._load_renameat2() is None:
        pytest.skip("renameat2 is not available on this platform")
    path = tmp_path / "a.po"
    path.write_bytes(b"old")
    tmp = _stage(path, b"merged")

    def editor_saves(target: Path) -> None:
        other = target.with_name("poedit-save")
        other.write_bytes(b"saved by Poedit")
        os.replace(other, target)

    monkeypatch.setattr(files, "_before_exchange", editor_saves)
    assert files.replace_if_unchanged(tmp, path, b"old") == b"saved by Poedit"
    assert path.read_bytes() == b"saved by Poedit"


def test_a_new_file_never_replaces_one_created_meanwhile(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         platform: str) -> None:
    path = tmp_path / "new.po"
    tmp = _stage(path, b"ours")
    monkeypatch.setattr(files, "_before_exchange", lambda target: target.write_bytes(b"theirs"))
    assert files.replace_if_unchanged(tmp, path, None) == b"theirs"
    assert path.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.po"]


def test_a_file_removed_meanwhile_is_written_anew(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  platform: str) -> None:
    path = tmp_path / "a.po"
    path.write_bytes(b"old")
    tmp = _stage(path, b"new")
    monkeypatch.setattr(files, "_before_exchange", lambda target: target.unlink())
    assert files.replace_if_unchanged(tmp, path, b"old") is None
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.po"]


# --- stale temporaries ---------------------------------------------------------------------


def test_only_old_temporaries_of_the_pattern_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".a.po.abcd1234.tmp"
    fresh = tmp_path / ".a.po.efgh5678.tmp"
    other = tmp_path / ".a.po.swp"
    for p in (stale, fresh, other):
        p.write_bytes(b"x")
    old = time.time() - 60
    os.utime(stale, (old, old))
    since = time.time_ns() - 30 * 10**9
    assert files.remove_stale_temporaries(tmp_path, (".a.po.*.tmp",), since) == [stale]
    assert not stale.exists() and fresh.exists() and other.exists()


def _age(path: Path) -> None:
    old = time.time() - 3600
    os.utime(path, (old, old))


def test_xliff_import_removes_the_temporary_of_a_killed_run(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    po = root / "locales" / "ru" / "news.po"
    xlf = tmp_path / "news.xlf"
    exported = run_transflow(root, "xliff", "export", "ru", "news", "-o", str(xlf))
    assert exported.returncode == 0, exported.stderr
    leftover = po.with_name(".news.po.k1ll3d_x.tmp")
    leftover.write_bytes(b"")
    _age(leftover)
    result = run_transflow(root, "xliff", "import", "ru", "news", str(xlf))
    assert result.returncode == 0, result.stderr
    assert not leftover.exists()
    assert po.is_file()


def test_glossary_import_leaves_no_temporary_folder_and_cleans_a_killed_run(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    leftover = root / ".glossary.toml.k1ll3d_x.tmp"
    leftover.write_bytes(b"half")
    _age(leftover)
    tbx = tmp_path / "g.tbx"
    exported = run_transflow(root, "glossary", "export", "-o", str(tbx))
    assert exported.returncode == 0, exported.stderr
    result = run_transflow(root, "glossary", "import", str(tbx))
    assert result.returncode == 0, result.stderr
    assert not leftover.exists()
    assert not list(root.glob(".glossary.toml.*"))


# --- a real full disk, a real permission denial ---------------------------------------------


def _tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at `where` (needs root and mount permission; skipped otherwise)."""
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, to be filled up."""
    yield from _tmpfs(tmp_path / "disk", "size=256k")


def test_disk_full_names_the_file_and_leaves_nothing(small_disk: Path) -> None:
    target = small_disk / "big.po"
    target.write_bytes(b"old content")
    with pytest.raises(OSError) as caught:
        files.atomic_write(target, b"x" * (1 << 20))
    assert caught.value.filename == str(target)
    line = files.describe_os_error(caught.value)
    assert line.startswith(f"{target}: ") and "free some space" in line
    assert target.read_bytes() == b"old content"
    assert sorted(p.name for p in small_disk.iterdir()) == ["big.po"]


def test_extract_on_a_full_disk_fails_with_one_line_naming_a_catalogue(tmp_path: Path,
                                                                        small_disk: Path) -> None:
    root = make_project(tmp_path / "p")
    locales = root / "locales"
    shutil.copytree(locales, small_disk / "locales")
    shutil.rmtree(locales)
    os.symlink(small_disk / "locales", locales)
    fd = os.open(small_disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk up
        while True:
            os.write(fd, b"\0" * 1024)
    except OSError:
        pass
    finally:
        os.close(fd)
    (root / "source" / "news.html").write_text(
        (root / "source" / "news.html").read_text("utf-8").replace("First item", "First point"),
        "utf-8")
    result = run_transflow(root, "extract", timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert ".tmp" not in lines[0] and "free some space" in lines[0], lines[0]
    assert lines[0].startswith("locales/") or "/locales/" in lines[0], lines[0]
    assert not list(small_disk.rglob(".*.tmp")), "a temporary was left on the full disk"



@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    """A read-only tmpfs."""
    yield from _tmpfs(tmp_path / "ro", "size=64k,ro")


def test_read_only_file_system_names_the_folder(read_only_disk: Path) -> None:
    with pytest.raises(OSError) as caught:
        files.atomic_write(read_only_disk / "a.po", b"x")
    assert files.describe_os_error(caught.value) == (
        f"{read_only_disk / 'a.po'}: {read_only_disk}/ is on a read-only file system")


def test_permission_denied_as_an_unprivileged_user(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run a child as the unprivileged user 'nobody'")
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(folder, 0o755)  # owned by root: nobody may not create files in it
    code = ("import sys; from pathlib import Path; from transflow import files\n"
            "try:\n files.atomic_write(Path(sys.argv[1]), b'x')\n"
            "except OSError as e:\n print(files.describe_os_error(e))\n")
    src = Path(files.__file__).resolve().parents[1]
    try:
        done = subprocess.run([sys.executable, "-c", code, str(folder / "a.po")],
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PYTHONPATH=str(src)), user=65534)
    except PermissionError as e:
        pytest.skip(f"cannot start Python as nobody here: {e}")
    if done.returncode != 0 and not done.stdout:
        pytest.skip(f"Python is not usable by nobody here: {done.stderr.strip()[:200]}")
    assert done.stdout.strip() == (f"{folder / 'a.po'}: permission denied: "
                                   f"check the permissions of {folder}/")
    assert list(folder.iterdir()) == []


def test_extract_keeps_a_save_that_lands_in_the_rename_window(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The save lands after extract's last stamp check, just before the replacement (the
    window SECURITY.md used to document): the translator's msgstr and the new source entry
    are both in the result, in both languages."""
    import transflow.extract as extract_mod
    from transflow.catalog import read_catalog, render_catalog
    from transflow.project import read_project

    root = make_project(tmp_path / "news")
    project = read_project(root / "transflow.toml")
    source = root / "source" / "news.html"
    source.write_text(source.read_text("utf-8").replace(
        "<ul>", "<p>A paragraph added by the editor.</p>\n<ul>"), "utf-8")
    saved: dict[Path, str] = {}

    def translator_saves(path: Path) -> None:
        if path in saved or path.suffix != ".po":
            return
        po = read_catalog(path)
        entry = po.find("First item")
        assert entry is not None
        entry.msgstr = f"saved in the window ({path.parent.name})"
        path.write_text(render_catalog(po), "utf-8")  # as an editor that writes in place
        saved[path] = entry.msgstr

    monkeypatch.setattr(files, "_before_exchange", translator_saves)
    extract_mod.extract_project(project, project.articles())
    assert len(saved) == 2
    for path, msgstr in saved.items():
        po = read_catalog(path)
        assert po.find("First item").msgstr == msgstr  # type: ignore[union-attr]
        assert po.find("A paragraph added by the editor.") is not None
    assert not list((root / "locales").rglob(".*.tmp"))


def test_extract_into_a_folder_it_may_not_write(tmp_path: Path) -> None:
    """A real EACCES through the real command: as root without the capability that bypasses
    file permissions (setpriv), or as an ordinary user; skipped where neither is possible."""
    root = make_project(tmp_path / "p")
    source = root / "source" / "news.html"
    source.write_text(source.read_text("utf-8").replace("First item", "First point"), "utf-8")
    folder = root / "locales" / "ru"
    before = {p: p.read_bytes() for p in (root / "locales").rglob("*.po*")}
    os.chmod(folder, 0o555)
    try:
        cmd = [sys.executable, "-m", "transflow", "-C", str(root), "extract"]
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("root, and no setpriv to drop CAP_DAC_OVERRIDE")
            cmd = ["setpriv", "--inh-caps=-all", "--ambient-caps=-all",
                   "--bounding-set=-dac_override,-dac_read_search", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, NO_COLOR="1"), cwd=root)
    finally:
        os.chmod(folder, 0o755)
    if done.returncode == 0:
        pytest.skip("permissions are not enforced for this user here")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0] == ("locales/ru/news.po: permission denied: "
                        "check the permissions of locales/ru/"), lines[0]
    assert not list(folder.glob(".*.tmp"))
    assert {p: p.read_bytes() for p in (root / "locales").rglob("*.po*")} == before  # all or none
