"""Anchors and highlight segments, with the text a real reading can hold."""

import random

import pytest

from annotate.anchoring import (
    CONTEXT_LENGTH,
    MAX_QUOTE_LENGTH,
    AnchorError,
    anchor_at,
    paragraph_spans,
    segment,
    validate_anchor,
)
from annotate.models import Document, normalize_text
from tests.factories import make_document

FAMILY = "👩\u200d👩\u200d👧\u200d👦"  # one grapheme, seven code points, eleven UTF-16 units
CAFE = "Cafe\u0301"  # "Café" with a combining acute accent: five code points
HEBREW = "שלום עולם"
ARABIC = "مرحبا بالعالم"
FRAKTUR = "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"  # astral plane, one code point each

HARD_TEXT = (
    f"The {FAMILY} family met at the {CAFE} on the corner.\n\n"
    f"They greeted each other with {HEBREW} and {ARABIC}, then laughed.\n\n"
    f"The sign said {FRAKTUR} in old letters."
)


def anchor_of(text: str, words: str, occurrence: int = 0) -> dict:
    """What a browser would send for the `occurrence`-th appearance of `words`."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(words, start + 1)
    anchor = anchor_at(text, start, start + len(words))
    return {
        "exact": anchor.exact,
        "prefix": anchor.prefix,
        "suffix": anchor.suffix,
        "start": anchor.start,
        "end": anchor.end,
    }


# Offsets and hard Unicode


def test_a_zwj_family_emoji_is_seven_code_points_and_anchors_whole():
    assert len(FAMILY) == 7
    start = HARD_TEXT.index(FAMILY)

    anchor = validate_anchor(HARD_TEXT, exact=FAMILY, start=start, end=start + 7)

    assert anchor.exact == FAMILY
    assert anchor.prefix == "The "
    assert anchor.suffix.startswith(" family met")


def test_utf16_offsets_for_an_emoji_are_refused_because_offsets_count_code_points():
    start = HARD_TEXT.index(FAMILY)
    utf16_length = len(FAMILY.encode("utf-16-le")) // 2

    with pytest.raises(AnchorError, match="do not match the text at that position"):
        validate_anchor(HARD_TEXT, exact=FAMILY, start=start, end=start + utf16_length)


def test_text_after_an_emoji_is_found_at_its_code_point_offset():
    sent = anchor_of(HARD_TEXT, "family met")

    assert sent["start"] == len("The ") + 7 + 1
    assert validate_anchor(HARD_TEXT, **sent).exact == "family met"


def test_a_combining_accent_belongs_to_the_quote_as_its_own_code_point():
    sent = anchor_of(HARD_TEXT, CAFE)

    anchor = validate_anchor(HARD_TEXT, **sent)

    assert anchor.end - anchor.start == 5
    assert anchor.exact == "Cafe\u0301"
    assert anchor.suffix.startswith(" on the corner")


def test_a_precomposed_quote_does_not_match_decomposed_text():
    sent = anchor_of(HARD_TEXT, CAFE)

    with pytest.raises(AnchorError, match="do not match"):
        validate_anchor(HARD_TEXT, **{**sent, "exact": "Café"})


@pytest.mark.parametrize("words", [HEBREW, ARABIC, "עולם", "بالعالم"])
def test_right_to_left_words_anchor_in_logical_order(words):
    sent = anchor_of(HARD_TEXT, words)

    anchor = validate_anchor(HARD_TEXT, **sent)

    assert anchor.exact == words
    assert HARD_TEXT[anchor.start : anchor.end] == words
    assert HARD_TEXT[: anchor.start].endswith(anchor.prefix)
    assert HARD_TEXT[anchor.end :].startswith(anchor.suffix)


def test_astral_characters_count_one_each():
    sent = anchor_of(HARD_TEXT, FRAKTUR)

    assert sent["end"] - sent["start"] == 7
    assert validate_anchor(HARD_TEXT, **sent).exact == FRAKTUR


def test_context_is_at_most_thirty_two_code_points_even_across_emoji():
    text = FAMILY * 10 + "needle" + FAMILY * 10
    start = text.index("needle")

    anchor = anchor_at(text, start, start + 6)

    assert len(anchor.prefix) == CONTEXT_LENGTH
    assert len(anchor.suffix) == CONTEXT_LENGTH
    assert text[:start].endswith(anchor.prefix)
    assert text[start + 6 :].startswith(anchor.suffix)


def test_context_is_shorter_at_the_edges_of_the_text():
    text = "Short text."

    assert anchor_at(text, 0, 5).prefix == ""
    assert anchor_at(text, 6, 11).suffix == ""
    assert anchor_at(text, 6, 11).exact == "text."


def test_windows_line_endings_are_normalised_before_anchoring():
    text = normalize_text("One line\r\nand the next  \r\n\r\n\r\nSecond paragraph\r\n")

    assert text == "One line\nand the next\n\nSecond paragraph"
    sent = anchor_of(text, "Second")
    assert sent["start"] == len("One line\nand the next\n\n")
    assert validate_anchor(text, **sent).exact == "Second"


def test_a_revised_document_stores_normalised_text_so_browser_offsets_hold(db):
    document = make_document(
        "Alpha\r\nbeta\r\n\r\nGamma \U0001f600 delta\r\n", slug="crlf", title="CRLF"
    )

    text = Document.objects.with_text().get(pk=document.pk).text

    assert "\r" not in text
    sent = anchor_of(text, "delta")
    assert sent["start"] == len("Alpha\nbeta\n\nGamma 😀 ")
    assert validate_anchor(text, **sent).exact == "delta"


# Refusals, each with a message a reader can act on

TEXT = "In spite of his personal triumph, Stalin was more paranoid.\n\nSecond paragraph here."


def test_a_selection_with_context_from_the_text_is_accepted():
    sent = anchor_of(TEXT, "personal triumph")

    anchor = validate_anchor(TEXT, **sent)

    assert (anchor.start, anchor.end) == (16, 32)
    assert anchor.prefix == "In spite of his "
    assert anchor.suffix == ", Stalin was more paranoid.\n\nSec"


def test_the_context_stored_comes_from_the_text_even_when_none_was_sent():
    start = TEXT.index("Stalin")

    anchor = validate_anchor(TEXT, exact="Stalin", start=start, end=start + 6)

    assert anchor.prefix == TEXT[start - CONTEXT_LENGTH : start]
    assert anchor.suffix == TEXT[start + 6 : start + 6 + CONTEXT_LENGTH]


@pytest.mark.parametrize(
    ("start", "end", "exact", "message"),
    [
        (-1, 5, "In sp", "invalid \\(negative\\)"),
        (0, -5, "", "invalid \\(negative\\)"),
        (10, 5, "", "ends before it starts"),
        (5, 5, "", "The selection is empty"),
        (len(TEXT) - 3, len(TEXT) + 1, "re.", "runs past the end"),
        (len(TEXT) + 5, len(TEXT) + 9, "", "runs past the end"),
        (59, 61, "\n\n", "only blank space"),
        (2, 3, " ", "only blank space"),
        (0, 2, "On", "do not match the text at that position"),
        (1, 3, "In", "do not match the text at that position"),
    ],
    ids=[
        "negative start",
        "negative end",
        "reversed",
        "empty",
        "past the end",
        "wholly past the end",
        "paragraph break",
        "one space",
        "wrong words",
        "right words, wrong place",
    ],
)
def test_a_bad_selection_is_refused_with_a_message_for_the_reader(start, end, exact, message):
    with pytest.raises(AnchorError, match=message):
        validate_anchor(TEXT, exact=exact, start=start, end=end)


def test_a_selection_longer_than_the_limit_is_refused_saying_how_long_it_is():
    text = "word " * 2000
    end = MAX_QUOTE_LENGTH + 1

    with pytest.raises(AnchorError, match="5,001 characters long; annotate at most 5,000"):
        validate_anchor(text, exact=text[:end], start=0, end=end)


def test_a_selection_of_exactly_the_limit_is_accepted():
    text = "word " * 2000

    anchor = validate_anchor(text, exact=text[:MAX_QUOTE_LENGTH], start=0, end=MAX_QUOTE_LENGTH)

    assert len(anchor.exact) == MAX_QUOTE_LENGTH


def test_a_prefix_that_is_not_before_the_words_is_refused():
    sent = anchor_of(TEXT, "Stalin")

    with pytest.raises(AnchorError, match="words before the selection do not match"):
        validate_anchor(TEXT, **{**sent, "prefix": "his personal tragedy, "})


def test_a_suffix_that_is_not_after_the_words_is_refused():
    sent = anchor_of(TEXT, "Stalin")

    with pytest.raises(AnchorError, match="words after the selection do not match"):
        validate_anchor(TEXT, **{**sent, "suffix": " was less paranoid"})


def test_the_context_tells_apart_the_same_words_in_two_places():
    text = "the cat and the dog"
    second = anchor_of(text, "the", occurrence=1)

    assert validate_anchor(text, **second).start == 12
    with pytest.raises(AnchorError, match="words before the selection do not match"):
        validate_anchor(text, **{**second, "start": 0, "end": 3})


# Paragraphs


def test_paragraphs_are_separated_by_blank_lines_not_single_newlines():
    text = "One\nstill one\n\nTwo\n\n\n\nThree"

    assert paragraph_spans(text) == [(0, 13), (15, 18), (22, 27)]
    assert [text[s:e] for s, e in paragraph_spans(text)] == ["One\nstill one", "Two", "Three"]


def test_an_empty_text_has_no_paragraphs_and_no_segments():
    assert paragraph_spans("") == []
    assert segment("", [(1, 0, 0)]) == []


# Segments


def runs(paragraphs) -> list[list[tuple[str, tuple[int, ...]]]]:
    return [[(s.text, s.post_ids) for s in paragraph.segments] for paragraph in paragraphs]


SAMPLE = "abcdefghij\n\nklmnopqrst"


def test_without_highlights_each_paragraph_is_one_plain_segment():
    paragraphs = segment(SAMPLE, [])

    assert runs(paragraphs) == [[("abcdefghij", ())], [("klmnopqrst", ())]]
    assert [p.post_ids for p in paragraphs] == [[], []]


def test_one_highlight_cuts_its_paragraph_in_three():
    paragraphs = segment(SAMPLE, [(7, 2, 5)])

    assert runs(paragraphs) == [
        [("ab", ()), ("cde", (7,)), ("fghij", ())],
        [("klmnopqrst", ())],
    ]
    assert [s.start for s in paragraphs[0].segments] == [0, 2, 5]
    assert [p.post_ids for p in paragraphs] == [[7], []]


def test_overlapping_highlights_share_the_overlap():
    paragraphs = segment(SAMPLE, [(1, 0, 5), (2, 3, 8)])

    assert runs(paragraphs)[0] == [
        ("abc", (1,)),
        ("de", (1, 2)),
        ("fgh", (2,)),
        ("ij", ()),
    ]


def test_a_nested_highlight_sits_inside_the_outer_one():
    paragraphs = segment(SAMPLE, [(2, 3, 5), (1, 1, 9)])

    assert runs(paragraphs)[0] == [
        ("a", ()),
        ("bc", (1,)),
        ("de", (1, 2)),
        ("fghi", (1,)),
        ("j", ()),
    ]
    assert paragraphs[0].post_ids == [1, 2]


def test_identical_spans_make_one_segment_with_both_ids_sorted():
    paragraphs = segment(SAMPLE, [(9, 2, 4), (3, 2, 4)])

    assert runs(paragraphs)[0] == [("ab", ()), ("cd", (3, 9)), ("efghij", ())]
    assert paragraphs[0].post_ids == [3, 9]


def test_adjacent_highlights_stay_separate_segments():
    paragraphs = segment(SAMPLE, [(1, 0, 3), (2, 3, 6)])

    assert runs(paragraphs)[0] == [("abc", (1,)), ("def", (2,)), ("ghij", ())]


def test_a_highlight_across_a_paragraph_break_is_split_and_listed_where_it_starts():
    start, end = SAMPLE.index("hij"), SAMPLE.index("nop")

    paragraphs = segment(SAMPLE, [(5, start, end)])

    assert runs(paragraphs) == [
        [("abcdefg", ()), ("hij", (5,))],
        [("klm", (5,)), ("nopqrst", ())],
    ]
    assert [p.post_ids for p in paragraphs] == [[5], []]


def test_a_highlight_starting_on_the_break_is_listed_in_the_next_paragraph():
    paragraphs = segment(SAMPLE, [(5, 10, 14)])

    assert runs(paragraphs) == [[("abcdefghij", ())], [("kl", (5,)), ("mnopqrst", ())]]
    assert [p.post_ids for p in paragraphs] == [[], [5]]


def test_highlights_at_the_very_start_and_end_of_the_text():
    paragraphs = segment(SAMPLE, [(1, 0, 2), (2, len(SAMPLE) - 2, len(SAMPLE))])

    assert runs(paragraphs) == [
        [("ab", (1,)), ("cdefghij", ())],
        [("klmnopqr", ()), ("st", (2,))],
    ]


def test_a_highlight_covering_everything_covers_every_segment():
    paragraphs = segment(SAMPLE, [(1, 0, len(SAMPLE))])

    assert runs(paragraphs) == [[("abcdefghij", (1,))], [("klmnopqrst", (1,))]]


def test_highlights_outside_the_text_or_empty_are_ignored():
    paragraphs = segment(SAMPLE, [(1, 5, 5), (2, 6, 4), (3, 20, 99), (4, -1, 3)])

    assert runs(paragraphs) == [[("abcdefghij", ())], [("klmnopqrst", ())]]
    assert [p.post_ids for p in paragraphs] == [[], []]


def test_paragraphs_list_annotations_in_reading_order():
    paragraphs = segment(SAMPLE, [(3, 6, 8), (1, 2, 4), (2, 2, 9)])

    assert paragraphs[0].post_ids == [2, 1, 3]


def test_segments_of_hard_unicode_keep_every_code_point():
    family = HARD_TEXT.index(FAMILY)
    hebrew = HARD_TEXT.index(HEBREW)

    paragraphs = segment(HARD_TEXT, [(1, family, family + 7), (2, hebrew, hebrew + 4)])

    assert [s.text for s in paragraphs[0].segments if s.post_ids] == [FAMILY]
    assert [s.text for s in paragraphs[1].segments if s.post_ids] == ["שלום"]
    for paragraph, (start, end) in zip(paragraphs, paragraph_spans(HARD_TEXT), strict=True):
        assert paragraph.text == HARD_TEXT[start:end]


# A randomized check against a per-character computation


ALPHABET = ["a", "b", " ", "\n", FAMILY, "e\u0301", "ש", "𝔘", "é"]


def brute_force(text: str, highlights: list[tuple[int, int, int]]):
    """The segments and listed ids, worked out one character at a time."""
    spans = paragraph_spans(text)
    valid = [h for h in highlights if 0 <= h[1] < h[2] <= len(text)]
    expected_runs = []
    for start, end in spans:
        paragraph_runs: list[tuple[str, tuple[int, ...]]] = []
        for position in range(start, end):
            ids = tuple(sorted(pk for pk, s, e in valid if s <= position < e))
            if paragraph_runs and paragraph_runs[-1][1] == ids:
                paragraph_runs[-1] = (paragraph_runs[-1][0] + text[position], ids)
            else:
                paragraph_runs.append((text[position], ids))
        expected_runs.append(paragraph_runs)
    listed: list[list[int]] = [[] for _ in spans]
    for pk, start, _end in sorted(valid, key=lambda h: (h[1], -h[2], h[0])):
        index = next(i for i, (_, paragraph_end) in enumerate(spans) if paragraph_end > start)
        listed[index].append(pk)
    return expected_runs, listed


def random_text(rng: random.Random) -> str:
    paragraphs = [
        "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 30)))
        for _ in range(rng.randint(1, 5))
    ]
    return normalize_text("\n\n".join(paragraphs))


@pytest.mark.parametrize("seed", range(40))
def test_segments_match_a_per_character_computation(seed):
    rng = random.Random(seed)
    for _ in range(25):
        text = random_text(rng)
        if not text:
            continue
        highlights = []
        for pk in rng.sample(range(1, 1000), rng.randint(0, 12)):
            start = rng.randint(-2, len(text))
            end = rng.choice([start + rng.randint(1, 8), rng.randint(0, len(text) + 2)])
            highlights.append((pk, start, end))

        paragraphs = segment(text, highlights)

        expected_runs, expected_listed = brute_force(text, highlights)
        assert runs(paragraphs) == expected_runs, (text, highlights)
        assert [p.post_ids for p in paragraphs] == expected_listed, (text, highlights)
        for paragraph, (start, end) in zip(paragraphs, paragraph_spans(text), strict=True):
            assert paragraph.text == text[start:end]
            assert [s.start for s in paragraph.segments] == [
                start + sum(len(s.text) for s in paragraph.segments[:i])
                for i in range(len(paragraph.segments))
            ]
