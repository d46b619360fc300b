"""The decks shipped inside the package: the default when QUESTIONS_DIR is unset.

The repository keeps them in its top-level questions/ folder; bot/decks links to it, so
an editable install, a checkout on PYTHONPATH and a wheel (which holds a copy) all find
them as the package's data, from any working directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def shipped_decks_dir() -> Path:
    """The folder of the shipped deck files."""
    return Path(str(files("bot") / "decks"))
