"""Reading the seed text in a real browser, and the account pages around it."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.browser import assert_no_axe_violations, fill_sign_in_form, sign_in
from tests.factories import PASSWORD, make_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reader_sees_title_subtitle_paragraphs_and_citation(page: Page, seeded):
    page.goto(seeded.get_absolute_url())

    expect(page).to_have_title("Execute the POW’s… · annotate")
    expect(page.get_by_role("heading", level=1)).to_have_text("Execute the POW’s…")
    expect(
        page.get_by_role("heading", name="Stalin’s treatment of returning Soviet POWs")
    ).to_be_visible()
    paragraphs = page.locator("#text p")
    expect(paragraphs).to_have_count(3)
    expect(paragraphs.nth(0)).to_contain_text(
        "In spite of his personal triumph, Stalin was, if anything, more paranoid"
    )
    expect(paragraphs.nth(1)).to_contain_text("The consequences were as appalling")
    expect(paragraphs.nth(2)).to_contain_text("transferred directly into Soviet labour camps.")
    # The page shows the stored text exactly, offsets included.
    stored = seeded.text.split("\n\n")
    assert paragraphs.all_text_contents() == stored
    assert [int(p.get_attribute("data-s")) for p in paragraphs.all()] == [
        seeded.text.index(paragraph) for paragraph in stored
    ]
    expect(page.locator(".citation")).to_have_text(
        "Lynch, M. (2008) Stalin’s Russia, 1924-53. 4th Ed. London: Hodder Education."
    )
    expect(
        page.get_by_role("heading", name="No thoughts yet on “Execute the POW’s…”")
    ).to_be_visible()


def test_newcomer_signs_up_confirms_email_signs_out_and_signs_in_again(
    page: Page, seeded, settings
):
    # Production (DEBUG off) asks for a confirmed address before signing in.
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    page.goto(seeded.get_absolute_url())
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign up").click()

    page.get_by_label("Display name").fill("Nina Newcomer")
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()

    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nina@example.com"]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group()
    page.goto(urlsplit(link).path)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".signed-in-as")).to_have_text("Signed in as Nina Newcomer")

    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign Out").click()
    account_nav = page.get_by_role("navigation", name="Account")
    expect(account_nav.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.locator(".signed-in-as")).to_have_count(0)

    account_nav.get_by_role("link", name="Sign in").click()
    fill_sign_in_form(page, "nina@example.com")
    expect(page).to_have_url(re.compile(re.escape(seeded.get_absolute_url()) + "$"))
    expect(page.locator(".signed-in-as")).to_have_text("Signed in as Nina Newcomer")


@pytest.mark.parametrize(
    "path",
    [
        "/texts/execute-the-pows/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
    ],
)
def test_pages_have_no_wcag_violations(page: Page, seeded, path):
    page.goto(path)
    assert_no_axe_violations(page)


def test_reading_page_fits_a_320px_screen_without_sideways_scrolling(
    page: Page, seeded, author, stranger
):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(seeded.get_absolute_url())
    expect(page.locator("#text p").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    # Signed in, with the toolbar, an open thread and its reply box.
    note = make_post(
        seeded,
        stranger,
        "Why?",
        passage="Soviet POWs who returned from German captivity",
        context=True,
    )
    make_post(seeded, stranger, "A reply with a-very-long-unbroken-word-" + "x" * 60, parent=note)
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    page.locator("#text a.hl").click()
    page.get_by_role("link", name="Reply to Sam Stranger").first.click()
    expect(page.get_by_label("Reply to Sam Stranger")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_keyboard_focus_is_never_hidden_behind_the_toolbar_on_a_small_screen(
    page: Page, seeded, author
):
    make_post(seeded, author, "A comment.")
    page.set_viewport_size({"width": 320, "height": 640})
    page.emulate_media(reduced_motion="reduce")  # focus scrolls at once, not smoothly
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    # The toolbar shows while words are selected.
    page.locator("#text").focus()
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("[data-toolbar]")).to_be_visible()

    visited = []
    beside_toolbar = 0
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const element = document.activeElement;
              const toolbar = document.querySelector("[data-toolbar]").getBoundingClientRect();
              const box = element.getBoundingClientRect();
              const name = element.textContent.trim() || element.outerHTML;
              // A hidden toolbar (no words selected any more) hides nothing.
              return {name: name.slice(0, 40), top: box.top,
                      toolbarTop: toolbar.height ? toolbar.top : Infinity,
                      isBody: element === document.body};
            }"""
        )
        if focused["isBody"]:
            break
        visited.append(focused["name"])
        assert focused["top"] < focused["toolbarTop"], f"{focused['name']!r} is under the toolbar"
        beside_toolbar += focused["toolbarTop"] != float("inf")
    assert "Privacy: what we store and why" in visited  # the walk reached the page's end
    assert beside_toolbar >= 3  # while it showed


def test_reader_opens_an_earlier_revision_and_comes_back_to_the_current_one(
    page: Page, seeded, author
):
    from annotate.revisions import revise_document
    from annotate.tasks import relocate_annotations

    note = make_post(seeded, author, "One word in the source.", passage="fightingmen", context=True)
    revision = revise_document(seeded, "A new first paragraph.\n\n" + seeded.text)
    relocate_annotations.call(revision.pk)

    page.goto(f"{seeded.get_absolute_url()}?revision=1")
    expect(page.get_by_text("You are reading an earlier version")).to_be_visible()
    expect(page.get_by_text("A new first paragraph.")).to_have_count(0)
    expect(page.locator(f'#text a.hl[data-posts~="{note.pk}"]')).to_have_text("fightingmen")
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Read the current version").click()
    expect(page.get_by_text("You are reading an earlier version")).to_have_count(0)
    expect(page.get_by_text("A new first paragraph.")).to_be_visible()
    expect(page.locator(f'#text a.hl[data-posts~="{note.pk}"]')).to_have_text("fightingmen")
