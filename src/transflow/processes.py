"""Worker processes that are closed and joined, never terminated while they work.

`multiprocessing.Pool` used as a context manager calls `terminate()` on the way out, also when
a task raised and the other workers are still busy. Killing a worker while it holds one of the
pool's queue locks (sending a large result, taking the next task) leaves the parent waiting on
that lock for ever: a disk-full `extract` (the first failed write raised in a worker) once hung
this way, and `tests/test_processes.py` reproduces it with the standard library alone. Here
the pool is closed and joined instead: queued tasks still run (each fails fast when the
environment is the cause), then the workers exit on their own. Only Ctrl-C terminates.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.pool import Pool


def worker_count(jobs: int, min_jobs: int, most: int = 8) -> int:
    """Processes for `jobs` units of work: 1 under `min_jobs` (starting workers would cost
    more than they save), else one per usable CPU, at most `most`, and at least `min_jobs / 2`
    jobs each.

    >>> worker_count(10, 40)
    1
    """
    if jobs < min_jobs:
        return 1
    return max(1, min(usable_cpus(), jobs // (min_jobs // 2), most))


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity on Linux, else every CPU)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def fork_pool(workers: int) -> Iterator[Pool]:
    """A `fork` process pool that is closed and joined at the end, whatever happened inside."""
    import multiprocessing

    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
    except KeyboardInterrupt:
        pool.terminate()  # the user wants out now; nothing is written after an interrupt
        raise
    finally:
        pool.close()
        pool.join()
