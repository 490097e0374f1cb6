"""
PDF, read with PDFium (pypdfium2) under a lock, since PDFium is not
thread-safe. A PDF has no blocks, only lines placed on pages: running
heads, footers and page numbers are dropped, and _pdf_paragraphs works out
paragraphs, headings and verse from where the lines sit and how big they
are, rejoining words hyphenated across lines.
"""

import ctypes
import itertools
import re
import statistics
import threading
from collections import Counter
from dataclasses import dataclass

import pypdfium2
import pypdfium2.raw as pdfium_c

from .base import (
    MAX_PDF_PAGES,
    ConversionError,
    Progress,
    _check_length,
    _damaged,
    _Extracted,
    _images_left_out,
)

# PDF.

# PDFium is not thread-safe, even across documents, and a threaded server
# may convert two uploads at once.
_pdfium_lock = threading.Lock()

_PDF_PASSWORD = (
    "This PDF is protected by a password. Save a copy without the password and upload that."
)
_PDF_PROTECTED = (
    "This PDF is protected in a way this site cannot open (a certificate or DRM). "
    "Save a copy without the protection and upload that."
)
_PDF_NO_TEXT = "This PDF has no selectable text; run it through OCR first."
# A physical line: PDFium ends one with a generated CR LF, or with U+FFFE
# where it found a hyphen at the end of a line (and then joins the lines).
_PDF_LINE = re.compile(r"[^\r\n\ufffe]+\ufffe?")
_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
_LIGATURE = re.compile("|".join(_LIGATURES))
_SENTENCE_END = re.compile(r"[.!?:;…\"”’»)\]]$")
_CONTENTS_ENTRY = re.compile(r"(\.\s?){3,}\s*\w+$")  # "Introduction . . . . 4"
_BULLET = re.compile(r"^[•◦▪‣∙●○■□➢►✓✔–—*]\s")
_PAGE_NUMBER = re.compile(
    r"^(page\s+)?(\d{1,4}|[ivxlcdm]{1,7})(\s*(of|/)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$", re.I
)
_PAGE_NUMBER_AT_EDGE = re.compile(r"^\d+\s+|\s+\d+$")
_WORD = re.compile(r"\w+")


@dataclass
class _Line:
    page: int
    x0: float
    x1: float
    baseline: float
    size: float
    text: str
    hyphenated: bool  # ends in a hyphen that PDFium took for a word broken across lines


def _read_pdf(data: bytes, progress: Progress | None) -> _Extracted:
    with _pdfium_lock:
        try:
            document = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as error:
            if error.err_code == pdfium_c.FPDF_ERR_PASSWORD:
                raise ConversionError(_PDF_PASSWORD) from error
            if error.err_code == pdfium_c.FPDF_ERR_SECURITY:
                raise ConversionError(_PDF_PROTECTED) from error
            raise ConversionError(_damaged("pdf")) from error
        try:
            return _read_pdf_document(document, progress)
        finally:
            document.close()


def _read_pdf_document(document: pypdfium2.PdfDocument, progress: Progress | None) -> _Extracted:
    page_count = len(document)
    if page_count > MAX_PDF_PAGES:
        raise ConversionError(
            f"This PDF has more than {MAX_PDF_PAGES:,} pages; upload it in parts."
        )
    lines: list[_Line] = []
    scanned_pages, damaged_pages = [], []
    images = 0
    characters = unreadable = 0
    for number in range(page_count):
        try:
            page_lines, page_images = _read_pdf_page(document, number)
        except pypdfium2.PdfiumError:
            page_lines, page_images = [], 0
            damaged_pages.append(number + 1)
        if page_lines:
            lines += page_lines
            images += page_images
        elif page_images:  # a blank page is no loss
            scanned_pages.append(number + 1)
        characters += sum(len(line.text) for line in page_lines)
        unreadable += sum(line.text.count("\ufffd") for line in page_lines)
        _check_length(characters)
        if progress:
            progress(number + 1, page_count)
    if not lines:
        raise ConversionError(_damaged("pdf") if damaged_pages else _PDF_NO_TEXT)
    warnings = []
    lines, dropped = _without_page_furniture(lines)
    if not lines:  # nothing but page numbers
        raise ConversionError(_PDF_NO_TEXT)
    if dropped:
        warnings.append("Page numbers and running headers or footers were left out.")
    if damaged_pages:
        one = len(damaged_pages) == 1
        warnings.append(
            f"{_listed_pages(damaged_pages)} could not be read (the file is damaged there), "
            f"so {'its' if one else 'their'} words are missing."
        )
    if scanned_pages:
        one = len(scanned_pages) == 1
        warnings.append(
            f"{_listed_pages(scanned_pages)} {'has' if one else 'have'} no selectable text "
            f"({'it is probably a scanned image' if one else 'they are probably scanned images'}"
            f"), so {'its' if one else 'their'} words are missing; run the PDF through OCR "
            "first to include them."
        )
    if images:
        warnings.append(_images_left_out(images))
    if unreadable > 0.02 * characters:
        warnings.append(
            "Some characters could not be read (they show as �): the PDF does not say "
            "which letters its fonts draw. Check the text, or run the PDF through OCR."
        )
    paragraphs, heading = _pdf_paragraphs(lines)
    metadata = document.get_metadata_dict(skip_empty=True)
    return _Extracted(paragraphs, warnings, [metadata.get("Title"), heading])


def _read_pdf_page(document: pypdfium2.PdfDocument, number: int) -> tuple[list[_Line], int]:
    """The lines of page `number`, and how many images it has."""
    page = document[number]
    try:
        textpage = page.get_textpage()
        try:
            return _pdf_lines(textpage, number), _count_images(page)
        finally:
            textpage.close()
    finally:
        page.close()


def _pdf_lines(textpage: pypdfium2.PdfTextPage, page_number: int) -> list[_Line]:
    """The page's lines in PDFium's reading order, each with where it sits."""
    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range()
    if len(text) != count:
        # get_text_range is UTF-16 and may skip characters; one call per
        # character keeps indices and characters in step (rarely needed).
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i)) for i in range(count))
    x, y = ctypes.c_double(), ctypes.c_double()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    lines = []
    for match in _PDF_LINE.finditer(text):
        segment = match.group()
        hyphenated = segment.endswith("\ufffe")
        body = segment.removesuffix("\ufffe")
        stripped = body.strip()
        if not stripped:
            continue
        first = match.start() + len(body) - len(body.lstrip())
        last = match.start() + len(body.rstrip()) - 1
        pdfium_c.FPDFText_GetCharOrigin(textpage.raw, first, x, y)
        pdfium_c.FPDFText_GetCharBox(textpage.raw, last, left, right, bottom, top)
        size = statistics.median(
            pdfium_c.FPDFText_GetFontSize(textpage.raw, index)
            for index in (first, (first + last) // 2, last)
        )
        lines.append(
            _Line(
                page=page_number,
                x0=x.value,
                x1=right.value,
                baseline=y.value,
                size=size or 10.0,
                text=_LIGATURE.sub(lambda found: _LIGATURES[found.group()], stripped),
                hyphenated=hyphenated,
            )
        )
    return lines


def _count_images(page: pypdfium2.PdfPage) -> int:
    return sum(1 for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3))


def _without_page_furniture(lines: list[_Line]) -> tuple[list[_Line], bool]:
    """
    `lines` without page numbers and running headers and footers: a page's
    top or bottom line, standing apart from the text, that is a number or
    whose words (a page number at either end aside) come back at the top or
    bottom of three pages or more. Type larger than the text's is a heading
    ("Chapter 3" opening a page), and a running header on the first page is
    its title: those stay.
    """
    body_size = _body_size(lines)
    by_page: dict[int, list[_Line]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    edges = []
    for page_lines in by_page.values():
        if len(page_lines) == 1:  # a scanned page's number, say
            edges += page_lines
            continue
        by_height = sorted(page_lines, key=lambda line: line.baseline)
        for edge, neighbour in ((by_height[-1], by_height[-2]), (by_height[0], by_height[1])):
            if abs(edge.baseline - neighbour.baseline) > 1.6 * max(edge.size, neighbour.size):
                edges.append(edge)
    repeated = Counter(_without_page_number(line.text) for line in edges)
    furniture = {
        id(line)
        for line in edges
        if line.size < 1.1 * body_size
        and (
            _PAGE_NUMBER.match(line.text)
            or (repeated[_without_page_number(line.text)] >= 3 and line.page != lines[0].page)
        )
    }
    return [line for line in lines if id(line) not in furniture], bool(furniture)


def _without_page_number(text: str) -> str:
    return _PAGE_NUMBER_AT_EDGE.sub("", text.lower())


def _pdf_paragraphs(lines: list[_Line]) -> tuple[list[str], str | None]:
    """
    Paragraphs from lines: a new one starts where the size of the type
    changes, where the gap above a line is wider than the usual line spacing,
    where a line is indented after a line that ended a sentence or stopped
    short, or where a line that stopped short ended a sentence. At the top
    of a page or column, a paragraph goes on unless its first line is
    indented or the last line stopped short at the end of a sentence. In
    verse (three short lines or more in a row) only a gap or a change of
    type starts a stanza, and its lines keep their breaks.

    Returns the paragraphs and the first one on the first page set larger than
    the text around it (a title), if there is one.
    """
    pitch = _line_pitch(lines)
    columns = _column_edges(lines)
    verse = _verse_lines(lines, columns)
    groups: list[list[_Line]] = []
    for index, line in enumerate(lines):
        if groups and not _starts_paragraph(
            groups[-1][-1], line, pitch, columns, in_verse=verse[index]
        ):
            groups[-1].append(line)
        else:
            groups.append([line])
    vocabulary = set()
    if any(line.hyphenated for line in lines):
        vocabulary = set(_WORD.findall(" ".join(line.text for line in lines).lower()))
    paragraphs = [_join_lines(group, columns, vocabulary) for group in groups]
    body_size = _body_size(lines)
    heading = next(
        (
            text
            for group, text in zip(groups, paragraphs, strict=True)
            if group[0].page == lines[0].page and group[0].size >= 1.15 * body_size
        ),
        None,
    )
    return paragraphs, heading


def _body_size(lines: list[_Line]) -> float:
    """The size of most of the text's type."""
    counts: Counter = Counter()
    for line in lines:
        counts[round(line.size, 1)] += len(line.text)
    return counts.most_common(1)[0][0]


def _line_pitch(lines: list[_Line]) -> dict[float, float]:
    """The usual distance between baselines, for each size of type."""
    gaps: dict[float, list[float]] = {}
    for previous, line in itertools.pairwise(lines):
        gap = previous.baseline - line.baseline
        if (
            previous.page == line.page
            and abs(previous.size - line.size) < 0.5
            and 0.8 * line.size < gap < 3 * line.size
        ):
            gaps.setdefault(round(line.size, 1), []).append(gap)
    # A low quantile: the spacing between lines, not between paragraphs. A
    # size seen in a line or two (a title) tells nothing: _starts_paragraph guesses.
    return {size: sorted(found)[len(found) // 3] for size, found in gaps.items() if len(found) >= 3}


def _column_edges(lines: list[_Line]) -> dict[tuple[int, int], tuple[float, float]]:
    """Left and right edges of the text near each line's start, by page and 24-point band."""
    edges: dict[tuple[int, int], tuple[float, float]] = {}
    for line in lines:
        key = (line.page, int(line.x0 // 24))
        left, right = edges.get(key, (line.x0, line.x1))
        edges[key] = (min(left, line.x0), max(right, line.x1))
    return edges


def _column_of(
    line: _Line, columns: dict[tuple[int, int], tuple[float, float]]
) -> tuple[float, float]:
    band = int(line.x0 // 24)
    near = [
        columns[line.page, nearby]
        for nearby in (band - 1, band, band + 1)
        if (line.page, nearby) in columns
    ]
    return min(edge[0] for edge in near), max(edge[1] for edge in near)


def _width_share(line: _Line, columns: dict[tuple[int, int], tuple[float, float]]) -> float:
    """How far across its column `line` reaches, from 0 to 1."""
    left, right = _column_of(line, columns)
    return 1.0 if right - left < 1 else (line.x1 - left) / (right - left)


def _stops_short(
    line: _Line, following: _Line, columns: dict[tuple[int, int], tuple[float, float]]
) -> bool:
    """Whether `line` ends with room to spare for the first word of the line after it."""
    _, right = _column_of(line, columns)
    character_width = (line.x1 - line.x0) / max(len(line.text), 1)
    next_word = len(following.text.split(" ", 1)[0]) + 1  # and a space
    return right - line.x1 > next_word * character_width


def _verse_lines(
    lines: list[_Line], columns: dict[tuple[int, int], tuple[float, float]]
) -> list[bool]:
    """For each line, whether it and the one before it are in a run of three short lines or more."""
    short = [_width_share(line, columns) < 0.7 for line in lines]
    verse = [False] * len(lines)
    run_start = None
    for index in range(len(lines) + 1):
        if (
            index < len(lines)
            and short[index]
            and run_start is not None
            and lines[index].page == lines[index - 1].page
        ):
            continue
        if run_start is not None and index - run_start >= 3:
            verse[run_start + 1 : index] = [True] * (index - run_start - 1)
        run_start = index if index < len(lines) and short[index] else None
    return verse


def _starts_paragraph(
    previous: _Line,
    line: _Line,
    pitch: dict[float, float],
    columns: dict[tuple[int, int], tuple[float, float]],
    *,
    in_verse: bool,
) -> bool:
    size = max(previous.size, line.size)
    if abs(previous.size - line.size) > 0.1 * size:
        return True
    ends_sentence = bool(_SENTENCE_END.search(previous.text)) and not previous.hyphenated
    if line.page != previous.page or line.baseline > previous.baseline + 0.5 * size:
        # A new page or column: no gap to go by, only the indent or a last line.
        left, _ = _column_of(line, columns)
        indented = line.x0 - left > 0.8 * size
        return indented or (ends_sentence and _stops_short(previous, line, columns))
    gap = previous.baseline - line.baseline
    if gap < 0.3 * size:
        return False  # the same line, cut in two by PDFium
    if _BULLET.match(line.text) or _CONTENTS_ENTRY.search(previous.text):
        return True
    if gap > 1.25 * pitch.get(round(line.size, 1), 1.2 * line.size) + 0.5:
        return True
    if in_verse:
        return False
    stops_short = _stops_short(previous, line, columns)
    if stops_short and ends_sentence:
        return True
    indented = line.x0 - previous.x0 > 0.8 * size
    return indented and (stops_short or ends_sentence)


def _join_lines(
    group: list[_Line],
    columns: dict[tuple[int, int], tuple[float, float]],
    vocabulary: set[str],
) -> str:
    """
    One paragraph's lines as one line, as a browser would wrap them, or with
    their line breaks where most stop well short (verse, an address).
    """
    short = sum(_width_share(line, columns) < 0.7 for line in group[:-1])
    keep_breaks = short > (len(group) - 1) / 2
    parts = [group[0].text]
    for previous, line in itertools.pairwise(group):
        if previous.hyphenated:
            parts[-1] = _rejoin_hyphenated(parts[-1], line.text, vocabulary)
        else:
            parts.append(line.text)
    return ("\n" if keep_breaks else " ").join(parts)


def _rejoin_hyphenated(before: str, after: str, vocabulary: set[str]) -> str:
    """
    A word broken across lines at a hyphen: without it where the text has
    the whole word elsewhere ("exam-ple"), else with it, since a hyphen at
    a line's end is as often part of the word ("well-known").
    """
    head = _WORD.findall(before)[-1:] or [""]
    tail = _WORD.findall(after)[:1] or [""]
    if (head[0] + tail[0]).lower() in vocabulary:
        return before + after
    return before + "-" + after


def _listed_pages(pages: list[int]) -> str:
    """[3] -> "Page 3", [3, 4, 7] -> "Pages 3, 4 and 7", and a count for many."""
    if len(pages) == 1:
        return f"Page {pages[0]}"
    if len(pages) <= 10:
        return "Pages " + ", ".join(map(str, pages[:-1])) + f" and {pages[-1]}"
    return f"{len(pages)} pages"
