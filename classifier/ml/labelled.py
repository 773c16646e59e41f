"""Archives of labelled character images (real handwriting), read and written.

A school's scans or a public handwriting collection come as a zip archive in one of two
layouts:

- **folders**: one folder per character, named by it, with the images inside
  (``가/0001.png``), optionally one folder level more per writer
  (``가/writer07/0001.png``); the writer folder becomes the sample's group.
- **manifest**: the images anywhere in the archive, and one ``.csv`` or ``.json`` file
  beside the top level that labels them. A CSV has the header ``file,char`` or
  ``file,char,writer`` (UTF-8, or the cp949 that Excel writes in Korea); a JSON file
  is a list of objects with the same keys. ``file`` is the image's path in the archive.

When every name sits in one wrapping folder (what zipping a folder gives), it is looked
through. A manifest, when there is one, is the whole truth: folders are then only
places. Images without a writer all form one group, ``NO_WRITER``: every file a group of
its own would make a group split no better than a random one (and give thousands of
group names), so such a set is validated with a stratified split instead.

Nothing here refuses an archive for one bad file: files that are not images, not
labelled, labelled with something that is not one Hangul syllable, too large, or named
by the manifest but missing, are listed with the reason and left out. Only an archive
that cannot be read safely (see :func:`~classifier.ml.sources.zip_members`), or a
manifest that cannot be parsed, is refused as a whole. Whether each image can be
decoded, and holds ink, is found out later, by the build (``build.build_handwriting``).

``write_labelled_zip`` writes the same layout back (character and writer folders, and a
``manifest.csv`` with a writer column), so a corpus exported here imports again as it is.
"""

import csv
import io
import json
import posixpath
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .charsets import is_syllable
from .messages import Message, _
from .sources import FileReader, SourceError, ZipMember, is_hidden, read_member, zip_members

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
MANIFEST_SUFFIXES = (".csv", ".json")
#: The name of the manifest that ``write_labelled_zip`` writes.
MANIFEST_NAME = "manifest.csv"
#: The group of the images whose writer nobody recorded.
NO_WRITER = "unknown"

LAYOUT_FOLDERS = "folders"
LAYOUT_MANIFEST = "manifest"


@dataclass(frozen=True)
class LabelledImage:
    """One image of the archive, with its character and writer."""

    source: ZipMember
    char: str
    writer: str


@dataclass(frozen=True)
class Skipped:
    """A file left out, and why."""

    name: str
    reason: Message


@dataclass
class LabelledArchive:
    """What an archive holds: its layout, the labelled images, and the files left out."""

    layout: str
    manifest: str | None = None
    images: list[LabelledImage] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        """The characters, in code point order."""
        return sorted({image.char for image in self.images})

    @property
    def samples(self) -> list[tuple[ZipMember, str, str]]:
        """``(image, character, writer)`` of every image, as the build takes them."""
        return [(image.source, image.char, image.writer) for image in self.images]


def read_labelled_zip(
    path: Path | str, *, max_bytes: int, max_members: int, max_image_bytes: int
) -> LabelledArchive:
    """The labelled images of the zip archive at ``path``, sorted by character and name.

    ``max_bytes`` and ``max_members`` bound the archive, ``max_image_bytes`` each image
    (larger ones are left out). Raises SourceError for an archive that cannot be read
    safely, two manifests, or a manifest that cannot be parsed.
    """
    path = Path(path)
    members = {}
    for name, info in zip_members(path, max_bytes=max_bytes, max_members=max_members):
        # Finder writes names decomposed (ㄱ + ㅏ for 가); labels are compared composed.
        if not is_hidden(name):
            members[unicodedata.normalize("NFC", name)] = info
    prefix = _wrapper(members)
    files = {name[len(prefix) :]: info for name, info in members.items()}
    manifests = sorted(name for name in files if "/" not in name and _is_manifest(name))
    if len(manifests) > 1:
        raise SourceError(
            _(
                "%(archive)s has more than one manifest (%(names)s); keep the one that labels "
                "the images.",
                archive=path.name,
                names=", ".join(manifests),
            )
        )
    if manifests:
        archive = _from_manifest(path, prefix, files, manifests[0], max_image_bytes)
    else:
        archive = _from_folders(path, prefix, files, max_image_bytes)
    archive.images.sort(key=lambda image: (image.char, image.source.name))
    return archive


def _wrapper(members: dict) -> str:
    """The folders every name sits in (``corpus/``), when they are not characters."""
    prefix = ""
    while True:
        tops = {name[len(prefix) :].split("/", 1)[0] for name in members}
        if len(tops) != 1 or any("/" not in name[len(prefix) :] for name in members):
            return prefix
        top = tops.pop()
        if is_syllable(top.strip()):
            return prefix
        prefix += top + "/"


def _is_manifest(name: str) -> bool:
    return name.lower().endswith(MANIFEST_SUFFIXES)


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def _label_problem(label: str) -> Message | None:
    """Why ``label`` cannot be a class (one precomposed Hangul syllable), or None."""
    if not label:
        return _("It has no character.")
    if len(label) > 1:
        return _("Its label %(label)s is more than one character.", label=label)
    if not is_syllable(label):
        return _(
            "Its label %(label)s (U+%(code)04X) is not a Hangul syllable (가 to 힣).",
            label=label,
            code=ord(label),
        )
    return None


def _size_problem(info: zipfile.ZipInfo, max_image_bytes: int) -> Message | None:
    if info.file_size > max_image_bytes:
        return _(
            "It is %(size)s bytes; the limit for one image is %(most)s bytes.",
            size=f"{info.file_size:,}",
            most=f"{max_image_bytes:,}",
        )
    return None


_NOT_AN_IMAGE = _("It is not an image file (the lab reads .png, .jpg, .jpeg, .webp, .bmp, .gif).")


def _member(path: Path, prefix: str, name: str, info: zipfile.ZipInfo) -> ZipMember:
    return ZipMember(str(path), info.filename, info.file_size, prefix + name)


def _from_folders(path: Path, prefix: str, files: dict, max_image_bytes: int) -> LabelledArchive:
    archive = LabelledArchive(LAYOUT_FOLDERS)
    for name, info in sorted(files.items()):
        shown = prefix + name
        parts = name.split("/")
        label = parts[0].strip()
        problem = None
        if not _is_image(name):
            problem = _NOT_AN_IMAGE
        elif len(parts) == 1:
            problem = _("It is in no character's folder, so nothing says what it shows.")
        elif len(parts) > 3:
            problem = _(
                "It is too deep: put it in its character's folder (가/1.png), or in a "
                "writer's folder inside that (가/writer07/1.png)."
            )
        problem = problem or _label_problem(label) or _size_problem(info, max_image_bytes)
        if problem:
            archive.skipped.append(Skipped(shown, problem))
            continue
        writer = parts[1].strip() if len(parts) == 3 else ""
        member = _member(path, prefix, name, info)
        archive.images.append(LabelledImage(member, label, writer or NO_WRITER))
    return archive


def _from_manifest(
    path: Path, prefix: str, files: dict, manifest: str, max_image_bytes: int
) -> LabelledArchive:
    archive = LabelledArchive(LAYOUT_MANIFEST, manifest=prefix + manifest)
    info = files[manifest]
    # Its size is bounded already, with the whole archive's (zip_members).
    with zipfile.ZipFile(path) as opened:
        data = read_member(opened, info.filename, info.file_size, manifest)
    rows = _manifest_rows(prefix + manifest, data)
    labelled: dict[str, str] = {}
    for line, row in rows:
        where = _("line %(line)d", line=line)
        name = _archive_path(row.get("file") or "")
        if not name:
            archive.skipped.append(
                Skipped(prefix + manifest, _("%(where)s names no file.", where=where))
            )
            continue
        shown = prefix + name
        label = unicodedata.normalize("NFC", (row.get("char") or "").strip())
        problem = None
        if name in labelled:
            if labelled[name] == label:
                continue  # listed twice alike: no harm
            problem = _(
                "%(where)s labels it %(label)s, but an earlier line labels it "
                "%(first)s; the earlier line counts.",
                where=where,
                label=label,
                first=labelled[name],
            )
        elif name not in files:
            problem = _("%(where)s names it, but the archive does not hold it.", where=where)
        elif not _is_image(name):
            problem = _NOT_AN_IMAGE
        problem = problem or _label_problem(label) or _size_problem(files[name], max_image_bytes)
        if problem:
            archive.skipped.append(Skipped(shown, problem))
            continue
        labelled[name] = label
        writer = unicodedata.normalize("NFC", (row.get("writer") or "").strip()) or NO_WRITER
        member = _member(path, prefix, name, files[name])
        archive.images.append(LabelledImage(member, label, writer))
    listed = {skip.name for skip in archive.skipped}
    for name in sorted(files):
        if name != manifest and name not in labelled and prefix + name not in listed:
            reason = _("The manifest does not label it.") if _is_image(name) else _NOT_AN_IMAGE
            archive.skipped.append(Skipped(prefix + name, reason))
    return archive


def _archive_path(text: str) -> str:
    """A manifest's ``file`` as a name in the archive: ``/``-separated, normalised,
    composed; ``""`` for none (a path leaving the archive names nothing in it)."""
    text = unicodedata.normalize("NFC", text.strip().replace("\\", "/"))
    if not text:
        return ""
    normal = posixpath.normpath(text.lstrip("/"))
    return "" if normal in (".", "..") or normal.startswith("../") else normal


def _decode(name: str, data: bytes) -> str:
    # Excel saves CSV in the system's code page: cp949 on Korean Windows.
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceError(_("%(name)s is neither UTF-8 nor cp949 text.", name=name))


def _manifest_rows(name: str, data: bytes) -> list[tuple[int, dict]]:
    """``(line, {"file", "char", "writer"})`` of each entry of a CSV or JSON manifest."""
    text = _decode(name, data)
    if name.lower().endswith(".json"):
        return _json_rows(name, text)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(column or "").strip().lower() for column in reader.fieldnames or []]
    if "file" not in header or "char" not in header:
        raise SourceError(
            _(
                "%(name)s needs the columns file and char (and writer, if known) in its first "
                "line; it has %(header)s.",
                name=name,
                header=",".join(header) or "—",
            )
        )
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            if any((value or "").strip() for key, value in row.items() if key is not None):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise SourceError(
            _(
                "%(name)s line %(line)d: %(problem)s",
                name=name,
                line=reader.line_num,
                problem=str(exc),
            )
        ) from None
    return rows


def _json_rows(name: str, text: str) -> list[tuple[int, dict]]:
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise SourceError(
            _("%(name)s is not valid JSON: %(error)s", name=name, error=str(exc))
        ) from None
    if not isinstance(entries, list) or not all(isinstance(item, dict) for item in entries):
        raise SourceError(
            _(
                '%(name)s must be a list of objects such as {"file": "가/1.png", "char": "가", '
                '"writer": "w1"}.',
                name=name,
            )
        )
    return [
        (number, {key: "" if value is None else str(value) for key, value in entry.items()})
        for number, entry in enumerate(entries, 1)
    ]


# --- Writing ------------------------------------------------------------------------------


def write_labelled_zip(out, samples: Iterable[tuple]) -> Iterator[int]:
    """Write ``(image, character, writer)`` samples as a labelled archive into ``out``.

    Each image (a path or a :class:`ZipMember`) goes to ``<character>/<writer>/<n>.<ext>``
    with its bytes as they are, and ``manifest.csv`` (``file,char,writer``, UTF-8 with a
    byte order mark so that Excel reads the Hangul) labels them all, the writers exactly
    as given. ``out`` is a path or a binary file object, which need not be seekable (an
    HTTP response). An image that can no longer be read is left out of both. A
    generator: after each sample it yields how many images it has written so far.
    """
    rows = [("file", "char", "writer")]
    numbers: Counter = Counter()
    with (
        FileReader() as reader,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive,
    ):
        for source, char, writer in samples:
            try:
                data = reader.read(source)
            except (OSError, SourceError, zipfile.BadZipFile):
                yield len(rows) - 1
                continue
            folder = _folder_name(writer)
            numbers[char, folder] += 1
            suffix = _suffix(source)
            name = f"{char}/{folder}/{numbers[char, folder]:05d}{suffix}"
            # Images are compressed already; storing them keeps the download fast.
            archive.writestr(name, data)
            rows.append((name, char, writer))
            yield len(rows) - 1
        text = io.StringIO(newline="")
        csv.writer(text, lineterminator="\n").writerows(rows)
        archive.writestr(MANIFEST_NAME, text.getvalue().encode("utf-8-sig"), zipfile.ZIP_DEFLATED)


def _folder_name(writer: str) -> str:
    """``writer`` as one safe folder name; the manifest keeps the writer exactly."""
    name = re.sub(r"[^\w.-]+", "_", writer).lstrip(".")
    return name or NO_WRITER


def _suffix(source) -> str:
    name = source.name if isinstance(source, ZipMember) else str(source)
    suffix = posixpath.splitext(name.replace("\\", "/"))[1].lower()
    return suffix if suffix in IMAGE_SUFFIXES else ".img"
