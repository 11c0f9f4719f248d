"""transflow: translation workflow for multilingual newsrooms."""

__version__ = "0.1.0"
