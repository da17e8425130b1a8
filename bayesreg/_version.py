"""The package version (one place; the root and the report read it)."""

__version__ = "0.1.0"
