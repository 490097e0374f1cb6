"""
Anchors: where an annotation sits in a document's text.

An anchor is a pair of W3C Web Annotation selectors: a TextQuoteSelector
(`exact` with up to CONTEXT_LENGTH characters of `prefix` and `suffix`) and a
TextPositionSelector (`start`, `end`). Offsets count Unicode code points of
the revision's text, which is what Python's `str` indexes, so
`text[start:end] == exact` is the whole rule.

This module also cuts a text into paragraphs and highlight segments for the
server-rendered page, and finds an anchor again in a new revision of its text
(`relocate`): the browser does no anchoring work.
"""

import codecs
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import edlib

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


# Re-anchoring: finding an anchor again after its text has been revised.
# docs/reanchoring.md explains the approach; bench/reanchor.py measures it.

ORPHAN_BELOW = 0.5
"""
A passage is an orphan when less than this share of its quote is found in the
new text, or when less than this share of the passage found is the quote's.
"""

# Tuning, measured with the benchmark on development seeds only.
_EXACT_CONTEXT_ENOUGH = 0.8  # an exact occurrence with this much context is taken at once
_NEAR_WINDOW = 2000  # characters searched either side of the old position first,
_NEAR_SHARE = 0.05  # ...or this share of the text, if more...
_NEAR_ENOUGH = 0.8  # ...sparing the whole text when a match there is this good
_FAR_ERRORS = 0.3  # share of errors allowed far from the old position (also faster)
_MAX_CANDIDATES = 4  # distinct places examined per search
_MIN_MATCH_RUN = 3  # aligned characters count only in runs this long, not as coincidences
_MEASURE_MIN_RUN = 2  # the same, when measuring how much of the quote a passage holds,
_TRUSTED_RUN = 5  # ...where shorter runs count only next to errors this short:
_TYPO_LENGTH = 1  # ...a typo, not a replaced word
_MISMATCH_COST = 1.5  # a match scores 1 in the local alignment; an error costs this,
_DELETION_COST = 1.0  # ...and a character of the quote missing from the text this
_CONTEXT_SUPPORT = 0.5  # context agreement that counts as support
_UNSUPPORTED_LENGTH = 60  # characters of quote a passage needs without that support
_EDGE_LENGTH = 32  # characters at each end of the quote searched again with the context
_EDGE_REACH = 3  # ...up to this many times the quote's length away,
_MIN_REACH = 300  # ...and at least this many characters
_EDGE_DISTANCE_COST = 16  # characters of distance that cost as much as one error
_EDGE_SLACK = 16  # characters either side of an end searched first, in place
_SIGNIFICANT_RUN = 5  # an end found again must hold a matched run this long
# Ranking of candidate passages: how much of the quote they hold, how much of
# the old context surrounds them, and how near they are to the old position.
_QUOTE_WEIGHT, _CONTEXT_WEIGHT, _POSITION_WEIGHT = 0.5, 0.4, 0.1
_POSITION_HALF_SCORE = 2000  # distance at which the position score halves

_CIGAR_OP = re.compile(r"(\d+)([=XID])")


def relocate(
    exact: str, prefix: str, suffix: str, start: int, end: int, new_text: str
) -> tuple[int, int] | None:
    """
    Where the passage quoted by an anchor is in `new_text`, a revision of the
    text it was made on: code-point offsets `(start, end)` into `new_text`, or
    None when too little of the quote survives (an orphan). `end` is implied
    by `start` and the quote; it is taken for the selectors' sake.

    In order, stopping at the first that answers:
    1. the old position, if it still holds the quote and some of its context;
    2. exact occurrences of the quote, taken when their context agrees;
    3. an approximate search (edlib, infix mode) for prefix + quote + suffix,
       near the old position and then in the whole text, reading the quote's
       boundaries off the alignment; then for the quote alone.
    Candidates from 2 and 3 are ranked by how much of the quote they hold, how
    well the context around them agrees, and how near they are to `start`.
    """
    best = _best_candidate(exact, prefix, suffix, start, new_text)
    return None if best is None else (best.start, best.end)


def _best_candidate(
    exact: str, prefix: str, suffix: str, start: int, new_text: str
) -> "_Candidate | None":
    if not exact.strip() or not new_text:
        return None
    length = len(exact)
    if (
        0 <= start <= len(new_text) - length
        and new_text.startswith(exact, start)
        and _context_adjoins(new_text, prefix, suffix, start, start + length)
    ):
        return _Candidate(start, start + length, length, 1.0, 1.0, context=1.0, position=1.0)

    search = _Search(new_text, exact, prefix, suffix, start)
    candidates = search.exact_occurrences()
    if candidates:
        best = max(candidates, key=_Candidate.score)
        if best.context >= _EXACT_CONTEXT_ENOUGH:
            return best
    candidates += search.approximate(prefix + exact + suffix, len(prefix))
    if not any(candidate.survives for candidate in candidates):
        # Far away, the quote without its context would be no more believable.
        candidates += search.approximate(exact, 0, whole_text=False)
    survivors = [candidate for candidate in candidates if candidate.survives]
    return max(survivors, key=_Candidate.score, default=None)


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    matched: int
    """Characters of the quote found in the passage, ..."""
    found: float
    """... as a share of the quote, ..."""
    purity: float
    """... and of the passage."""
    context: float
    """Agreement of the text around the passage with the prefix and suffix, 0 to 1."""
    position: float
    """Nearness to the old position, 0 to 1."""

    @property
    def survives(self) -> bool:
        # Without its context, a passage must be long enough not to be a coincidence.
        return min(self.found, self.purity) >= ORPHAN_BELOW and (
            self.context >= _CONTEXT_SUPPORT or self.matched >= _UNSUPPORTED_LENGTH
        )

    def score(self) -> float:
        return (
            _QUOTE_WEIGHT * min(self.found, self.purity)
            + _CONTEXT_WEIGHT * self.context
            + _POSITION_WEIGHT * self.position
        )


class _Search:
    """One anchor's search in one text, which edlib reads as one byte per code point."""

    def __init__(self, text: str, exact: str, prefix: str, suffix: str, hint: int) -> None:
        self.text = text
        self.encoded, self.codes = encode_for_search(text)
        self.exact = exact
        self.exact_codes = self.encode(exact)
        self.prefix = prefix
        self.suffix = suffix
        self.hint = hint
        # The prefix is compared from the passage outwards, so it is kept reversed.
        self.prefix_codes = self.encode(prefix)[::-1]
        self.suffix_codes = self.encode(suffix)

    def encode(self, string: str) -> bytes:
        codes = self.codes
        return bytes([codes.get(char, 0) for char in string])

    def exact_occurrences(self) -> list[_Candidate]:
        text, exact, length = self.text, self.exact, len(self.exact)
        occurrences = []
        position = text.find(exact)
        while position != -1:
            occurrences.append(position)
            position = text.find(exact, position + 1)
        if len(occurrences) > _MAX_CANDIDATES:
            # Score only the likeliest: those whose neighbours still match, and the nearest.
            by_adjacency = sorted(
                occurrences,
                key=lambda at: -_adjoining(text, self.prefix, self.suffix, at, at + length),
            )
            by_distance = sorted(occurrences, key=lambda at: abs(at - self.hint))
            half = _MAX_CANDIDATES // 2
            occurrences = sorted(set(by_adjacency[:half] + by_distance[:half]))
        return [self.candidate(at, at + length, length) for at in occurrences]

    def approximate(
        self, pattern: str, quote_from: int, *, whole_text: bool = True
    ) -> list[_Candidate]:
        """
        Candidates from the best approximate matches of `pattern`, which holds
        the quote at `quote_from`: near the old position, then, unless a good
        one was found there, in the whole text.
        """
        pattern_codes = self.encode(pattern)
        quote_to = quote_from + len(self.exact)
        # The old position may lie past the end of a text that has shrunk.
        hint = max(0, min(self.hint, len(self.text) - len(pattern)))
        window = max(_NEAR_WINDOW, int(len(self.text) * _NEAR_SHARE))
        near = (max(0, hint - window), min(len(self.text), hint + len(pattern) + window))
        # Past these many errors, not enough of the quote is left to keep it;
        # far from the old position, only a mostly intact passage is believable.
        regions = [(near, len(pattern) - int(len(self.exact) * ORPHAN_BELOW))]
        if whole_text and near != (0, len(self.text)):
            regions.append(((0, len(self.text)), int(len(pattern) * _FAR_ERRORS)))
        found: dict[tuple[int, int], _Candidate] = {}
        for (region_from, region_to), max_errors in regions:
            # Only the ends of the best matches: placing each costs a second
            # alignment, done for a few distinct places, nearest first.
            result = edlib.align(
                pattern_codes,
                self.encoded[region_from:region_to],
                mode="HW",
                task="distance",
                k=max_errors,
            )
            if result["editDistance"] < 0:
                continue
            ends = sorted(
                (region_from + last + 1 for _, last in result["locations"]),
                key=lambda end: abs(end - len(pattern) - self.hint),
            )
            chosen: list[int] = []
            for end in ends:
                if all(abs(end - other) > len(pattern) // 2 for other in chosen):
                    chosen.append(end)
                    if len(chosen) == _MAX_CANDIDATES:
                        break
            for end in chosen:
                window_from = max(0, end - len(pattern) - result["editDistance"])
                candidate = self.aligned(pattern_codes, window_from, end, quote_from, quote_to)
                if candidate is not None:
                    found.setdefault((candidate.start, candidate.end), candidate)
            if any(min(c.found, c.purity, c.context) >= _NEAR_ENOUGH for c in found.values()):
                break
        return list(found.values())

    def aligned(
        self, pattern_codes: bytes, window_from: int, window_to: int, quote_from: int, quote_to: int
    ) -> "_Candidate | None":
        """The quote's part of the best alignment of the pattern in the window."""
        result = edlib.align(
            pattern_codes, self.encoded[window_from:window_to], mode="HW", task="path"
        )
        span = _span_through(result["cigar"], quote_from, quote_to)
        if span is None:
            return None
        match_from = window_from + result["locations"][0][0]
        start, end = match_from + span.start, match_from + span.end
        # A long insertion in the quote costs the alignment more than dropping
        # the quote's far end does: where the context on one side was not
        # found next to the quote, place that end again from its own side.
        if not quote_from or span.matched_before < quote_from * _CONTEXT_SUPPORT:
            edge = self.edge(start, end, at_start=True)
            start = start if edge is None else edge
        after = len(pattern_codes) - quote_to
        if not after or span.matched_after < after * _CONTEXT_SUPPORT:
            edge = self.edge(start, end, at_start=False)
            end = end if edge is None else edge
        return self.measured(start, end)

    def edge(self, start: int, end: int, *, at_start: bool) -> int | None:
        """
        Where the quote starts (or ends), found by searching its first (or
        last) characters with the prefix (or suffix), up to a few times the
        quote's length away: far enough to see a passage so swollen by
        insertions that it is no longer mostly quote. A place further away must
        match better, by an error per _EDGE_DISTANCE_COST characters of
        distance, so that a phrase repeated elsewhere does not win over a
        damaged one in place. None when the ends are not there.
        """
        edge = min(len(self.exact), _EDGE_LENGTH)
        reach = max(_EDGE_REACH * len(self.exact), _MIN_REACH)
        if at_start:
            pattern = self.prefix + self.exact[:edge]
            quote_from = len(self.prefix)
            boundary = start
            regions = [
                (max(0, start - len(pattern) - _EDGE_SLACK), min(end, start + _EDGE_SLACK)),
                (max(0, end - reach - len(self.prefix)), end),
            ]
        else:
            pattern = self.exact[-edge:] + self.suffix
            quote_from = 0
            boundary = end
            regions = [
                (
                    max(start, end - _EDGE_SLACK),
                    min(len(self.text), end + len(pattern) + _EDGE_SLACK),
                ),
                (start, min(len(self.text), start + reach + len(self.suffix))),
            ]
        pattern_codes = self.encode(pattern)
        best: tuple[float, int, int] | None = None
        for region_from, region_to in regions:
            result = edlib.align(
                pattern_codes,
                self.encoded[region_from:region_to],
                mode="HW",
                task="locations",
                k=len(pattern) // 2,
            )
            if result["editDistance"] < 0:
                continue
            for match_from, match_last in result["locations"]:
                match_from += region_from
                cost = result["editDistance"] + abs(match_from - boundary) / _EDGE_DISTANCE_COST
                if best is None or cost < best[0]:
                    best = (cost, match_from, region_from + match_last + 1)
        if best is None:
            return None
        _, match_from, match_to = best
        cigar = edlib.align(pattern_codes, self.encoded[match_from:match_to], task="path")["cigar"]
        span = _span_through(cigar, quote_from, quote_from + edge)
        # The quote's end and its context, taken together, must mostly be there.
        if (
            span is None
            or span.matched < len(pattern) * ORPHAN_BELOW
            or span.longest_in_quote < min(_SIGNIFICANT_RUN, edge)
        ):
            return None
        return match_from + (span.start if at_start else span.end)

    def measured(self, start: int, end: int) -> "_Candidate | None":
        """A candidate for `text[start:end]`, measured against the quote."""
        # An alignment may take in blank space next to the quote; the quote had none.
        if not self.exact[0].isspace():
            while start < end and self.text[start].isspace():
                start += 1
        if not self.exact[-1].isspace():
            while end > start and self.text[end - 1].isspace():
                end -= 1
        if start >= end:
            return None
        cigar = edlib.align(self.exact_codes, self.encoded[start:end], task="path")["cigar"]
        return self.candidate(start, end, _surviving_characters(cigar))

    def candidate(self, start: int, end: int, matched: int) -> _Candidate:
        return _Candidate(
            start,
            end,
            matched,
            found=matched / len(self.exact),
            purity=matched / (end - start),
            context=self.context(start, end),
            position=1 / (1 + abs(start - self.hint) / _POSITION_HALF_SCORE),
        )

    def context(self, start: int, end: int) -> float:
        """How well the text around `start:end` agrees with the prefix and suffix, 0 to 1."""
        before = self.encoded[max(0, start - 2 * len(self.prefix_codes)) : start][::-1]
        after = self.encoded[end : end + 2 * len(self.suffix_codes)]
        return (
            _agreement(self.prefix_codes, before, at_edge=start == 0)
            + _agreement(self.suffix_codes, after, at_edge=end == len(self.text))
        ) / 2


@dataclass(frozen=True)
class _Span:
    start: int
    """Target position of the quote's first matched character, ..."""
    end: int
    """... and just after its last."""
    matched_in_quote: int
    """Quote characters matched in runs of at least the minimum, between start and end."""
    matched: int
    """All pattern characters matched in such runs, ..."""
    matched_before: int
    """... of them, in the context before the quote, ..."""
    matched_after: int
    """... and after it."""
    longest_in_quote: int


def _span_through(
    cigar: str | None, quote_from: int, quote_to: int, *, local: bool = True, min_run: int = 0
) -> _Span | None:
    """
    Read an edlib alignment path (CIGAR: '=' match, 'X' mismatch, 'I' query
    only, 'D' target only) for the quote at query positions `quote_from:quote_to`.

    Only the best-scoring stretch of the path counts (a local alignment: a
    matched character scores 1, a mismatched, missing or extra one costs
    _MISMATCH_COST): where the quote's end was replaced, the alignment still
    pairs its words with whatever text is there, and that stretch scores below
    zero. Within it, the quote spans from its first to its last matched
    character. None when none of the quote is matched there. Unless `local`,
    the whole path counts. Matched characters count in runs of at least
    `min_run` (_MIN_MATCH_RUN by default).
    """
    if not cigar:  # edlib gives no path when either side is empty
        return None
    min_run = min_run or _MIN_MATCH_RUN
    ops = [(int(count), op) for count, op in _CIGAR_OP.findall(cigar)]
    best_from, best_to = 0, len(ops)
    if local:  # Kadane's maximum subarray over the ops' scores
        best = running = 0.0
        running_from = 0
        for index, (count, op) in enumerate(ops):
            if op == "=":
                running += count if count >= min_run else 0
            else:
                running -= (_DELETION_COST if op == "I" else _MISMATCH_COST) * count
            if running <= 0:
                running, running_from = 0.0, index + 1
            elif running > best:
                best, best_from, best_to = running, running_from, index + 1
        if best == 0:
            return None
    query = target = 0
    first = last = None
    matched = in_quote = before = longest = 0
    for index, (count, op) in enumerate(ops):
        if op == "=" and best_from <= index < best_to:
            if count >= min_run:
                matched += count
                before += max(0, min(query + count, quote_from) - query)
            overlap_from, overlap_to = max(query, quote_from), min(query + count, quote_to)
            if overlap_from < overlap_to:
                if first is None:
                    first = target + overlap_from - query
                last = target + overlap_to - query
                if count >= min_run:
                    in_quote += overlap_to - overlap_from
                longest = max(longest, overlap_to - overlap_from)
        if op != "D":
            query += count
        if op != "I":
            target += count
    if first is None or last is None:
        return None
    return _Span(first, last, in_quote, matched, before, matched - in_quote - before, longest)


def _surviving_characters(cigar: str | None) -> int:
    """
    How many of the quote's characters an alignment of the quote against a
    passage shows to be still there. A replaced word or clause lines up with
    the old one here and there by chance ("th", "and "), so short runs of
    matches count only between small errors (a typo), where they are real.
    """
    if not cigar:
        return 0
    ops = [(int(count), op) for count, op in _CIGAR_OP.findall(cigar)]
    matched = 0
    for index, (count, op) in enumerate(ops):
        if op != "=" or count < _MEASURE_MIN_RUN:
            continue
        if count >= _TRUSTED_RUN or all(
            ops[near][0] <= _TYPO_LENGTH for near in (index - 1, index + 1) if 0 <= near < len(ops)
        ):
            matched += count
    return matched


def _agreement(expected: bytes, actual: bytes, *, at_edge: bool) -> float:
    """How much of `expected` begins `actual`, 0 to 1, by edit distance."""
    if not expected:
        # No context was recorded because the passage began (or ended) the text.
        return 1.0 if at_edge else 0.5
    if not actual:
        return 0.0
    result = edlib.align(expected, actual, mode="SHW", task="distance")
    return max(0.0, 1 - result["editDistance"] / len(expected))


def _context_adjoins(text: str, prefix: str, suffix: str, start: int, end: int) -> bool:
    """Whether at least half of the old context still touches `text[start:end]`, unchanged."""
    if (not prefix and start == 0) or (not suffix and end == len(text)):
        return True
    return 2 * _adjoining(text, prefix, suffix, start, end) >= len(prefix) + len(suffix)


def _adjoining(text: str, prefix: str, suffix: str, start: int, end: int) -> int:
    """How many characters of prefix and suffix sit unchanged right against `text[start:end]`."""
    return _common_length(
        lambda size: text.startswith(prefix[len(prefix) - size :], start - size),
        min(len(prefix), start),
    ) + _common_length(
        lambda size: text.startswith(suffix[:size], end), min(len(suffix), len(text) - end)
    )


def _common_length(agrees, most: int) -> int:
    """The largest size in 0..most for which `agrees(size)`, which holds for all smaller sizes."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if agrees(middle):
            low = middle
        else:
            high = middle - 1
    return low


@lru_cache(maxsize=16)
def encode_for_search(text: str) -> tuple[bytes, dict[str, int]]:
    """
    `text` as one byte per code point, for edlib (which compares bytes and
    allows at most 256 distinct symbols), and the code of each character.
    Code 0 is left for characters absent from the text. Cached, because all
    the anchors of a revision are searched in the same text.
    """
    alphabet = set(text)
    if len(alphabet) < 256:
        chars = sorted(alphabet)
        unused = (chr(code) for code in range(0xE000, 0x110000) if chr(code) not in alphabet)
        table = [next(unused), *chars] + [next(unused) for _ in range(255 - len(chars))]
        encoded = codecs.charmap_encode(text, "strict", codecs.charmap_build("".join(table)))[0]
        return encoded, {char: code for code, char in enumerate(table) if char in alphabet}
    # Too many distinct characters: they take the 255 codes in turn, most
    # frequent first, so that the commonest differ from each other; a shared
    # code only makes the search a little more forgiving.
    ranked = [char for char, _ in Counter(text).most_common()]
    codes = {char: 1 + rank % 255 for rank, char in enumerate(ranked)}
    by_ordinal = {ord(char): code for char, code in codes.items()}
    return text.translate(by_ordinal).encode("latin-1"), codes
