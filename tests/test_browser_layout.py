"""
The reading page on a phone (390 px) and a laptop (1366 px): one control to
annotate, a note box that covers neither the passage nor the threads, no gap
when a thread opens, tables that show they scroll, a way straight to the
comment box; and, at both widths, the server's own words whenever a post is
refused or held.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from annotate.models import ModerationSettings, Post, Reading
from tests.browser import PHRASE_RANGE, SELECT_PHRASE, sign_in
from tests.factories import make_class, make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
SCREENS = [pytest.param(PHONE, id="390px"), pytest.param(LAPTOP, id="1366px")]

# The passage in the seed's last paragraph, far down the page on a phone.
LATE_PHRASE = "directly into Soviet labour camps"

# Where a phrase of the text is on screen now.
PHRASE_BOX = f"(phrase) => ({PHRASE_RANGE})(phrase)?.getBoundingClientRect().toJSON() ?? null"


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def as_box(rect: dict) -> dict:
    return {"x": rect["left"], "y": rect["top"], "width": rect["width"], "height": rect["height"]}


def visible_annotate_controls(page: Page) -> list[str]:
    """The controls that start a note, as the reader sees them now."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
              "[data-bubble], [data-annotate], [data-annotate-anon]")]
            .filter((element) => element.getClientRects().length > 0)
            .map((element) => element.textContent.trim())"""
    )


def select(page: Page, phrase: str) -> None:
    assert page.evaluate(SELECT_PHRASE, phrase), f"{phrase!r} is not on the page"


@pytest.fixture
def reader_page(new_context, seeded, author):
    def open_page(screen: dict) -> Page:
        page = new_context(**screen).new_page()
        page.emulate_media(reduced_motion="reduce")
        sign_in(page, author.email, next_path=seeded.get_absolute_url())
        return page

    return open_page


# Item 8: one control, a note box that hides nothing the reader needs


@pytest.mark.parametrize("screen", SCREENS)
def test_one_annotate_control_shows_and_only_while_words_are_selected(reader_page, screen):
    page = reader_page(screen)
    assert visible_annotate_controls(page) == []
    expect(page.locator("[data-toolbar]")).to_be_hidden()

    select(page, "Yalta and Potsdam")

    expect(page.get_by_role("button", name="Annotate", exact=True)).to_be_visible()
    assert visible_annotate_controls(page) == ["Annotate"]
    # By the selection on a laptop, at the bottom on a phone.
    shown = "[data-bubble]" if screen is LAPTOP else "[data-toolbar]"
    expect(page.locator(shown)).to_be_visible()

    page.evaluate("getSelection().removeAllRanges()")
    expect(page.get_by_role("button", name="Annotate", exact=True)).to_be_hidden()
    assert visible_annotate_controls(page) == []


def test_on_a_phone_the_note_box_leaves_the_passage_in_sight(reader_page):
    page = reader_page(PHONE)
    select(page, LATE_PHRASE)
    # As a reader would leave it: the passage near the bottom of the screen.
    page.evaluate("window.scrollBy(0, -300)")
    page.wait_for_function(
        f"() => ({PHRASE_BOX})({LATE_PHRASE!r}).bottom > window.innerHeight - 150"
    )

    page.get_by_role("button", name="Annotate", exact=True).tap()

    composer = page.get_by_role("dialog", name="Annotate")
    expect(composer).to_be_visible()
    expect(composer.locator("blockquote")).to_have_text(LATE_PHRASE)
    passage = as_box(page.evaluate(PHRASE_BOX, LATE_PHRASE))
    sheet = composer.bounding_box()
    assert passage["y"] >= 0
    assert not overlaps(passage, sheet), (passage, sheet)
    assert sheet["y"] + sheet["height"] <= 844 + 1
    expect(composer.get_by_role("button", name="Post annotation")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_on_a_laptop_the_note_box_covers_neither_the_passage_nor_the_threads(
    reader_page, seeded, stranger
):
    # Threads on the paragraphs around the one being annotated.
    first = make_post(
        seeded, stranger, "Why? " * 40, passage="more paranoid at the end of the war", context=True
    )
    for number in range(4):
        make_post(seeded, stranger, f"Reply {number}, long enough to take some room.", parent=first)
    make_post(
        seeded, stranger, "On whose orders?", passage="Mass executions took place", context=True
    )
    make_post(seeded, stranger, "The Gulag.", passage="Soviet labour camps", context=True)
    page = reader_page(LAPTOP)
    page.locator(f"#thread-{first.pk} summary").click()
    phrase = "victims were not only fightingmen"
    select(page, phrase)

    page.get_by_role("button", name="Annotate", exact=True).click()

    composer = page.get_by_role("dialog", name="Annotate")
    expect(composer.get_by_label("Your note")).to_be_focused()
    box = composer.bounding_box()
    passage = as_box(page.evaluate(PHRASE_BOX, phrase))
    assert not overlaps(box, passage), (box, passage)
    for thread in page.locator("details.thread").all():
        assert not overlaps(box, thread.bounding_box()), thread.inner_text()[:60]
    assert box["x"] + box["width"] <= 1366
    expect(composer.get_by_role("button", name="Post annotation")).to_be_in_viewport()


def test_on_a_laptop_opening_a_thread_opens_no_gap_in_the_text(reader_page, seeded, stranger):
    note = make_post(
        seeded, stranger, "Why? " * 60, passage="more paranoid at the end of the war", context=True
    )
    for number in range(6):
        make_post(seeded, stranger, f"Reply {number}, long enough to take some room.", parent=note)
    page = reader_page(LAPTOP)
    paragraphs = page.locator("#text p[data-s]")

    def gap() -> float:
        above, below = paragraphs.nth(0).bounding_box(), paragraphs.nth(1).bounding_box()
        return below["y"] - (above["y"] + above["height"])

    closed = gap()
    thread = page.locator(f"#thread-{note.pk}")
    thread.locator("summary").click()
    expect(thread.get_by_text("Reply 5,")).to_be_visible()

    assert thread.bounding_box()["height"] > paragraphs.nth(0).bounding_box()["height"]
    assert gap() == pytest.approx(closed, abs=1)
    # Beside the text, not over it.
    assert thread.bounding_box()["x"] >= paragraphs.nth(0).bounding_box()["x"] + 500


@pytest.mark.parametrize("screen", SCREENS)
def test_keyboard_word_selection_quotes_the_words_without_spaces(reader_page, screen):
    page = reader_page(screen)
    page.locator("#text").focus()
    # From the start of the text: to the end of "In", then take the next word,
    # which brings the space before it along.
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    assert page.evaluate("getSelection().toString()") in (" spite of", " spite of ")

    page.keyboard.press("Enter")

    composer = page.get_by_role("dialog", name="Annotate")
    expect(composer.locator("blockquote")).to_have_text("spite of")
    composer.get_by_label("Your note").fill("Trimmed.")
    composer.get_by_role("button", name="Post annotation").click()
    expect(page.locator("#text a.hl")).to_have_text("spite of")
    assert Post.objects.get().exact == "spite of"


@pytest.mark.parametrize("screen", SCREENS)
def test_skip_to_comments_reaches_the_comment_box_in_one_step(reader_page, screen):
    page = reader_page(screen)

    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to comments")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")

    expect(page.get_by_label("Comment")).to_be_focused()
    expect(page.get_by_label("Comment")).to_be_in_viewport()


def test_a_wide_table_on_a_phone_scrolls_and_says_so(new_context, seeded, author):
    classroom = make_class(students=[author])
    Reading.objects.create(
        classroom=classroom, document=seeded, instructions="Annotate two passages."
    )
    page = new_context(**PHONE).new_page()
    sign_in(page, author.email, next_path=classroom.get_absolute_url())

    table = page.get_by_role("region", name="Readings of Modern History")
    expect(table).to_be_visible()
    assert table.evaluate("element => element.scrollWidth > element.clientWidth")
    expect(page.get_by_text("Scroll the table sideways")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    table.focus()  # a keyboard can scroll it too
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.table-wrap').scrollLeft > 0")


# Item 7: the server's own words, and the text kept


def write_note(page: Page, phrase: str, body: str):
    select(page, phrase)
    control = page.get_by_role("button", name="Annotate", exact=True)
    control.tap() if page.viewport_size["width"] < 500 else control.click()
    composer = page.get_by_role("dialog", name="Annotate")
    composer.get_by_label("Your note").fill(body)
    composer.get_by_role("button", name="Post annotation").click()
    return composer


@pytest.mark.parametrize("screen", SCREENS)
def test_a_refused_note_shows_the_servers_reason_and_keeps_the_text(reader_page, screen, seeded):
    ModerationSettings.objects.update_or_create(pk=1, defaults={"flood_seconds": 60})
    page = reader_page(screen)
    composer = write_note(page, "Yalta and Potsdam", "First note.")
    expect(composer).to_be_hidden()

    composer = write_note(page, "Western Allies", "Second note, too soon.")

    error = composer.get_by_role("alert")
    expect(error).to_contain_text("You are posting too quickly. Wait ")
    expect(error).to_contain_text("seconds and post again")
    expect(composer.get_by_label("Your note")).to_have_value("Second note, too soon.")
    assert "Something went wrong" not in error.inner_text()

    ModerationSettings.objects.filter(pk=1).update(flood_seconds=0)
    seeded.discussion_closes_at = timezone.now() - timedelta(minutes=1)
    seeded.save(update_fields=["discussion_closes_at"])
    composer.get_by_role("button", name="Post annotation").click()

    expect(error).to_contain_text("Discussion of this text closed on")
    expect(composer.get_by_label("Your note")).to_have_value("Second note, too soon.")
    assert Post.objects.count() == 1


@pytest.mark.parametrize("screen", SCREENS)
def test_a_reply_to_a_post_deleted_meanwhile_says_so(reader_page, screen, seeded, stranger):
    note = make_post(
        seeded, stranger, "Which conference?", passage="Yalta and Potsdam", context=True
    )
    page = reader_page(screen)
    page.locator("#text a.hl").click()
    thread = page.locator(f"#thread-{note.pk}")
    thread.get_by_role("link", name="Reply to Sam Stranger").click()
    thread.get_by_label("Reply to Sam Stranger").fill("Both of them.")
    note.delete_by_author()

    thread.get_by_role("button", name="Post reply").click()

    expect(thread.get_by_role("alert")).to_have_text(
        "The post you are replying to is no longer there."
    )
    expect(thread.get_by_label("Reply to Sam Stranger")).to_have_value("Both of them.")


@pytest.mark.parametrize("screen", SCREENS)
def test_a_held_note_tells_its_author_why_it_waits(reader_page, screen, seeded):
    ModerationSettings.objects.update_or_create(pk=1, defaults={"hold_first_post": True})
    page = reader_page(screen)

    write_note(page, "Yalta and Potsdam", "My first note, see www.example.org/yalta")

    expect(page.locator("#live")).to_contain_text("Your post is awaiting moderation.")
    expect(page.locator("#live")).to_contain_text("First posts wait for a moderator.")
    post = Post.objects.get()
    page.locator("#text a.hl").click()
    article = page.locator(f"#post-{post.pk}")
    expect(article.locator(".held-note")).to_contain_text("Other readers cannot see this post")
    link = article.get_by_role("link", name="www.example.org/yalta")
    expect(link).to_have_attribute("href", "http://www.example.org/yalta")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener")


def test_a_teacher_reads_the_class_table_on_a_laptop_without_scrolling(new_context, seeded, author):
    teacher = make_user("Tess Teacher", "tess@example.com")
    classroom = make_class(instructor=teacher, readings=[seeded])
    page = new_context(**LAPTOP).new_page()
    sign_in(page, teacher.email, next_path=classroom.get_absolute_url())

    table = page.get_by_role("region", name="Readings of Modern History")
    assert table.evaluate("element => element.scrollWidth <= element.clientWidth")
    expect(page.get_by_text("Scroll the table sideways")).to_be_hidden()
