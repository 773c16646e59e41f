"""Tiny TrueType fonts built on the spot (every character one rectangle), and files of them."""

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont

from classifier.ml.charsets import ks_x_1001


def build_font(
    family: str,
    style: str = "Regular",
    *,
    typographic: tuple[str, str] | None = None,
    chars: str | None = None,
    box: tuple[int, int, int, int] = (100, 0, 500, 800),
    empty: str = "",
) -> TTFont:
    """A tiny TrueType font whose every character is one rectangle (``box``, font units).

    It maps ``chars`` (default: all of KS X 1001) and names itself ``family``/``style``
    (name IDs 1/2), plus typographic names (IDs 16/17) when given. The characters of
    ``empty`` map to a glyph without ink, as 쏀 does in Baekmuk Dotum.
    """
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "box", "empty"])
    mapped = ks_x_1001() if chars is None else chars
    builder.setupCharacterMap({ord(char): "empty" if char in empty else "box" for char in mapped})
    left, bottom, right, top = box
    pen = TTGlyphPen(None)
    pen.moveTo((left, bottom))
    pen.lineTo((left, top))
    pen.lineTo((right, top))
    pen.lineTo((right, bottom))
    pen.closePath()
    builder.setupGlyf(
        {".notdef": TTGlyphPen(None).glyph(), "box": pen.glyph(), "empty": TTGlyphPen(None).glyph()}
    )
    builder.setupHorizontalMetrics({".notdef": (600, 0), "box": (600, left), "empty": (600, 0)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    names = {"familyName": family, "styleName": style}
    if typographic:
        names |= {"typographicFamily": typographic[0], "typographicSubfamily": typographic[1]}
    builder.setupNameTable(names)
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    return builder.font


def write_font(path: Path, *faces: TTFont) -> Path:
    """Save one face as a font file, or several as a collection (.ttc)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(faces) == 1:
        faces[0].save(path)
    else:
        collection = TTCollection()
        collection.fonts = list(faces)
        collection.save(path)
    return path
