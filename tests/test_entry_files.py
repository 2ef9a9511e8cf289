"""Entry uploads: kinds told from content, limits held in bounded memory, names of the makers removed."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tracemalloc
import unicodedata
import zipfile
import zlib
from pathlib import Path

import docx
import pytest

from contest.entries import files, images
from contest.entries.files import CHUNK, MB, KINDS, StoredFile, UploadRefused, clean_filename, store_upload
from contest.i18n import Message, gettext, message_of

ALL = tuple(KINDS)

# --- builders ------------------------------------------------------------------------------------------------

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 b'<Default Extension="xml" ContentType="application/xml"/>'
                 b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument'
                 b'.wordprocessingml.document.main+xml"/></Types>')
DOCUMENT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            '<w:p><w:r><w:t>Cải cách hành chính bắt đầu từ mỗi cán bộ.</w:t></w:r></w:p>'
            '</w:body></w:document>').encode()
CORE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
        '<dc:title>Bài dự thi</dc:title><dc:creator>Nguyễn Văn A</dc:creator>'
        '<cp:lastModifiedBy>Trần Thị B</cp:lastModifiedBy><cp:revision>3</cp:revision>'
        '</cp:coreProperties>').encode()
APP = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
       '<Application>Microsoft Office Word</Application><Company>UBND xã Hòa An</Company><Manager/>'
       '</Properties>').encode()
COMMENTS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            '<w:comment w:id="0" w:author="Nguyễn Văn A" w:date="2025-03-01T10:00:00Z" w:initials="NVA">'
            '<w:p><w:r><w:t>Xem lại đoạn này</w:t></w:r></w:p></w:comment></w:comments>').encode()
RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'officeDocument" Target="word/document.xml"/></Relationships>')


def docx_bytes(parts: dict[str, bytes] | None = None) -> bytes:
    """A minimal .docx with author, last editor, company and a comment author."""
    members = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELS, "word/document.xml": DOCUMENT,
               "docProps/core.xml": CORE, "docProps/app.xml": APP, "word/comments.xml": COMMENTS}
    members.update(parts or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def segment(code: int, body: bytes) -> bytes:
    return bytes((0xFF, code)) + struct.pack(">H", len(body) + 2) + body


def exif(*entries: tuple[int, int, int, bytes]) -> bytes:
    """An Exif APP1 body: little-endian TIFF, IFD0 holding (tag, type, count, value or data) entries."""
    start = 8 + 2 + 12 * len(entries) + 4
    table, data = b"", b""
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", tag, kind, count, start + len(data))
            data += value
    return b"Exif\0\0II*\0" + struct.pack("<IH", 8, len(entries)) + table + b"\0\0\0\0" + data


ARTIST = (0x013B, 2, 13, b"Nguyen Van A\0")
SOI, EOI = b"\xff\xd8", b"\xff\xd9"
APP0 = segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
ICC = segment(0xE2, b"ICC_PROFILE\0\x01\x01" + bytes(range(40)))
DQT = segment(0xDB, b"\x00" + bytes(range(1, 65)))
SOF = segment(0xC0, b"\x08\x00\x10\x00\x10\x01\x01\x11\x00")
DHT = segment(0xC4, b"\x00" + bytes([0, 1] + [0] * 14) + b"\x00")
SOS = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
SCAN = b"\x12\xff\x00\x34\xff\xd0\x56\xff\xff\xff\x00\x78"  # stuffed FF, a restart marker, fill bytes


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IHDR = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
IDAT = chunk(b"IDAT", zlib.compress(b"\x00\x00"))
IEND = chunk(b"IEND", b"")


def pdf_bytes(info: bytes) -> bytes:
    return (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
            b"3 0 obj\n" + info + b"\nendobj\ntrailer\n<< /Root 1 0 R /Info 3 0 R >>\n%%EOF\n")


def store(tmp_path: Path, data: bytes, filename: str, *, allowed=ALL, max_bytes: int = 20 * MB) -> StoredFile:
    return store_upload(io.BytesIO(data), filename, allowed=allowed, max_bytes=max_bytes,
                        storage_dir=tmp_path / "entries")


def refusal(tmp_path: Path, data: bytes, filename: str, **options) -> str:
    """The message an upload is refused with; nothing may be left in the store."""
    with pytest.raises(UploadRefused) as refused:
        store(tmp_path, data, filename, **options)
    assert os.listdir(tmp_path / "entries") == []
    return str(refused.value)


def zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {member.filename: archive.read(member) for member in archive.infolist()}


# --- .docx ---------------------------------------------------------------------------------------------------

def test_docx_is_stored_without_the_names_of_its_makers(tmp_path):
    stored = store(tmp_path, docx_bytes(), "C:\\Users\\an\\Bài dự thi.docx")

    assert (stored.kind, stored.original_name, stored.warnings) == ("docx", "Bài dự thi.docx", ())
    assert stored.removed == ("tên tác giả trong thuộc tính tài liệu",
                              "tên người sửa lần cuối trong thuộc tính tài liệu",
                              "tên cơ quan, công ty trong thuộc tính tài liệu",
                              "tên người viết nhận xét (comment) trong tài liệu")
    assert stored.path == tmp_path / "entries" / f"{stored.sha256}.docx"
    data = stored.path.read_bytes()
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    members = zip_members(stored.path)
    assert list(members) == ["[Content_Types].xml", "_rels/.rels", "word/document.xml", "docProps/core.xml",
                             "docProps/app.xml", "word/comments.xml"]
    untouched = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELS, "word/document.xml": DOCUMENT}
    assert {name: members[name] for name in untouched} == untouched
    names = ("Nguyễn Văn A", "Trần Thị B")
    assert members["docProps/core.xml"] == CORE.replace(names[0].encode(), b"").replace(names[1].encode(), b"")
    assert members["docProps/app.xml"] == APP.replace("UBND xã Hòa An".encode(), b"")
    assert members["word/comments.xml"] == COMMENTS.replace('w:author="Nguyễn Văn A"'.encode(),
                                                            'w:author="Ẩn danh"'.encode()).replace(
        b'w:initials="NVA"', b'w:initials="AD"')
    assert b"Nguy" not in b"".join(members.values())
    assert os.listdir(tmp_path / "entries") == [stored.path.name]


def test_docx_made_by_python_docx_still_opens_after_cleaning(tmp_path):
    document = docx.Document()
    document.add_paragraph("Đề xuất giảm thời gian giải quyết thủ tục.")
    document.core_properties.author = "Nguyễn Văn A"
    document.core_properties.last_modified_by = "Nguyễn Văn A"
    buffer = io.BytesIO()
    document.save(buffer)

    stored = store(tmp_path, buffer.getvalue(), "de-xuat.docx")

    reopened = docx.Document(str(stored.path))
    assert (reopened.core_properties.author, reopened.core_properties.last_modified_by) == ("", "")
    assert [p.text for p in reopened.paragraphs] == ["Đề xuất giảm thời gian giải quyết thủ tục."]
    before = zipfile.ZipFile(buffer)
    after = zip_members(stored.path)
    assert [name for name in after if after[name] != before.read(name)] == ["docProps/core.xml"]


def test_docx_custom_properties_and_people_lose_names_and_accounts(tmp_path):
    custom = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats'
              '.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
              '2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" '
              'name="MSIP_Label_1_SetBy"><vt:lpwstr>an.nv@hoaan.gov.vn</vt:lpwstr></property>'
              '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="Pages"><vt:i4>4</vt:i4>'
              '</property></Properties>')
    people = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w15:people xmlns:w15="http://schemas.microsoft'
              '.com/office/word/2012/wordml"><w15:person w15:author="Nguyễn Văn A"><w15:presenceInfo '
              "w15:providerId='AD' w15:userId='S::an.nv@hoaan.gov.vn::7d1c'/></w15:person></w15:people>")
    stored = store(tmp_path, docx_bytes({"docProps/custom.xml": custom.encode(), "word/people.xml": people.encode()}),
                   "a.docx")
    members = zip_members(stored.path)
    assert members["docProps/custom.xml"] == custom.replace("an.nv@hoaan.gov.vn", "").encode()
    assert members["word/people.xml"] == people.replace('"Nguyễn Văn A"', '"Ẩn danh"').replace(
        "'AD'", '"None"').replace("'S::an.nv@hoaan.gov.vn::7d1c'", '"Ẩn danh"').encode()
    assert stored.removed[-3:] == ("tên người viết nhận xét (comment) trong tài liệu",
                                   "thuộc tính tự đặt của tài liệu (có thể ghi tên, email người soạn)",
                                   "tên và tài khoản người soạn thảo trong tài liệu (word/people.xml)")
    empty = custom.replace("an.nv@hoaan.gov.vn", "")  # as LibreOffice writes it: nothing to remove
    assert store(tmp_path, docx_bytes({"docProps/custom.xml": empty.encode()}), "b.docx").removed[-2:] == (
        "tên cơ quan, công ty trong thuộc tính tài liệu", "tên người viết nhận xét (comment) trong tài liệu")


def test_docx_properties_in_utf16_are_cleaned_and_stay_utf16(tmp_path):
    core = CORE.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    stored = store(tmp_path, docx_bytes({"docProps/core.xml": core}), "a.docx")
    cleaned = zip_members(stored.path)["docProps/core.xml"].decode("utf-16")
    assert cleaned == CORE.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').replace(
        "Nguyễn Văn A", "").replace("Trần Thị B", "")


def test_docx_part_too_big_to_rewrite_is_copied_with_a_warning(tmp_path):
    big = COMMENTS.replace(b"Xem l", b"Xem " + b"x" * files.MAX_PART_BYTES + b" l")
    stored = store(tmp_path, docx_bytes({"word/comments.xml": big}), "a.docx")
    assert zip_members(stored.path)["word/comments.xml"] == big
    assert stored.warnings == ("Phần «word/comments.xml» của tài liệu quá lớn nên chưa xoá được tên người trong đó; "
                               "ban tổ chức nên kiểm tra trước khi gửi giám khảo.",)


def test_docx_with_tracked_changes_or_embedded_files_is_stored_with_warnings(tmp_path):
    tracked = DOCUMENT.replace(b"<w:r>", b'<w:ins w:id="1" w:author="Nguyen Van A"><w:r>', 1).replace(
        b"</w:r>", b"</w:r></w:ins>", 1)
    padding = b" " * (CHUNK - 5 - tracked.find(b" w:author"))  # the author is split between two chunks
    tracked = tracked.replace(b"<w:document ", b"<w:document " + padding, 1)
    assert tracked.find(b" w:author") == CHUNK - 5
    stored = store(tmp_path, docx_bytes({"word/document.xml": tracked,
                                         "word/embeddings/Microsoft_Excel_Worksheet.xlsx": b"PK\x03\x04"}), "a.docx")
    assert stored.warnings == (
        "Tài liệu có tệp nhúng (word/embeddings); tên tác giả trong tệp nhúng không được xoá, ban tổ chức nên "
        "kiểm tra trước khi gửi giám khảo.",
        "Tài liệu còn thay đổi được theo dõi (Track Changes) ghi tên người sửa; ban tổ chức nên chấp nhận các "
        "thay đổi trước khi gửi giám khảo.")
    assert zip_members(stored.path)["word/document.xml"] == tracked


def test_docx_with_macros_is_refused(tmp_path):
    message = refusal(tmp_path, docx_bytes({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"}), "bai.docx")
    assert message == ("Tệp «bai.docx» có macro (word/vbaProject.bin); hãy lưu thành tài liệu Word không có "
                       "macro (.docx) rồi gửi lại.")


@pytest.mark.parametrize("cut", [100, 0.5, -30])
def test_truncated_docx_is_refused(tmp_path, cut):
    data = docx_bytes()
    data = data[:int(len(data) * cut) if isinstance(cut, float) else cut]
    assert refusal(tmp_path, data, "bai.docx") == (
        "Tệp «bai.docx» bị hỏng, không đọc được (không đọc được cấu trúc tệp nén); hãy lưu lại rồi gửi lại.")


def test_docx_with_a_damaged_member_is_refused_naming_it(tmp_path):
    data = bytearray(docx_bytes())
    at = data.find(b"word/document.xml") + len("word/document.xml")  # the local header's name, then the data
    data[at + 10:at + 20] = b"\x00" * 10
    assert refusal(tmp_path, bytes(data), "bai.docx") == (
        "Tệp «bai.docx» bị hỏng, không đọc được (phần «word/document.xml» không giải nén được); hãy lưu lại "
        "rồi gửi lại.")


def write_bomb(path: Path, zeros: int) -> None:
    """A .docx holding `zeros` bytes of zeros, written a megabyte at a time."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", DOCUMENT)
        with archive.open("word/media/image1.png", "w") as member:
            block = bytes(MB)
            for _ in range(zeros // MB):
                member.write(block)


@pytest.mark.parametrize("zeros", [1024 * MB, 150 * MB], ids=["declared-1GB", "ratio-under-the-size-limit"])
def test_zip_bomb_disguised_as_docx_is_refused_in_bounded_memory(tmp_path, zeros):
    bomb = tmp_path / "bomb.docx"
    write_bomb(bomb, zeros)
    assert bomb.stat().st_size < 2 * MB
    tracemalloc.start()
    try:
        with bomb.open("rb") as source, pytest.raises(UploadRefused) as refused:
            store_upload(source, "bai-thi.docx", allowed=["docx"], max_bytes=20 * MB, storage_dir=tmp_path / "entries")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(refused.value) == ("Tệp «bai-thi.docx» khi giải nén vượt quá 200 MB hoặc nén nhiều bất thường "
                                  "(nghi ngờ zip bomb); chưa lưu.")
    assert peak < 20 * MB
    assert os.listdir(tmp_path / "entries") == []


def test_docx_with_too_many_members_is_refused(tmp_path):
    parts = {f"word/media/image{n}.png": b"" for n in range(1000)}
    assert refusal(tmp_path, docx_bytes(parts), "bai.docx") == (
        "Tệp «bai.docx» chứa quá nhiều tệp con (tối đa 1000); chưa lưu.")


def test_zip_that_is_not_a_word_document_is_unknown(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", b"<workbook/>")
    assert refusal(tmp_path, buffer.getvalue(), "bai.docx", allowed=["docx", "pdf"]) == (
        "Không nhận ra nội dung tệp «bai.docx»; chỉ nhận tài liệu Word (.docx), PDF.")


def test_old_word_document_is_refused_with_advice(tmp_path):
    assert refusal(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "bai.doc", allowed=["docx"]) == (
        "Tệp «bai.doc» là tài liệu Word cũ (.doc) hoặc đã đặt mật khẩu; hãy lưu thành tệp .docx không đặt mật "
        "khẩu rồi gửi lại.")


# --- images --------------------------------------------------------------------------------------------------

def test_jpeg_loses_exif_xmp_iptc_and_comments_and_keeps_everything_else(tmp_path):
    xmp = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><dc:creator>Nguyen Van A</dc:creator>")
    iptc = segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\0\0\0\0\0\x10\x1c\x02\x50\0\x0cNguyen Van A")
    comment = segment(0xFE, b"Nguyen Van A")
    data = (SOI + APP0 + segment(0xE1, exif(ARTIST)) + xmp + ICC + iptc + comment + DQT + SOF + DHT + SOS + SCAN
            + DHT + SOS + SCAN + EOI)

    stored = store(tmp_path, data, "poster.JPEG")

    assert stored.path.read_bytes() == SOI + APP0 + ICC + DQT + SOF + DHT + SOS + SCAN + DHT + SOS + SCAN + EOI
    assert stored.removed == ("dữ liệu Exif của ảnh (máy chụp, thời điểm, vị trí, có thể cả tên tác giả)",
                              "dữ liệu XMP của ảnh (có thể ghi tên tác giả)",
                              "dữ liệu IPTC/Photoshop của ảnh (có thể ghi tên tác giả)",
                              "chú thích chữ trong ảnh (có thể ghi tên tác giả)")
    assert (stored.kind, stored.warnings) == ("jpg", ())


def test_turned_photo_keeps_only_its_orientation(tmp_path):
    data = SOI + segment(0xE1, exif(ARTIST, (0x0112, 3, 1, struct.pack("<H", 6)))) + DQT + SOF + SOS + SCAN + EOI
    stored = store(tmp_path, data, "anh.jpg")
    orientation_only = b"Exif\0\0MM\0*" + struct.pack(">IHHHIHHI", 8, 1, 0x0112, 3, 1, 6, 0, 0)
    assert stored.path.read_bytes() == SOI + segment(0xE1, orientation_only) + DQT + SOF + SOS + SCAN + EOI
    assert images._orientation(orientation_only[6:]) == 6


def test_jpeg_scan_data_across_chunks_is_copied_unchanged_and_what_follows_its_end_is_dropped(tmp_path):
    head = SOI + APP0 + DQT + SOF + SOS
    scan = bytearray(os.urandom(3 * CHUNK - 1 - len(head)).replace(b"\xff", b"\x00"))
    scan[CHUNK - len(head) - 1:CHUNK - len(head) + 1] = b"\xff\x00"  # split by a chunk: stuffing,
    scan[2 * CHUNK - len(head) - 1:2 * CHUNK - len(head) + 1] = b"\xff\xd3"  # a restart marker,
    comment = segment(0xFE, b"Nguyen Van A")  # and the marker of a comment between two scans
    preview = SOI + segment(0xE1, exif(ARTIST)) + EOI  # as phones append
    stored = store(tmp_path, head + scan + comment + DHT + SOS + SCAN + EOI + preview, "anh.jpg")
    assert stored.path.read_bytes() == head + scan + DHT + SOS + SCAN + EOI
    assert stored.removed == ("chú thích chữ trong ảnh (có thể ghi tên tác giả)",
                              "dữ liệu gắn sau phần cuối ảnh (ảnh phụ, ảnh xem trước)")


@pytest.mark.parametrize("data", [SOI + APP0 + b"\x00\x01", SOI + APP0 + DQT[:20], SOI + APP0 + EOI,
                                  SOI + APP0 + SOS + SCAN])
def test_broken_jpeg_is_refused(tmp_path, data):
    assert refusal(tmp_path, data, "anh.jpg").startswith("Tệp «anh.jpg» bị hỏng, không đọc được (")


@pytest.mark.parametrize("data, filename", [
    (SOI + APP0 + segment(0xFE, b"") * images.MAX_PARTS + DQT + SOF + SOS + SCAN + EOI, "anh.jpg"),
    (PNG_SIGNATURE + IHDR + chunk(b"tEXt", b"") * images.MAX_PARTS + IDAT + IEND, "anh.png"),
])
def test_image_of_a_hundred_thousand_tiny_parts_is_refused(tmp_path, data, filename):
    assert refusal(tmp_path, data, filename) == (
        f"Tệp «{filename}» bị hỏng, không đọc được (ảnh có hơn 100.000 phần, nhiều bất thường); hãy lưu lại rồi "
        "gửi lại.")


def test_png_loses_its_text_exif_and_time_chunks(tmp_path):
    data = (PNG_SIGNATURE + IHDR + chunk(b"tEXt", b"Author\0Nguyen Van A") + chunk(b"tIME", bytes(7)) + IDAT
            + chunk(b"iTXt", b"Author\0\0\0\0\0Nguy\xe1\xbb\x85n") + chunk(b"eXIf", exif(ARTIST)[6:]) + IEND)

    stored = store(tmp_path, data, "poster.png")

    kept = stored.path.read_bytes()
    assert kept == PNG_SIGNATURE + IHDR + IDAT + IEND
    at = 8
    while at < len(kept):  # every chunk left has a valid CRC
        (length,) = struct.unpack_from(">I", kept, at)
        body = kept[at + 4:at + 8 + length]
        assert struct.unpack_from(">I", kept, at + 8 + length) == (zlib.crc32(body),)
        at += 12 + length
    assert stored.removed == ("chú thích chữ trong ảnh (có thể ghi tên tác giả)", "thời điểm sửa ảnh",
                              "dữ liệu Exif của ảnh (máy chụp, thời điểm, vị trí, có thể cả tên tác giả)")


@pytest.mark.parametrize("data, detail", [
    (PNG_SIGNATURE + IHDR + IDAT, "ảnh PNG thiếu phần kết thúc (IEND)"),
    (PNG_SIGNATURE + IHDR + IDAT[:-1] + b"\x00" + IEND, "mã kiểm tra của phần IDAT trong ảnh PNG sai"),
    (PNG_SIGNATURE + IDAT + IHDR + IEND, "cấu trúc ảnh PNG sai"),
    (PNG_SIGNATURE + IHDR + b"\xff\xff\xff\xffIDAT" + IEND, "cấu trúc ảnh PNG sai"),
])
def test_broken_png_is_refused(tmp_path, data, detail):
    assert refusal(tmp_path, data, "anh.png") == (
        f"Tệp «anh.png» bị hỏng, không đọc được ({detail}); hãy lưu lại rồi gửi lại.")


# --- PDF -----------------------------------------------------------------------------------------------------

def test_pdf_naming_its_author_is_stored_as_it_is_with_a_warning(tmp_path):
    data = pdf_bytes(b"<< /Author (Nguyen Van A) /Creator (Microsoft Word) >>")
    stored = store(tmp_path, data, "bai.pdf")
    assert (stored.kind, stored.path.read_bytes(), stored.removed) == ("pdf", data, ())
    assert stored.warnings == ("PDF có thể ghi tên tác giả trong thuộc tính tài liệu; ban tổ chức nên kiểm tra "
                               "trước khi gửi giám khảo.",)


def test_pdf_author_split_across_chunks_or_in_xmp_is_found(tmp_path):
    split = pdf_bytes(b"<< /Producer (x) >>")
    split = split[:CHUNK - 4].ljust(CHUNK - 4, b" ") + b"/Author (Nguyen Van A)" + split[CHUNK - 4:]
    xmp = pdf_bytes(b"<< /Length 99 >>\nstream\n<dc:creator><rdf:Seq><rdf:li>Nguyen Van A</rdf:li></rdf:Seq>"
                    b"</dc:creator>\nendstream")
    for data in (split, xmp):
        assert len(store(tmp_path, data, "bai.pdf").warnings) == 1


def test_pdf_with_compressed_objects_and_no_author_in_sight_is_stored_with_a_warning(tmp_path):
    data = pdf_bytes(b"<< /Type /ObjStm /N 3 /First 14 /Filter /FlateDecode /Length 5 >>\nstream\nx\x9c\nendstream")
    assert store(tmp_path, data, "bai.pdf").warnings == (
        "PDF có phần nén nên chưa kiểm tra được tên tác giả trong thuộc tính tài liệu; ban tổ chức nên kiểm tra "
        "trước khi gửi giám khảo.",)


def test_pdf_without_an_author_has_no_warning(tmp_path):
    stored = store(tmp_path, pdf_bytes(b"<< /Author () /Creator (Microsoft Word) /Producer (Word) >>"), "bai.pdf")
    assert (stored.kind, stored.warnings) == ("pdf", ())


# --- refusals ------------------------------------------------------------------------------------------------

def test_lying_extension_is_refused_naming_both(tmp_path):
    message = refusal(tmp_path, PNG_SIGNATURE + IHDR + IDAT + IEND, "bai-thi.docx")
    assert message == ("Tệp «bai-thi.docx» có đuôi .docx nhưng nội dung là ảnh PNG; hãy lưu lại đúng định dạng "
                       "rồi gửi lại.")
    assert refusal(tmp_path, pdf_bytes(b"<<>>"), "bai-thi") == (
        "Tệp «bai-thi» không có đuôi nhưng nội dung là PDF; hãy đặt tên có đuôi .pdf rồi gửi lại.")


def test_unknown_or_empty_content_is_refused_naming_what_is_allowed(tmp_path):
    assert refusal(tmp_path, "Bài dự thi của tôi".encode(), "bai.pdf", allowed=["pdf", "docx"]) == (
        "Không nhận ra nội dung tệp «bai.pdf»; chỉ nhận PDF, tài liệu Word (.docx).")
    assert refusal(tmp_path, b"", "bai.pdf", allowed=["pdf"]) == "Tệp «bai.pdf» rỗng; chỉ nhận PDF."


def test_kind_not_allowed_is_refused_naming_the_allowed_kinds(tmp_path):
    message = refusal(tmp_path, PNG_SIGNATURE + IHDR + IDAT + IEND, "poster.png", allowed=["docx", "pdf"])
    assert message == "Tệp «poster.png» là ảnh PNG; vòng thi này chỉ nhận tài liệu Word (.docx), PDF."


def test_refusal_is_a_message_that_can_be_translated(tmp_path):
    with pytest.raises(UploadRefused) as refused:
        store(tmp_path, PNG_SIGNATURE + IHDR + IDAT + IEND, "poster.png", allowed=["pdf"])
    message = message_of(refused.value)
    assert isinstance(message, Message)
    assert message.source == "Tệp «{name}» là {label}; vòng thi này chỉ nhận {allowed}."
    assert gettext("vi", message) == str(message)


class CountingZeros(io.RawIOBase):
    """A source of `size` zero bytes that counts what was read from it."""

    def __init__(self, size: int):
        self.left, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left, self.read_bytes = self.left - n, self.read_bytes + n
        return bytes(n)


def test_oversize_upload_is_refused_after_reading_little_more_than_the_limit(tmp_path):
    source = CountingZeros(50 * MB)
    with pytest.raises(UploadRefused) as refused:
        store_upload(source, "bai.pdf", allowed=["pdf"], max_bytes=5 * MB, storage_dir=tmp_path / "entries")
    assert str(refused.value) == "Tệp «bai.pdf» lớn hơn 5 MB cho phép; chưa lưu."
    assert 5 * MB < source.read_bytes <= 5 * MB + CHUNK
    assert os.listdir(tmp_path / "entries") == []


def test_unknown_allowed_kind_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="allowed kinds"):
        store(tmp_path, b"%PDF-1.4", "a.pdf", allowed=["exe"])


# --- storing -------------------------------------------------------------------------------------------------

def test_same_content_is_stored_once_under_its_digest(tmp_path):
    data = PNG_SIGNATURE + IHDR + IDAT + IEND
    first = store(tmp_path, data, "a.png")
    second = store(tmp_path, data, "b.png")
    assert first.path == second.path == tmp_path / "entries" / f"{hashlib.sha256(data).hexdigest()}.png"
    assert (first.original_name, second.original_name) == ("a.png", "b.png")
    assert os.listdir(tmp_path / "entries") == [first.path.name]


@pytest.mark.parametrize("name, cleaned", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\bài thi.docx", "bài thi.docx"),
    ("bai\x00thi\r\n\t.pdf", "baithi.pdf"),
    ("anh\u202egnp.exe", "anhgnp.exe"),  # a right-to-left override would show it as "anhexe.png"
    ("  Bài   thi  .  ", "Bài thi"),
    (unicodedata.normalize("NFD", "Bài dự thi.docx"), "Bài dự thi.docx"),
    ("../", "tep"),
    ("", "tep"),
    ("a" * 300 + ".docx", "a" * 115 + ".docx"),
    ("ả" * 300, "ả" * 120),
])
def test_clean_filename(name, cleaned):
    assert clean_filename(name) == cleaned
    assert unicodedata.is_normalized("NFC", clean_filename(name))


def test_messages_are_written_in_nfc():
    for module in (files, images):
        assert unicodedata.is_normalized("NFC", Path(module.__file__).read_text(encoding="utf-8"))
