"""Email: replies to authors, held and reported posts to the right moderators, digests, retries."""

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.utils import timezone

from annotate.models import DigestItem, Membership, OutboundEmail, Post
from annotate.notifications import UNSUBSCRIBE_SALT
from annotate.tasks import run_maintenance
from tests.factories import make_class, make_moderator, make_user, post_comment


def test_a_reply_emails_the_author_with_a_link_and_a_one_click_unsubscribe(
    client, seeded, author, stranger, run_tasks
):
    client.force_login(author)
    post_comment(client, seeded, "Were the Allies wrong?")
    question = Post.objects.get()

    client.force_login(stranger)
    run_tasks(post_comment, client, seeded, "They had little choice.", parent=question)

    [email] = mail.outbox
    assert email.to == [author.email]
    assert "Sam Stranger replied to you" in email.subject
    assert "They had little choice." in email.body
    reply = Post.objects.get(body="They had little choice.")
    assert f"?post={reply.pk}#post-{reply.pk}" in email.body
    # The token is signed with the time it was made: read it from the email,
    # and check that it is this author's (the test's own would differ a second later).
    unsubscribe = re.search(r"/unsubscribe/[^/\s]+/", email.body).group(0)
    token = unsubscribe.split("/")[2]
    assert signing.loads(token, salt=UNSUBSCRIBE_SALT) == author.pk
    assert unsubscribe in email.body
    assert unsubscribe in email.extra_headers["List-Unsubscribe"]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert stranger.email not in email.body  # never another reader's address

    client.logout()
    response = client.get(unsubscribe)
    assert "Stop reply emails?" in response.content.decode()
    author.refresh_from_db()
    assert author.email_on_reply is True  # opening the link changes nothing

    response = client.post(unsubscribe)
    assert "You are unsubscribed" in response.content.decode()
    author.refresh_from_db()
    assert author.email_on_reply is False


def test_no_email_for_replying_to_yourself_or_when_switched_off(
    client, seeded, author, stranger, run_tasks
):
    client.force_login(author)
    post_comment(client, seeded, "First thought.")
    first = Post.objects.get()
    run_tasks(post_comment, client, seeded, "And a second.", parent=first)
    assert mail.outbox == []

    author.email_on_reply = False
    author.save()
    client.force_login(stranger)
    run_tasks(post_comment, client, seeded, "A reply.", parent=first)
    assert mail.outbox == []


def test_a_held_reply_emails_the_author_only_once_a_moderator_approves_it(
    client, seeded, author, stranger, moderator, run_tasks
):
    from annotate import lifecycle
    from annotate.models import ModerationSettings

    client.force_login(author)
    post_comment(client, seeded, "A question?")
    question = Post.objects.get()
    ModerationSettings.objects.update_or_create(pk=1, defaults={"moderation_keys": "casino"})
    client.force_login(stranger)
    run_tasks(post_comment, client, seeded, "casino talk", parent=question)
    held = Post.objects.get(body="casino talk")
    assert held.status == Post.Status.PENDING
    assert [email.to for email in mail.outbox] == []

    run_tasks(lifecycle.decide, held, "approve", by=moderator)
    assert [email.to for email in mail.outbox] == [[author.email]]


@pytest.fixture
def classroom(db, seeded):
    seeded.is_public = False
    seeded.save()
    return make_class("History 10", "history-10", readings=[seeded])


def test_a_post_held_in_a_class_emails_its_instructors_not_other_moderators(
    client, seeded, classroom, author, run_tasks
):
    teacher = make_moderator("Tess Teacher", "tess@example.com")
    other_teacher = make_moderator("Otto Other", "otto@example.com")
    make_moderator("Sita Site", "sita@example.com")  # a site moderator, teaching no class
    Membership.objects.create(classroom=classroom, user=teacher, role="instructor")
    make_class("Other class", "other", instructor=other_teacher)
    Membership.objects.create(classroom=classroom, user=author)
    seeded.premoderated = True
    seeded.save()

    client.force_login(author)
    run_tasks(post_comment, client, seeded, "Held for the teacher.", classroom=classroom)

    assert Post.objects.get().status == Post.Status.PENDING
    [email] = mail.outbox
    assert email.to == [teacher.email]
    assert "in History 10" in email.body
    assert "/admin/annotate/post/" in email.body


def test_a_public_post_held_emails_the_site_moderators_who_teach_no_class(
    client, seeded, author, run_tasks
):
    site_moderator = make_moderator("Sita Site", "sita@example.com")
    teacher = make_moderator("Tess Teacher", "tess@example.com")
    make_class("History 10", "history-10", instructor=teacher)
    seeded.premoderated = True
    seeded.save()

    client.force_login(author)
    run_tasks(post_comment, client, seeded, "Held for the site.")

    assert [email.to for email in mail.outbox] == [[site_moderator.email]]


def test_instructors_who_chose_the_digest_get_one_email_a_day(
    client, seeded, classroom, author, run_tasks, time_machine
):
    time_machine.move_to("2027-03-01 09:00Z", tick=False)
    teacher = make_user("Tess Teacher", "tess@example.com", is_staff=True, moderation_digest=True)
    Membership.objects.create(classroom=classroom, user=teacher, role="instructor")
    Membership.objects.create(classroom=classroom, user=author)
    seeded.premoderated = True
    seeded.save()
    client.force_login(author)
    run_tasks(post_comment, client, seeded, "First held post.", classroom=classroom)
    time_machine.move_to("2027-03-01 09:05Z", tick=False)
    run_tasks(post_comment, client, seeded, "Second held post.", classroom=classroom)
    assert mail.outbox == []
    assert DigestItem.objects.filter(recipient=teacher, sent_at=None).count() == 2

    time_machine.move_to("2027-03-01 20:00Z", tick=False)
    run_tasks(run_maintenance.call)
    assert mail.outbox == []  # not a day yet

    time_machine.move_to("2027-03-02 09:01Z", tick=False)
    run_tasks(run_maintenance.call)
    [digest] = mail.outbox
    assert digest.to == [teacher.email]
    assert "Daily moderation digest (2)" in digest.subject
    assert "pre-moderated" in digest.body

    # A third held post waits for the next day's digest.
    time_machine.move_to("2027-03-02 10:00Z", tick=False)
    run_tasks(post_comment, client, seeded, "Third held post.", classroom=classroom)
    time_machine.move_to("2027-03-02 15:00Z", tick=False)
    run_tasks(run_maintenance.call)
    assert len(mail.outbox) == 1
    time_machine.move_to("2027-03-03 10:01Z", tick=False)
    run_tasks(run_maintenance.call)
    assert len(mail.outbox) == 2
    assert "Daily moderation digest (1)" in mail.outbox[1].subject


class BrokenMailServer:
    """An email backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_emails_are_kept_and_retried_while_the_mail_server_is_down(
    client, seeded, author, stranger, run_tasks, settings, time_machine
):
    client.force_login(author)
    post_comment(client, seeded, "A question?")
    question = Post.objects.get()

    settings.MAILERS = {"default": {"BACKEND": "tests.test_notifications.BrokenMailServer"}}
    client.force_login(stranger)
    response = run_tasks(post_comment, client, seeded, "An answer.", parent=question)
    assert response.status_code == 302  # the reader is not troubled by the mail server
    email = OutboundEmail.objects.get()
    assert email.sent_at is None
    assert "mail server down" in email.last_error

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    time_machine.move_to(timezone.now() + timedelta(minutes=2))
    run_tasks(run_maintenance.call)
    email.refresh_from_db()
    assert email.sent_at is not None
    assert [message.to for message in mail.outbox] == [[author.email]]
