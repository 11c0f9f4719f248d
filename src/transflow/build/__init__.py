"""`transflow build` (SPEC §7): translated pages spliced into the source's own text.

- `template`: a source page → its text cut at the places a language changes (slots);
- `render`: a template + a catalogue → one page in one language;
- `catalogs`: usable translations by msgid, and how complete a catalogue is;
- `manifest`: what the last build saw, one fixed-size record per article (build/.cache);
- `caches`: build/.cache (compiled templates), damage and leftovers handled;
- `project`: every article in every language, incrementally (hashing, workers);
- `results`: what happened to each page, the report.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from transflow.build.project import PARALLEL_MIN_ARTICLES, build_project
from transflow.build.results import BuildReport, PageResult

if TYPE_CHECKING:
    from transflow.build.catalogs import PageStats, Translation
    from transflow.build.render import PageSettings, language_name, localise_time, render_page
    from transflow.build.template import CompiledTemplate, make_template

# The page machinery (lxml, Babel, the segmenter: ~30 ms of imports) is loaded when first used,
# so that a build with nothing to rebuild does not pay for it.
_LAZY = {"PageStats": "catalogs", "Translation": "catalogs", "PageSettings": "render",
         "language_name": "render", "localise_time": "render", "render_page": "render",
         "CompiledTemplate": "template", "make_template": "template"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"transflow.build.{module}"), name)


__all__ = [
    "PARALLEL_MIN_ARTICLES", "BuildReport", "CompiledTemplate", "PageResult", "PageSettings",
    "PageStats", "Translation", "build_project", "language_name", "localise_time",
    "make_template", "render_page",
]
