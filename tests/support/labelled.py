"""Builders for labelled-image archives: scans of handwritten characters, zipped in the
layouts the lab imports (a folder per character, or a manifest)."""

import io
import json
import zipfile
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from classifier.ml import fonts

# Handwriting-like families where installed (the first one found is used).
HAND_FAMILIES = ("NanumPen", "NanumBrush", "UnPilgi", "NanumBarunpen")


@cache
def _font():
    found = fonts.find_hangul_fonts()
    hand = [f for f in found if f.name.startswith(HAND_FAMILIES)]
    return (hand or found)[0]


def scan_of(char, *, fmt="PNG", side=96, shift=0) -> bytes:
    """A scan of ``char`` written in dark ink on white paper (``shift`` moves it a little,
    so two writers' scans differ)."""
    font = _font()
    image = Image.new("L", (side, side), 245)
    pil_font = ImageFont.truetype(str(font.path), int(side * 0.6), index=font.index)
    centre = (side / 2 + shift, side / 2 - shift)
    ImageDraw.Draw(image).text(centre, char, font=pil_font, fill=30, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def write_zip(path, members: dict):
    """A zip archive at ``path`` holding ``members`` (name -> bytes or text)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def folders_zip(path, chars="가나다", writers=("w1", "w2"), per_writer=2, extra=None):
    """Layout A with writer folders: ``<char>/<writer>/<n>.png``, plus ``extra`` members."""
    members = {
        f"{char}/{writer}/{n}.png": scan_of(char, shift=index + n)
        for char in chars
        for index, writer in enumerate(writers)
        for n in range(per_writer)
    }
    return write_zip(path, {**members, **(extra or {})})


def manifest_zip(path, rows, *, kind="csv", images=None, encoding="utf-8"):
    """Layout B: the images named by ``rows`` (``(file, char, writer)``; writer may be
    None) drawn as their character, and a manifest of them (``labels.csv`` or
    ``labels.json``); ``images`` adds or replaces members."""
    members = {file: scan_of(char or "가", shift=n % 5) for n, (file, char, _w) in enumerate(rows)}
    if kind == "csv":
        with_writer = any(writer is not None for *_rest, writer in rows)
        lines = ["file,char,writer" if with_writer else "file,char"]
        for file, char, writer in rows:
            lines.append(f"{file},{char},{writer or ''}" if with_writer else f"{file},{char}")
        members["labels.csv"] = ("\n".join(lines) + "\n").encode(encoding)
    else:
        entries = [
            {"file": file, "char": char, **({"writer": writer} if writer is not None else {})}
            for file, char, writer in rows
        ]
        members["labels.json"] = json.dumps(entries, ensure_ascii=False).encode()
    return write_zip(path, {**members, **(images or {})})
