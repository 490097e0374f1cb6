"""A held post in real browsers: its author sees it awaiting moderation, nobody else sees it."""

import akismet
import pytest
from playwright.sync_api import Page, expect

from annotate import spam
from annotate.models import Post
from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class SpamAnsweringClient(akismet.TestSyncClient):
    comment_check_response = akismet.CheckResponse.SPAM


@pytest.fixture
def akismet_says_spam(settings, monkeypatch):
    settings.AKISMET_API_KEY = "test-key"
    monkeypatch.setattr(spam, "client_class", SpamAnsweringClient)


def test_post_judged_spam_is_shown_to_its_author_as_awaiting_moderation_and_to_nobody_else(
    page: Page, new_context, seeded, author, stranger, akismet_says_spam
):
    sign_in(page, author.email, next_path=seeded.get_absolute_url())
    page.locator("#respond").get_by_label("Comment").fill("Cheap watches at example.test")
    page.get_by_role("button", name="Post Comment").click()

    held = page.locator("article.post", has_text="Cheap watches at example.test")
    expect(held).to_be_visible()
    expect(held.get_by_text("awaiting moderation")).to_be_visible()
    expect(page.get_by_text("Your post is awaiting moderation.")).to_be_visible()
    # A spammer is never told: neither the post nor the message says "spam".
    expect(held).not_to_contain_text("spam")
    expect(page.locator(".messages")).not_to_contain_text("spam")
    assert Post.objects.get().status == Post.Status.SPAM

    other_context = new_context()
    other = other_context.new_page()
    sign_in(other, stranger.email, next_path=seeded.get_absolute_url())
    expect(other.get_by_text("Cheap watches")).to_have_count(0)
    expect(
        other.get_by_role("heading", name="No thoughts yet on “Execute the POW’s…”")
    ).to_be_visible()

    anonymous_context = new_context()
    anonymous = anonymous_context.new_page()
    anonymous.goto(seeded.get_absolute_url())
    expect(anonymous.get_by_text("Cheap watches")).to_have_count(0)
