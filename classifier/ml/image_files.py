"""Where an image file ends, so that what was appended after it is never stored.

Every format the lab reads says where it ends: PNG by its IEND chunk, JPEG by its EOI
marker after the last scan, GIF by its trailer byte, WebP by its RIFF size and BMP by
its header. A photo with megabytes of anything after that end decodes just the same, so
an upload is cut there before it is read and stored: what the lab keeps is exactly what
it read, byte for byte, and no bigger. Cutting rather than re-encoding keeps a JPEG's
pixels and EXIF as the phone wrote them, for a regrade that reads the original again.
"""

import struct


def _png_end(data: bytes) -> int | None:
    at = 8
    while at + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, at)
        kind = data[at + 4 : at + 8]
        at += 12 + length
        if kind == b"IEND":
            return at
    return None


# Markers without a length: TEM, the restart markers and SOI.
_STANDALONE = {0x01, *range(0xD0, 0xD9)}


def _jpeg_end(data: bytes) -> int | None:
    at = 2
    while at + 2 <= len(data):
        if data[at] != 0xFF:
            return None  # not a marker where one must be
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:
            return at + 2
        if marker in _STANDALONE:
            at += 2
            continue
        if at + 4 > len(data):
            return None
        (length,) = struct.unpack_from(">H", data, at + 2)
        at += 2 + length
        if marker == 0xDA:  # a scan: its coded data runs to the next real marker
            at = _after_scan(data, at)
    return None


def _after_scan(data: bytes, at: int) -> int:
    """The offset of the first marker after entropy-coded data starting at ``at``: in
    that data 0xFF is only ever followed by 0x00 (a stuffed byte) or a restart marker."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            return len(data)
        following = data[at + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            at += 2
        else:
            return at


def _gif_end(data: bytes) -> int | None:
    if len(data) < 13:
        return None
    flags = data[10]
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while at < len(data):
        block = data[at]
        if block == 0x3B:  # the trailer
            return at + 1
        if block == 0x21:  # an extension: its label, then sub-blocks
            at = _after_sub_blocks(data, at + 2)
        elif block == 0x2C:  # an image: descriptor, local colours, LZW size, sub-blocks
            if at + 10 > len(data):
                return None
            local = data[at + 9]
            at += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            at = _after_sub_blocks(data, at + 1)
        else:
            return None
    return None


def _after_sub_blocks(data: bytes, at: int) -> int:
    while at < len(data) and data[at]:
        at += 1 + data[at]
    return at + 1


def _webp_end(data: bytes) -> int | None:
    (size,) = struct.unpack_from("<I", data, 4)
    return 8 + size + (size & 1)


def _bmp_end(data: bytes) -> int | None:
    if len(data) < 34:
        return None
    (declared,) = struct.unpack_from("<I", data, 2)
    if declared >= 26:
        return declared
    # A size of 0 is allowed: the pixels' offset and size (or rows times height) say it.
    (offset,) = struct.unpack_from("<I", data, 10)
    width, height, _planes, bits, _compression, image_size = struct.unpack_from("<iiHHII", data, 18)
    if not image_size:
        image_size = ((width * bits + 31) // 32) * 4 * abs(height)
    return offset + image_size


_FORMATS = (
    (b"\x89PNG\r\n\x1a\n", _png_end),
    (b"\xff\xd8", _jpeg_end),
    (b"GIF87a", _gif_end),
    (b"GIF89a", _gif_end),
    (b"BM", _bmp_end),
)


def without_trailing_data(data: bytes) -> bytes:
    """``data`` cut where its image file ends. Data whose end cannot be found (a
    truncated file, a format the lab does not read) is returned whole: reading it
    rejects it with the reason."""
    end = None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        end = _webp_end(data)
    else:
        for magic, find_end in _FORMATS:
            if data.startswith(magic):
                end = find_end(data)
                break
    if end is None or end >= len(data):
        return data
    return data[:end]
