"""Photo checks and EXIF removal.

A photo is accepted by what it is, not by its name: JPEG, PNG or WebP recognised from its bytes and
parsed far enough to find its metadata blocks. The public copy drops every metadata block (JPEG
APP1–APP15 and COM segments: EXIF with GPS position, XMP, IPTC; PNG text and eXIf chunks; WebP EXIF
and XMP chunks), so a resident's phone location never reaches the public page. Pillow, when
installed, additionally decodes the image to make sure it is one.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _


class PhotoRejected(ValueError):
    pass


@dataclass(frozen=True)
class CheckedPhoto:
    content: bytes
    public_content: bytes
    content_type: str
    sha256: str


def max_bytes() -> int:
    return int(getattr(settings, "LINLI_APPEAL_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def max_count() -> int:
    return int(getattr(settings, "LINLI_APPEAL_PHOTO_MAX_COUNT", 9))


def sniff(content: bytes) -> str | None:
    if content[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if content[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photo(content: bytes) -> CheckedPhoto:
    if not content:
        raise PhotoRejected(_("照片为空 / the photo is empty"))
    if len(content) > max_bytes():
        raise PhotoRejected(
            _("照片超过 %(mb)d MB / the photo is larger than %(mb)d MB")
            % {"mb": max_bytes() // (1024 * 1024)}
        )
    content_type = sniff(content)
    if content_type is None:
        raise PhotoRejected(_("只接受 JPEG、PNG 或 WebP 照片 / only JPEG, PNG or WebP photos are accepted"))
    try:
        stripped = {"image/jpeg": strip_jpeg, "image/png": strip_png, "image/webp": strip_webp}[content_type](
            content
        )
    except (ValueError, struct.error, IndexError) as exc:
        raise PhotoRejected(_("照片文件已损坏 / the photo file is damaged")) from exc
    _decode_with_pillow(content)
    return CheckedPhoto(
        content=content,
        public_content=stripped,
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _decode_with_pillow(content: bytes) -> None:
    try:
        from PIL import Image  # optional: the byte-level checks above stand on their own
    except ImportError:
        return
    import io

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except Exception as exc:
        raise PhotoRejected(_("照片文件已损坏 / the photo file is damaged")) from exc


def strip_jpeg(content: bytes) -> bytes:
    """Copy SOI, every segment except APPn (n ≥ 1) and COM, then the scan data to the end."""
    if content[:2] != b"\xff\xd8":
        raise ValueError("no SOI")
    out = bytearray(b"\xff\xd8")
    i = 2
    while i < len(content):
        if content[i] != 0xFF:
            raise ValueError("segment marker expected")
        marker = content[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # EOI without scan
            out += content[i : i + 2]
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += content[i : i + 2]
            i += 2
            continue
        (length,) = struct.unpack(">H", content[i + 2 : i + 4])
        if length < 2 or i + 2 + length > len(content):
            raise ValueError("segment overruns the file")
        segment = content[i : i + 2 + length]
        if marker == 0xDA:  # start of scan: the rest is image data
            out += content[i:]
            return bytes(out)
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            out += segment
        i += 2 + length
    raise ValueError("no image data")


_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def strip_png(content: bytes) -> bytes:
    out = bytearray(content[:8])
    i = 8
    seen_end = False
    while i < len(content):
        (length,) = struct.unpack(">I", content[i : i + 4])
        kind = content[i + 4 : i + 8]
        data = content[i + 8 : i + 8 + length]
        (crc,) = struct.unpack(">I", content[i + 8 + length : i + 12 + length])
        if len(data) != length or zlib.crc32(kind + data) != crc:
            raise ValueError("bad PNG chunk")
        if kind not in _PNG_DROP:
            out += content[i : i + 12 + length]
        i += 12 + length
        if kind == b"IEND":
            seen_end = True
            break
    if not seen_end:
        raise ValueError("no IEND")
    return bytes(out)


def strip_webp(content: bytes) -> bytes:
    (riff_size,) = struct.unpack("<I", content[4:8])
    if riff_size + 8 > len(content):
        raise ValueError("RIFF overruns the file")
    chunks = bytearray()
    i = 12
    while i < 8 + riff_size:
        kind = content[i : i + 4]
        (size,) = struct.unpack("<I", content[i + 4 : i + 8])
        padded = size + (size & 1)
        if i + 8 + size > len(content):
            raise ValueError("chunk overruns the file")
        chunk = bytearray(content[i : i + 8 + padded])
        if kind == b"VP8X":  # clear the EXIF (bit 3) and XMP (bit 2) flags
            chunk[8] &= ~0x0C & 0xFF
        if kind not in (b"EXIF", b"XMP "):
            chunks += chunk
        i += 8 + padded
    return b"RIFF" + struct.pack("<I", len(chunks) + 4) + b"WEBP" + bytes(chunks)
