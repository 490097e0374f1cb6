"""
Anchors: where an annotation sits in a document's text.

An anchor is a pair of W3C Web Annotation selectors: a TextQuoteSelector
(`exact` with up to CONTEXT_LENGTH characters of `prefix` and `suffix`) and a
TextPositionSelector (`start`, `end`). Offsets count Unicode code points of
the revision's text, which is what Python's `str` indexes, so
`text[start:end] == exact` is the whole rule.

This module also cuts a text into paragraphs and highlight segments for the
server-rendered page. Finding an anchor again in a new revision of its text
is relocation.py's. The browser does no anchoring work.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

CONTEXT_LENGTH = 32
MAX_QUOTE_LENGTH = 5000

PARAGRAPH_BREAK = re.compile(r"\n\n+")


class AnchorError(ValueError):
    """A selection that cannot be stored; the message is shown to the reader."""


@dataclass(frozen=True)
class Anchor:
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


def anchor_at(text: str, start: int, end: int) -> Anchor:
    """The selectors for `text[start:end]`, with their context."""
    return Anchor(
        exact=text[start:end],
        prefix=text[max(0, start - CONTEXT_LENGTH) : start],
        suffix=text[end : end + CONTEXT_LENGTH],
        start=start,
        end=end,
    )


def validate_anchor(
    text: str,
    *,
    exact: str,
    start: int,
    end: int,
    prefix: str | None = None,
    suffix: str | None = None,
) -> Anchor:
    """
    Check a selection sent by a browser against the stored text.

    The position must hold exactly the quoted words; context sent along must
    match the text around them. Raises AnchorError with a message for the
    reader; returns the anchor with context taken from the text itself.
    """
    if start < 0 or end < 0:
        raise AnchorError("The selection’s position is invalid (negative). Select the words again.")
    if end > len(text):
        raise AnchorError("The selection runs past the end of the text. Select the words again.")
    if end < start:
        raise AnchorError("The selection ends before it starts. Select the words again.")
    if end == start:
        raise AnchorError("The selection is empty. Select the words you want to annotate.")
    if end - start > MAX_QUOTE_LENGTH:
        raise AnchorError(
            f"The selection is {end - start:,} characters long; annotate at most "
            f"{MAX_QUOTE_LENGTH:,} characters at a time."
        )
    anchor = anchor_at(text, start, end)
    if anchor.exact != exact:
        raise AnchorError(
            "The selected words do not match the text at that position. The text may have "
            "changed since the page was loaded: reload the page and select them again."
        )
    if not exact.strip():
        raise AnchorError("The selection is only blank space. Select some words to annotate.")
    if prefix and not text[:start].endswith(prefix):
        raise AnchorError("The words before the selection do not match the text. Reload the page.")
    if suffix and not text[end:].startswith(suffix):
        raise AnchorError("The words after the selection do not match the text. Reload the page.")
    return anchor


@dataclass
class Segment:
    """A run of text covered by the same set of annotations (maybe none)."""

    text: str
    start: int
    post_ids: tuple[int, ...] = ()
    note_count: int = 0
    """Notes (annotations and their replies) on this run; filled in by the page."""


@dataclass
class Paragraph:
    start: int
    end: int
    segments: list[Segment] = field(default_factory=list)
    post_ids: list[int] = field(default_factory=list)
    """Annotations whose passage begins in this paragraph, in reading order."""

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self.segments)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph; paragraphs are separated by blank lines."""
    spans = []
    position = 0
    for match in PARAGRAPH_BREAK.finditer(text):
        if match.start() > position:
            spans.append((position, match.start()))
        position = match.end()
    if position < len(text):
        spans.append((position, len(text)))
    return spans


def segment(text: str, highlights: Iterable[tuple[int, int, int]]) -> list[Paragraph]:
    """
    Cut `text` into paragraphs, and each paragraph into segments at every
    highlight boundary, each segment carrying the ids of the highlights that
    cover it. `highlights` are (post_id, start, end); overlapping, nested and
    cross-paragraph highlights are all fine. Runs in O((P + H) log H).
    """
    paragraphs = [Paragraph(start, end) for start, end in paragraph_spans(text)]
    if not paragraphs:
        return []
    events: dict[int, list[tuple[int, int]]] = {}
    ordered = sorted(
        (h for h in highlights if 0 <= h[1] < h[2] <= len(text)), key=lambda h: (h[1], -h[2], h[0])
    )
    paragraph_index = 0
    for post_id, start, end in ordered:
        events.setdefault(start, []).append((1, post_id))
        events.setdefault(end, []).append((-1, post_id))
        while paragraph_index + 1 < len(paragraphs) and paragraphs[paragraph_index].end <= start:
            paragraph_index += 1
        paragraphs[paragraph_index].post_ids.append(post_id)

    active: dict[int, None] = {}  # insertion-ordered set of covering post ids
    boundaries = sorted(events)
    cursor = 0
    for paragraph in paragraphs:
        position = paragraph.start
        # Apply events that happened in the gap between paragraphs.
        while cursor < len(boundaries) and boundaries[cursor] <= position:
            _apply(events[boundaries[cursor]], active)
            cursor += 1
        while position < paragraph.end:
            next_boundary = paragraph.end
            if cursor < len(boundaries) and boundaries[cursor] < paragraph.end:
                next_boundary = boundaries[cursor]
            paragraph.segments.append(
                Segment(text[position:next_boundary], position, tuple(sorted(active)))
            )
            position = next_boundary
            if cursor < len(boundaries) and boundaries[cursor] == position:
                _apply(events[position], active)
                cursor += 1
    return paragraphs


def _apply(changes: list[tuple[int, int]], active: dict[int, None]) -> None:
    for change, post_id in changes:
        if change > 0:
            active[post_id] = None
        else:
            active.pop(post_id, None)
