"""
Relocation: finding an annotation's passage again after its text has been
revised (`relocate`). docs/reanchoring.md explains the approach;
bench/reanchor.py measures it.

About 800 lines, on purpose: one search whose stages (exact occurrences,
approximate alignment near and far, seeded pieces, the ends found again)
share the tuning below and one `_Search` object. Cut apart, each part would
need the others' internals.
"""

import codecs
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache

import edlib
from rapidfuzz.distance import OSA, Indel, Levenshtein

from .anchoring import PARAGRAPH_BREAK

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
_SEED_LENGTH = 10  # the quote is cut into pieces this long, each looked up exactly...
_SEED_MAX_HITS = 8  # ...unless found more often than this: too common to say where it is
_SEEDED_FOUND = 0.55  # ...and a passage found from pieces must hold this share of the quote;
_SEED_SPREAD = 250  # pieces this much off the same diagonal belong to the same passage
_REST_MIN_LENGTH = 16  # the rest of a quote is looked for only with this much to go by,
_REST_ERRORS = 0.15  # ...and found with at most this share of errors,
_REST_REACH = 400  # ...at most this far away
_TYPO_DISTANCE = 1  # a word one edit (or swap of letters) from the quote's is the same, mistyped
_MISMATCH_COST = 1.5  # a match scores 1 in the local alignment; an error costs this,
_DELETION_COST = 1.0  # ...and a character of the quote missing from the text this
_CONTEXT_SUPPORT = 0.5  # context agreement that counts as support,
_ONE_SIDE_SUPPORT = 0.9  # ...as does this much on one side (a passage moved with its paragraph)
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
_WORD_START = re.compile(r"(?<!\S)\S")
_TOKEN = re.compile(r"\w+|[^\w\s]")  # words, and every mark on its own


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
        return _Candidate(
            start, start + length, length, 1.0, 1.0, context=1.0, side=1.0, position=1.0
        )

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
    if not any(candidate.survives for candidate in candidates):
        # A passage that takes in a moved paragraph follows its larger part.
        candidates += [
            part
            for candidate in candidates
            if candidate.found >= ORPHAN_BELOW
            for part in search.paragraph_parts(candidate)
        ]
    if not any(candidate.survives for candidate in candidates):
        candidates += search.seeded()
    survivors = [candidate for candidate in candidates if candidate.survives]
    survivors.sort(key=_Candidate.score, reverse=True)
    completed = (search.completed(candidate) for candidate in survivors[:_MAX_CANDIDATES])
    return next((candidate for candidate in completed if candidate and candidate.survives), None)


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
    """Agreement of the text around the passage with the prefix and suffix, 0 to 1, ..."""
    side: float
    """... and of the better of the two sides."""
    position: float
    """Nearness to the old position, 0 to 1."""
    missing_before: int = 0
    """Characters at the start of the quote not found in the passage, ..."""
    missing_after: int = 0
    """... and at its end."""

    @property
    def survives(self) -> bool:
        # Without its context, a passage must be long enough not to be a coincidence.
        return min(self.found, self.purity) >= ORPHAN_BELOW and (
            self.context >= _CONTEXT_SUPPORT
            or self.side >= _ONE_SIDE_SUPPORT
            or self.matched >= _UNSUPPORTED_LENGTH
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
            # Not the whole text, which would take milliseconds: the places
            # where pieces of the quote are, found in the text's index.
            far_errors = int(len(pattern) * _FAR_ERRORS)
            for first_offset, first, last_offset, last in self.seed_places:
                region = (
                    max(0, first - first_offset - quote_from - far_errors),
                    min(
                        len(self.text), last - last_offset + len(pattern) - quote_from + far_errors
                    ),
                )
                if region[0] < near[0] or region[1] > near[1]:
                    regions.append((region, far_errors))
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

    @cached_property
    def seed_places(self) -> list[tuple[int, int, int, int]]:
        """
        Where pieces of the quote (each _SEED_LENGTH characters from the start
        of one of its words) occur together: exact occurrences grouped along
        nearly the same diagonal (position in the text less position in the
        quote), which insertions and deletions shift only a little. For each
        group, the first and the last piece found, as (offset in the quote,
        position in the text) twice; the groups with the most distinct pieces
        first.
        """
        exact = self.exact
        index = _pieces_at_word_starts(self.text)
        hits: list[tuple[int, int, int]] = []  # (diagonal, offset in the quote, position)
        starts_word = not self.prefix or self.prefix[-1].isspace()
        next_offset = 0
        for match in _WORD_START.finditer(exact, 0 if starts_word else 1):
            offset = match.start()
            if offset < next_offset or offset + _SEED_LENGTH > len(exact):
                continue
            next_offset = offset + _SEED_LENGTH
            positions = index.get(exact[offset:next_offset], ())
            if len(positions) <= _SEED_MAX_HITS:
                hits += [(at - offset, offset, at) for at in positions]
        hits.sort()
        groups: list[list[tuple[int, int, int]]] = []
        for hit in hits:
            if groups and hit[0] - groups[-1][-1][0] <= _SEED_SPREAD:
                groups[-1].append(hit)
            else:
                groups.append([hit])
        groups = [group for group in groups if len({offset for _, offset, _ in group}) >= 2]
        groups.sort(key=lambda group: -len({offset for _, offset, _ in group}))
        places = []
        for group in groups[:_MAX_CANDIDATES]:
            _, first_offset, first = min(group, key=lambda hit: hit[2])
            _, last_offset, last = max(group, key=lambda hit: hit[2])
            places.append((first_offset, first, last_offset, last))
        return places

    @cached_property
    def quote_words(self) -> "_Words":
        """The quote cut into words and marks (`_TOKEN`)."""
        return _words(self.exact)

    def seeded(self) -> list[_Candidate]:
        """
        Candidates from exact occurrences of the quote's pieces: where a
        quote was cut in two by a moved paragraph, or broken up by insertions,
        an alignment of the whole quote finds neither part, but the pieces
        of each part still lie together, along a diagonal (position in the
        text less position in the quote) that insertions shift only a little.
        """
        found: dict[tuple[int, int], _Candidate] = {}
        for first_offset, first, last_offset, last in self.seed_places:
            # The pieces found mark the passage; the quote's ends are looked
            # for beyond them, as far as they still mostly match.
            head = self.exact_codes[:first_offset][::-1]
            before = self.encoded[max(0, first - 2 * len(head) - _SEED_LENGTH) : first][::-1]
            tail = self.exact_codes[last_offset + _SEED_LENGTH :]
            after_from = last + _SEED_LENGTH
            after = self.encoded[after_from : after_from + 2 * len(tail) + _SEED_LENGTH]
            start = first - _extension(head, before)
            end = after_from + _extension(tail, after)
            # As in `aligned`: an end without its context may lie further out.
            if self.agreement_before(start) < _CONTEXT_SUPPORT:
                edge = self.edge(start, end, at_start=True)
                start = start if edge is None else edge
            if self.agreement_after(end) < _CONTEXT_SUPPORT:
                edge = self.edge(start, end, at_start=False)
                end = end if edge is None else edge
            candidate = self.measured(start, end)
            # Pieces are found anywhere: a passage without its context is more
            # likely the same words used elsewhere.
            if (
                candidate is not None
                and candidate.context >= _CONTEXT_SUPPORT
                and min(candidate.found, candidate.purity) >= _SEEDED_FOUND
            ):
                found.setdefault((candidate.start, candidate.end), candidate)
        return list(found.values())

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
        kept, quote_from, quote_to = _surviving_characters(self.quote_words, self.text[start:end])
        return self.candidate(start, end, kept, quote_from, len(self.exact) - quote_to)

    def candidate(
        self, start: int, end: int, matched: int, missing_before: int = 0, missing_after: int = 0
    ) -> _Candidate:
        before, after = self.agreement_before(start), self.agreement_after(end)
        return _Candidate(
            start,
            end,
            matched,
            found=matched / len(self.exact),
            purity=matched / (end - start),
            context=(before + after) / 2,
            side=max(before, after),
            position=1 / (1 + abs(start - self.hint) / _POSITION_HALF_SCORE),
            missing_before=missing_before,
            missing_after=missing_after,
        )

    def paragraph_parts(self, candidate: _Candidate) -> list[_Candidate]:
        """The candidate's passage cut at each of its paragraph breaks, each side measured."""
        parts = []
        for match in PARAGRAPH_BREAK.finditer(self.text, candidate.start, candidate.end):
            for start, end in ((candidate.start, match.start()), (match.end(), candidate.end)):
                part = self.measured(start, end)
                if part is not None:
                    parts.append(part)
        return parts

    def completed(self, candidate: _Candidate) -> "_Candidate | None":
        """
        The candidate stretched to the rest of its quote, where the words
        missing at one of its ends are found, with their context, a little
        further on: a passage cut in two by inserted text is one passage,
        swollen, and is measured as such.
        """
        start, end = candidate.start, candidate.end
        if candidate.missing_before and self.agreement_before(start) < _CONTEXT_SUPPORT:
            start = self.rest(start, candidate.missing_before, at_start=True)
        if candidate.missing_after and self.agreement_after(end) < _CONTEXT_SUPPORT:
            end = self.rest(end, candidate.missing_after, at_start=False)
        if (start, end) == (candidate.start, candidate.end):
            return candidate
        # Across a paragraph break the quote did not have, the two parts were
        # brought together by a moved paragraph: the passage follows the larger.
        breaks = len(PARAGRAPH_BREAK.findall(self.text, start, end))
        if breaks > len(PARAGRAPH_BREAK.findall(self.exact)):
            return candidate
        return self.measured(start, end)

    def rest(self, boundary: int, missing: int, *, at_start: bool) -> int:
        """Where the `missing` characters at one end of the quote are, beyond `boundary`."""
        reach = _REST_REACH
        if at_start:
            part = self.exact_codes[:missing]
            pattern = self.prefix_codes[::-1] + part
            quote_from = len(self.prefix_codes)
            region_from = max(0, boundary - reach - len(pattern))
            region_to = boundary
        else:
            part = self.exact_codes[-missing:]
            pattern = part + self.suffix_codes
            quote_from = 0
            region_from = boundary
            region_to = min(len(self.text), boundary + reach + len(pattern))
        if len(pattern) < _REST_MIN_LENGTH or region_from >= region_to:
            return boundary
        result = edlib.align(
            pattern,
            self.encoded[region_from:region_to],
            mode="HW",
            task="locations",
            k=int(len(pattern) * _REST_ERRORS),
        )
        if result["editDistance"] < 0:
            return boundary
        # The nearest of the best.
        match_from, match_last = result["locations"][-1 if at_start else 0]
        match_from += region_from
        match_to = region_from + match_last + 1
        cigar = edlib.align(pattern, self.encoded[match_from:match_to], task="path")["cigar"]
        span = _span_through(cigar, quote_from, quote_from + len(part), local=False)
        if span is None:
            return boundary
        return match_from + (span.start if at_start else span.end)

    def agreement_before(self, start: int) -> float:
        before = self.encoded[max(0, start - 2 * len(self.prefix_codes)) : start][::-1]
        return _agreement(self.prefix_codes, before, at_edge=start == 0)

    def agreement_after(self, end: int) -> float:
        after = self.encoded[end : end + 2 * len(self.suffix_codes)]
        return _agreement(self.suffix_codes, after, at_edge=end == len(self.text))


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


def _extension(piece: bytes, target: bytes) -> int:
    """
    How far into `target` the beginning of `piece` goes on matching: the
    alignment of the two is followed for as long as its matches outweigh its
    errors (each costing _MISMATCH_COST), and cut where it scored best.
    """
    if not piece or not target:
        return 0
    cigar = edlib.align(piece, target, mode="SHW", task="path")["cigar"]
    score = best = 0.0
    consumed = best_consumed = 0
    for count, op in _CIGAR_OP.findall(cigar or ""):
        count = int(count)
        if op != "I":
            consumed += count
        if op == "=":
            score += count
            if score > best:
                best, best_consumed = score, consumed
        else:
            score -= _MISMATCH_COST * count
    return best_consumed


def _surviving_characters(quote_words: "_Words", passage: str) -> tuple[int, int, int]:
    """
    How many of the quote's characters are still in `passage`, counted word
    by word: the words and marks the two have in common in the same order, as
    the longest common subsequence finds them (with the blank space before
    each), plus the characters of words changed by a typo. A word replaced by
    another counts for nothing, however many letters the two share; and the
    spaces and commas left between replaced words count only next to a word
    that is still there, or a new clause would keep some of the old one's.

    `quote_words` is the quote cut into words and marks (`_words`).
    Returns that count, and where in the quote the first unchanged run
    starts and the last one ends.
    """
    old, starts, ends = quote_words.tokens, quote_words.starts, quote_words.ends
    new = _TOKEN.findall(passage)
    if not old or not new:
        return 0, 0, 0
    # Runs of (characters kept, whether a word is among them, whether they were all there).
    runs: list[tuple[int, bool, bool]] = []
    removed: list[str] = []
    added: list[str] = []

    def close_gap() -> None:
        typos = _typo_survivors(removed, added)
        runs.append((typos, typos > 0, False))
        removed.clear()
        added.clear()

    covered_from = covered_to = None
    for tag, old_from, old_to, new_from, new_to in Indel.opcodes(old, new):
        if tag != "equal":
            removed += old[old_from:old_to]
            added += new[new_from:new_to]
            continue
        if removed or added:
            close_gap()
        # The words in the same order, and the blank space between them.
        tokens = old[old_from:old_to]
        kept_here = ends[old_to - 1] - (
            ends[old_from - 1] if old_from and new_from else starts[old_from]
        )
        runs.append((kept_here, any(_is_word(token) for token in tokens), True))
        if covered_from is None:
            covered_from = starts[old_from]
        covered_to = ends[old_to - 1]
    if removed or added:
        close_gap()
    kept = sum(
        kept
        for index, (kept, has_word, unchanged) in enumerate(runs)
        if has_word
        or not unchanged
        or any(runs[near][1] for near in (index - 1, index + 1) if 0 <= near < len(runs))
    )
    if covered_from is None or covered_to is None:
        return kept, 0, 0
    return kept, covered_from, covered_to


@dataclass(frozen=True)
class _Words:
    tokens: list[str]
    starts: list[int]
    ends: list[int]


def _words(text: str) -> _Words:
    """`text` cut into words and marks (blank space left out), with where each is."""
    matches = list(_TOKEN.finditer(text))
    return _Words(
        [match.group() for match in matches],
        [match.start() for match in matches],
        [match.end() for match in matches],
    )


def _typo_survivors(removed: list[str], added: list[str]) -> int:
    """Characters of the removed words that the added words hold but for a typo."""
    if not removed or not added:
        return 0
    kept = 0
    for tag, old_from, old_to, new_from, new_to in Levenshtein.opcodes(removed, added):
        if tag != "replace":
            continue
        for old_word, new_word in zip(
            removed[old_from:old_to], added[new_from:new_to], strict=False
        ):
            if (
                abs(len(old_word) - len(new_word)) <= _TYPO_DISTANCE
                and _is_word(old_word)
                and _is_word(new_word)
            ):
                distance = OSA.distance(old_word, new_word)
                if distance <= _TYPO_DISTANCE and distance < len(old_word):
                    kept += len(old_word) - distance
    return kept


def _is_word(token: str) -> bool:
    return token[0].isalnum() or token[0] == "_"


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


@lru_cache(maxsize=4)
def _pieces_at_word_starts(text: str) -> dict[str, list[int]]:
    """
    Where each run of _SEED_LENGTH characters that starts a word is in
    `text`. Cached, like `encode_for_search`, for the anchors of a revision.
    """
    index: dict[str, list[int]] = {}
    for match in _WORD_START.finditer(text):
        at = match.start()
        index.setdefault(text[at : at + _SEED_LENGTH], []).append(at)
    return index


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
