"""Email: replies to authors, held and reported posts to the right moderators, digests, retries."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from annotate.models import Classroom, DigestItem, Membership, OutboundEmail, Post, Reading
from annotate.notifications import unsubscribe_token
from annotate.tasks import run_maintenance
from tests.conftest import make_user


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Background work runs when the request's transaction commits, as in production."""

    def run(callable_, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return callable_(*args, **kwargs)

    return run


def comment(client, document_url: str, body: str, parent: Post | None = None):
    data = {"body": body}
    if parent:
        data["parent"] = parent.pk
    return client.post(f"{document_url}posts/", data)


def test_a_reply_emails_the_author_with_a_link_and_a_one_click_unsubscribe(
    client, seeded, author, stranger, run_tasks
):
    client.force_login(author)
    comment(client, seeded.get_absolute_url(), "Were the Allies wrong?")
    question = Post.objects.get()

    client.force_login(stranger)
    run_tasks(comment, client, seeded.get_absolute_url(), "They had little choice.", question)

    [email] = mail.outbox
    assert email.to == [author.email]
    assert "Sam Stranger replied to you" in email.subject
    assert "They had little choice." in email.body
    reply = Post.objects.get(body="They had little choice.")
    assert f"?post={reply.pk}#post-{reply.pk}" in email.body
    unsubscribe = f"/unsubscribe/{unsubscribe_token(author)}/"
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
    comment(client, seeded.get_absolute_url(), "First thought.")
    first = Post.objects.get()
    run_tasks(comment, client, seeded.get_absolute_url(), "And a second.", first)
    assert mail.outbox == []

    author.email_on_reply = False
    author.save()
    client.force_login(stranger)
    run_tasks(comment, client, seeded.get_absolute_url(), "A reply.", first)
    assert mail.outbox == []


def test_a_held_reply_emails_the_author_only_once_a_moderator_approves_it(
    client, seeded, author, stranger, moderator, run_tasks
):
    from annotate import posting
    from annotate.models import ModerationSettings

    client.force_login(author)
    comment(client, seeded.get_absolute_url(), "A question?")
    question = Post.objects.get()
    ModerationSettings.objects.update_or_create(pk=1, defaults={"moderation_keys": "casino"})
    client.force_login(stranger)
    run_tasks(comment, client, seeded.get_absolute_url(), "casino talk", question)
    held = Post.objects.get(body="casino talk")
    assert held.status == Post.Status.PENDING
    assert [email.to for email in mail.outbox] == []

    run_tasks(posting.moderate, held, "approve", by=moderator)
    assert [email.to for email in mail.outbox] == [[author.email]]


@pytest.fixture
def classroom(db, seeded):
    seeded.is_public = False
    seeded.save()
    classroom = Classroom.objects.create(name="History 10", slug="history-10")
    Reading.objects.create(classroom=classroom, document=seeded)
    return classroom


def test_a_post_held_in_a_class_emails_its_instructors_not_other_moderators(
    client, seeded, classroom, author, run_tasks
):
    teacher = make_user("Tess Teacher", "tess@example.com", is_staff=True)
    other_teacher = make_user("Otto Other", "otto@example.com", is_staff=True)
    site_moderator = make_user("Sita Site", "sita@example.com", is_staff=True)
    group = Group.objects.get(name="Moderators")
    for person in (teacher, other_teacher, site_moderator):
        person.groups.add(group)
    Membership.objects.create(classroom=classroom, user=teacher, role="instructor")
    elsewhere = Classroom.objects.create(name="Other class", slug="other")
    Membership.objects.create(classroom=elsewhere, user=other_teacher, role="instructor")
    Membership.objects.create(classroom=classroom, user=author)
    seeded.premoderated = True
    seeded.save()

    client.force_login(author)
    url = f"/classes/{classroom.slug}/texts/{seeded.slug}/"
    run_tasks(comment, client, url, "Held for the teacher.")

    assert Post.objects.get().status == Post.Status.PENDING
    [email] = mail.outbox
    assert email.to == [teacher.email]
    assert "in History 10" in email.body
    assert "/admin/annotate/post/" in email.body


def test_a_public_post_held_emails_the_site_moderators_who_teach_no_class(
    client, seeded, author, run_tasks
):
    site_moderator = make_user("Sita Site", "sita@example.com", is_staff=True)
    site_moderator.groups.add(Group.objects.get(name="Moderators"))
    teacher = make_user("Tess Teacher", "tess@example.com", is_staff=True)
    teacher.groups.add(Group.objects.get(name="Moderators"))
    classroom = Classroom.objects.create(name="History 10", slug="history-10")
    Membership.objects.create(classroom=classroom, user=teacher, role="instructor")
    seeded.premoderated = True
    seeded.save()

    client.force_login(author)
    run_tasks(comment, client, seeded.get_absolute_url(), "Held for the site.")

    assert [email.to for email in mail.outbox] == [[site_moderator.email]]


def test_instructors_who_chose_the_digest_get_one_email_a_day(
    client, seeded, classroom, author, run_tasks, time_machine
):
    time_machine.move_to("2027-03-01 09:00Z", tick=False)
    teacher = make_user("Tess Teacher", "tess@example.com", is_staff=True)
    teacher.moderation_digest = True
    teacher.save()
    Membership.objects.create(classroom=classroom, user=teacher, role="instructor")
    Membership.objects.create(classroom=classroom, user=author)
    seeded.premoderated = True
    seeded.save()
    client.force_login(author)
    url = f"/classes/{classroom.slug}/texts/{seeded.slug}/"
    run_tasks(comment, client, url, "First held post.")
    time_machine.move_to("2027-03-01 09:05Z", tick=False)
    run_tasks(comment, client, url, "Second held post.")
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
    run_tasks(comment, client, url, "Third held post.")
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
    comment(client, seeded.get_absolute_url(), "A question?")
    question = Post.objects.get()

    settings.MAILERS = {"default": {"BACKEND": "tests.test_notifications.BrokenMailServer"}}
    client.force_login(stranger)
    response = run_tasks(comment, client, seeded.get_absolute_url(), "An answer.", question)
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
