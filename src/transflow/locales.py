"""Babel: language tags, names, plural forms, text direction and likely territories."""

from __future__ import annotations

import functools

from babel import Locale, UnknownLocaleError


@functools.cache
def parse_locale(tag: str) -> Locale:
    """Parse a BCP 47 / POSIX tag (`ka`, `pt-BR`, `sr_Latn`); raise ValueError if unknown."""
    try:
        return Locale.parse(tag.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError) as e:
        raise ValueError(f"unknown language code {tag!r}") from e


def is_known_language(tag: str) -> bool:
    """True when Babel's CLDR data knows the tag."""
    try:
        parse_locale(tag)
    except ValueError:
        return False
    return True


def language_name(tag: str, in_locale: str = "en") -> str:
    """English (or `in_locale`) name of a language, e.g. `Georgian`."""
    return parse_locale(tag).get_display_name(in_locale) or tag


def native_name(tag: str) -> str:
    """The language's own name for itself, e.g. `ქართული`."""
    return parse_locale(tag).get_display_name() or tag


@functools.cache
def plural_forms(tag: str) -> str:
    """The `Plural-Forms` header value from CLDR, e.g. `nplurals=2; plural=(n != 1);`."""
    # Imported here: babel.messages pulls in babel.dates and more (~10 ms), and only extract
    # needs plural forms; status, check and build start faster without it.
    from babel.messages.plurals import get_plural

    try:
        return str(get_plural(tag.replace("-", "_")).plural_forms)
    except (ValueError, KeyError):
        return "nplurals=2; plural=(n != 1);"


def text_direction(tag: str) -> str:
    """`rtl` or `ltr`."""
    return "rtl" if parse_locale(tag).character_order == "right-to-left" else "ltr"


def og_locale(tag: str) -> str:
    """The `og:locale` value (`ka_GE`, `ru_RU`, `en_US`) from CLDR likely subtags."""
    loc = parse_locale(tag)
    if loc.territory:
        return f"{loc.language}_{loc.territory}"
    likely = Locale.parse(loc.language, sep="-")
    from babel.core import get_global

    subtags = get_global("likely_subtags")
    full = subtags.get(loc.language)
    territory = full.split("_")[-1] if full else likely.territory
    return f"{loc.language}_{territory}" if territory else loc.language
