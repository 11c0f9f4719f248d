"""The error root of transflow and the exit codes the CLI maps errors to.

Bad input is a `TransflowError`; `cli.py` catches only these, so a real bug still
shows its traceback while bad input never does. Messages read `path:line: what is wrong`.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_FINDINGS = 1  # check found an error, status under --fail-under, build --strict fell back
EXIT_INPUT = 2  # usage, configuration or input error


class TransflowError(Exception):
    """An error caused by the user's input or environment, reported without a traceback."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.format())

    def __reduce__(self) -> tuple[type, tuple[str, Path | str | None, int | None]]:
        """Pickle with path and line, so errors raised in worker processes arrive whole."""
        return (type(self), (self.message, self.path, self.line))

    def format(self) -> str:
        """Return the one-line `path:line: message` form."""
        if self.path is None:
            return self.message
        where = str(self.path)
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class ConfigError(TransflowError):
    """`transflow.toml` is missing, malformed or invalid."""


class InputError(TransflowError):
    """An input file (HTML, PO, TOML…) cannot be read or parsed."""


class CatalogError(InputError):
    """A PO/POT catalogue is malformed."""


class GlossaryError(InputError):
    """The glossary is malformed or invalid."""


class ConflictError(TransflowError):
    """A file changed on disk while transflow worked on it, or another run holds the lock."""
