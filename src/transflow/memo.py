"""A bounded memo that keeps what recurs, for a process's per-text caches (`check`, `glossary`,
`review`).

A newsroom's catalogues repeat a few hundred texts on every page (menus, footers, bylines)
among hundreds of thousands that occur once. A memo that keeps everything until it is full and
then forgets everything holds mostly one-off texts (a cold check's workers once held 15 MB of
them each, at 10,000 articles) and recomputes the boilerplate after each clearing. Here the
memo has two generations: when the current one is full it becomes the previous one, and an
entry of the previous generation that is looked up again moves back into the current one.
What recurs stays; the memory stays bounded by twice `size` entries, whatever the newsroom.

(Review's caches once held 140 MB of one-off texts per worker before they used it.)
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """The current generation, as a dictionary (`get` is dict's own: a hit costs one lookup);
    after a miss, `recall` looks in the previous generation.

    >>> m: Memo[str, int] = Memo(2)
    >>> m.put("menu", 1); m.put("once", 2)
    >>> m.put("other", 3)  # full: a new generation begins
    >>> m.get("menu") is None, m.recall("menu")  # recalled from the previous generation
    (True, 1)
    >>> m.put("more", 4)  # full again: "once" was not used in two generations
    >>> m.recall("once") is None, m.recall("menu"), m.recall("other")
    (True, 1, 3)
    """

    __slots__ = ("size", "_previous")

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._previous: dict[K, V] = {}

    def recall(self, key: K) -> V | None:
        """After `get` missed: the value of the previous generation (current again), or None."""
        value = self._previous.pop(key, None)
        if value is not None:
            self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        """Remember `value` for `key` (a new generation first when this one is full)."""
        if len(self) >= self.size:
            self._previous = dict(self)
            self.clear()
        self[key] = value

    def forget(self) -> None:
        """Forget both generations."""
        self.clear()
        self._previous = {}
