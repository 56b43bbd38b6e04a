"""Files in conversations: a customer's photo, the owner's image or PDF.

This module is the only owner of the ``attachments`` table. A file is kept in the database,
beside the message it came with: it is in every backup, and deleting the conversation (retention,
the customer's erasure) deletes it with the message (``ON DELETE CASCADE``; ``secure_delete`` is
on, so its bytes are overwritten).

What is stored is never what was sent. The type is read from the content, never from the name
or the browser's word: an image is decoded by Pillow and drawn again into a new image (EXIF
with the customer's location, ICC profiles, comments and anything appended after the pixels are
left behind), at most ``MAX_SIDE`` pixels a side; a PDF (the owner's only) must open as one. An
HTML page or an SVG named ``.jpg`` is refused: Pillow can't read either as a picture.
"""

from __future__ import annotations

import io
import math
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlite_utils import Database

MAX_SIDE = 2000  # legible, a tenth of the bytes, and half a 12-megapixel photo: decoded at half scale
MAX_PIXELS = 50_000_000  # decoded larger than this is a decompression bomb, not a photo
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP"}
IMAGE = "image"
PDF = "pdf"
_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/<>:|?*\u200e\u200f\u202a-\u202e\u2066-\u2069]')


class AttachmentRefused(ValueError):
    """Not accepted; ``key`` says why in the sender's language (i18n ``attachment.*``)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Clean:
    """A file as it will be stored and served."""

    data: bytes
    mime: str
    kind: str
    name: str
    width: int = 0
    height: int = 0


def safe_name(name: str, mime: str) -> str:
    """The sender's file name, for showing and for Content-Disposition: no path, no control or
    direction characters, at most 80 characters, with the extension of what the file really is."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem = _UNSAFE_NAME.sub("", base.rsplit(".", 1)[0] if "." in base else base).strip(" .")[:80]
    return (stem or "file") + _EXT[mime]


def clean_image(content: bytes, name: str, max_bytes: int) -> Clean:
    """The picture in ``content`` drawn again as a plain JPEG (a PNG if it was a lossless one or
    has transparency), with no metadata. Raises AttachmentRefused."""
    if len(content) > max_bytes:
        raise AttachmentRefused("attachment.too_big", f"the file is larger than {max_bytes // 1_000_000} MB")
    if not content:
        raise AttachmentRefused("attachment.empty", "the file is empty")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it: here any bomb is an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as img:
                if img.format not in IMAGE_FORMATS:
                    raise AttachmentRefused("attachment.not_image", f"not a photo ({img.format})")
                if img.width * img.height > MAX_PIXELS:
                    raise AttachmentRefused("attachment.too_many_pixels", "the picture is too large")
                img.seek(0)  # an animation: its first frame
                # A JPEG is decoded at the smallest power-of-two scale still larger than what is
                # kept: a 12-megapixel photo took 0.4 s and 230 MB decoded whole.
                scale = MAX_SIDE / max(img.size)
                if scale < 1:
                    img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
                img.load()
                upright = ImageOps.exif_transpose(img)  # as the phone showed it, before EXIF goes
                alpha = upright.mode in {"RGBA", "LA", "PA"} or (upright.mode == "P" and "transparency" in upright.info)
                # A screenshot stays sharp as a PNG; a photo is smaller as a JPEG.
                lossless = alpha or img.format in {"PNG", "GIF", "BMP"}
                mode = "RGBA" if alpha else "RGB"
                drawn = upright.convert(mode)
        drawn.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        # A new image holds only pixels: nothing of the sent file's info (EXIF, ICC, text
        # chunks, comments) can ride along into the saved one.
        fresh = Image.frombytes(mode, drawn.size, drawn.tobytes())
        out = io.BytesIO()
        if lossless:
            fresh.save(out, "PNG", optimize=True)
            mime = "image/png"
        else:
            fresh.save(out, "JPEG", quality=85, optimize=True)
            mime = "image/jpeg"
    except AttachmentRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise AttachmentRefused("attachment.not_image", "the file is not a photo (JPEG, PNG, WebP or GIF)") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise AttachmentRefused("attachment.damaged", "the picture is damaged") from None
    return Clean(out.getvalue(), mime, IMAGE, safe_name(name, mime), fresh.width, fresh.height)


def clean_pdf(content: bytes, name: str, max_bytes: int) -> Clean:
    """The owner's PDF, as sent, if it is one. Raises AttachmentRefused."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if len(content) > max_bytes:
        raise AttachmentRefused("attachment.too_big", f"the file is larger than {max_bytes // 1_000_000} MB")
    if not content.startswith(b"%PDF-"):
        raise AttachmentRefused("attachment.not_allowed", "send a photo (JPEG, PNG, WebP) or a PDF")
    try:
        pages = len(PdfReader(io.BytesIO(content)).pages)
    except (PdfReadError, OSError, ValueError, KeyError, TypeError):
        pages = 0
    if pages < 1:
        raise AttachmentRefused("attachment.damaged", "the PDF is damaged")
    return Clean(content, "application/pdf", PDF, safe_name(name, "application/pdf"))


def clean_owner_file(content: bytes, name: str, max_bytes: int) -> Clean:
    """What the owner sends: a PDF or an image."""
    if content.startswith(b"%PDF-"):
        return clean_pdf(content, name, max_bytes)
    return clean_image(content, name, max_bytes)


# -- the table ------------------------------------------------------------------------------------


def insert(db: Database, conversation_id: str, message_id: int, clean: Clean, now: str) -> str:
    """Store a file with its message (called inside the message's own transaction)."""
    attachment_id = secrets.token_urlsafe(16)
    db.execute(
        "INSERT INTO attachments (id, conversation_id, message_id, kind, mime, name, size, width, height, data, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            attachment_id,
            conversation_id,
            message_id,
            clean.kind,
            clean.mime,
            clean.name,
            len(clean.data),
            clean.width,
            clean.height,
            clean.data,
            now,
        ],
    )
    return attachment_id


def of_conversation(db: Database, conversation_id: str) -> dict[int, list[dict[str, Any]]]:
    """Each message's files (not their bytes), by message id."""
    out: dict[int, list[dict[str, Any]]] = {}
    for row in db.execute(
        "SELECT id, message_id, kind, mime, name, size, width, height FROM attachments "
        "WHERE conversation_id = ? ORDER BY created_at, id",
        [conversation_id],
    ).fetchall():
        item = dict(row)
        out.setdefault(item.pop("message_id"), []).append(item)
    return out


def get(db: Database, attachment_id: str) -> Any:
    """The file and the conversation it is in, or None (whose it is: conversations.py)."""
    if not 0 < len(attachment_id) <= 64:
        return None
    return db.execute(
        "SELECT id, conversation_id, kind, mime, name, data FROM attachments WHERE id = ?", [attachment_id]
    ).fetchone()


def headers(row: Any) -> dict[str, str]:
    """How a stored file is served: never guessed at, never run, never framed. A PDF is
    downloaded, not shown inside the appliance's origin."""
    disposition = "inline" if row["kind"] == IMAGE else "attachment"
    # For browsers that don't read filename*: the name's ASCII letters, or "attachment" when a
    # Persian name leaves none (it gave filename="  .jpg").
    stem, dot, ext = row["name"].rpartition(".")
    if not dot:
        stem, ext = ext, ""
    stem = " ".join(stem.encode("ascii", "ignore").decode().split()).strip(" .-_")
    ext = f".{ext}" if dot and ext.isascii() and ext.isalnum() else _EXT.get(row["mime"], "")
    ascii_name = (stem if any(c.isalnum() for c in stem) else "attachment") + ext
    return {
        "content-disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(row['name'])}",
        "x-content-type-options": "nosniff",
        # Never framed, by anyone: a CSP of its own replaces the app's (and its X-Frame-Options).
        "content-security-policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
        "cross-origin-resource-policy": "same-origin",
        "cache-control": "private, max-age=86400",
    }
