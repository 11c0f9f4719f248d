"""Progress reporting as a plain callable, so library code never imports click."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager as ContextManager
from typing import Any, TypeVar

T = TypeVar("T")

# progress(items, label) -> context manager yielding an iterable over the same items.
Progress = Callable[[Sequence[Any], str], ContextManager[Iterable[Any]]]


def no_progress(items: Sequence[T], label: str) -> ContextManager[Iterable[T]]:
    """The silent progress: iterate the items as they are."""
    return contextlib.nullcontext(items)
