"""
An author's edit is judged again, whatever was decided before: a moderator
approved the words they read, not the words that came later. Editing stops
when the discussion closes, as posting does.
"""

from datetime import timedelta

import akismet
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from annotate import lifecycle, spam
from annotate.models import ModerationSettings, Post, PostEvent
from tests.factories import make_moderator, post_comment

pytestmark = pytest.mark.usefixtures("run_background_work")

FRAGMENT = {"X-Annotate-Fragment": "1"}


@pytest.fixture
def moderator(db):
    """Staff, in the Moderators group."""
    return make_moderator()


@pytest.fixture
def approved(client, seeded, author, moderator):
    """A post held on a pre-moderated text, then approved by a moderator."""
    seeded.premoderated = True
    seeded.save()
    client.force_login(author)
    post_comment(client, seeded, "A careful first note.")
    post = Post.objects.get()
    assert post.status == Post.Status.PENDING
    lifecycle.decide(post, "approve", by=moderator)
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED and post.moderated
    mail.outbox.clear()
    return post


def edit(client, post: Post, body: str, **extra):
    return client.post(reverse("edit_post", args=[post.pk]), {"body": body}, **extra)


def kinds(post: Post) -> list[str]:
    return list(post.events.values_list("kind", flat=True))


def test_an_approved_post_edited_into_a_disallowed_key_is_marked_spam(client, approved):
    rules = ModerationSettings.load()
    rules.disallowed_keys = "casino"
    rules.save()

    edit(client, approved, "Now with a casino link.")

    approved.refresh_from_db()
    assert approved.status == Post.Status.SPAM
    assert approved.events.filter(kind=PostEvent.Kind.RULE_SPAM).exists()
    assert kinds(approved)[-2:] == [PostEvent.Kind.EDITED, PostEvent.Kind.RULE_SPAM]


def test_an_approved_post_edited_into_links_is_held_and_its_moderator_told(
    client, approved, moderator
):
    seeded = approved.document
    seeded.premoderated = False
    seeded.save()
    edit(client, approved, "See https://a.example and https://b.example now.")

    approved.refresh_from_db()
    assert (approved.status, approved.held_reason) == (Post.Status.PENDING, "links")
    held = approved.events.filter(kind=PostEvent.Kind.HELD).last()
    assert "2 links" in held.detail
    [email] = mail.outbox
    assert email.to == [moderator.email]
    assert "Held for moderation" in email.subject


def test_an_approved_post_on_a_premoderated_text_waits_for_a_moderator_again(
    client, approved, stranger
):
    edit(client, approved, "Entirely different words.")

    approved.refresh_from_db()
    assert (approved.status, approved.held_reason) == (Post.Status.PENDING, "premoderated")
    client.force_login(stranger)
    page = client.get(approved.document.get_absolute_url()).content.decode()
    assert "Entirely different words." not in page


def test_an_edit_of_an_approved_post_that_akismet_calls_spam_is_marked_spam(
    client, approved, monkeypatch, settings
):
    approved.document.premoderated = False
    approved.document.save()

    class SaysSpam(akismet.TestSyncClient):
        comment_check_response = akismet.CheckResponse.SPAM

    settings.AKISMET_API_KEY = "test-key"
    monkeypatch.setattr(spam, "client_class", SaysSpam)
    edit(client, approved, "Cheap watches, buy now.")

    approved.refresh_from_db()
    assert approved.status == Post.Status.SPAM
    assert approved.spam_verdict == "spam"
    assert kinds(approved)[-3:] == [
        PostEvent.Kind.EDITED,
        PostEvent.Kind.HELD,
        PostEvent.Kind.AKISMET_SPAM,
    ]


def test_an_edit_akismet_accepts_is_published_again_without_a_second_reply_email(
    client, seeded, author, stranger, monkeypatch, settings
):
    class SaysHam(akismet.TestSyncClient):
        comment_check_response = akismet.CheckResponse.HAM

    settings.AKISMET_API_KEY = "test-key"
    monkeypatch.setattr(spam, "client_class", SaysHam)
    client.force_login(author)
    post_comment(client, seeded, "A question?")
    question = Post.objects.get()
    client.force_login(stranger)
    post_comment(client, seeded, "An answer.", parent=question)
    reply = Post.objects.get(parent=question)
    assert reply.status == Post.Status.PUBLISHED
    assert len(mail.outbox) == 1

    response = edit(client, reply, "A better answer.")

    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.status == Post.Status.PUBLISHED
    assert reply.events.filter(kind=PostEvent.Kind.AKISMET_HAM).count() == 2
    assert len(mail.outbox) == 1


def test_an_edit_of_a_held_post_keeps_it_held_for_its_moderator(client, seeded, author):
    seeded.premoderated = True
    seeded.save()
    client.force_login(author)
    post_comment(client, seeded, "Held words.")
    post = Post.objects.get()

    edit(client, post, "Other held words.")

    post.refresh_from_db()
    assert (post.status, post.held_reason) == (Post.Status.PENDING, "premoderated")


# Closed discussions


@pytest.fixture
def closed(approved):
    document = approved.document
    document.discussion_closes_at = timezone.now() - timedelta(minutes=1)
    document.save()
    return approved


def test_editing_after_the_discussion_closes_is_refused_with_a_clear_message(client, closed):
    page = client.get(reverse("edit_post", args=[closed.pk]))
    assert page.status_code == 403
    assert "Discussion of this text closed on" in page.content.decode()

    response = edit(client, closed, "Too late.")
    assert response.status_code == 403
    assert "Discussion of this text closed on" in response.content.decode()
    closed.refresh_from_db()
    assert closed.body == "A careful first note."


def test_a_fetch_edit_after_the_discussion_closes_gets_the_reason_in_plain_text(client, closed):
    response = edit(client, closed, "Too late.", headers=FRAGMENT)
    assert response.status_code == 403
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("Discussion of this text closed on")
