"""Reading and writing PHD08 character files, fast and with clear errors.

A PHD08 file holds every sample of one Hangul syllable (the file is named after it,
``가.txt``). A sample is a header such as ``S_0_0_0_0_1`` (a font group and five
degradation indices 0-2), a line ``H W`` (rows, columns), then H rows of exactly W
characters ``0``/``1`` (1 is ink); samples are separated by a blank line. Files come with
CRLF or LF line ends.

A file is parsed in one go. Python only walks the samples' header and size lines,
jumping over each sample's rows by arithmetic; numpy then copies out the rows of all
samples of one size with a single index and checks every pixel and line end of them.
Samples of the same size stay together in one array (a ``ShapeBatch``) so that
converters can process them together.
"""

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import product

import numpy as np

from .messages import Message, Refusal, _

PHD08_GROUPS = ("S", "G", "M", "N", "B", "D", "Y", "H1", "H2")
MAX_BITMAP_SIDE = 512

# Every valid header (9 groups x 3^5 degradations), so one dictionary lookup checks one.
_HEADERS = {
    "_".join((group, *digits)): group
    for group in PHD08_GROUPS
    for digits in product("012", repeat=5)
}
_HEADER_BYTES = {header.encode(): header for header in _HEADERS}
_SIZE_LINE = re.compile(rb"\s*(\d+)\s+(\d+)\s*")
_MAX_SIZE_DIGITS = 6
_FILE_NAME = re.compile("[\uac00-\ud7a3]\\.txt")
_NEWLINE = ord("\n")
_ZERO = ord("0")


class Phd08Error(Refusal):
    """A PHD08 file or file name that cannot be read; the message says where and why."""


@dataclass
class ShapeBatch:
    """The samples of one file that share a size, with their positions in the file."""

    indices: np.ndarray  # int64, (k,): sample numbers in file order
    bitmaps: np.ndarray  # uint8, (k, H, W): 0 background, 1 ink


@dataclass
class Phd08File:
    """A parsed PHD08 file: per-sample headers and groups, pixels batched by size."""

    name: str
    count: int
    headers: list[str]
    groups: list[str]
    batches: list[ShapeBatch]

    def iter_samples(self) -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(header, bitmap)`` for every sample, in file order."""
        bitmaps: list[np.ndarray] = [np.empty(0)] * self.count
        for batch in self.batches:
            for index, bitmap in zip(batch.indices.tolist(), batch.bitmaps, strict=True):
                bitmaps[index] = bitmap
        yield from zip(self.headers, bitmaps, strict=True)


def label_from_filename(name: str) -> str:
    """The syllable a PHD08 file is named after (``.../가.txt`` -> ``가``).

    Folders are ignored and the name is normalised to NFC, since macOS stores Korean
    file names decomposed (NFD). Raises Phd08Error for any other kind of name.
    """
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    if not _FILE_NAME.fullmatch(base):
        raise Phd08Error(
            _(
                "%(name)s is not a PHD08 character file name: expected one Hangul syllable "
                "followed by .txt, such as 가.txt.",
                name=base,
            )
        )
    return base[0]


def parse_phd08(data: bytes, name: str) -> Phd08File:
    """Parse the bytes of a whole PHD08 file; ``name`` is only used in error messages.

    Raises Phd08Error naming the file, the line and the sample for anything that is not
    a well-formed PHD08 file.
    """
    if not data or data.isspace():
        raise _error(name, 1, _("the file is empty; expected PHD08 samples."))
    if not data.isascii():
        offset = int(np.argmax(np.frombuffer(data, np.uint8) > 127))
        raise _error(
            name,
            data.count(b"\n", 0, offset) + 1,
            _(
                "found the byte 0x%(byte)02x, which is not plain ASCII text; a PHD08 "
                "file holds only headers, sizes and rows of 0 and 1.",
                byte=data[offset],
            ),
        )
    # Files use CRLF or LF throughout; taking the line end from the first line spares a
    # pass over the data. A file that mixes them is read again with every CR dropped.
    first_line = data.find(b"\n")
    try:
        return _parse_text(data, name, crlf=first_line > 0 and data[first_line - 1] == 13)
    except Phd08Error:
        if b"\r" not in data:
            raise
    return _parse_text(data.replace(b"\r", b""), name, crlf=False)


def write_phd08(samples: Iterable[tuple[str, np.ndarray]], crlf: bool = False) -> bytes:
    """The bytes of a PHD08 file holding ``samples`` (header, 0/1 bitmap) in that order.

    The layout is that of the distributed files, trailing blank line included, so
    ``parse_phd08`` reads back exactly what was written.
    """
    parts = []
    for header, bitmap in samples:
        pixels = np.asarray(bitmap)
        if header not in _HEADERS:
            raise ValueError(f"{header!r} is not a PHD08 header such as S_0_0_0_0_1.")
        if pixels.ndim != 2 or not all(1 <= side <= MAX_BITMAP_SIDE for side in pixels.shape):
            raise ValueError(f"sample {header}: a bitmap must be 2-D, 1..{MAX_BITMAP_SIDE} a side.")
        if not np.isin(pixels, (0, 1)).all():
            raise ValueError(f"sample {header}: a bitmap may only hold 0 and 1.")
        height, width = pixels.shape
        rows = np.full((height, width + 1), _NEWLINE, dtype=np.uint8)
        rows[:, :width] = pixels.astype(np.uint8) + _ZERO
        parts.append(f"{header}\n{height} {width}\n".encode() + rows.tobytes() + b"\n")
    text = b"".join(parts)
    return text.replace(b"\n", b"\r\n") if crlf else text


def _parse_text(text: bytes, name: str, crlf: bool) -> Phd08File:
    eol = b"\r\n" if crlf else b"\n"
    if not text.endswith(b"\n"):
        text = text.rstrip() + eol
    reader = _Reader(text, name, eol)
    reader.walk()
    by_size: dict[tuple[int, int], list[int]] = {}
    for index, size in enumerate(reader.sizes):
        by_size.setdefault(size, []).append(index)
    buffer = np.frombuffer(text, np.uint8)
    eol_codes = np.frombuffer(eol, np.uint8)
    starts = np.array(reader.row_starts, dtype=np.int64)
    batches = []
    for (height, width), members in by_size.items():
        indices = np.array(members, dtype=np.int64)
        stride = width + len(eol)
        # A view holding, for every byte offset, the block of `height` lines of `stride`
        # bytes that would start there; indexing it with the samples' first-row offsets
        # copies out all their rows at once. walk() made sure every block fits.
        blocks = np.ndarray(
            (len(buffer) - height * stride + 1, height, stride),
            np.uint8,
            buffer,
            strides=(1, stride, 1),
        )
        rows = blocks[starts[indices]]
        bitmaps = rows[:, :, :width] - np.uint8(_ZERO)
        # Once '0' is subtracted, any other byte among the pixels (a line end included)
        # is above 1; with every line end in place, each row has exactly `width` pixels.
        misplaced = rows[:, :, width:] != eol_codes
        if bitmaps.max() > 1 or misplaced.any():
            bad = (bitmaps > 1).any(axis=(1, 2)) | misplaced.any(axis=(1, 2))
            raise reader.bad_rows(int(indices[np.argmax(bad)]))
        batches.append(ShapeBatch(indices, bitmaps))
    return Phd08File(
        name=name,
        count=len(reader.headers),
        headers=reader.headers,
        groups=[_HEADERS[header] for header in reader.headers],
        batches=batches,
    )


def _error(name: str, line: int, problem: Message, header: str | None = None) -> Phd08Error:
    if header:
        return Phd08Error(
            _(
                "%(name)s line %(line)d (sample %(header)s): %(problem)s",
                name=name,
                line=line,
                header=header,
                problem=problem,
            )
        )
    return Phd08Error(
        _("%(name)s line %(line)d: %(problem)s", name=name, line=line, problem=problem)
    )


def _shown(raw: bytes) -> str:
    """A line as it may be quoted in a message: decoded, and cut short when long."""
    shown = raw.decode("ascii", "replace")
    return repr(shown if len(shown) <= 40 else shown[:40] + "...")


class _Reader:
    """Walks a file's text (ending in a line end) sample by sample, checking its layout.

    Positions are byte offsets into the text; line numbers are only counted for errors.
    """

    def __init__(self, text: bytes, name: str, eol: bytes):
        self.text = text
        self.name = name
        self.eol = eol
        self.headers: list[str] = []
        self.sizes: list[tuple[int, int]] = []
        self.row_starts: list[int] = []  # per sample: the offset of its first row

    def walk(self) -> None:
        """Check every header, size line and sample extent, recording each sample."""
        text, eol, size = self.text, self.eol, len(self.text)
        size_cache: dict[bytes, tuple[int, int]] = {}
        pos = 0
        while pos < size:
            if text.startswith(eol, pos):
                pos += len(eol)
                continue
            raw, after_header = self._line(pos)
            header = _HEADER_BYTES.get(raw)
            if header is None:
                if raw.isspace():
                    pos = after_header
                    continue
                header = self._header(raw, pos)
            if after_header == size:
                raise self._fail(pos, _("the file ends right after this header."), header)
            raw_size, rows_start = self._line(after_header)
            shape = size_cache.get(raw_size) or self._size(raw_size, after_header, header)
            size_cache[raw_size] = shape
            height, width = shape
            self.headers.append(header)
            self.sizes.append(shape)
            self.row_starts.append(rows_start)
            pos = rows_start + height * (width + len(eol))
            if pos > size or text[pos - 1] != _NEWLINE:
                raise self.bad_rows(len(self.headers) - 1)
            if pos < size and not text.startswith(eol, pos):
                self._check_blank(pos, len(self.headers) - 1)

    def bad_rows(self, sample: int) -> Phd08Error:
        """The error for ``sample``, whose rows were found not to be well formed."""
        error = self._row_error(sample)
        assert error is not None, f"sample {self.headers[sample]} has no bad row"
        return error

    def _row_error(self, sample: int) -> Phd08Error | None:
        """The error describing the first bad row of ``sample``; None if there is none."""
        header = self.headers[sample]
        height, width = self.sizes[sample]
        pos = self.row_starts[sample]
        for row in range(height):
            if pos == len(self.text):
                return self._fail(
                    pos - 1,
                    _(
                        "the file ends after %(row)d of the sample's %(height)d rows "
                        "(is it truncated?).",
                        row=row,
                        height=height,
                    ),
                    header,
                )
            raw, after = self._line(pos)
            if not raw or raw.isspace():
                return self._fail(
                    pos,
                    _(
                        "blank line after only %(row)d of the sample's %(height)d rows.",
                        row=row,
                        height=height,
                    ),
                    header,
                )
            if len(raw) != width:
                return self._fail(
                    pos,
                    _(
                        "row %(row)d has %(length)d characters, expected %(width)d.",
                        row=row + 1,
                        length=len(raw),
                        width=width,
                    ),
                    header,
                )
            stray = raw.lstrip(b"01")
            if stray:
                return self._fail(
                    pos,
                    _(
                        "row %(row)d has the character %(char)r at column %(column)d; "
                        "only 0 and 1 are allowed.",
                        row=row + 1,
                        char=chr(stray[0]),
                        column=len(raw) - len(stray) + 1,
                    ),
                    header,
                )
            pos = after
        return None

    def _line(self, pos: int) -> tuple[bytes, int]:
        """The line starting at ``pos`` without its line end, and where the next starts."""
        end = self.text.find(b"\n", pos)
        stop = end - len(self.eol) + 1
        if stop < pos or self.text[stop:end] != self.eol[:-1]:
            # An LF line in a CRLF file: parse_phd08 reads the file again without CRs.
            raise self._fail(pos, _("the file mixes CRLF and LF line ends."))
        return self.text[pos:stop], end + 1

    def _fail(self, pos: int, problem: Message, header: str | None = None) -> Phd08Error:
        return _error(self.name, self.text.count(b"\n", 0, pos) + 1, problem, header)

    def _header(self, raw: bytes, pos: int) -> str:
        header = _HEADER_BYTES.get(raw.strip())
        if header is None:
            raise self._fail(
                pos,
                _(
                    "unknown or malformed header %(found)s; expected a font group "
                    "(%(groups)s) and five degradation indices 0-2, such as S_0_0_0_0_1.",
                    found=_shown(raw),
                    groups=", ".join(PHD08_GROUPS),
                ),
            )
        return header

    def _size(self, raw: bytes, pos: int, header: str) -> tuple[int, int]:
        match = _SIZE_LINE.fullmatch(raw)
        if match is None:
            raise self._fail(
                pos,
                _(
                    "expected the size line '<rows> <columns>' (two positive whole numbers), "
                    "found %(found)s.",
                    found=_shown(raw),
                ),
                header,
            )
        # No side is longer than a few digits. Python's int() refuses thousands of digits
        # with a ValueError of its own (and takes its time first), so those are never
        # converted: they are out of range like any other number past the limit.
        rows, columns = (digits.lstrip(b"0") or b"0" for digits in match.groups())
        if max(len(rows), len(columns)) > _MAX_SIZE_DIGITS:
            height = width = None
        else:
            height, width = int(rows), int(columns)
        if height is None or not (1 <= height <= MAX_BITMAP_SIDE and 1 <= width <= MAX_BITMAP_SIDE):
            size = f"{height} x {width}" if height is not None else _shown(raw)
            raise self._fail(
                pos,
                _(
                    "the size %(size)s is out of range; rows and columns must each "
                    "be between 1 and %(most)d.",
                    size=size,
                    most=MAX_BITMAP_SIDE,
                ),
                header,
            )
        return height, width

    def _check_blank(self, pos: int, sample: int) -> None:
        """Raise unless the line at ``pos``, after ``sample``'s rows, is blank."""
        raw = self._line(pos)[0]
        if raw.isspace():
            return
        # A short row early on can push the sample's end onto this line.
        error = self._row_error(sample)
        if error:
            raise error
        header, height = self.headers[sample], self.sizes[sample][0]
        if not raw.strip(b"01"):
            raise self._fail(
                pos,
                _(
                    "the sample has more rows than the %(height)d its size line gives; "
                    "expected a blank line here.",
                    height=height,
                ),
                header,
            )
        raise self._fail(
            pos,
            _(
                "expected a blank line after the sample's %(height)d rows, found %(found)s.",
                height=height,
                found=_shown(raw),
            ),
            header,
        )
