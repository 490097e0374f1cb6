"""
What every part of annotate.conversion shares: the limits on how much text
and how many PDF pages a file may hold, the `Converted` result and the `ConversionError` a
teacher is shown, `_Extracted` (the paragraphs, warnings and title
candidates a format's reader hands back), and the few helpers that more
than one format uses. It imports no other module of the package, so each
of them can import it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..models import Document

# More text than any reading (War and Peace is 3.2 million characters); it
# bounds the work a small file that expands (a PDF's streams) can cause.
MAX_TEXT_CHARS = 5_000_000
MAX_PDF_PAGES = 5_000

TITLE_MAX_LENGTH = Document._meta.get_field("title").max_length


Progress = Callable[[int, int], None]


class ConversionError(ValueError):
    """A file that cannot become a reading; the message is shown to the teacher."""


@dataclass(frozen=True)
class Converted:
    text: str
    title: str
    warnings: list[str] = field(default_factory=list)


_KIND_NAMES = {
    "text": "text",
    "markdown": "text",
    "html": "text",
    "pdf": "a PDF",
    "docx": "a Word document (.docx)",
    "epub": "an EPUB e-book",
    "doc": "an older Word document (.doc)",
    "odt": "an OpenDocument text (.odt)",
    "rtf": "a Rich Text document (.rtf)",
    "xlsx": "an Excel spreadsheet",
    "pptx": "a PowerPoint presentation",
    "zip": "a zip archive",
    "image": "an image",
}
# Which accepted extension a teacher should rename a file to.
_KIND_EXTENSIONS = {"pdf": ".pdf", "docx": ".docx", "epub": ".epub"}


def _mismatch_message(extension: str, expected: str, actual: str | None) -> str:
    expected_name = _KIND_NAMES[expected]
    if actual is None:
        return f"This file’s name ends in {extension}, but it is not {expected_name}."
    if actual == "image":
        return (
            f"This file’s name ends in {extension}, but it is an image. A reading is made of "
            "text: upload the text itself (run a scanned page through OCR first)."
        )
    if actual in _KIND_EXTENSIONS:
        return (
            f"This file’s name ends in {extension}, but it is {_KIND_NAMES[actual]}. "
            f"Rename it to end in {_KIND_EXTENSIONS[actual]} and upload it again."
        )
    return (
        f"This file’s name ends in {extension}, but it is {_KIND_NAMES[actual]}, which "
        "cannot be read here. Save it as a Word document (.docx) or a PDF and upload that."
    )


# C0 and C1 controls other than tab and newline, and noncharacters, which
# no reader means and which would only confuse offsets and rendering.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\n\r\f\u200b]+")


@dataclass
class _Extracted:
    paragraphs: list[str]
    warnings: list[str] = field(default_factory=list)
    # Where a title may come from, best first.
    titles: list[str | None] = field(default_factory=list)


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _images_left_out(count: int) -> str:
    if count == 1:
        return "1 image was left out: a reading holds only text."
    return f"{count} images were left out: a reading holds only text."


def _damaged(kind: str) -> str:
    return (
        f"This file could not be read as {_KIND_NAMES[kind]}; it may be damaged. "
        "Open it, save a new copy, and upload that."
    )


def _check_length(characters: int) -> None:
    if characters > MAX_TEXT_CHARS:
        raise ConversionError(
            f"This text is longer than {MAX_TEXT_CHARS:,} characters; split it into "
            "several readings."
        )
