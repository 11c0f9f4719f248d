"""Worker pools never hang when a task fails while the others are busy (transflow.processes).

The plain `with multiprocessing.Pool(...)` form terminates the workers on the way out; with a
task that raises while others send large results, that hung within 5 runs on the 2-core
development machine (`LOOP` with argument `plain`; run it by hand to see). `fork_pool` closes
and joins instead: the same loop completes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

LOOP = textwrap.dedent("""
    import multiprocessing, time, sys
    from transflow.processes import fork_pool

    def task(i):
        if i == 5:
            raise OSError(28, "No space left on device")
        time.sleep(0.001)
        return b"x" * 100_000

    def plain():
        with multiprocessing.get_context("fork").Pool(4) as pool:
            list(pool.imap(task, range(400), chunksize=8))

    def ours():
        with fork_pool(4) as pool:
            list(pool.imap(task, range(400), chunksize=8))

    run = ours if sys.argv[1] == "ours" else plain
    for _ in range(int(sys.argv[2])):
        try:
            run()
        except OSError:
            pass
        else:
            raise SystemExit("the failing task did not raise")
    print("completed")
""")


def _loop(kind: str, runs: int, timeout: float) -> str:
    try:
        done = subprocess.run([sys.executable, "-c", LOOP, kind, str(runs)], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hung"
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.mark.slow
def test_a_failing_task_never_hangs_the_pool() -> None:
    assert _loop("ours", 40, timeout=240) == "completed"
