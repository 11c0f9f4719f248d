"""Line breaking as GNU gettext 0.21 does it through libunistring 1.0 (UAX #14, pair-table style).

`msgcat` wraps PO strings with libunistring's `ulc_width_linebreaks`; this module reproduces it
for UTF-8 text from a table derived from the library itself (`data/linebreak.txt`), so that
transflow writes catalogues byte-identical to gettext's without needing libunistring at run time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from importlib import resources

# Break opportunities, with libunistring's numbering.
BREAK_UNDEFINED = 0  # no override (gettext's overrides array)
BREAK_PROHIBITED = 1
BREAK_POSSIBLE = 2
BREAK_MANDATORY = 3

# Classes handled outside the pair table, as libunistring does.
_SPECIAL = ("SP", "CM", "ZWJ", "ZW", "BK")


class _Tables:
    """The class of every code point, the pair table and the column widths."""

    def __init__(self, text: str) -> None:
        names: list[str] = []
        rows: dict[str, str] = {}
        ranges: list[tuple[int, int, str]] = []
        widths: list[tuple[int, int, int]] = []
        for line in text.splitlines():
            if not line or line[0] == "#":
                continue
            kind, *rest = line.split()
            if kind == "K":
                names = rest
            elif kind == "P":
                rows[rest[0]] = rest[1]
            elif kind == "C":
                ranges.append((int(rest[0], 16), int(rest[1], 16), rest[2]))
            elif kind == "W":
                widths.append((int(rest[0], 16), int(rest[1], 16), int(rest[2])))
        self.names = names + list(_SPECIAL)
        index = {name: i for i, name in enumerate(self.names)}
        self.SP, self.CM, self.ZWJ, self.ZW, self.BK = (index[n] for n in _SPECIAL)
        self.ID, self.AL, self.HL, self.NU = index["ID"], index["AL"], index["HL"], index["NU"]
        self.HY, self.BA, self.RI = index["HY"], index["BA"], index["RI"]
        cls = bytearray([self.AL]) * 0x110000
        for first, last, name in ranges:
            cls[first : last + 1] = bytes([index[name]]) * (last - first + 1)
        self.cls = bytes(cls)
        # pair[a * n + b]: 0 direct, 1 indirect (only after spaces), 2 prohibited.
        n = len(self.names)
        self.n = n
        code = {"D": 0, "I": 1, "P": 2}
        pair = bytearray([2]) * (n * n)
        for a, row in rows.items():
            for j, mark in enumerate(row):
                pair[index[a] * n + j] = code[mark]
        self.pair = bytes(pair)
        # Column widths, stored +1 so that a control character (-1) fits in a byte.
        width = bytearray([2]) * 0x110000
        for first, last, w in widths:
            width[first : last + 1] = bytes([w + 1]) * (last - first + 1)
        self.width = bytes(width)


@functools.lru_cache(maxsize=1)
def _tables() -> _Tables:
    text = resources.files("transflow").joinpath("data/linebreak.txt").read_text("utf-8")
    return _Tables(text)


def char_width(ch: str) -> int:
    """Columns a character takes, as libunistring's `uc_width` says (-1 for controls)."""
    return _tables().width[ord(ch)] - 1


def text_width(text: str) -> int:
    """Columns a string takes (controls count 0), e.g. `text_width("日本") == 4`."""
    if text.isascii():
        return len(text) - sum(1 for c in text if c < " " or c == "\x7f")
    width = _tables().width
    return sum(w - 1 for w in map(width.__getitem__, map(ord, text)) if w)


def possible_linebreaks(text: str) -> list[int]:
    """Break opportunities before each character, as libunistring 1.0's `u32_possible_linebreaks`."""
    t = _tables()
    cls, pair, n = t.cls, t.pair, t.n
    SP, CM, ZWJ, ZW, BK, AL = t.SP, t.CM, t.ZWJ, t.ZW, t.BK, t.AL
    HL, HY, BA, RI = t.HL, t.HY, t.BA, t.RI
    out = [BREAK_PROHIBITED] * len(text)
    last = BK  # class of the last character that is not a space or combining mark
    after_zwj = False  # the immediately preceding character is a zero-width joiner
    hl_hyphen = False  # this character follows Hebrew + hyphen directly (LB21a)
    seen_space = False
    prev = BK  # class of the immediately preceding character
    ri_run = 0  # regional indicators immediately before this character (LB30a)
    for i, ch in enumerate(text):
        prop = cls[ord(ch)]
        before, prev = prev, prop
        ri_count, ri_run = ri_run, (ri_run + 1 if prop == RI else 0)
        hl_rule, hl_hyphen = hl_hyphen, False
        if prop == BK:
            out[i] = BREAK_MANDATORY
            last = BK
            seen_space = after_zwj = False
            continue
        if prop == SP:
            seen_space = True
            after_zwj = False
            continue
        if prop == ZW:
            last = ZW
            seen_space = after_zwj = False
            continue
        if prop == CM or prop == ZWJ:
            if last == BK:
                last = AL
            elif last == ZW or seen_space:
                if not after_zwj:
                    out[i] = BREAK_POSSIBLE
                last = AL
            seen_space = False
            after_zwj = prop == ZWJ
            continue
        if last == BK or after_zwj:
            pass
        elif last == ZW:
            out[i] = BREAK_POSSIBLE
        elif hl_rule:
            pass
        elif last == RI and prop == RI and not seen_space:
            if ri_count % 2 == 0:
                out[i] = BREAK_POSSIBLE
        else:
            rule = pair[last * n + prop]
            if rule == 0 or (rule == 1 and seen_space):
                out[i] = BREAK_POSSIBLE
        hl_hyphen = (prop == HY or prop == BA) and before == HL
        last = prop
        seen_space = after_zwj = False
    return out


def width_linebreaks(
    text: str, width: int, start_column: int, overrides: list[int] | None = None
) -> list[int]:
    """Where to break `text` to fit `width` columns, as libunistring's `u32_width_linebreaks`.

    Returns BREAK_POSSIBLE before each character where a line break goes, else
    BREAK_PROHIBITED (or BREAK_MANDATORY at line-break characters).
    """
    p = possible_linebreaks(text)
    wtab = _tables().width
    last_p = -1
    last_column = start_column
    piece_width = 0
    for i, ch in enumerate(text):
        if overrides is not None and overrides[i] != BREAK_UNDEFINED:
            p[i] = overrides[i]
        if p[i] == BREAK_POSSIBLE or p[i] == BREAK_MANDATORY:
            if last_p >= 0 and last_column + piece_width > width:
                p[last_p] = BREAK_POSSIBLE
                last_column = 0
        if p[i] == BREAK_MANDATORY:
            last_p = -1
            last_column = 0
            piece_width = 0
        else:
            if p[i] == BREAK_POSSIBLE:
                last_p = i
                last_column += piece_width
                piece_width = 0
            p[i] = BREAK_PROHIBITED
            w = wtab[ord(ch)] - 1
            if w > 0:
                piece_width += w
    if last_p >= 0 and last_column + piece_width > width:
        p[last_p] = BREAK_POSSIBLE
    return p


# Blocks searched for one-column characters of ordinary break classes: a compact regex over
# them answers `is_simple` for Latin, Cyrillic and Georgian text at C speed.
_COMMON_BLOCKS = (
    (0x20, 0x7E), (0xA0, 0x2FF), (0x370, 0x52F), (0x10A0, 0x10FF), (0x1C90, 0x1CBF),
    (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F),
)  # fmt: skip


def _common_class(accept: Callable[[int], bool]) -> str:
    """A regex character class of the characters of `_COMMON_BLOCKS` that `accept` takes."""
    t = _tables()
    ranges: list[tuple[int, int]] = []
    for first, last in _COMMON_BLOCKS:
        start = -1
        for cp in range(first, last + 2):
            ok = cp <= last and t.width[cp] == 2 and accept(t.cls[cp])
            if ok and start < 0:
                start = cp
            elif not ok and start >= 0:
                ranges.append((start, cp - 1))
                start = -1
    return "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


@functools.lru_cache(maxsize=1)
def _common_simple() -> re.Pattern[str]:
    """A regex matching runs of common characters that `is_simple` accepts."""
    t = _tables()
    special = {t.CM, t.ZWJ, t.ZW, t.BK, t.RI, t.HL}
    return re.compile("[" + _common_class(lambda c: c not in special) + "]*")


@functools.lru_cache(maxsize=1)
def _not_plain() -> re.Pattern[str]:
    """A character that is not a one-column letter or digit (AL, NU): those never break
    between each other without a space, so a run of them needs no look."""
    t = _tables()
    return re.compile("[^" + _common_class(lambda c: c == t.AL or c == t.NU) + "]")


def is_simple(text: str) -> bool:
    """True when every character is one column wide and of a class the fast path handles."""
    if text.isascii():
        return text.isprintable()
    if _common_simple().fullmatch(text):
        return True
    t = _tables()
    special = {t.CM, t.ZWJ, t.ZW, t.BK, t.RI, t.HL}
    width, cls = t.width, t.cls
    return all(width[cp] == 2 and cls[cp] not in special for cp in map(ord, text))


def simple_width_cuts(text: str, width: int, start_column: int, prohibited: set[int]) -> list[int]:
    """Where `width_linebreaks` breaks a simple text (see `is_simple`), computed line by line.

    Same result as the full algorithm, but the work is per line rather than per character:
    in a simple text a break opportunity depends only on the last non-space character.
    """
    t = _tables()
    cls, pair, n_cls, SP = t.cls, t.pair, t.n, t.SP
    n = len(text)

    def opportunity(i: int) -> bool:
        ci = cls[ord(text[i])]
        if ci == SP or i in prohibited:
            return False
        j = i - 1
        while j >= 0 and cls[ord(text[j])] == SP:
            j -= 1
        if j < 0:
            return False
        rule = pair[cls[ord(text[j])] * n_cls + ci]
        return rule == 0 or (rule == 1 and j < i - 1)

    not_plain = _not_plain()

    def last_opportunity(begin: int, hi: int) -> int:
        """The last break opportunity in (begin, hi], or -1."""
        while hi > begin:
            sp = text.rfind(" ", begin, hi + 1)
            if sp == hi:
                hi -= 1
                continue
            lo = max(sp + 1, begin + 1)
            if not_plain.search(text, lo, hi + 1):
                for i in range(hi, lo - 1, -1):
                    if opportunity(i):
                        return i
            elif sp >= begin:
                # The usual case: a plain word after spaces; only its start may break.
                if lo not in prohibited:
                    j = sp - 1
                    while j >= 0 and text[j] == " ":
                        j -= 1
                    if j >= 0 and pair[cls[ord(text[j])] * n_cls + cls[ord(text[lo])]] != 2:
                        return lo
            elif opportunity(lo):
                return lo
            if sp < 0:
                break
            hi = sp - 1
        return -1

    cuts: list[int] = []
    begin, column = 0, start_column
    while column + (n - begin) > width:
        limit = min(begin + width - column, n - 1)
        cut = last_opportunity(begin, limit)
        if cut < 0:
            # The first piece is longer than the line: it overflows, the break goes after it.
            for i in range(max(limit + 1, begin + 1), n):
                if opportunity(i):
                    cut = i
                    break
            if cut < 0:
                break
        cuts.append(cut)
        begin, column = cut, 0
    return cuts


# --- regenerating the table (a maintainer's tool: needs libunistring, never used at run time) ---

# One character per class; each code point's class is found by comparing how libunistring
# breaks it next to these with how it breaks the representatives themselves.
_REPRESENTATIVES = {
    "CM": "\u0301", "WJ": "\u2060", "ZW": "\u200b", "GL": "\u00a0", "SP": " ", "B2": "\u2014",
    "BA": "\u2010", "HY": "-", "BB": "\u00b4", "CL": "}", "CP": ")", "EX": "!", "IN": "\u2026",
    "NS": "\u203c", "OP": "(", "QU": "'", "IS": ",", "NU": "0", "PO": "%", "PR": "$", "SY": "/",
    "AL": "a", "H2": "\uac00", "H3": "\uac01", "HL": "\u05d0", "ID": "\u4e00", "JL": "\u1100",
    "JV": "\u1160", "JT": "\u11a8", "RI": "\U0001f1e6", "ZWJ": "\u200d", "EB": "\u261d",
    "EM": "\U0001f3fb", "BK": "\u2028", "OPW": "\u3008",
}  # fmt: skip


def generate_table(library: str = "libunistring.so.2") -> str:  # pragma: no cover
    """The text of `data/linebreak.txt`, derived from the installed libunistring."""
    import ctypes

    lib = ctypes.CDLL(library)
    lib.u32_possible_linebreaks.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                            ctypes.c_char_p]  # fmt: skip
    lib.uc_width.argtypes = [ctypes.c_uint32, ctypes.c_char_p]

    def breaks(text: str) -> bytes:
        arr = (ctypes.c_uint32 * len(text))(*map(ord, text))
        out = ctypes.create_string_buffer(len(text))
        lib.u32_possible_linebreaks(arr, len(text), b"UTF-8", out)
        return out.raw

    reps = _REPRESENTATIVES
    table_classes = [k for k in reps if k not in _SPECIAL]
    rows = {}
    for a in table_classes:
        row = ""
        for b in table_classes:
            direct = breaks(reps[a] + reps[b])[1] == BREAK_POSSIBLE
            spaced = breaks(reps[a] + " " + reps[b])[2] == BREAK_POSSIBLE
            row += "D" if direct else "I" if spaced else "P"
        rows[a] = row
    probes = [reps[k] for k in table_classes] + [" ", "\u0301", "\u200b", "\u200d"]

    def fingerprint_text(ch: str) -> str:
        return "\u2028".join([
            "".join(r + ch for r in probes) + "a",
            "".join(r + " " + ch + " " for r in probes) + "a",
            "".join(r + ch + ch for r in probes) + "a",
        ])  # fmt: skip

    def fingerprints(cps: list[int]) -> list[bytes]:
        parts = [fingerprint_text(chr(c)) for c in cps]
        raw = breaks("\u2028".join(parts))  # a mandatory break resets the algorithm
        out, pos = [], 0
        for part in parts:
            out.append(raw[pos : pos + len(part)])
            pos += len(part) + 1
        return out

    known = {fingerprints([ord(ch)])[0]: name for name, ch in reps.items()}
    lines = [
        "# Line-break classes and column widths as GNU libunistring 1.0 (used by gettext 0.21's",
        "# msgcat) applies them to UTF-8 text, derived from its u32_possible_linebreaks and "
        "uc_width.",
        "# P <class> <row of the pair table: D direct break, I break only after spaces, P "
        "prohibited>",
        "# C <first> <last> <class> (hex code points; unlisted: AL)   W <first> <last> <columns>",
        "K " + " ".join(sorted(table_classes)),
    ]
    lines += [f"P {a} {''.join(rows[a][table_classes.index(b)] for b in sorted(table_classes))}"
              for a in sorted(table_classes)]  # fmt: skip
    classes: list[str] = []
    for start in range(0, 0x110000, 512):
        cps = [c for c in range(start, start + 512) if not 0xD800 <= c < 0xE000]
        fps = dict(zip(cps, fingerprints(cps), strict=True))
        classes += [known.get(fps[c], "AL") if c in fps else "AL" for c in range(start, start + 512)]
    widths = [lib.uc_width(c, b"UTF-8") for c in range(0x110000)]
    for values, kind, default in ((classes, "C", "AL"), (widths, "W", 1)):
        first = 0
        for cp in range(1, 0x110001):
            if cp == 0x110000 or values[cp] != values[first]:
                if values[first] != default:
                    lines.append(f"{kind} {first:X} {cp - 1:X} {values[first]}")
                first = cp
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(generate_table())
