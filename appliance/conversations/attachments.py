"""Files in conversations: a customer's photo, the owner's image or PDF.

This module is the only owner of the ``attachments`` table. A file is kept in the database,
beside the message it came with: it is in every backup, and deleting the conversation (retention,
the customer's erasure) deletes it with the message (``ON DELETE CASCADE``; ``secure_delete`` is
on, so its bytes are overwritten).

What is stored is never what was sent. The type is read from the content, never from the name
or the browser's word: an image is decoded by Pillow and drawn again into a new image (EXIF
with the customer's location, ICC profiles, comments and anything appended after the pixels are
left behind), at most ``MAX_SIDE`` pixels a side; a PDF (the owner's only) is written again
without what could act when it is opened (scripts, launch actions, embedded files) and without
anything after its end. An HTML page or an SVG named ``.jpg`` is refused: Pillow can't read either
as a picture.

Decoding is where a hostile file costs memory: a 200 KB PNG can say 7,000 x 7,000 pixels (196 MB
decoded; ten of them took the web process to 7 GB). So a picture is drawn in a child process
(``photo_worker``) whose address space is capped, at most ``DECODES_AT_ONCE`` at a time in the
process and one per visitor (``PhotoTurns``), and what can't be decoded at a reduced scale (all but
JPEG) is refused above ``MAX_DECODED_PIXELS``. The worst a file can do is fail its own child.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
import re
import secrets
import subprocess
import sys
import threading
import unicodedata
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from PIL import Image, UnidentifiedImageError

from appliance.child_process import child_env

if TYPE_CHECKING:
    from sqlite_utils import Database

log = logging.getLogger(__name__)

MAX_SIDE = 2000  # legible, a tenth of the bytes, and half a 12-megapixel photo: decoded at half scale
MAX_PIXELS = 50_000_000  # decoded larger than this is a decompression bomb, not a photo
# What is decoded whole (a PNG, WebP, GIF, BMP; a JPEG after its reduced scale) at most: a 4K or
# 5K screenshot, a 20-megapixel photo saved as PNG. 4 bytes a pixel: up to 96 MB, twice that while
# it is converted.
MAX_DECODED_PIXELS = 24_000_000
DECODES_AT_ONCE = 2  # pictures drawn at the same time in the process (two cores; memory)
DECODE_MEMORY_BYTES = 768 * 2**20  # the drawing child's address space (Python, Pillow, two copies)
DECODE_CPU_S = 30  # ... and its CPU time: a picture takes a second at most
DECODE_WAIT_S = 60.0  # a photo waits this long for its turn, then is refused as busy
_DECODES = threading.BoundedSemaphore(DECODES_AT_ONCE)
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
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
    has transparency), with no metadata, in a child process with capped memory (at most
    ``DECODES_AT_ONCE`` at a time; called off the event loop). Raises AttachmentRefused."""
    if len(content) > max_bytes:
        raise AttachmentRefused("attachment.too_big", f"the file is larger than {max_bytes // 1_000_000} MB")
    if not content:
        raise AttachmentRefused("attachment.empty", "the file is empty")
    if not _DECODES.acquire(timeout=DECODE_WAIT_S):
        raise AttachmentRefused("attachment.busy", "the shop is busy with other pictures; try again in a minute")
    try:
        data, mime, width, height = _draw_in_child(content)
    finally:
        _DECODES.release()
    return Clean(data, mime, IMAGE, safe_name(name, mime), width, height)


def _draw_in_child(content: bytes) -> tuple[bytes, str, int, int]:
    cmd = [sys.executable, "-m", "appliance.conversations.photo_worker", str(DECODE_MEMORY_BYTES), str(DECODE_CPU_S)]
    try:
        done = subprocess.run(
            cmd, input=content, capture_output=True, env=child_env(), timeout=DECODE_CPU_S * 2, check=False
        )
    except subprocess.TimeoutExpired:
        log.warning("a picture took more than %d s to draw: refused", DECODE_CPU_S * 2)
        raise AttachmentRefused("attachment.damaged", "the picture is damaged") from None
    except OSError as exc:  # no process could be started (out of processes or memory)
        log.warning("no process to draw a picture in: %s", exc)
        raise AttachmentRefused("attachment.busy", "the shop can't take pictures right now") from None
    head, _, data = done.stdout.partition(b"\n")
    try:
        answer = json.loads(head)
    except ValueError:
        answer = None
    if done.returncode != 0 or not isinstance(answer, dict):
        # Killed by its limits (memory, CPU) or crashed inside a decoder: the file's fault.
        log.warning(
            "a picture's drawing process failed (exit %s): %s",
            done.returncode,
            done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or "",
        )
        raise AttachmentRefused("attachment.damaged", "the picture is damaged")
    if "refused" in answer:
        raise AttachmentRefused(str(answer["refused"]), str(answer.get("message", "")))
    return data, str(answer["mime"]), int(answer["width"]), int(answer["height"])


def draw_image(content: bytes) -> tuple[bytes, str, int, int]:
    """The drawing itself, in ``photo_worker``'s child process: (data, mime, width, height).
    Raises AttachmentRefused."""
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
                if img.width * img.height > MAX_DECODED_PIXELS:  # what can't be decoded smaller
                    raise AttachmentRefused("attachment.too_many_pixels", "the picture is too large")
                img.load()
                turn = _ORIENTATION.get(img.getexif().get(0x0112, 1))  # as the phone showed it
                alpha = img.mode in {"RGBA", "LA", "PA"} or (img.mode == "P" and "transparency" in img.info)
                # A screenshot stays sharp as a PNG; a photo is smaller as a JPEG.
                lossless = alpha or img.format in {"PNG", "GIF", "BMP"}
                mode = "RGBA" if alpha else "RGB"
                drawn = img if img.mode == mode else img.convert(mode)
                # Made small before it is turned: one full-size copy at most.
                drawn.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                if turn is not None:
                    drawn = drawn.transpose(turn)
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
    except MemoryError:
        raise AttachmentRefused("attachment.too_many_pixels", "the picture is too large") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise AttachmentRefused("attachment.damaged", "the picture is damaged") from None
    return out.getvalue(), mime, fresh.width, fresh.height


class PhotoTurns:
    """Whose picture is being drawn (on the event loop): one per visitor, ``DECODES_AT_ONCE``
    in the process; the others wait here, holding no thread, up to ``DECODE_WAIT_S``."""

    def __init__(self, at_once: int = DECODES_AT_ONCE, wait_s: float = DECODE_WAIT_S):
        self._slots = asyncio.Semaphore(at_once)
        self._visitors: set[str] = set()
        self.wait_s = wait_s

    @asynccontextmanager
    async def turn(self, visitor: str) -> AsyncIterator[None]:
        """Raises AttachmentRefused ``attachment.one_at_a_time`` when this visitor's last picture
        is still being drawn, ``attachment.busy`` when no turn came in time."""
        if visitor in self._visitors:
            raise AttachmentRefused("attachment.one_at_a_time", "a photo of yours is still being sent")
        self._visitors.add(visitor)
        try:
            try:
                async with asyncio.timeout(self.wait_s):
                    await self._slots.acquire()
            except TimeoutError:
                raise AttachmentRefused("attachment.busy", "the shop is busy with other pictures") from None
            try:
                yield
            finally:
                self._slots.release()
        finally:
            self._visitors.discard(visitor)


# What may act when a PDF is opened: an action on opening or on events (/OpenAction, /AA),
# document scripts, attached files, XFA forms (scripts too); and actions that run or fetch things.
_ACTIVE_KEYS = frozenset({"/OpenAction", "/AA", "/JavaScript", "/JS", "/EmbeddedFiles", "/EF", "/XFA"})
_ACTIVE_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToE", "/RichMediaExecute", "/Rendition"}
)


def clean_pdf(content: bytes, name: str, max_bytes: int) -> Clean:
    """The owner's PDF written again: its pages as they were, without scripts, actions that run
    or fetch anything, attached files, and without what follows its end (an HTML page after
    ``%%EOF`` passed before). Raises AttachmentRefused."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    if len(content) > max_bytes:
        raise AttachmentRefused("attachment.too_big", f"the file is larger than {max_bytes // 1_000_000} MB")
    if not content.startswith(b"%PDF-"):
        raise AttachmentRefused("attachment.not_allowed", "send a photo (JPEG, PNG, WebP) or a PDF")
    end = content.rfind(b"%%EOF")
    if end >= 0:
        content = content[: end + 5]
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise AttachmentRefused("attachment.encrypted", "the PDF is locked with a password")
        if len(reader.pages) < 1:
            raise AttachmentRefused("attachment.damaged", "the PDF is damaged")
        # Stripped before it is copied: only what is still reachable is written.
        _strip_active(reader.trailer["/Root"])
        writer = PdfWriter(clone_from=reader)
        out = io.BytesIO()
        writer.write(out)
    except AttachmentRefused:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        raise AttachmentRefused("attachment.damaged", "the PDF is damaged") from None
    return Clean(out.getvalue(), "application/pdf", PDF, safe_name(name, "application/pdf"))


def _strip_active(root: Any) -> None:
    """Remove ``_ACTIVE_KEYS`` and ``_ACTIVE_ACTIONS`` from every object reachable from ``root``
    (without recursion: a PDF can nest thousands deep)."""
    from pypdf.generic import ArrayObject, DictionaryObject

    def active(value: Any) -> bool:
        target = value.get_object()
        return isinstance(target, DictionaryObject) and target.get("/S") in _ACTIVE_ACTIONS

    seen: set[int] = set()
    todo = [root]
    while todo:
        obj = todo.pop().get_object()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, DictionaryObject):
            for key in list(obj.keys()):
                value = obj.raw_get(key)
                if key in _ACTIVE_KEYS or active(value):
                    del obj[key]
                else:
                    todo.append(value)
        elif isinstance(obj, ArrayObject):
            obj[:] = [value for value in obj if not active(value)]
            todo.extend(obj)


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
    """The file and the conversation it is in, or None (whose it is: conversations/store.py)."""
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
