"""A sequence whose items are made when they are read (packed state in, tuples out).

Extract's report, the memory's list of catalogues and its read jobs are each 20,000–30,000
items at 10,000 articles: kept as objects they were megabytes of a process (and of every
process forked from it); made on demand from what is packed they cost nothing until read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class LazySequence(Sequence[T]):
    """Subclasses give `__len__` and `_item(i)` (0 <= i < len); indexes, negative indexes,
    slices (a list of the items) and `IndexError` are handled here once."""

    def _item(self, i: int) -> T:
        raise NotImplementedError

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._item(index)

    def __iter__(self) -> Iterator[T]:
        for i in range(len(self)):
            yield self._item(i)
