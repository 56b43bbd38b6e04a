"""The owner's documents read into titled sections, and the question/answer pairs they propose.

Every format is read by a library, never by hand: trafilatura finds a web page's main text (not
its menus and footer) and keeps its headings; lxml reads the page's FAQ structure; pypdf reads a
PDF's text; python-docx reads a Word file's paragraphs, headings and tables. Markdown and plain
text are split at their headings.

A document is checked whole before anything is stored: a broken or scanned PDF, a file that is
not what its name says, one too large, are refused with the reason in the owner's language
(``document.*`` keys) and nothing changes.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.kb.entry import MAX_ANSWER, MAX_TITLE, EntryError
from appliance.kb.index import split_passages
from appliance.text.textnorm import detect_language, normalize

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# A section longer than this is cut in parts, each an entry with its own title ("Returns (2)"):
# a title standing for ten pages would match everything a little and nothing well.
MAX_SECTION_CHARS = 3000
MAX_SECTIONS = 2000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
KINDS = {"html": "html", "htm": "html", "md": "md", "markdown": "md", "txt": "txt", "pdf": "pdf", "docx": "docx"}
# trafilatura drops the zero-width non-joiner, and Persian needs it ("می‌رسند", not "میرسند"):
# it is carried through as a combining grapheme joiner, which shop text never has.
_ZWNJ, _CARRIER = "\u200c", "\u034f"
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_QUESTION_END = re.compile(r"[?؟]\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|(?<!\w)\*(?!\s)|`)")


class DocumentError(EntryError):
    """A document can't be read; ``key`` (``document.*``) says why in the owner's language."""

    def __init__(self, name: str, reason: str, key: str, **params: object):
        super().__init__(name, reason, key, **params)


@dataclass
class Section:
    heading: str
    text: str


@dataclass
class Proposal:
    """A question and its answer found in the document's FAQ structure, offered as an entry."""

    question: str
    answer: str


@dataclass
class Document:
    title: str
    kind: str  # html | md | txt | pdf | docx
    sections: list[Section]
    proposals: list[Proposal] = field(default_factory=list)
    link: str = ""  # the page's address, for a page fetched from the shop's site

    @property
    def lang(self) -> str:
        return detect_language(" ".join(s.text for s in self.sections[:20]))

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.sections)


def kind_of(name: str, content_type: str = "") -> str | None:
    """The document kind from a file name (or a fetched page's media type), None if not one."""
    media = content_type.split(";")[0].strip().lower()
    by_media = {
        "text/html": "html",
        "application/xhtml+xml": "html",
        "text/markdown": "md",
        "text/plain": "txt",
        "application/pdf": "pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    }
    if media in by_media:
        return by_media[media]
    return KINDS.get(Path(name).suffix.lower().lstrip("."))


def extract(data: bytes, name: str, *, kind: str | None = None, link: str = "") -> Document:
    """Read a whole document; raises DocumentError saying why it can't be used."""
    if len(data) > MAX_DOCUMENT_BYTES:
        mb = MAX_DOCUMENT_BYTES // 2**20
        raise DocumentError(name, f"file larger than {mb} MB", "document.too_big", n=mb)
    kind = kind or kind_of(name)
    if kind is None:
        raise DocumentError(name, "not a document: use .html, .md, .txt, .pdf or .docx", "document.file_type")
    if not data.strip():
        raise DocumentError(name, "the file is empty", "document.empty")
    reader = {"html": _html, "md": _markdown, "txt": _text, "pdf": _pdf, "docx": _docx}[kind]
    title, sections, proposals = reader(data, name)
    sections = _fit(s for s in sections if s.text.strip())
    if not sections:
        raise DocumentError(name, "no text found in the document", "document.no_text")
    if len(sections) > MAX_SECTIONS:
        raise DocumentError(name, f"more than {MAX_SECTIONS} sections", "document.too_long", n=MAX_SECTIONS)
    title = _clip(title or Path(name).stem or name, MAX_TITLE)
    for s in sections:
        s.heading = s.heading or title
    proposals += [Proposal(s.heading, s.text) for s in sections if _QUESTION_END.search(s.heading)]
    return Document(title, kind, sections, _unique(proposals), link)


# -- formats --------------------------------------------------------------------------------------

Read = tuple[str, list[Section], list[Proposal]]


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(name, "not UTF-8 text (save the file as UTF-8)", "entry.not_utf8") from None


def _html(data: bytes, name: str) -> Read:
    import lxml.html
    import trafilatura

    page: str | bytes
    try:
        page = data.decode("utf-8-sig").replace(_CARRIER, "").replace(_ZWNJ, _CARRIER)
        page = re.sub(r"^\s*<\?xml[^>]*>", "", page)  # lxml takes no encoding declaration in a str
    except UnicodeDecodeError:
        page = data  # another encoding (windows-1256): lxml reads the page's <meta charset>
    try:
        tree = lxml.html.document_fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        raise DocumentError(name, "not a web page", "document.not_html") from None
    proposals = _faq_structure(tree)
    text = trafilatura.extract(
        tree, output_format="markdown", include_formatting=True, include_links=False, favor_recall=True
    )
    meta = trafilatura.extract_metadata(tree)
    title = (meta.title if meta else "") or ""
    text = (text or "").replace(_CARRIER, _ZWNJ)
    for p in proposals:
        p.question, p.answer = p.question.replace(_CARRIER, _ZWNJ), p.answer.replace(_CARRIER, _ZWNJ)
    heading_title, sections = _split_headings(text)
    return title.replace(_CARRIER, _ZWNJ) or heading_title, sections, proposals


def _faq_structure(tree: Any) -> list[Proposal]:
    """Questions with their answers where the page marks them as such: schema.org ``FAQPage``
    (JSON-LD), ``<details><summary>``, and definition lists."""
    found: list[Proposal] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for question in _ld_questions(data):
            answer = question.get("acceptedAnswer") or {}
            if isinstance(answer, list):
                answer = answer[0] if answer else {}
            text = answer.get("text") if isinstance(answer, dict) else None
            if isinstance(question.get("name"), str) and isinstance(text, str):
                found.append(Proposal(question["name"], _html_text(text)))
    for details in tree.xpath("//details[summary]"):
        summary = details.find("summary")
        question = summary.text_content()
        answer = " ".join(
            el.text_content() if hasattr(el, "text_content") else str(el) for el in details if el is not summary
        )
        found.append(Proposal(question, answer + (summary.tail or "")))
    for dl in tree.xpath("//dl"):
        for dt in dl.findall("dt"):
            dd = dt.getnext()
            if dd is not None and dd.tag == "dd":
                found.append(Proposal(dt.text_content(), dd.text_content()))
    return found


def _ld_questions(data: Any) -> list[dict[str, Any]]:
    """The ``Question`` objects of every ``FAQPage`` in a JSON-LD block (a list or an @graph too)."""
    if isinstance(data, list):
        return [q for item in data for q in _ld_questions(item)]
    if not isinstance(data, dict):
        return []
    if "@graph" in data:
        return _ld_questions(data["@graph"])
    kinds = data.get("@type")
    if "FAQPage" in (kinds if isinstance(kinds, list) else [kinds]):
        entities = data.get("mainEntity") or []
        return [q for q in (entities if isinstance(entities, list) else [entities]) if isinstance(q, dict)]
    return []


def _html_text(fragment: str) -> str:
    import lxml.html

    try:
        return str(lxml.html.fragment_fromstring(fragment, create_parent="div").text_content())
    except (ValueError, lxml.etree.ParserError):
        return fragment


def _markdown(data: bytes, name: str) -> Read:
    text = _decode(data, name)
    text = _MD_LINK.sub(lambda m: f"{m[1]} ({m[2]})" if m[1] and not m[0].startswith("!") else m[1], text)
    text = _MD_EMPHASIS.sub("", text)
    title, sections = _split_headings(text)
    return title, sections, []


def _split_headings(text: str) -> tuple[str, list[Section]]:
    """Sections of a text with Markdown headings; the first top-level heading is the title."""
    title = ""
    sections = [Section("", "")]
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m:
            heading = m[2].strip()
            if len(m[1]) == 1 and not title:
                title = heading
            sections.append(Section(heading, ""))
        else:
            sections[-1].text += line + "\n"
    return title, sections


def _text(data: bytes, name: str) -> Read:
    """Plain text: paragraphs; a short line standing alone, not ending as a sentence does, is a heading."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", _decode(data, name)) if p.strip()]

    def short(para: str) -> bool:
        return "\n" not in para and len(para) <= 120 and not re.search(r"[.!:،;,]$", para)

    sections = [Section("", "")]
    for i, para in enumerate(paragraphs):
        # A heading has text under it: of two short lines in a row the first is not one (a
        # Persian sentence often ends with no full stop), so nothing is lost as an empty section.
        if short(para) and i + 1 < len(paragraphs) and not short(paragraphs[i + 1]):
            sections.append(Section(para, ""))
        else:
            sections[-1].text += para + "\n\n"
    return "", sections, []


def _pdf(data: bytes, name: str) -> Read:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(name, "the PDF is password-protected", "document.pdf_locked")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError, AssertionError):
        raise DocumentError(name, "the PDF is damaged and can't be read", "document.bad_pdf") from None
    # Persian PDFs often store the letters' joined shapes (presentation forms); NFKC gives the
    # letters back, so the text can be searched and read.
    pages = [unicodedata.normalize("NFKC", p) for p in pages]
    if sum(len(p.strip()) for p in pages) < 20:
        raise DocumentError(name, "the PDF has no text (a scan?): the text must be selectable", "document.pdf_scanned")
    sections = []
    for page in pages:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if not lines:
            continue
        first = lines[0]
        heading = first if len(first) <= 80 and not re.search(r"[.!،,;]$", first) and len(lines) > 1 else ""
        body = lines[1:] if heading else lines
        sections.append(Section(heading, _join_lines(body)))
    return str(meta_title), sections, []


def _join_lines(lines: list[str]) -> str:
    """A PDF's lines back into paragraphs: a line ending a sentence ends its paragraph."""
    out = ""
    for line in lines:
        out += line + ("\n" if re.search(r"[.!?؟:]$", line) else " ")
    return out.strip()


def _docx(data: bytes, name: str) -> Read:
    import zipfile

    import docx
    from docx.table import Table
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # A .docx is a zip: 20 MB of it can unpack to gigabytes (a "zip bomb") before any
            # text is read. Real Word files unpack to a few times their size.
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise DocumentError(name, "the Word file unpacks to too much data", "document.bad_docx")
        document = docx.Document(io.BytesIO(data))
    # Broken XML inside, or an entity bomb libxml2 stops, is an XMLSyntaxError: it was a 500.
    except (zipfile.BadZipFile, KeyError, ValueError, etree.LxmlError):
        raise DocumentError(name, "not a Word (.docx) file, or a damaged one", "document.bad_docx") from None
    title = document.core_properties.title or ""
    sections = [Section("", "")]
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [c.text.strip() for c in row.cells]
                sections[-1].text += " | ".join(dict.fromkeys(c for c in cells if c)) + "\n"
            continue
        style = (block.style.name if block.style is not None else "") or ""
        text = block.text.strip()
        if not text:
            continue
        if style == "Title":
            title = title or text
        elif style.startswith("Heading"):
            sections.append(Section(text, ""))
        else:
            sections[-1].text += text + "\n"
    return title, sections, []


# -- tidying ----------------------------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fit(sections: Any) -> list[Section]:
    """Whitespace tidied; a section too long for one title cut in parts on paragraph boundaries."""
    out = []
    for s in sections:
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in s.text.strip().splitlines()))
        heading = _clip(s.heading, MAX_TITLE - 6)
        parts = split_passages(text, MAX_SECTION_CHARS) if len(text) > MAX_SECTION_CHARS else [text]
        for n, part in enumerate(parts, start=1):
            out.append(Section(f"{heading} ({n})" if len(parts) > 1 and heading else heading, part[:MAX_ANSWER]))
    return out


def _unique(proposals: list[Proposal]) -> list[Proposal]:
    seen, out = set(), []
    for p in proposals:
        q, a = _clip(p.question, MAX_TITLE), p.answer.strip()
        key = normalize(q)
        if q and a and key not in seen:
            seen.add(key)
            out.append(Proposal(q, a[:MAX_ANSWER]))
    return out
