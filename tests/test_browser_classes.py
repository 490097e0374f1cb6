"""A class in a real browser: joining by the link, annotating a class reading, and its walls."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import Page, expect

from annotate.models import Classroom, Post
from tests.browser import assert_no_axe_violations, sign_in
from tests.factories import PASSWORD, make_class, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORD_RECT = """(word) => {
  for (const paragraph of document.querySelectorAll("#text p")) {
    const walker = document.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const index = node.data.indexOf(word);
      if (index < 0) continue;
      const range = document.createRange();
      range.setStart(node, index);
      range.setEnd(node, index + word.length);
      const box = range.getBoundingClientRect();
      return {x: box.left + box.width / 2, y: box.top + box.height / 2};
    }
  }
  return null;
}"""


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth limits confirmation emails per address in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def classroom(seeded) -> Classroom:
    """Modern History reads the seed text, which only the class can see."""
    seeded.is_public = False
    seeded.save(update_fields=["is_public"])
    return make_class(instructor=make_user("Tess Teacher", "tess@example.com"), readings=[seeded])


def test_student_joins_by_the_link_annotates_the_class_reading_and_outsiders_see_nothing(
    page: Page, new_context, settings, classroom, seeded, stranger
):
    # Production (DEBUG off) asks for a confirmed address before signing in.
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    join_url = classroom.get_join_url()
    reading_url = "/classes/history/texts/execute-the-pows/"

    page.goto(join_url)
    expect(page.get_by_role("heading", name="Join Modern History")).to_be_visible()
    page.get_by_role("link", name="create an account").click()
    page.get_by_label("Display name").fill("Noor Newcomer")
    page.get_by_label("Email").fill("noor@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()

    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    [message] = mail.outbox
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group()
    page.goto(urlsplit(link).path)
    page.get_by_role("button", name="Confirm").click()

    # Back on the join page, signed in: one click joins.
    expect(page).to_have_url(re.compile(re.escape(join_url) + "$"))
    expect(page.locator(".signed-in-as")).to_have_text("Signed in as Noor Newcomer")
    page.get_by_role("button", name="Join Modern History").click()
    expect(page).to_have_url(re.compile("/classes/history/$"))
    expect(page.get_by_text("Welcome to Modern History.")).to_be_visible()

    page.get_by_role("link", name=seeded.title).click()
    expect(page).to_have_url(re.compile(re.escape(reading_url) + "$"))
    page.wait_for_load_state()  # scripts have run: selecting offers to annotate
    word = page.evaluate(WORD_RECT, "paranoid")
    page.mouse.dblclick(word["x"], word["y"])
    assert page.evaluate("window.getSelection().toString()").strip() == "paranoid"
    page.get_by_role("button", name="Annotate", exact=True).click()
    composer = page.get_by_role("dialog", name="Annotate")
    composer.get_by_label("Your note").fill("Why paranoid, after winning?")
    composer.get_by_role("button", name="Post annotation").click()

    expect(page.locator("#text a.hl", has_text="paranoid")).to_be_visible()
    expect(composer).to_be_hidden()
    post = Post.objects.get(exact="paranoid")
    assert post.classroom == classroom
    assert post.author.display_name == "Noor Newcomer"

    outsider = new_context().new_page()
    sign_in(outsider, stranger.email)
    response = outsider.goto(reading_url)
    assert response.status == 404
    expect(outsider.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(outsider.get_by_text("Why paranoid, after winning?")).to_have_count(0)
    expect(outsider.locator("#text")).to_have_count(0)


@pytest.mark.parametrize(
    "screen",
    [{"width": 390, "height": 844}, {"width": 1366, "height": 768}],
    ids=["phone", "laptop"],
)
def test_a_teacher_starts_a_class_and_shares_its_link_and_qr_code(new_context, screen):
    teacher = make_user("Tess Teacher", "tess@school.edu")
    teacher.become_teacher()
    context = new_context(viewport=screen, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, "tess@school.edu")

    page.get_by_role("link", name="Teaching").click()
    page.get_by_role("link", name="New class").click()
    assert_no_axe_violations(page)
    page.get_by_label("Name").fill("Modern History")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_role("button", name="Create the class").click()

    expect(page.get_by_role("heading", name="Modern History", level=1)).to_be_visible()
    join_url = page.get_by_label("Join link to share with students").input_value()
    assert re.fullmatch(r"http://localhost:\d+/join/[\w-]+/", join_url), join_url
    qr = page.locator(".join-qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 120 and box["x"] + box["width"] <= screen["width"]
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator(".join-share .copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == join_url
    assert_no_axe_violations(page)
    # No part of the page is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= screen["width"]

    page.get_by_role("link", name="Show it large, for a projector").click()
    expect(page.locator(".join-address")).to_have_text(join_url)
    assert page.locator(".join-qr-large svg").bounding_box()["width"] > box["width"]
