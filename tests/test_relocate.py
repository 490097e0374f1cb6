"""Re-anchoring: finding an annotation's passage again in a revised text."""

import subprocess
import sys
from pathlib import Path

from annotate.anchoring import CONTEXT_LENGTH, anchor_at
from annotate.relocation import _surviving_characters, _words, relocate

BOOK = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, "
    "it was the age of foolishness.\n\n"
    "There were a king with a large jaw and a queen with a plain face, on the throne of "
    "England; there were a king with a large jaw and a queen with a fair face, on the throne "
    "of France.\n\n"
    "It was the year of Our Lord one thousand seven hundred and seventy-five. Spiritual "
    "revelations were conceded to England at that favoured period, as at this."
)

FAMILY = "👩\u200d👩\u200d👧\u200d👦"  # one grapheme, seven code points
CAFE = "Cafe\u0301"  # "Café" with a combining acute accent: five code points


def anchor(text: str, words: str, occurrence: int = 0) -> dict:
    """What the site stores for the `occurrence`-th appearance of `words` in `text`."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(words, start + 1)
    found = anchor_at(text, start, start + len(words))
    return {
        "exact": found.exact,
        "prefix": found.prefix,
        "suffix": found.suffix,
        "start": found.start,
        "end": found.end,
    }


def passage(new_text: str, **selectors) -> str | None:
    """The text relocate picks in `new_text`, or None for an orphan."""
    span = relocate(new_text=new_text, **selectors)
    return None if span is None else new_text[span[0] : span[1]]


# The text did not change, or changed around the passage


def test_an_unchanged_text_keeps_the_anchor_where_it_was():
    selectors = anchor(BOOK, "a queen with a plain face")

    assert relocate(new_text=BOOK, **selectors) == (selectors["start"], selectors["end"])


def test_an_insertion_before_the_passage_shifts_the_anchor_by_its_length():
    preface = "A preface, added in the second edition.\n\n"
    selectors = anchor(BOOK, "a queen with a plain face")

    span = relocate(new_text=preface + BOOK, **selectors)

    assert span == (selectors["start"] + len(preface), selectors["end"] + len(preface))


def test_a_moved_paragraph_takes_its_anchors_along():
    first, second, third = BOOK.split("\n\n")
    moved = "\n\n".join([third, first, second])
    selectors = anchor(BOOK, "Spiritual revelations were conceded to England")

    assert passage(moved, **selectors) == "Spiritual revelations were conceded to England"
    assert relocate(new_text=moved, **selectors)[0] < selectors["start"]


# The passage itself changed


def test_an_edit_inside_the_passage_keeps_the_anchor_over_the_edited_words():
    revised = BOOK.replace("a queen with a plain face", "a queen with a very plain face")
    selectors = anchor(BOOK, "a king with a large jaw and a queen with a plain face")

    assert (
        passage(revised, **selectors)
        == "a king with a large jaw and a queen with a very plain face"
    )


def test_a_typo_fixed_inside_the_passage_keeps_the_anchor():
    typo = BOOK.replace("Spiritual revelations were", "Spiritual revelatoins were")
    selectors = anchor(typo, "Spiritual revelatoins were conceded")

    assert passage(BOOK, **selectors) == "Spiritual revelations were conceded"


def test_a_sentence_inserted_inside_a_long_passage_is_covered_by_the_anchor():
    words = "It was the year of Our Lord one thousand seven hundred and seventy-five. Spiritual "
    words += "revelations were conceded to England at that favoured period"
    revised = BOOK.replace(
        "seventy-five. ", "seventy-five. Mrs. Southcott had lately come of age. "
    )
    selectors = anchor(BOOK, words)

    found = passage(revised, **selectors)

    assert found is not None
    assert found.startswith("It was the year of Our Lord")
    assert "Mrs. Southcott had lately come of age." in found
    assert found.endswith("at that favoured period")


def test_a_passage_deleted_from_the_text_becomes_an_orphan():
    first, _, third = BOOK.split("\n\n")
    selectors = anchor(BOOK, "a queen with a plain face, on the throne of England")

    assert relocate(new_text=f"{first}\n\n{third}", **selectors) is None


def test_a_passage_mostly_rewritten_becomes_an_orphan():
    revised = BOOK.replace(
        "It was the year of Our Lord one thousand seven hundred and seventy-five.",
        "The calendar had by then reached a date that nobody cared to write down.",
    )
    selectors = anchor(BOOK, "It was the year of Our Lord one thousand seven hundred")

    assert relocate(new_text=revised, **selectors) is None


def test_a_passage_that_mostly_survives_is_not_an_orphan():
    revised = BOOK.replace("one thousand seven hundred", "one thousand eight hundred")
    selectors = anchor(BOOK, "It was the year of Our Lord one thousand seven hundred")

    assert passage(revised, **selectors) == "It was the year of Our Lord one thousand eight hundred"


def surviving(quote: str, passage: str) -> tuple[int, int, int]:
    return _surviving_characters(_words(quote), passage)


def test_a_replaced_word_counts_for_nothing_whatever_letters_it_shares():
    quote = "the sons of Noah went forth"
    kept, _, _ = surviving(quote, "the sons of Nahor went forth")

    # The word goes, with the blank before it.
    assert kept == len(quote) - len(" Noah")


def test_a_mistyped_word_counts_but_for_its_typo():
    quote = "the sons of Noah went forth"

    # One character for the typo, and the blank before the word.
    assert surviving(quote, "the sons of Naoh went forth")[0] == len(quote) - 2
    assert surviving(quote, "the sons of Noahh went forth")[0] == len(quote) - 2
    assert surviving(quote, "the sons of Nxyzah went forth")[0] == len(quote) - len(" Noah")


def test_a_new_clause_keeps_nothing_of_the_old_one_not_even_its_spaces():
    kept, _, _ = surviving(
        "and Abram went up into the mountain", "for Jesus sat down beside a river"
    )

    assert kept == 0


def test_the_part_of_the_quote_a_passage_covers_is_reported():
    quote = "In the beginning God created the heavens"

    assert surviving(quote, "God created the heavens and the earth") == (
        len("God created the heavens"),
        quote.index("God"),
        len(quote),
    )


def test_a_passage_cut_by_a_moved_paragraph_follows_its_larger_part():
    first, second, third = BOOK.split("\n\n")
    selectors = anchor(BOOK, "of foolishness.\n\nThere were a king with a large jaw and a queen")
    moved = "\n\n".join([first, third, second])

    assert passage(moved, **selectors) == "There were a king with a large jaw and a queen"


def test_a_passage_swollen_by_a_long_insertion_becomes_an_orphan():
    # Less than half of what now stands between its first and last words is the quote.
    selectors = anchor(BOOK, "Spiritual revelations were conceded to England")
    insertion = (
        "so said all the preachers of the day, and a great many other people besides, "
        "in pulpits, taverns and coffee-houses, loudly and at every opportunity, "
    )
    revised = BOOK.replace("revelations were", "revelations, " + insertion + "were")

    assert passage(revised, **selectors) is None


def test_a_passage_broken_up_by_several_edits_is_found_from_its_surviving_pieces():
    words = (
        "There were a king with a large jaw and a queen with a plain face, on the throne of "
        "England; there were a king with a large jaw"
    )
    selectors = anchor(BOOK, words)
    first, second, third = BOOK.split("\n\n")
    revised_second = (
        second.replace("There were", "Then there was")
        .replace("plain face", "homely look")
        .replace("England;", "Britain, and")
    )
    revised = "\n\n".join([third, first, revised_second])

    found = passage(revised, **selectors)
    assert found is not None
    assert found.startswith("there was a king") or found.startswith("Then there was")
    assert found.endswith("a large jaw")


# The quoted words also appear elsewhere


def test_a_quote_that_appears_twice_keeps_the_occurrence_its_context_names():
    selectors = anchor(BOOK, "a king with a large jaw", occurrence=1)
    revised = "Preface.\n\n" + BOOK

    span = relocate(new_text=revised, **selectors)

    assert span == (
        selectors["start"] + len("Preface.\n\n"),
        selectors["end"] + len("Preface.\n\n"),
    )


def test_a_copy_of_the_quote_landing_on_the_old_position_does_not_fool_it():
    second = BOOK.index("a king with a large jaw", BOOK.index("a king with a large jaw") + 1)
    first = BOOK.index("a king with a large jaw")
    selectors = anchor(BOOK, "a king with a large jaw", occurrence=1)
    # Shift the text so that the first occurrence now sits where the second was.
    revised = "x" * (second - first - 1) + " " + BOOK

    span = relocate(new_text=revised, **selectors)

    assert revised[span[0] : span[1]] == "a king with a large jaw"
    assert span[0] == second + (second - first)
    assert revised[span[0] - 20 : span[0]].endswith("England; there were ")


def test_an_edited_quote_is_not_moved_to_an_intact_copy_with_other_context():
    revised = BOOK.replace(
        "there were a king with a large jaw and a queen with a fair face",
        "there were a king with a long jaw and a queen with a fair face",
    )
    selectors = anchor(BOOK, "a king with a large jaw and a queen with a fair", occurrence=0)

    assert passage(revised, **selectors) == "a king with a long jaw and a queen with a fair"


# Hard text: Unicode, line endings, odd positions


def test_offsets_count_code_points_through_emoji_and_combining_marks():
    text = f"The {FAMILY} family met at the {CAFE} on the corner, and talked for hours."
    selectors = anchor(text, f"{FAMILY} family met at the {CAFE} on the corner")
    revised = "🎉 Party! " + text

    span = relocate(new_text=revised, **selectors)

    assert span == (selectors["start"] + 9, selectors["end"] + 9)
    assert revised[span[0] : span[1]] == f"{FAMILY} family met at the {CAFE} on the corner"


def test_an_edit_next_to_an_emoji_keeps_the_whole_grapheme_in_the_anchor():
    text = f"The {FAMILY} family met at the {CAFE} on the corner, and talked for hours."
    selectors = anchor(text, f"{FAMILY} family met at the {CAFE}")
    revised = text.replace("family met", "family finally met")

    assert passage(revised, **selectors) == f"{FAMILY} family finally met at the {CAFE}"


def test_crlf_line_endings_in_the_new_text_shift_offsets_by_the_carriage_returns():
    selectors = anchor(BOOK, "Spiritual revelations were conceded to England")
    revised = BOOK.replace("\n", "\r\n")

    span = relocate(new_text=revised, **selectors)

    assert span == (selectors["start"] + 4, selectors["end"] + 4)  # two paragraph breaks before


def test_a_passage_across_a_paragraph_break_is_found_with_crlf_line_endings():
    words = "it was the age of foolishness.\n\nThere were a king with a large jaw"
    selectors = anchor(BOOK, words)
    revised = BOOK.replace("\n", "\r\n")

    assert passage(revised, **selectors) == words.replace("\n", "\r\n")


def test_a_text_with_more_than_256_distinct_characters_is_searched_too():
    hanzi = "".join(chr(code) for code in range(0x4E00, 0x4E00 + 600))
    text = f"{hanzi[:300]} 天下大事，必作於細。 {hanzi[300:]}"
    selectors = anchor(text, "天下大事，必作於細。")
    revised = text.replace("天下大事", "天下大大事").replace(hanzi[:50], "")

    assert passage(revised, **selectors) == "天下大大事，必作於細。"


def test_an_old_position_past_the_end_of_a_shorter_text_still_finds_the_passage():
    long_text = "Filler sentence number one. " * 40 + BOOK
    selectors = anchor(long_text, "the age of foolishness")

    assert passage(BOOK.replace("foolishness", "folly and foolishness"), **selectors) == (
        "the age of folly and foolishness"
    )


def test_context_shorter_than_usual_at_the_start_of_the_text_is_enough():
    selectors = anchor(BOOK, "It was the best of times")
    assert len(selectors["prefix"]) == 0 < CONTEXT_LENGTH

    assert passage("Book the First.\n\n" + BOOK, **selectors) == "It was the best of times"


def test_a_blank_quote_or_an_empty_text_gives_an_orphan():
    assert relocate(" ", "", "", 0, 1, BOOK) is None
    assert relocate("the best", "It was ", " of times", 7, 15, "") is None


def test_importing_anchoring_needs_no_django_settings():
    code = "import sys, annotate.anchoring; assert 'django' not in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
