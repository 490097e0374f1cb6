"""
Annotating and discussing the seed text in a real browser: by mouse, by
keyboard alone, on a phone, without JavaScript, and before signing in.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Post
from tests.browser import PHRASE_RANGE, assert_no_axe_violations, sign_in
from tests.factories import make_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where a phrase sits on screen, from the text node that holds it.
PHRASE_RECT = f"""(phrase) => {{
  const rects = ({PHRASE_RANGE})(phrase)?.getClientRects();
  if (!rects) return null;
  const first = rects[0];
  const last = rects[rects.length - 1];
  return {{
    left: first.left, top: first.top + first.height / 2,
    right: last.right, bottom: last.top + last.height / 2,
  }};
}}"""


def drag_select(page: Page, phrase: str) -> None:
    """Select `phrase` by pressing the mouse before its first letter and dragging past its last."""
    page.locator("#text p", has_text=phrase).first.scroll_into_view_if_needed()
    rect = page.evaluate(PHRASE_RECT, phrase)
    assert rect, f"{phrase!r} is not on the page"
    page.mouse.move(rect["left"] + 1, rect["top"])
    page.mouse.down()
    page.mouse.move((rect["left"] + rect["right"]) / 2, rect["bottom"], steps=4)
    page.mouse.move(rect["right"] - 1, rect["bottom"], steps=4)
    page.mouse.up()


def selected_text(page: Page) -> str:
    return page.evaluate("window.getSelection().toString()")


def highlight(page: Page, phrase: str):
    return page.locator("#text a.hl", has_text=phrase)


def test_reader_annotates_a_dragged_phrase_and_another_reader_replies(
    page: Page, new_context, seeded, author, stranger
):
    phrase = "more paranoid at the end of the war"
    sign_in(page, author.email, next_path=seeded.get_absolute_url())

    drag_select(page, phrase)
    assert selected_text(page) == phrase
    bubble = page.get_by_role("button", name="Annotate", exact=True)
    expect(bubble).to_be_visible()
    bubble.click()

    composer = page.get_by_role("dialog", name="Annotate")
    expect(composer).to_be_visible()
    expect(composer.locator("blockquote")).to_have_text(phrase)
    composer.get_by_label("Your note").fill("Paranoia grew *with* victory.")
    composer.get_by_role("button", name="Post annotation").click()

    expect(highlight(page, phrase)).to_have_text(phrase)
    expect(composer).to_be_hidden()
    page.reload()
    expect(highlight(page, phrase)).to_have_text(phrase)
    post = Post.objects.get(exact=phrase)
    assert post.author == author
    assert post.body == "Paranoia grew *with* victory."

    reader = new_context().new_page()
    sign_in(reader, stranger.email, next_path=seeded.get_absolute_url())
    highlight(reader, phrase).click()
    thread = reader.locator(f"#thread-{post.pk}")
    expect(thread).to_have_attribute("open", "")
    expect(thread.get_by_text("Paranoia grew with victory.")).to_be_visible()
    thread.get_by_role("link", name="Reply to Ada Author").click()
    reply_box = thread.get_by_label("Reply to Ada Author")
    expect(reply_box).to_be_focused()
    # The reply box sits inside the text region: its arrow keys must still edit.
    reply_box.press_sequentially("Victory made him fear victors.")
    for _ in range(len("victors.")):
        reply_box.press("ArrowLeft")
    reply_box.press_sequentially("the ")
    expect(reply_box).to_have_value("Victory made him fear the victors.")
    thread.get_by_role("button", name="Post reply").click()
    expect(reader.locator("#live")).to_have_text("Posted.")
    expect(thread.locator("form")).to_have_count(0)
    expect(thread.get_by_text("Victory made him fear the victors.")).to_be_visible()

    page.reload()
    thread = page.locator(f"#thread-{post.pk}")
    expect(thread.locator("summary")).to_contain_text("2 notes")
    highlight(page, phrase).click()
    expect(thread.get_by_text("Victory made him fear the victors.")).to_be_visible()
    expect(thread.locator(".post-author").last).to_have_text("Sam Stranger")


def tab_to(page: Page, target) -> None:
    """Press Tab until `target` has focus, as a keyboard user would."""
    for _ in range(30):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError("Tab never reached the element")


def test_reader_annotates_with_the_keyboard_alone(page: Page, seeded, author):
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    text = page.locator("#text")

    tab_to(page, text)
    expect(text).to_be_focused()
    for _ in range(len("In spite")):
        page.keyboard.press("Shift+ArrowRight")
    assert selected_text(page) == "In spite"
    page.keyboard.press("Enter")

    note = page.get_by_label("Your note")
    expect(note).to_be_focused()
    page.keyboard.type("Despite, or because of?")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Post annotation")).to_be_focused()
    page.keyboard.press("Enter")

    new_highlight = highlight(page, "In spite")
    expect(new_highlight).to_have_text("In spite")
    expect(page.locator("#live")).to_have_text("Posted.")
    expect(new_highlight).to_be_focused()
    assert Post.objects.get().exact == "In spite"


def test_cancelling_a_note_gives_back_the_selection_and_focus(page: Page, seeded, author):
    phrase = "Yalta and Potsdam"
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    drag_select(page, phrase)
    annotate_button = page.locator("[data-toolbar]").get_by_role("button", name="Annotate")
    annotate_button.click()
    composer = page.get_by_role("dialog", name="Annotate")
    expect(composer.get_by_label("Your note")).to_be_focused()
    # On a phone the note box covers the page: Tab keeps to it, not to what is behind.
    page.keyboard.press("Shift+Tab")
    expect(composer.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(composer.get_by_label("Your note")).to_be_focused()
    # The note box took the selection; the passage stays marked while writing.
    assert page.evaluate("CSS.highlights.get('annotate-passage').size") == 1

    page.keyboard.press("Escape")
    expect(composer).to_be_hidden()
    expect(annotate_button).to_be_focused()
    assert selected_text(page) == phrase
    assert page.evaluate("CSS.highlights.has('annotate-passage')") is False

    annotate_button.click()
    composer.get_by_role("button", name="Cancel").click()
    expect(composer).to_be_hidden()
    expect(annotate_button).to_be_focused()
    assert selected_text(page) == phrase


def test_arrow_keys_move_a_caret_that_can_be_seen(page: Page, seeded, author):
    page.emulate_media(reduced_motion="reduce")  # a caret that does not blink
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    caret = page.locator(".text-caret")
    expect(caret).to_be_hidden()

    tab_to(page, page.locator("#text"))
    expect(caret).to_be_visible()
    first_paragraph = page.locator("#text p").first.bounding_box()
    start = caret.bounding_box()
    assert abs(start["x"] - first_paragraph["x"]) < 3
    assert first_paragraph["y"] <= start["y"] < first_paragraph["y"] + 40

    for _ in range(3):
        page.keyboard.press("ArrowRight")
    moved = caret.bounding_box()
    assert moved["x"] > start["x"] + 10 and moved["y"] == start["y"]
    page.keyboard.press("ArrowDown")
    assert caret.bounding_box()["y"] > moved["y"]

    page.keyboard.press("Control+Shift+ArrowRight")
    expect(caret).to_be_hidden()  # the selection shows where the reader is
    assert selected_text(page).strip()
    page.keyboard.press("ArrowLeft")
    expect(caret).to_be_visible()
    page.keyboard.press("Shift+Tab")
    expect(caret).to_be_hidden()  # only while the text has focus


def test_ctrl_enter_posts_from_the_note_box(page: Page, seeded, author):
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    page.locator("#text").focus()
    for _ in range(len("In spite of")):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Enter")
    page.keyboard.type("Quick note.")
    page.keyboard.press("Control+Enter")

    expect(highlight(page, "In spite of")).to_be_focused()
    expect(page.locator("#live")).to_have_text("Posted.")


def test_reader_annotates_on_a_phone(new_context, seeded, author):
    page = new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    ).new_page()
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    word = page.evaluate(PHRASE_RECT, "paranoid")
    page.mouse.dblclick(word["left"] + 2, word["top"])
    assert selected_text(page).strip() == "paranoid"

    page.get_by_role("button", name="Annotate", exact=True).tap()
    composer = page.get_by_role("dialog", name="Annotate")
    expect(composer).to_be_visible()
    box = composer.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    expect(composer.get_by_role("button", name="Post annotation")).to_be_in_viewport()
    # The composer covers the page, so Tab keeps to it instead of reaching what is behind.
    expect(composer.get_by_label("Your note")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(composer.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(composer.get_by_label("Your note")).to_be_focused()
    composer.get_by_label("Your note").fill("On a phone.")
    composer.get_by_role("button", name="Post annotation").tap()

    mark = highlight(page, "paranoid")
    expect(mark).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    mark.tap()
    thread = page.locator("details.thread", has_text="On a phone.")
    expect(thread).to_have_attribute("open", "")
    expect(thread.get_by_text("On a phone.")).to_be_visible()
    # Measured together: opening the thread scrolls the page (smoothly).
    paragraph, thread_box = thread.evaluate(
        """thread => [thread.closest(".passage").querySelector("p"), thread]
            .map(element => element.getBoundingClientRect().toJSON())"""
    )
    assert thread_box["top"] >= paragraph["bottom"]  # under the paragraph, not beside it
    assert thread_box["left"] >= 0 and thread_box["right"] <= 390


def test_page_comment_and_a_reply_make_two_thoughts(page: Page, seeded, author):
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    expect(
        page.get_by_role("heading", name="No thoughts yet on “Execute the POW’s…”")
    ).to_be_visible()

    respond = page.locator("#respond")
    expect(respond.get_by_role("heading", name="Leave a Reply")).to_be_visible()
    respond.get_by_label("Comment").fill("*The Allies* share the blame.")
    respond.get_by_role("button", name="Preview").click()
    expect(respond.locator("[data-preview-output] em")).to_have_text("The Allies")
    respond.get_by_role("button", name="Post Comment").click()  # an ordinary form post
    posted = page.locator("article.post", has_text="The Allies share the blame.")
    expect(posted).to_be_visible()
    expect(page.get_by_role("heading", name="One thought on “Execute the POW’s…”")).to_be_visible()

    posted.get_by_role("link", name="Reply to Ada Author").click()
    reply_box = page.get_by_label("Reply to Ada Author")
    expect(reply_box).to_be_focused()
    reply_box.fill("Yalta made it policy.")
    page.get_by_role("button", name="Post reply").click()

    expect(page.get_by_role("heading", name="2 thoughts on “Execute the POW’s…”")).to_be_visible()
    reply = page.locator(".comment-thread .children article.post", has_text="Yalta made it policy.")
    expect(reply).to_be_focused()
    expect(page.locator("#live")).to_have_text("Posted.")
    page.reload()
    expect(page.get_by_role("heading", name="2 thoughts on “Execute the POW’s…”")).to_be_visible()


def test_page_with_highlights_and_an_open_thread_has_no_wcag_violations(
    page: Page, seeded, author, stranger
):
    first = make_post(seeded, author, "Paranoia.", passage="more paranoid", context=True)
    make_post(seeded, stranger, "Overlapping note.", passage="paranoid at the end", context=True)
    make_post(seeded, stranger, "A reply.", parent=first)
    make_post(
        seeded, stranger, "Second paragraph.", passage="Mass executions took place", context=True
    )
    make_post(seeded, author, "A comment.")
    sign_in(page, author.email, next_path=seeded.get_absolute_url())

    highlight(page, "more ").click()
    thread = page.locator(f"#thread-{first.pk}")
    expect(thread).to_have_attribute("open", "")
    thread.get_by_role("link", name="Reply to Sam Stranger").click()
    expect(thread.get_by_label("Reply to Sam Stranger")).to_be_focused()
    assert_no_axe_violations(page)

    page.locator("#text").focus()
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Annotate")).to_be_visible()
    assert_no_axe_violations(page)


def test_without_javascript_highlights_threads_and_page_comments_work(
    new_context, seeded, author, stranger
):
    note = make_post(
        seeded,
        stranger,
        "Operation Keelhaul.",
        passage="forcibly repatriated the prisoners",
        context=True,
    )
    page = new_context(java_script_enabled=False).new_page()
    page.goto(seeded.get_absolute_url())
    mark = highlight(page, "forcibly repatriated the prisoners")
    expect(mark).to_be_visible()
    thread = page.locator(f"#thread-{note.pk}")
    expect(thread.locator("summary")).to_contain_text("forcibly repatriated the prisoners")
    mark.click()
    expect(thread).to_have_attribute("open", "")
    expect(thread.get_by_text("Operation Keelhaul.")).to_be_visible()

    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    page.locator("#respond").get_by_label("Comment").fill("Read without scripts.")
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator("article.post", has_text="Read without scripts.")).to_be_visible()
    expect(page.get_by_role("heading", name="One thought on “Execute the POW’s…”")).to_be_visible()


def test_anonymous_selection_survives_signing_in(page: Page, seeded, author):
    phrase = "forcibly repatriated the prisoners"
    page.goto(seeded.get_absolute_url())
    drag_select(page, phrase)
    bubble = page.get_by_role("button", name="Sign in to annotate")
    expect(bubble).to_be_visible()
    bubble.click()

    login_url = f"/accounts/login/?next={seeded.get_absolute_url()}"
    expect(page).to_have_url(re.compile(re.escape(login_url) + "$"))
    account_nav = page.get_by_role("navigation", name="Account")
    expect(account_nav.get_by_role("link", name="Sign in")).to_have_attribute("href", login_url)
    page.get_by_label("Email").fill(author.email)
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Sign In").click()

    expect(page).to_have_url(re.compile(re.escape(seeded.get_absolute_url()) + "$"))
    composer = page.get_by_role("dialog", name="Annotate")
    expect(composer).to_be_visible()
    expect(composer.locator("blockquote")).to_have_text(phrase)
    expect(composer.get_by_label("Your note")).to_be_focused()
    expect(page.locator("#live")).to_have_text("Your selection is back. Write your note.")
    assert page.evaluate("CSS.highlights.get('annotate-passage').size") == 1  # still marked
    start = seeded.text.index(phrase)
    form = composer.locator("form")
    expect(form.locator("input[name=exact]")).to_have_value(phrase)
    expect(form.locator("input[name=start]")).to_have_value(str(start))
    expect(form.locator("input[name=end]")).to_have_value(str(start + len(phrase)))
    composer.get_by_label("Your note").fill("Kept across the sign-in.")
    composer.get_by_role("button", name="Post annotation").click()
    expect(highlight(page, phrase)).to_have_text(phrase)
