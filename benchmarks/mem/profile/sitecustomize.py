"""cProfile of every process of a run, forked ones included (`cold_extract.py --profile`).

On the path (PYTHONPATH) with `TRANSFLOW_PROFILE=DIR`: each process profiles itself from its
start (or its fork) and dumps `DIR/<role>-<pid>.prof` when it exits, `os._exit` included
(forked children and pool workers leave through it).
"""

import atexit
import cProfile
import os

_DIR = os.environ.get("TRANSFLOW_PROFILE")
if _DIR:
    _state = {"prof": cProfile.Profile(), "role": "main"}
    _real_exit = os._exit

    def _dump() -> None:
        prof = _state["prof"]
        prof.disable()
        prof.dump_stats(os.path.join(_DIR, f"{_state['role']}-{os.getpid()}.prof"))

    def _exit(code: int) -> None:
        try:
            _dump()
        finally:
            _real_exit(code)

    def _after_fork() -> None:
        _state["prof"] = cProfile.Profile()
        _state["role"] = f"child{os.getppid()}"
        _state["prof"].enable()

    os._exit = _exit
    os.register_at_fork(after_in_child=_after_fork)
    atexit.register(_dump)
    _state["prof"].enable()

_TRACE = os.environ.get("TRANSFLOW_TRACEMALLOC")
if _TRACE:
    import tracemalloc

    _real_exit2 = os._exit

    def _snap() -> None:
        if tracemalloc.is_tracing():
            snap = tracemalloc.take_snapshot()
            cur, peak = tracemalloc.get_traced_memory()
            snap.dump(os.path.join(_TRACE, f"{os.getppid()}-{os.getpid()}-{cur}-{peak}.snap"))

    def _exit2(code: int) -> None:
        try:
            _snap()
        finally:
            _real_exit2(code)

    os._exit = _exit2
    os.register_at_fork(after_in_child=lambda: tracemalloc.start(4))
    atexit.register(_snap)
    tracemalloc.start(4)
