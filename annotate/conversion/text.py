"""
Text files (.txt, .md, .html before they are parsed): their bytes decoded
to a string. UTF-8, or UTF-16 with a byte-order mark, is taken as it is;
an HTML file's own charset declaration is honoured; anything else is read
as Windows-1252 with a warning. Binary data under a text file's name is
refused.
"""

import codecs
import re

from .base import (
    ConversionError,
    _mismatch_message,
)

# Text files.

_CHARSET_DECLARATION = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
# More than this share of these (control characters that no text file has)
# and the "text" is binary data.
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_MAX_BINARY_SHARE = 0.01


def _decode(data: bytes, extension: str, *, html: bool) -> tuple[str, list[str]]:
    """
    The text of a text file: UTF-8 (or UTF-16 with a byte-order mark), else
    what an HTML file declares, else Windows Western European, which is what
    Notepad and older Word saved in most of Europe and the Americas (and
    what browsers read for a declared ISO-8859-1 or ASCII).
    """
    not_text = _mismatch_message(extension, "text", None)
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return _as_text(data.decode(encoding), not_text), []
            except UnicodeDecodeError:
                break
    if b"\x00" in data:
        raise ConversionError(not_text)
    try:
        return _as_text(data.decode("utf-8"), not_text), []
    except UnicodeDecodeError:
        pass
    declared = _CHARSET_DECLARATION.search(data[:2048]) if html else None
    if declared:
        try:
            encoding = codecs.lookup(declared.group(1).decode("ascii")).name
            if encoding in ("iso8859-1", "ascii"):
                encoding = "cp1252"
            return _as_text(data.decode(encoding), not_text), []
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ConversionError(
            "This file’s text is in an encoding that could not be worked out. "
            "Save it as UTF-8 and upload it again."
        ) from None
    return _as_text(text, not_text), [
        "This file was not saved as UTF-8, so it was read as Windows Western European "
        "(cp1252); check that accented letters and quotation marks look right."
    ]


def _as_text(text: str, not_text: str) -> str:
    sample = text[:100_000]
    if len(_BINARY.findall(sample)) > _MAX_BINARY_SHARE * len(sample):
        raise ConversionError(not_text)
    return text
