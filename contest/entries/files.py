"""Files contestants upload to an entry round, checked and stripped of who made them before judges see them.

An essay (.docx, .pdf) or a poster or photo (.jpg, .png) is read once, in chunks, into a temporary file
inside the store. Its kind is told from its content, never from its name, and the name must agree. A
.docx is inflated member by member under limits, so a zip bomb is refused in bounded memory. Names of
the people who made the file are removed where the format allows it without re-encoding anything: the
.docx properties and comment authors here, Exif, XMP, IPTC and PNG text in `contest.entries.images`; a
PDF is kept as it is. What could not be removed is reported for the organiser to check. The clean copy
is stored under its SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable
from xml.etree import ElementTree

from contest.entries import images
from contest.entries.images import CHUNK  # the most read from an upload, or inflated from a member, at a time
from contest.i18n import N_, Message, join

MB = 1024 * 1024
MAX_INFLATED_BYTES = 200 * MB  # all members of a .docx once decompressed
MAX_RATIO = 100  # real .docx members compress 2-20x; a bomb of zeros about 1000x
RATIO_FLOOR = 10 * MB  # a member is refused for its ratio only once it has inflated past this
MAX_MEMBERS = 1_000
MAX_DIRECTORY_BYTES = MAX_MEMBERS * 256  # a zip's central directory, which zipfile reads whole
MAX_PART_BYTES = 1 * MB  # a part rewritten in memory (document properties, comments, people)
MAX_NAME_CHARS = 120


@dataclass(frozen=True)
class FileKind:
    """A kind of file an entry round may accept."""

    extensions: tuple[str, ...]
    content_type: str
    label: str


KINDS: dict[str, FileKind] = {
    "docx": FileKind((".docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     N_("tài liệu Word (.docx)")),
    "pdf": FileKind((".pdf",), "application/pdf", N_("PDF")),
    "jpg": FileKind((".jpg", ".jpeg"), "image/jpeg", N_("ảnh JPEG")),
    "png": FileKind((".png",), "image/png", N_("ảnh PNG")),
}


class UploadRefused(ValueError):
    """An upload that was not stored; its message (a contest.i18n Message) names the file and the reason."""


@dataclass(frozen=True)
class StoredFile:
    """An upload as stored: its kind, the clean copy, and what was removed from it or is left to check."""

    kind: str
    size: int
    sha256: str
    path: Path
    original_name: str
    removed: tuple[str, ...]
    warnings: tuple[str, ...]


def clean_filename(name: str) -> str:
    """The last component of `name` (after / or \\), without control or format characters, spaces collapsed,
    NFC, at most MAX_NAME_CHARS characters with its extension kept; "tep" when nothing is left."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = unicodedata.normalize("NFC", " ".join(name.split())).strip(". ")
    if len(name) > MAX_NAME_CHARS:
        stem, extension = os.path.splitext(name)
        extension = extension if len(extension) <= 16 else ""
        name = stem[:MAX_NAME_CHARS - len(extension)].rstrip(". ") + extension
    return name or "tep"


def store_upload(source: BinaryIO, filename: str, *, allowed: Iterable[str], max_bytes: int,
                 storage_dir: Path) -> StoredFile:
    """Store an upload as `storage_dir/<sha256>.<kind>` once its content is known to be one of the `allowed`
    kinds, its extension agrees, it is at most `max_bytes` and names of its makers are removed; otherwise
    raise UploadRefused. Either way no temporary file is left behind. Reads `source` CHUNK bytes at a time
    and never holds a whole file in memory; it blocks, so call it from a worker thread."""
    allowed = tuple(dict.fromkeys(allowed))
    if not allowed or any(kind not in KINDS for kind in allowed):
        raise ValueError(f"allowed kinds must be among {sorted(KINDS)}, not {allowed}")
    name = clean_filename(filename)
    storage_dir = Path(storage_dir)
    storage_dir.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    try:
        raw = _temporary(storage_dir, made)
        _copy(source, raw, name=name, max_bytes=max_bytes)
        kind = _kind_of(raw, name, allowed)
        if kind == "pdf":
            stored, removed, warnings = raw, [], _pdf_warnings(raw)
        else:
            stored = _temporary(storage_dir, made)
            with raw.open("rb") as src, stored.open("wb") as out:
                removed, warnings = _clean(kind, src, out, name)
        sha256, size = _digest(stored)
        path = stored_path(storage_dir, sha256, kind)
        os.replace(stored, path)
        return StoredFile(kind=kind, size=size, sha256=sha256, path=path, original_name=name,
                          removed=tuple(dict.fromkeys(removed)), warnings=tuple(dict.fromkeys(warnings)))
    finally:
        for temporary in made:
            temporary.unlink(missing_ok=True)


def stored_path(storage_dir: Path, sha256: str, kind: str) -> Path:
    """Where a stored file lives: named by its content's hash and kind, so one content is one file."""
    return Path(storage_dir) / f"{sha256}.{kind}"


def _temporary(directory: Path, made: list[Path]) -> Path:
    handle, name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
    os.close(handle)
    made.append(Path(name))
    return made[-1]


def _copy(source: BinaryIO, target: Path, *, name: str, max_bytes: int) -> None:
    """Copy `source` into `target`, refusing it as soon as more than `max_bytes` were read."""
    size = 0
    with target.open("wb") as out:
        while chunk := source.read(min(CHUNK, max_bytes + 1 - size)):
            size += len(chunk)
            if size > max_bytes:
                raise UploadRefused(N_("Tệp «{name}» lớn hơn {mb} MB cho phép; chưa lưu.",
                                       name=name, mb=f"{max_bytes / MB:g}".replace(".", ",")))
            out.write(chunk)


def _kind_of(path: Path, name: str, allowed: tuple[str, ...]) -> str:
    """The kind of the file at `path` told from its content, once its extension agrees and it is allowed."""
    labels = join(", ", [KINDS[kind].label for kind in allowed])
    with path.open("rb") as fh:
        head = fh.read(8)
        kind = _sniff(fh, head, name)
    if not head:
        raise UploadRefused(N_("Tệp «{name}» rỗng; chỉ nhận {allowed}.", name=name, allowed=labels))
    if kind is None and head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and "docx" in allowed:
        raise UploadRefused(N_("Tệp «{name}» là tài liệu Word cũ (.doc) hoặc đã đặt mật khẩu; hãy lưu thành "
                               "tệp .docx không đặt mật khẩu rồi gửi lại.", name=name))
    if kind is None:
        raise UploadRefused(N_("Không nhận ra nội dung tệp «{name}»; chỉ nhận {allowed}.",
                               name=name, allowed=labels))
    extension = os.path.splitext(name)[1].lower()
    if not extension:
        raise UploadRefused(N_("Tệp «{name}» không có đuôi nhưng nội dung là {label}; hãy đặt tên có đuôi "
                               "{extension} rồi gửi lại.", name=name, label=KINDS[kind].label,
                               extension=KINDS[kind].extensions[0]))
    if extension not in KINDS[kind].extensions:
        raise UploadRefused(N_("Tệp «{name}» có đuôi {extension} nhưng nội dung là {label}; hãy lưu lại đúng "
                               "định dạng rồi gửi lại.", name=name, extension=extension, label=KINDS[kind].label))
    if kind not in allowed:
        raise UploadRefused(N_("Tệp «{name}» là {label}; vòng thi này chỉ nhận {allowed}.",
                               name=name, label=KINDS[kind].label, allowed=labels))
    return kind


def _sniff(fh: BinaryIO, head: bytes, name: str) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head == images.PNG_SIGNATURE:
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"PK\x03\x04"):
        with _open_zip(fh, name) as archive:
            names = {member.filename.lower() for member in archive.infolist()}
        if {"[content_types].xml", "word/document.xml"} <= names:
            return "docx"
    return None


def _clean(kind: str, src: BinaryIO, out: BinaryIO, name: str) -> tuple[list, list]:
    """Copy `src` to `out` without what may name its makers: (what was removed, what is left to check)."""
    if kind == "docx":
        return _clean_docx(src, out, name)
    try:
        return (images.strip_jpeg if kind == "jpg" else images.strip_png)(src, out), []
    except images.Damaged as exc:
        raise _corrupt(name, exc.args[0]) from exc


def _corrupt(name: str, detail: Message) -> UploadRefused:
    return UploadRefused(N_("Tệp «{name}» bị hỏng, không đọc được ({detail}); hãy lưu lại rồi gửi lại.",
                            name=name, detail=detail))


def _digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# --- .docx -------------------------------------------------------------------------------------------------

def _open_zip(fh: BinaryIO, name: str) -> zipfile.ZipFile:
    """The archive in `fh`, opened only once its central directory is known to be small: zipfile reads it
    whole and keeps an object per member, so a directory of a million tiny entries would fill memory."""
    fh.seek(max(0, fh.seek(0, os.SEEK_END) - 22 - 65_535))
    tail = fh.read()
    end = tail.rfind(b"PK\x05\x06")
    try:
        if end < 0 or tail[max(0, end - 20):end - 16] == b"PK\x06\x07":  # none, or zip64: never a real .docx
            raise zipfile.BadZipFile("no end of central directory, or zip64")
        members, directory = struct.unpack_from("<HI", tail, end + 10)
        if members <= MAX_MEMBERS and directory <= MAX_DIRECTORY_BYTES:
            fh.seek(0)
            return zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, struct.error, ValueError, OSError, EOFError) as exc:
        raise _corrupt(name, N_("không đọc được cấu trúc tệp nén")) from exc
    raise _too_many(name)


def _too_many(name: str) -> UploadRefused:
    return UploadRefused(N_("Tệp «{name}» chứa quá nhiều tệp con (tối đa {limit}); chưa lưu.",
                            name=name, limit=MAX_MEMBERS))


def _clean_docx(src: BinaryIO, out: BinaryIO, name: str) -> tuple[list, list]:
    """Copy a .docx member by member, each inflated under the limits, emptying the parts that name people."""
    removed: list[Message] = []
    warnings: list[Message] = []
    with _open_zip(src, name) as archive:
        members = archive.infolist()
        names = [member.filename.lower() for member in members]
        if len(members) > MAX_MEMBERS:
            raise _too_many(name)
        if len(set(names)) < len(names):
            raise _corrupt(name, N_("tệp nén có hai tệp con trùng tên"))
        if any(part.rsplit("/", 1)[-1] == "vbaproject.bin" for part in names):
            raise UploadRefused(N_("Tệp «{name}» có macro (word/vbaProject.bin); hãy lưu thành tài liệu Word "
                                   "không có macro (.docx) rồi gửi lại.", name=name))
        if sum(member.file_size for member in members) > MAX_INFLATED_BYTES:
            raise _bomb(name)
        if any(part.startswith("word/embeddings/") for part in names):
            warnings.append(N_("Tài liệu có tệp nhúng (word/embeddings); tên tác giả trong tệp nhúng không được "
                               "xoá, ban tổ chức nên kiểm tra trước khi gửi giám khảo."))
        room = MAX_INFLATED_BYTES
        with zipfile.ZipFile(out, "w") as copy:
            for member in members:
                room -= _copy_member(archive, member, copy, name=name, room=room, removed=removed,
                                     warnings=warnings)
    return removed, warnings


_TRACKED_AUTHOR = re.compile(rb"""\sw:author\s*=\s*["'][^"']""")


def _copy_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, copy: zipfile.ZipFile, *, name: str,
                 room: int, removed: list, warnings: list) -> int:
    """Copy one member inflated chunk by chunk, refused as soon as it passes `room` bytes or MAX_RATIO;
    a part naming people is rewritten. Returns its inflated size; other members come out byte-identical."""
    part = member.filename.lower()
    clean = _PERSON_PARTS.get(part)
    tracked = clean is None and part.startswith("word/") and part.endswith(".xml")
    target = zipfile.ZipInfo(member.filename)  # 1980-01-01: the times a file was saved say nothing to judges
    target.compress_type = zipfile.ZIP_STORED if member.compress_type == zipfile.ZIP_STORED else zipfile.ZIP_DEFLATED
    if member.is_dir():
        copy.writestr(target, b"")
        return 0
    size, held, tail = 0, bytearray() if clean else None, b""
    try:
        with archive.open(member) as stream, copy.open(target, "w") as sink:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > room or (size > RATIO_FLOOR and size > MAX_RATIO * max(member.compress_size, 1)):
                    raise _bomb(name)
                if held is not None and len(held) + len(chunk) <= MAX_PART_BYTES:
                    held += chunk
                    continue
                if held is not None:  # too big to rewrite in memory: copied as it is, and said so
                    sink.write(held)
                    held = None
                    warnings.append(N_("Phần «{part}» của tài liệu quá lớn nên chưa xoá được tên người trong đó; "
                                       "ban tổ chức nên kiểm tra trước khi gửi giám khảo.", part=member.filename))
                if tracked and _TRACKED_AUTHOR.search(tail + chunk):
                    tracked = False
                    warnings.append(N_("Tài liệu còn thay đổi được theo dõi (Track Changes) ghi tên người sửa; "
                                       "ban tổ chức nên chấp nhận các thay đổi trước khi gửi giám khảo."))
                tail = chunk[-64:]
                sink.write(chunk)
            if held is not None:
                sink.write(_rewrite_part(clean, bytes(held), name=name, part=member.filename, removed=removed))
    except UploadRefused:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise _corrupt(name, N_("phần «{part}» không giải nén được", part=member.filename[:80])) from exc
    return size


def _bomb(name: str) -> UploadRefused:
    return UploadRefused(N_("Tệp «{name}» khi giải nén vượt quá {mb} MB hoặc nén nhiều bất thường (nghi ngờ "
                            "zip bomb); chưa lưu.", name=name, mb=MAX_INFLATED_BYTES // MB))


def _rewrite_part(clean, data: bytes, *, name: str, part: str, removed: list) -> bytes:
    """A part naming people rewritten by `clean`, in its own encoding, checked to be well-formed XML."""
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
    try:
        text = data.decode(encoding)
        if "<!DOCTYPE" in text or "<!ENTITY" in text:  # never in Office XML; entities could expand
            raise ValueError("document type declaration")
        text, found = clean(text)
        result = text.encode(encoding)
        ElementTree.fromstring(result)
    except (UnicodeError, ValueError, ElementTree.ParseError) as exc:
        raise _corrupt(name, N_("phần «{part}» không phải XML hợp lệ", part=part[:80])) from exc
    removed.extend(found)
    return result


def _emptied(fields: tuple[tuple[str, Message], ...]):
    """A part cleaner that empties the elements of these local names (any prefix); says which held a value."""
    patterns = [(re.compile(rf"(<((?:[\w.-]+:)?{local})(?:\s[^>]*)?(?<!/)>)(.*?)(</\2\s*>)", re.S), label)
                for local, label in fields]

    def clean(text: str) -> tuple[str, list]:
        found = []
        for pattern, label in patterns:
            if any(match[3].strip() for match in pattern.finditer(text)):
                found.append(label)
                text = pattern.sub(r"\1\4", text)
        return text, found
    return clean


def _neutral(values: dict[str, str], label: Message):
    """A part cleaner that sets these attributes (any prefix) to neutral values; says if a name was there."""
    pattern = re.compile(r"""(\s(?:[\w.-]+:)?(%s)\s*=\s*)("[^"]*"|'[^']*')""" % "|".join(values))

    def clean(text: str) -> tuple[str, list]:
        named = any(match[3][1:-1] not in ("", values[match[2]]) for match in pattern.finditer(text))
        return pattern.sub(lambda match: f'{match[1]}"{values[match[2]]}"', text), [label] if named else []
    return clean


_ANONYMOUS = "Ẩn danh"
_PERSON_PARTS = {
    "docprops/core.xml": _emptied((("creator", N_("tên tác giả trong thuộc tính tài liệu")),
                                   ("lastModifiedBy", N_("tên người sửa lần cuối trong thuộc tính tài liệu")))),
    "docprops/app.xml": _emptied((("Company", N_("tên cơ quan, công ty trong thuộc tính tài liệu")),
                                  ("Manager", N_("tên người quản lý trong thuộc tính tài liệu")))),
    "docprops/custom.xml": _emptied((("(?:lpwstr|lpstr|bstr)",
                                      N_("thuộc tính tự đặt của tài liệu (có thể ghi tên, email người soạn)")),)),
    "word/comments.xml": _neutral({"author": _ANONYMOUS, "initials": "AD"},
                                  N_("tên người viết nhận xét (comment) trong tài liệu")),
    "word/people.xml": _neutral({"author": _ANONYMOUS, "userId": _ANONYMOUS, "providerId": "None"},
                                N_("tên và tài khoản người soạn thảo trong tài liệu (word/people.xml)")),
}


# --- PDF ---------------------------------------------------------------------------------------------------

_PDF_AUTHOR = re.compile(rb"/Author\s*(?:\((?!\s*\))|<(?!\s*>)|\d+\s+\d+\s+R)"
                         rb"|<dc:creator>\s*<rdf:(?:Seq|Bag|Alt)>\s*<rdf:li[^>]*>\s*[^<\s]")


def _pdf_warnings(path: Path) -> list[Message]:
    """A warning when the PDF, stored as it is, may name its author: a non-empty /Author or XMP dc:creator in
    plain sight, or none found but compressed object streams this scan cannot read. /Creator names the
    program that made the file, not a person, so it is not a reason to warn."""
    tail, compressed = b"", False
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            window = tail + chunk
            if _PDF_AUTHOR.search(window):
                return [N_("PDF có thể ghi tên tác giả trong thuộc tính tài liệu; ban tổ chức nên kiểm tra trước "
                           "khi gửi giám khảo.")]
            compressed = compressed or b"/ObjStm" in window
            tail = window[-512:]
    if compressed:
        return [N_("PDF có phần nén nên chưa kiểm tra được tên tác giả trong thuộc tính tài liệu; ban tổ chức "
                   "nên kiểm tra trước khi gửi giám khảo.")]
    return []
