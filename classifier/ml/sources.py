"""Finding PHD08 character files in files, folders and zip archives, safely.

Everything is checked before any conversion starts: names, duplicates, and zip archives
(members that would escape the folder they unpack into, archives that unpack past a size
or member limit, files that only pretend to be zips). Zip members are read in place,
never extracted, and never past the size they declare.
"""

import os
import posixpath
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .messages import Refusal, _
from .phd08 import Phd08Error, label_from_filename


class SourceError(Refusal):
    """Inputs that cannot become a data set; the message says which and why."""


def check_import_path(raw: Path | str, roots: Sequence[Path | str]) -> Path:
    """``raw`` resolved (symlinks and ``..`` followed), if that lies inside one of ``roots``.

    A relative path is taken relative to the first root. Raises SourceError, listing the
    folders, for anything outside them (and when there are none).
    """
    resolved_roots = [Path(root).resolve() for root in roots]
    if not resolved_roots:
        raise SourceError(
            _("Importing from folders on the server is turned off (LAB_IMPORT_ROOTS is empty).")
        )
    path = Path(raw)
    resolved = (path if path.is_absolute() else resolved_roots[0] / path).resolve()
    if not any(resolved.is_relative_to(root) for root in resolved_roots):
        raise SourceError(
            _(
                "%(path)s is outside the folders the lab imports from (%(roots)s). Put the files "
                "in one of them, or run the import_phd08 command on the server.",
                path=str(raw),
                roots=", ".join(str(root) for root in resolved_roots),
            )
        )
    return resolved


def check_server_input(raw: Path | str, roots: Sequence[Path | str]) -> None:
    """What a worker asks of a file from a server folder just before reading it: still
    inside ``roots`` (a folder on its way may have become a link elsewhere since the
    import was made) and not itself a symbolic link."""
    if Path(raw).is_symlink():
        raise SourceError(
            _(
                "%(path)s is a symbolic link: the lab reads only plain files from the "
                "folders it imports from.",
                path=str(raw),
            )
        )
    check_import_path(raw, roots)


@dataclass(frozen=True)
class Phd08Input:
    """One character file: a plain file, or a member of a zip archive."""

    label: str
    path: str
    member: str | None = None
    size: int = 0

    @property
    def display_name(self):
        return f"{Path(self.path).name}:{self.member}" if self.member else Path(self.path).name

    @property
    def location(self) -> str:
        """Where it is in full: the file's path, or the archive's path and the member's."""
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    @property
    def file_name(self):
        """The name the label was read from (what error messages should show)."""
        return posixpath.basename(self.member) if self.member else Path(self.path).name

    def read_bytes(self) -> bytes:
        """The file's bytes; a zip member is read no further than its declared size."""
        if self.member is None:
            return Path(self.path).read_bytes()
        with zipfile.ZipFile(self.path) as archive:
            return read_member(archive, self.member, self.size, self.display_name)


@dataclass(frozen=True)
class ZipMember:
    """One file inside a zip archive: ``member`` is its raw name in the archive,
    ``name`` its name as people read it (decoded, normalised)."""

    path: str
    member: str
    size: int
    name: str

    def read_bytes(self) -> bytes:
        """The member's bytes, read no further than its declared size."""
        with zipfile.ZipFile(self.path) as archive:
            return read_member(archive, self.member, self.size, self.name)


def read_member(archive: zipfile.ZipFile, member: str, size: int, name: str) -> bytes:
    """The bytes of ``member`` of an open archive, refused past its declared ``size``
    (a forged header must not make a small entry unpack into gigabytes)."""
    with archive.open(member) as fh:
        data = fh.read(size + 1)
    if len(data) > size:
        raise SourceError(_("%(name)s unpacks past the size it declares.", name=name))
    return data


class FileReader:
    """Reads plain files and zip members, keeping each archive open while it lasts, so
    that reading thousands of members parses an archive's directory once, not each time."""

    def __init__(self):
        self._archives: dict[str, zipfile.ZipFile] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for archive in self._archives.values():
            archive.close()
        self._archives.clear()

    def read(self, source: "ZipMember | Path | str") -> bytes:
        """The bytes of a plain file (a path) or of a :class:`ZipMember`."""
        if not isinstance(source, ZipMember):
            return Path(source).read_bytes()
        archive = self._archives.get(source.path)
        if archive is None:
            archive = self._archives[source.path] = zipfile.ZipFile(source.path)
        return read_member(archive, source.member, source.size, source.name)


def collect_phd08_inputs(
    paths: Sequence[Path | str],
    *,
    max_zip_bytes: int,
    max_zip_members: int,
    max_member_bytes: int,
) -> list[Phd08Input]:
    """Every character file under ``paths`` (files, folders, zips), sorted by character.

    Raises SourceError for a missing path, a badly named file, two files for the same
    character, an unsafe or oversized zip (in all, or a member past ``max_member_bytes``:
    a member is read whole, so a tiny zip could unpack one into gigabytes of memory), or
    no files at all.
    """
    inputs: list[Phd08Input] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inputs.extend(_folder_inputs(path))
        elif path.suffix.lower() == ".zip":
            inputs.extend(_zip_inputs(path, max_zip_bytes, max_zip_members, max_member_bytes))
        elif path.is_file():
            inputs.append(Phd08Input(_label(path.name), str(path), size=path.stat().st_size))
        else:
            raise SourceError(_("%(path)s does not exist.", path=str(raw)))
    if not inputs:
        raise SourceError(_("No PHD08 character files (<character>.txt) were found."))
    seen: dict[str, Phd08Input] = {}
    for item in inputs:
        if item.label in seen:
            first, second = _told_apart(seen[item.label], item)
            raise SourceError(
                _(
                    "Two files for the character %(char)s: %(first)s and %(second)s.",
                    char=item.label,
                    first=first,
                    second=second,
                )
            )
        seen[item.label] = item
    return sorted(inputs, key=lambda item: item.label)


def _told_apart(first: Phd08Input, second: Phd08Input) -> tuple[str, str]:
    """The two inputs' locations below the folder they share: in a tree of 2,350 files
    a bare file name would not say where the second one is."""
    places = [first.location, second.location]
    if places[0] == places[1]:
        return places[0], places[1]
    root = os.path.commonpath(places)
    return os.path.relpath(places[0], root), os.path.relpath(places[1], root)


def _label(name: str) -> str:
    try:
        return label_from_filename(name)
    except Phd08Error as exc:
        # The message itself, not its text, so that it can still be translated.
        raise SourceError(*exc.args) from None


def is_hidden(name: str) -> bool:
    """Whether ``name`` is (inside) what tools leave beside real files: Finder's ``._x``
    and ``.DS_Store``, ``__MACOSX/``, other dot files."""
    parts = name.replace("\\", "/").split("/")
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _is_data_name(name: str) -> bool:
    # Inside folders and archives, notes and scripts beside the data (README.md) are
    # skipped; a .txt file must be a well-named character file.
    return name.lower().endswith(".txt") and not is_hidden(name)


def _folder_inputs(folder: Path) -> list[Phd08Input]:
    return [
        Phd08Input(_label(path.name), str(path), size=path.stat().st_size)
        for path in sorted(folder.rglob("*"))
        if _is_data_name(str(path.relative_to(folder))) and path.is_file()
    ]


def _member_name(info: zipfile.ZipInfo) -> str:
    # Without the UTF-8 flag, zipfile decodes names as cp437; Korean archives made on
    # Windows use cp949 there.
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def zip_members(
    path: Path | str, *, max_bytes: int, max_members: int
) -> list[tuple[str, zipfile.ZipInfo]]:
    """Every file of the zip archive at ``path``: its name (decoded as Korean archives
    need, ``/``-separated, normalised) and its entry; folders left out.

    Raises SourceError for a missing file, one that is not a readable zip, more than
    ``max_members`` files, an archive that unpacks past ``max_bytes``, and a member
    that would escape the folder it unpacks into.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(_("%(path)s does not exist.", path=str(path)))
    if not zipfile.is_zipfile(path):
        raise SourceError(_("%(name)s is not a zip archive.", name=path.name))
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(
            _("%(name)s is not a readable zip archive: %(error)s", name=path.name, error=str(exc))
        ) from None
    if len(members) > max_members:
        raise SourceError(
            _(
                "%(name)s holds %(count)d files; the limit is %(most)d.",
                name=path.name,
                count=len(members),
                most=max_members,
            )
        )
    total = sum(info.file_size for info in members)
    if total > max_bytes:
        raise SourceError(
            _(
                "%(name)s would unpack to %(total)s bytes; the limit is %(most)s bytes.",
                name=path.name,
                total=f"{total:,}",
                most=f"{max_bytes:,}",
            )
        )
    named = []
    for info in members:
        name = _member_name(info)
        normal = posixpath.normpath(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or normal.startswith("..") or ":" in name.split("/")[0]:
            raise SourceError(
                _(
                    "%(archive)s: the member %(member)r would escape the folder it unpacks into.",
                    archive=path.name,
                    member=name,
                )
            )
        named.append((normal, info))
    return named


def _zip_inputs(
    path: Path, max_bytes: int, max_members: int, max_member_bytes: int
) -> list[Phd08Input]:
    inputs = []
    for normal, info in zip_members(path, max_bytes=max_bytes, max_members=max_members):
        if not _is_data_name(normal):
            continue
        if info.file_size > max_member_bytes:
            raise SourceError(
                _(
                    "%(archive)s: %(member)s would unpack to %(size)s bytes; a PHD08 file "
                    "may have at most %(most)s.",
                    archive=path.name,
                    member=normal,
                    size=f"{info.file_size:,}",
                    most=f"{max_member_bytes:,}",
                )
            )
        inputs.append(
            Phd08Input(_label(posixpath.basename(normal)), str(path), info.filename, info.file_size)
        )
    return inputs
