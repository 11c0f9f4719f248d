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
import multiprocessing
from collections.abc import Iterator
from multiprocessing.pool import Pool


@contextlib.contextmanager
def fork_pool(workers: int) -> Iterator[Pool]:
    """A `fork` process pool that is closed and joined at the end, whatever happened inside."""
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
    except KeyboardInterrupt:
        pool.terminate()  # the user wants out now; nothing is written after an interrupt
        raise
    finally:
        pool.close()
        pool.join()
