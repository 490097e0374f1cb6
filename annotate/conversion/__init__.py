"""
Readings from the files teachers have: a file, or pasted text, in; the site's
own text out (paragraphs separated by one blank line, as normalize_text
makes them), with a title and plain-English warnings.

`convert` is what an upload page calls, `convert_text` what a paste box
calls. Both are pure: they read bytes and return a `Converted`, or raise
`ConversionError` with a message for the teacher, and change nothing.

Every format but plain text and PDF goes through HTML: Markdown is rendered
by markdown-it, Word documents by mammoth, and an EPUB's chapters are XHTML
already. nh3, the site's sanitiser, parses that HTML and removes scripts,
styles and whatever else is not reading matter; _Blocks then walks what is
left, one paragraph per block. A PDF has no blocks, only lines placed on
pages: _pdf_paragraphs works them out from where the lines sit.

The reading page renders every paragraph alike (templates/annotate/
document.html), so headings are kept as paragraphs of their own, without
Markdown marks that a reader would see as stray characters.

This module sniffs what a file holds and dispatches it; the readers are in
text, html (Markdown too), archives (.docx and .epub) and pdf, and what
they share in base. The limits are re-exported here, but each is read
where it is defined (base, archives, html), so that is where to change one.
"""

import io
import math
import posixpath
import re
import unicodedata
import zipfile

from ..models import normalize_text
from .archives import (
    MAX_COMPRESSION_RATIO,
    MAX_UNPACKED_BYTES,
    MAX_ZIP_MEMBERS,
    RATIO_CHECKED_ABOVE,
    _open_zip,
    _read_docx,
    _read_epub,
)
from .base import (
    _CONTROL,
    MAX_PDF_PAGES,
    MAX_TEXT_CHARS,
    TITLE_MAX_LENGTH,
    ConversionError,
    Converted,
    Progress,
    _check_length,
    _collapse,
    _Extracted,
    _mismatch_message,
)
from .html import MAX_HTML_DEPTH, _read_html, _read_markdown
from .pdf import _read_pdf
from .text import _decode

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "CONVERTIBLE_EXTENSIONS",
    "FORMATS",
    "MAX_COMPRESSION_RATIO",
    "MAX_HTML_DEPTH",
    "MAX_PDF_PAGES",
    "MAX_TEXT_CHARS",
    "MAX_UNPACKED_BYTES",
    "MAX_ZIP_MEMBERS",
    "RATIO_CHECKED_ABOVE",
    "TITLE_MAX_LENGTH",
    "ConversionError",
    "Converted",
    "Progress",
    "convert",
    "convert_text",
]

# The extensions a teacher is told about, in the order they are listed.
ACCEPTED_EXTENSIONS = (".txt", ".md", ".docx", ".html", ".pdf", ".epub")
# Every name that is read, and as what.
FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".pdf": "pdf",
    ".epub": "epub",
}
# Formats that a teacher's own program can save as .docx or PDF.
CONVERTIBLE_EXTENSIONS = {".doc", ".rtf", ".odt", ".pages", ".wpd", ".wps"}


def convert(
    filename: str, data: bytes, *, max_bytes: int, progress: Progress | None = None
) -> Converted:
    """
    The reading in the file `filename` holding `data`. `progress(done, total)`
    is called as pages (PDF) or chapters (EPUB) are read, for a long conversion
    that runs in the background.
    """
    extension = posixpath.splitext(filename.replace("\\", "/"))[1].lower()
    kind = FORMATS.get(extension)
    if kind is None:
        raise ConversionError(_unknown_type_message(extension))
    if not data:
        raise ConversionError("This file is empty.")
    if len(data) > max_bytes:
        raise ConversionError(
            f"This file is {_size(len(data), up=True)}; the largest file you can upload is "
            f"{_size(max_bytes)}."
        )
    content = _content_kind(data)
    if kind == "pdf":
        if b"%PDF-" not in data[:1024]:
            raise ConversionError(_mismatch_message(extension, kind, content))
        return _finish(_read_pdf(data, progress), filename)
    if kind in ("docx", "epub"):
        if content != kind:
            raise ConversionError(_mismatch_message(extension, kind, content))
        reader = _read_docx if kind == "docx" else _read_epub
        with _open_zip(data, kind) as archive:
            return _finish(reader(archive, data, progress), filename)
    if content is not None:
        raise ConversionError(_mismatch_message(extension, kind, content))
    text, warnings = _decode(data, extension, html=kind == "html")
    if kind == "text":
        extracted = _Extracted(paragraphs=[text])
    elif kind == "markdown":
        # markdown-it takes seconds a megabyte on hostile input: no more than a
        # reading's worth, with room for the marks.
        _check_length(len(text) // 2)
        extracted = _read_markdown(text)
    else:
        extracted = _read_html(text)
    extracted.warnings[:0] = warnings
    return _finish(extracted, filename)


def convert_text(text: str) -> Converted:
    """Pasted text in the site's format. Its title is left for the teacher to type."""
    text = _clean(text)
    if not text:
        raise ConversionError("The pasted text is empty.")
    _check_length(len(text))
    return Converted(text=text, title="")


# What a file holds, whatever its name says.

_SIGNATURES = [
    (b"%PDF-", "pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "doc"),  # OLE2: .doc, .xls, .ppt
    (b"{\\rtf", "rtf"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
]


def _content_kind(data: bytes) -> str | None:
    """What `data` is by its first bytes (and a zip by its members), or None for text."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:8] == b"RIFF" and data[8:12] == b"WEBP":
        return "image"
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = b""
            info = archive.NameToInfo.get("mimetype")
            if info is not None and info.file_size < 100:
                mimetype = archive.read(info).strip()
    except Exception:  # a broken archive raises many kinds (BadZipFile, zlib.error, ...)
        return "zip"
    if mimetype == b"application/epub+zip" or "META-INF/container.xml" in names:
        return "epub"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "odt"
    if "[Content_Types].xml" in names:
        for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(name.startswith(prefix) for name in names):
                return kind
    return "zip"


def _unknown_type_message(extension: str) -> str:
    listed = ", ".join(ACCEPTED_EXTENSIONS[:-1]) + " or " + ACCEPTED_EXTENSIONS[-1]
    if not extension:
        return (
            "This file’s name does not end in a type such as .docx or .pdf. "
            f"Upload a {listed} file, or paste the text."
        )
    if extension in CONVERTIBLE_EXTENSIONS:
        return (
            f"Files ending in {extension} cannot be read here. Save it as a Word document "
            "(.docx) or a PDF and upload that, or paste the text."
        )
    return (
        f"Files ending in {extension} cannot be read here. Upload a {listed} file, "
        "or paste the text."
    )


def _size(number_of_bytes: int, *, up: bool = False) -> str:
    """
    20971520 -> "20 MB", 26_500_000 -> "25.3 MB" (MB of 1024 × 1024 bytes).
    Rounded `up`, a file just over the limit does not read as the limit.
    """
    rounding = math.ceil if up else round
    if number_of_bytes < 1024 * 1024:
        return f"{max(1, rounding(number_of_bytes / 1024))} KB"
    tenths = rounding(number_of_bytes / (1024 * 1024) * 10)
    return f"{tenths / 10:.1f}".removesuffix(".0") + " MB"


# What every format ends with.

# Titles that programs fill in by themselves.
_JUNK_TITLE = re.compile(
    r"""^(
        untitled(\ document)?\ ?\d* | \(?anonymous\)? | title | document\ ?\d*
        | microsoft\ word\ -\ .*
        | .*\.(docx?|pdf|rtf|odt|txt|html?|md|epub|indd|pages)  # a file's name
    )$""",
    re.I | re.X,
)


def _finish(extracted: _Extracted, filename: str) -> Converted:
    text = _clean("\n\n".join(extracted.paragraphs))
    if not text:
        raise ConversionError("No text was found in this file.")
    _check_length(len(text))
    return Converted(
        text=text, title=_title(extracted.titles, filename), warnings=extracted.warnings
    )


# Line and page breaks in their other spellings (Word's vertical tab, Unicode's separators).
_BREAKS = str.maketrans(
    {"\x0b": "\n", "\x85": "\n", "\u2028": "\n", "\x0c": "\n\n", "\u2029": "\n\n"}
)


def _clean(text: str) -> str:
    """Composed characters (NFC), no control characters, in the site's paragraph layout."""
    text = unicodedata.normalize("NFC", text.translate(_BREAKS))
    return normalize_text(_CONTROL.sub("", text))


def _title(candidates: list[str | None], filename: str) -> str:
    """The first candidate that looks like a real title, else one made from the file's name."""
    for candidate in candidates:
        title = _collapse(_CONTROL.sub("", candidate or ""))
        if title and not _JUNK_TITLE.match(title):
            return _shorten(title)
    stem = posixpath.splitext(posixpath.basename(filename.replace("\\", "/")))[0]
    if " " not in stem:
        stem = stem.replace("_", " ").replace("-", " ")
    return _shorten(_collapse(stem)) or "Untitled"


def _shorten(title: str) -> str:
    if len(title) <= TITLE_MAX_LENGTH:
        return title
    return title[: TITLE_MAX_LENGTH - 1].rstrip() + "…"
