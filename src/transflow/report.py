"""Text / JSON / GitHub renderings of check findings and of status."""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Status renderers (owner: status helper). Findings renderers live in their own section.
# ---------------------------------------------------------------------------
