"""Finding the installed Hangul fonts, and naming them by family and style.

A font counts as Hangul-capable when it has a glyph for every one of the 2,350 KS X 1001
syllables, so any character a data set asks for can be drawn. Fonts come from the
operating system (Debian: fonts-nanum, fonts-unfonts-core, fonts-baekmuk); the lab never
downloads or ships any.
"""

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont, TTLibError

from .charsets import ks_x_1001

INSTALL_HINT = "sudo apt-get install fonts-nanum fonts-unfonts-core fonts-baekmuk"
FONT_DIRS = (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
    "/Library/Fonts", "/System/Library/Fonts", "C:/Windows/Fonts",
)  # fmt: skip
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
PLAIN_STYLES = {"regular", "book", "normal", "medium", "roman"}


@dataclass(frozen=True)
class HangulFont:
    """One face of an installed font file (``index`` picks the face in a collection)."""

    name: str
    family: str
    style: str
    path: Path
    index: int = 0


def _faces(path: Path) -> list[TTFont]:
    if path.suffix.lower() in (".ttc", ".otc"):
        return list(TTCollection(str(path), lazy=True).fonts)
    return [TTFont(str(path), lazy=True)]


def _covers_hangul(face: TTFont) -> bool:
    cmap = face.getBestCmap() or {}
    return all(ord(char) in cmap for char in ks_x_1001())


def _describe(face: TTFont, path: Path, index: int) -> HangulFont:
    names = face["name"]
    family = names.getBestFamilyName() or path.stem
    style = names.getBestSubFamilyName() or "Regular"
    name = family.replace(" ", "")
    if style.lower() not in PLAIN_STYLES:
        name += "-" + style.replace(" ", "")
    return HangulFont(name, family, style, path, index)


def read_font_file(path: Path) -> list[HangulFont]:
    """The Hangul-capable faces of one font file; a collection keeps its Korean faces."""
    try:
        faces = _faces(path)
    except (TTLibError, OSError, AssertionError):
        return []
    found = [_describe(face, path, i) for i, face in enumerate(faces) if _covers_hangul(face)]
    korean = [f for f in found if "KR" in f.family.split() or "Korean" in f.family]
    return korean or found


def _candidate_files() -> list[Path]:
    if shutil.which("fc-list"):
        result = subprocess.run(
            ["fc-list", ":lang=ko", "file"], capture_output=True, text=True, check=False
        )
        files = {Path(line.split(":")[0].strip()) for line in result.stdout.splitlines()}
        if files:
            return sorted(files)
    files = set()
    for folder in FONT_DIRS:
        root = Path(folder).expanduser()
        if root.is_dir():
            files.update(p for p in root.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
    return sorted(files)


@cache
def find_hangul_fonts() -> list[HangulFont]:
    """Every installed Hangul-capable face, one per name, sorted by name (cached)."""
    by_name: dict[str, HangulFont] = {}
    for path in _candidate_files():
        for font in read_font_file(path):
            by_name.setdefault(font.name, font)
    return sorted(by_name.values(), key=lambda font: font.name)


def resolve_fonts(specs: Sequence[str]) -> list[HangulFont]:
    """Fonts named by ``specs`` (installed font names, any case, or font file paths).

    No specs means every installed Hangul font.
    """
    installed = find_hangul_fonts()
    if not specs:
        if not installed:
            raise ValueError(f"No Hangul fonts are installed. Install some: {INSTALL_HINT}")
        return list(installed)
    by_name = {font.name.lower(): font for font in installed}
    chosen = []
    for spec in specs:
        if spec.lower() in by_name:
            chosen.append(by_name[spec.lower()])
            continue
        path = Path(spec).expanduser()
        if not path.is_file():
            available = ", ".join(font.name for font in installed) or "none"
            raise ValueError(f"Unknown font {spec!r}. Installed Hangul fonts: {available}.")
        faces = read_font_file(path)
        if not faces:
            raise ValueError(f"{spec} is not a font with all 2,350 KS X 1001 Hangul syllables.")
        chosen.append(faces[0])
    return list(dict.fromkeys(chosen))


def plot_font() -> HangulFont | None:
    """The face matplotlib uses for Hangul labels: NanumGothic if there, else a gothic one."""
    installed = find_hangul_fonts()
    for preferred in ("NanumGothic", "NanumBarunGothic", "UnDotum", "BaekmukGulim"):
        for font in installed:
            if font.name == preferred:
                return font
    return installed[0] if installed else None
