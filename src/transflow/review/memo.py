"""A bounded memo that keeps what recurs, for the review's per-process caches.

A newsroom's catalogues repeat a few hundred texts on every page (menus, footers, bylines)
among tens of thousands that occur once. A memo that keeps everything until it is full and
then forgets everything holds mostly one-off texts (the review's workers once held 140 MB of
them) and recomputes the boilerplate after each clearing. Here, when the memo is full, the
entries used again since the last sweep survive and the others go: the boilerplate stays, the
memory stays bounded by `size`.
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    """At most about `size` entries; a sweep keeps those looked up since the previous one.

    >>> m: Memo[str, int] = Memo(2)
    >>> m.put("menu", 1); m.put("once", 2)
    >>> m.get("menu")
    1
    >>> m.put("other", 3)  # full: "menu" was used again, "once" was not
    >>> m.get("once") is None, m.get("menu"), m.get("other")
    (True, 1, 3)
    """

    __slots__ = ("_data", "size")

    def __init__(self, size: int) -> None:
        self._data: dict[K, list[object]] = {}  # key → [value, used since the last sweep]
        self.size = size

    def get(self, key: K) -> V | None:
        """The value remembered for `key`, or None."""
        slot = self._data.get(key)
        if slot is None:
            return None
        slot[1] = True
        return slot[0]  # type: ignore[return-value]

    def put(self, key: K, value: V) -> None:
        """Remember `value` for `key` (sweeping first when the memo is full)."""
        data = self._data
        if len(data) >= self.size:
            kept = {k: slot for k, slot in data.items() if slot[1]}
            if len(kept) > self.size // 2:  # mostly recurring: make room anyway
                kept = {}
            for slot in kept.values():
                slot[1] = False
            self._data = data = kept
        data[key] = [value, False]

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
