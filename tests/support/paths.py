"""Where things are."""

from pathlib import Path

#: The repository's root folder.
REPO = Path(__file__).resolve().parents[2]
