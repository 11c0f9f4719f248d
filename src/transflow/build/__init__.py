"""`transflow build` (SPEC §7): translated pages spliced into the source's own text.

- `template`: a source page → its text cut at the places a language changes (slots);
- `render`: a template + a catalogue → one page in one language;
- `catalogs`: usable translations by msgid, and how complete a catalogue is;
- `caches`: build/.cache (manifest, compiled templates), damage and leftovers handled;
- `project`: every article in every language, incrementally (hashing, workers);
- `results`: what happened to each page, the report.
"""

from transflow.build.catalogs import PageStats, Translation
from transflow.build.project import PARALLEL_MIN_ARTICLES, build_project
from transflow.build.render import PageSettings, language_name, localise_time, render_page
from transflow.build.results import BuildReport, PageResult
from transflow.build.template import CompiledTemplate, make_template

__all__ = [
    "PARALLEL_MIN_ARTICLES", "BuildReport", "CompiledTemplate", "PageResult", "PageSettings",
    "PageStats", "Translation", "build_project", "language_name", "localise_time",
    "make_template", "render_page",
]
