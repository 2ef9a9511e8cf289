"""JPEG and PNG images copied without the segments and chunks that may name who made them.

Only metadata is dropped: the image data and every segment or chunk kept come out byte-identical, so
nothing is decoded or re-encoded. Both formats are parsed as they are read, a chunk at a time.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

from contest.i18n import N_, Message

CHUNK = 256 * 1024  # the most read at a time, as contest.entries.files reads uploads
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PARTS = 100_000  # segments of a JPEG, chunks of a PNG: real images have tens to a few thousand


class Damaged(ValueError):
    """An image whose structure is broken; its message (a Message) says what is wrong."""


_EXIF = N_("dữ liệu Exif của ảnh (máy chụp, thời điểm, vị trí, có thể cả tên tác giả)")
_TEXT = N_("chú thích chữ trong ảnh (có thể ghi tên tác giả)")
_TRAILING = N_("dữ liệu gắn sau phần cuối ảnh (ảnh phụ, ảnh xem trước)")
_PNG_METADATA = {b"tEXt": _TEXT, b"zTXt": _TEXT, b"iTXt": _TEXT, b"eXIf": _EXIF, b"tIME": N_("thời điểm sửa ảnh")}


class _Bytes:
    """A file read forward a chunk at a time; `at` is where the unread part of `buffer` starts."""

    def __init__(self, fh: BinaryIO):
        self.fh, self.buffer, self.at = fh, b"", 0

    def take(self, n: int) -> bytes:
        """The next `n` bytes, fewer only at the end of the file."""
        if len(self.buffer) - self.at < n:
            self.buffer, self.at = self.buffer[self.at:], 0
            while len(self.buffer) < n and (more := self.fh.read(CHUNK)):
                self.buffer += more
        data = self.buffer[self.at:self.at + n]
        self.at += len(data)
        return data

    def copy_to_marker(self, out: BinaryIO) -> int | None:
        """Copy entropy-coded data to `out` up to the next JPEG marker, and consume it: its code, None at the end.
        In that data an FF byte is followed by 00 (stuffing), a restart marker D0-D7 or more FF (fill)."""
        while True:
            buffer = self.buffer
            at = buffer.find(b"\xff", self.at)
            while 0 <= at < len(buffer) - 1:
                code = buffer[at + 1]
                if code == 0xFF:
                    at += 1
                elif code == 0x00 or 0xD0 <= code <= 0xD7:
                    at = buffer.find(b"\xff", at + 2)
                else:
                    out.write(buffer[self.at:at])
                    self.at = at + 2
                    return code
            keep = buffer[at:] if at >= 0 else b""  # a last FF: its code comes with the next chunk
            out.write(buffer[self.at:len(buffer) - len(keep)])
            more = self.fh.read(CHUNK)
            if not more:
                return None
            self.buffer, self.at = keep + more, 0


def strip_jpeg(src: BinaryIO, out: BinaryIO) -> list[Message]:
    """Copy a JPEG segment by segment without APP1 (Exif, XMP), APP13 (IPTC), COM, the MPF index and anything
    after its end; scan data and every other segment byte-identical. A turned photo keeps its orientation
    in a minimal Exif segment of its own."""
    data, removed, scanning = _Bytes(src), [], False
    if data.take(2) != b"\xff\xd8":
        raise Damaged(N_("cấu trúc ảnh JPEG sai"))
    out.write(b"\xff\xd8")
    for _ in range(MAX_PARTS):
        if scanning:
            code = data.copy_to_marker(out)
        else:
            if data.take(1) != b"\xff":
                raise Damaged(N_("cấu trúc ảnh JPEG sai"))
            byte = data.take(1)
            while byte == b"\xff":
                byte = data.take(1)
            code = byte[0] if byte else None
        if code is None:
            raise Damaged(N_("ảnh JPEG thiếu phần kết thúc"))
        if code == 0xD9:
            if not scanning:
                raise Damaged(N_("ảnh JPEG không có dữ liệu ảnh"))
            out.write(b"\xff\xd9")
            if data.take(1):
                removed.append(_TRAILING)
            return removed
        if code == 0x01 or 0xD0 <= code <= 0xD7:
            out.write(bytes((0xFF, code)))
            continue
        head = data.take(2)
        length = struct.unpack(">H", head)[0] if len(head) == 2 else 0
        body = data.take(length - 2) if length >= 2 else b""
        if code in (0x00, 0xD8) or length < 2 or len(body) < length - 2:
            raise Damaged(N_("cấu trúc ảnh JPEG sai"))
        what = _jpeg_metadata(code, body)
        if what is None:
            out.write(bytes((0xFF, code)) + head + body)
        elif what is _EXIF and (turn := _orientation(body[6:])) != 1:  # only the orientation is kept
            exif = b"Exif\0\0MM\0*" + struct.pack(">IHHHIHHI", 8, 1, 0x0112, 3, 1, turn, 0, 0)
            out.write(b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif)
        if what and what not in removed:  # a file of a million tiny segments lists each kind once
            removed.append(what)
        scanning = scanning or code == 0xDA
    raise _too_many_parts()


def _jpeg_metadata(code: int, body: bytes) -> Message | None:
    """What a segment that may name its maker holds, or None for a segment kept."""
    if code == 0xE1:
        if body.startswith(b"Exif\0"):
            return _EXIF
        if body.startswith(b"http://ns.adobe.com/"):
            return N_("dữ liệu XMP của ảnh (có thể ghi tên tác giả)")
        return N_("phần APP1 của ảnh")
    if code == 0xED:
        return N_("dữ liệu IPTC/Photoshop của ảnh (có thể ghi tên tác giả)")
    if code == 0xFE:
        return _TEXT
    if code == 0xE2 and body.startswith(b"MPF\0"):
        return _TRAILING
    return None


def _orientation(tiff: bytes) -> int:
    """The orientation (1-8) in IFD0 of Exif's TIFF block; 1 when there is none or it cannot be read."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    try:
        (first,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, first)
        for at in range(first + 2, first + 2 + 12 * min(count, 500), 12):
            tag, kind, _, value = struct.unpack_from(order + "HHIH", tiff, at)
            if tag == 0x0112 and kind == 3:
                return value if 1 <= value <= 8 else 1
    except (TypeError, struct.error):
        pass
    return 1


def strip_png(src: BinaryIO, out: BinaryIO) -> list[Message]:
    """Copy a PNG chunk by chunk without its text, eXIf and tIME chunks or anything after IEND, checking each
    chunk's length, type and CRC; the chunks kept are byte-identical."""
    removed, first = [], True
    out.write(src.read(8))
    for _ in range(MAX_PARTS):
        head = src.read(8)
        if len(head) < 8:
            raise Damaged(N_("ảnh PNG thiếu phần kết thúc (IEND)"))
        (length,), chunk_type = struct.unpack(">I", head[:4]), head[4:]
        if length > 0x7FFFFFFF or not chunk_type.isalpha() or first != (chunk_type == b"IHDR"):
            raise Damaged(N_("cấu trúc ảnh PNG sai"))
        first, keep, crc = False, chunk_type not in _PNG_METADATA, zlib.crc32(chunk_type)
        if keep:
            out.write(head)
        while length:
            chunk = src.read(min(CHUNK, length))
            if not chunk:
                raise Damaged(N_("ảnh PNG thiếu phần kết thúc (IEND)"))
            crc, length = zlib.crc32(chunk, crc), length - len(chunk)
            if keep:
                out.write(chunk)
        if src.read(4) != struct.pack(">I", crc):
            raise Damaged(N_("mã kiểm tra của phần {chunk} trong ảnh PNG sai", chunk=chunk_type.decode()))
        if keep:
            out.write(struct.pack(">I", crc))
        elif _PNG_METADATA[chunk_type] not in removed:
            removed.append(_PNG_METADATA[chunk_type])
        if chunk_type == b"IEND":
            if src.read(1):
                removed.append(_TRAILING)
            return removed
    raise _too_many_parts()


def _too_many_parts() -> Damaged:
    return Damaged(N_("ảnh có hơn {limit} phần, nhiều bất thường", limit=f"{MAX_PARTS:,}".replace(",", ".")))
