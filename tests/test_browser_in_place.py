"""
Posting through the page's script updates the page in place, at a phone's
width and a laptop's: only what changed is replaced, open threads stay open,
a new highlight can be clicked, and the counts follow.
"""

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Post
from tests.browser import SELECT_PHRASE, sign_in
from tests.factories import make_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
SCREENS = [pytest.param(PHONE, id="390px"), pytest.param(LAPTOP, id="1366px")]

PARANOID = "more paranoid at the end of the war"
YALTA = "Yalta and Potsdam"  # in the same paragraph
MASS = "Mass executions took place"  # in the next one

# Elements the page had before posting, to tell that they were kept, not replaced.
REMEMBER = """() => {
  window.kept = {
    root: document.getElementById("discussion-root"),
    text: document.getElementById("text"),
    secondPassage: document.querySelector(".passage:nth-child(2)"),
  };
}"""
STILL_THERE = """() => Object.values(window.kept).every((element) => element.isConnected)"""


def tap_or_click(page: Page, locator) -> None:
    locator.tap() if page.viewport_size["width"] < 500 else locator.click()


@pytest.mark.parametrize("screen", SCREENS)
def test_a_reply_a_note_and_a_comment_update_the_page_where_they_change(
    new_context, seeded, author, stranger, screen
):
    first = make_post(seeded, stranger, "Paranoia grew.", passage=PARANOID)
    other = make_post(seeded, stranger, "On whose orders?", passage=MASS)
    talk = make_post(seeded, stranger, "A page comment.")
    page = new_context(**screen).new_page()
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    page.evaluate(REMEMBER)
    other_thread = page.locator(f"#thread-{other.pk}")
    other_thread.locator("summary").click()
    expect(other_thread).to_have_attribute("open", "")

    # A reply in a thread: the thread and its highlight's count change.
    page.locator("#text a.hl", has_text="more paranoid").click()
    thread = page.locator(f"#thread-{first.pk}")
    expect(thread).to_have_attribute("open", "")
    tap_or_click(page, thread.get_by_role("link", name="Reply to Sam Stranger"))
    thread.get_by_label("Reply to Sam Stranger").fill("Victory made him fear.")
    tap_or_click(page, thread.get_by_role("button", name="Post reply"))

    expect(page.locator("#live")).to_have_text("Posted.")
    reply = Post.objects.get(body="Victory made him fear.")
    expect(page.locator(f"#post-{reply.pk}")).to_be_focused()
    expect(thread.locator("summary .thread-count")).to_have_text("2 notes")
    expect(thread).to_have_attribute("open", "")
    expect(other_thread).to_have_attribute("open", "")
    paranoid = page.locator("#text a.hl", has_text="more paranoid")
    expect(paranoid).to_have_attribute("aria-describedby", "hl-2")
    expect(page.locator("#hl-2")).to_have_text("annotated passage, 2 notes")
    assert page.evaluate(STILL_THERE)

    # A new note in the same paragraph: that passage changes, with both its threads.
    assert page.evaluate(SELECT_PHRASE, YALTA)
    tap_or_click(page, page.get_by_role("button", name="Annotate", exact=True))
    composer = page.get_by_role("dialog", name="Annotate")
    composer.get_by_label("Your note").fill("Two conferences.")
    tap_or_click(page, composer.get_by_role("button", name="Post annotation"))

    expect(composer).to_be_hidden()
    new_highlight = page.locator("#text a.hl", has_text=YALTA)
    expect(new_highlight).to_be_focused()
    expect(page.locator("#annotation-count")).to_have_text("3 annotated passages")
    expect(thread).to_have_attribute("open", "")  # replaced with its passage, still open
    expect(other_thread).to_have_attribute("open", "")
    assert page.evaluate(STILL_THERE)
    note = Post.objects.get(body="Two conferences.")
    new_thread = page.locator(f"#thread-{note.pk}")
    expect(new_thread).not_to_have_attribute("open", "")
    new_highlight.click()
    expect(new_thread).to_have_attribute("open", "")
    expect(new_thread.get_by_text("Two conferences.")).to_be_visible()
    text_box = page.locator("#paragraph-0").bounding_box()
    thread_box = new_thread.bounding_box()
    if screen is LAPTOP:  # beside its paragraph, laid out again in the margin
        assert thread_box["x"] >= text_box["x"] + text_box["width"]
        assert thread_box["y"] < text_box["y"] + text_box["height"]
    else:  # under it
        assert thread_box["y"] >= text_box["y"] + text_box["height"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("#text")).to_have_attribute("tabindex", "0")

    # A reply to a page comment: that comment and the comments' count change.
    comment_thread = page.locator(f"#thread-{talk.pk}")
    tap_or_click(page, comment_thread.get_by_role("link", name="Reply to Sam Stranger"))
    comment_thread.get_by_label("Reply to Sam Stranger").fill("Below the comment.")
    tap_or_click(page, comment_thread.get_by_role("button", name="Post reply"))

    expect(comment_thread.get_by_text("Below the comment.")).to_be_visible()
    answer = Post.objects.get(body="Below the comment.")
    expect(page.locator(f"#post-{answer.pk}")).to_be_focused()
    expect(page.locator("#comments-title")).to_have_text("2 thoughts on “Execute the POW’s…”")
    expect(thread).to_have_attribute("open", "")
    assert page.evaluate(STILL_THERE)

    page.reload()
    expect(page.locator(f"#thread-{first.pk} .thread-count")).to_have_text("2 notes")
    expect(page.locator("#annotation-count")).to_have_text("3 annotated passages")
    expect(page.locator("#comments-title")).to_have_text("2 thoughts on “Execute the POW’s…”")


def test_a_draft_reply_elsewhere_in_the_thread_survives_another_reply(
    page: Page, seeded, author, stranger
):
    first = make_post(seeded, stranger, "Paranoia grew.", passage=PARANOID)
    second = make_post(seeded, stranger, "A second voice.", parent=first)
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    page.locator("#text a.hl", has_text="more paranoid").click()
    thread = page.locator(f"#thread-{first.pk}")
    thread.locator(f"#post-{second.pk}").get_by_role("link", name="Reply to Sam Stranger").click()
    draft = thread.locator(f"#reply-to-{second.pk}")
    draft.fill("Half written.")
    thread.locator(f"#post-{first.pk}").get_by_role("link", name="Reply to Sam Stranger").click()
    thread.locator(f"#reply-to-{first.pk}").fill("Sent first.")
    thread.locator(f"#reply-to-{first.pk}").press("Control+Enter")

    expect(page.locator("#live")).to_have_text("Posted.")
    expect(thread.get_by_text("Sent first.")).to_be_visible()
    expect(thread.locator(f"#reply-to-{second.pk}")).to_have_value("Half written.")
    expect(thread.locator(f"#reply-to-{first.pk}")).to_have_count(0)
