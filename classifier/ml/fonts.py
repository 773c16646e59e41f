"""Finding the installed Hangul fonts, and naming them by family and style.

A face counts as a Hangul font when its character map covers all 2,350 KS X 1001
syllables, so that every character of the ``ks2350`` set is drawn as a real glyph, never
as a missing-glyph box. Candidates come from fontconfig (``fc-list :lang=ko``) where it is
installed, otherwise from the usual font folders; only their ``name`` and ``cmap`` tables
are read, with fontTools. Fonts come from the operating system (on Debian:
``INSTALL_HINT``); the lab never downloads or ships any.
"""

import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from os import PathLike
from pathlib import Path

from fontTools.ttLib import TTFont

from .charsets import ks_x_1001
from .messages import Refusal, _

INSTALL_HINT = "sudo apt-get install fonts-nanum fonts-unfonts-core fonts-baekmuk"
SYSTEM_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
PLAIN_STYLES = ("regular", "book", "normal", "medium")

_KOREAN_FAMILY = re.compile(r"\b(KR|Korean)\b", re.IGNORECASE)
_SANS_FAMILY = re.compile("sans|gothic|dotum", re.IGNORECASE)


@dataclass(frozen=True)
class HangulFont:
    """One face of a font file that covers KS X 1001; ``index`` picks it in a collection."""

    name: str
    family: str
    style: str
    path: Path
    index: int = 0


def font_name(family: str, style: str) -> str:
    """``NanumGothic`` for a regular face, ``NanumGothic-Bold`` for others; no spaces."""
    name = family.replace(" ", "")
    if style.casefold() not in PLAIN_STYLES:
        name += "-" + style.replace(" ", "")
    return name


def find_hangul_fonts(extra_dirs: Iterable[str | PathLike] = ()) -> list[HangulFont]:
    """Every installed Hangul face (plus those in ``extra_dirs``), one per name, by name.

    Cached per ``extra_dirs``; ``clear_font_cache()`` forgets what was found.
    """
    return list(_find(tuple(str(Path(folder).expanduser()) for folder in extra_dirs)))


def clear_font_cache() -> None:
    """Forget the fonts found so far, e.g. after fonts were installed, or between tests."""
    _find.cache_clear()
    _code_points.cache_clear()


def resolve_fonts(specs: Sequence[str]) -> list[HangulFont]:
    """The fonts ``specs`` name, in order and without repeats; all installed ones if none.

    A spec is a font name as ``find_hangul_fonts`` gives it (any case) or the path of a
    font file. Raises ValueError for an unknown name or path, for a file that is not a
    Hangul font, and when no spec is given and no Hangul font is installed.
    """
    installed = find_hangul_fonts()
    if not specs:
        if not installed:
            raise Refusal(
                _("No Hangul font is installed. Install some with: %(hint)s", hint=INSTALL_HINT)
            )
        return installed
    by_name = {font.name.casefold(): font for font in installed}
    chosen: dict[str, HangulFont] = {}
    for spec in specs:
        known = by_name.get(spec.strip().casefold())
        for font in [known] if known else _fonts_in_file(spec, installed):
            chosen.setdefault(font.name, font)
    return list(chosen.values())


def plot_font() -> HangulFont | None:
    """The face matplotlib should use for Hangul labels, or None without Hangul fonts.

    NanumGothic if installed, else a sans-serif (gothic, dotum) face, regular weight
    first, else the first font found.
    """
    installed = find_hangul_fonts()
    sans = [font for font in installed if _SANS_FAMILY.search(font.family)]
    plain = [font for font in sans if font.style.casefold() in PLAIN_STYLES]
    nanum = [font for font in installed if font.name == "NanumGothic"]
    return next(iter(nanum + plain + sans + installed), None)


def missing_chars(font: HangulFont, chars: Iterable[str]) -> list[str]:
    """The characters of ``chars`` that ``font`` has no glyph for, in order."""
    covered = _code_points(font.path, font.index)
    return [char for char in dict.fromkeys(chars) if ord(char) not in covered]


@cache
def _find(extra_dirs: tuple[str, ...]) -> tuple[HangulFont, ...]:
    candidates: dict[Path, list[int] | None] = {}
    # Folders are scanned also when fontconfig lists no Korean font: it may not know
    # every folder fonts were copied into.
    candidates.update(_fontconfig_candidates() or _scan(SYSTEM_FONT_DIRS))
    for path, faces in _scan(extra_dirs).items():
        candidates.setdefault(path, faces)
    by_name: dict[str, HangulFont] = {}
    for path in sorted(candidates):
        try:
            found = _hangul_faces(path, candidates[path])
        except Exception:
            # One damaged file (fontTools raises many kinds of errors) must not hide
            # every other font.
            continue
        for font in found:
            by_name.setdefault(font.name, font)
    return tuple(sorted(by_name.values(), key=lambda font: font.name))


def _fontconfig_candidates() -> dict[Path, list[int]] | None:
    """The files and faces fontconfig lists as Korean; None without fontconfig."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        listed = subprocess.run(
            [fc_list, "--format=%{file}\t%{index}\n", ":lang=ko"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    candidates: dict[Path, list[int]] = {}
    for line in listed.splitlines():
        file, _, index = line.rpartition("\t")
        if file and index.isdigit():
            # A variable font's named instances are listed as (instance << 16) + face.
            face = int(index) & 0xFFFF
            faces = candidates.setdefault(Path(file), [])
            if face not in faces:
                faces.append(face)
    return candidates


def _scan(folders: Iterable[str]) -> dict[Path, list[int] | None]:
    """Every font file under ``folders``; None: all of the file's faces are candidates."""
    found: dict[Path, list[int] | None] = {}
    for folder in folders:
        root = Path(folder).expanduser()
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.suffix.lower() in FONT_SUFFIXES and path.is_file():
                    found[path] = None
    return found


def _fonts_in_file(spec: str, installed: Sequence[HangulFont]) -> list[HangulFont]:
    """The Hangul faces of the font file ``spec``, with errors a person can act on."""
    # Absolute, so that a worker with another working folder finds the file too.
    path = Path(spec.strip()).expanduser().absolute()
    if not path.is_file():
        if not installed:
            raise Refusal(
                _(
                    "Unknown font %(spec)r, and no Hangul font is installed. "
                    "Install some with: %(hint)s",
                    spec=spec,
                    hint=INSTALL_HINT,
                )
            )
        names = ", ".join(font.name for font in installed)
        raise Refusal(
            _(
                "Unknown font %(spec)r: neither an installed font's name nor a font file. "
                "Installed Hangul fonts: %(names)s.",
                spec=spec,
                names=names,
            )
        )
    try:
        faces = _hangul_faces(path, None)
    except Exception as error:
        raise Refusal(
            _(
                "%(path)s is not a Hangul font: it cannot be read as a font (%(error)s).",
                path=str(path),
                error=str(error),
            )
        ) from None
    if not faces:
        raise Refusal(
            _(
                "%(path)s is not a Hangul font: it lacks glyphs for some of the 2,350 KS X 1001 "
                "syllables.",
                path=str(path),
            )
        )
    return faces


def _hangul_faces(path: Path, indices: list[int] | None) -> list[HangulFont]:
    """The faces of ``path`` (all when ``indices`` is None) that cover KS X 1001.

    A collection that has Korean faces (``Noto Sans CJK KR`` beside the JP, SC and TC
    ones) keeps only those: the others draw the same syllables under other names.
    """
    if indices is None:
        indices = list(range(_face_count(path)))
    needed = {ord(char) for char in ks_x_1001()}
    found = []
    for index in indices:
        with TTFont(path, fontNumber=index, lazy=True) as face:
            if needed <= (face.getBestCmap() or {}).keys():
                names = face["name"]
                family = names.getDebugName(16) or names.getDebugName(1) or path.stem
                style = names.getDebugName(17) or names.getDebugName(2) or "Regular"
                found.append(HangulFont(font_name(family, style), family, style, path, index))
    korean = [font for font in found if _KOREAN_FAMILY.search(font.family)]
    return korean or found


def _face_count(path: Path) -> int:
    """How many faces a font file holds: a collection says so in its header."""
    with path.open("rb") as file:
        header = file.read(12)
    return int.from_bytes(header[8:12], "big") if header[:4] == b"ttcf" else 1


@lru_cache(maxsize=64)
def _code_points(path: Path, index: int) -> frozenset[int]:
    with TTFont(path, fontNumber=index, lazy=True) as face:
        return frozenset((face.getBestCmap() or {}).keys())
