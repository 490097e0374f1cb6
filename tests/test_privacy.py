"""
Keeping only what is needed: personal data erased from spam-check records,
old spam deleted, and email that waits for a working mail server.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from annotate import lifecycle
from annotate.models import ModerationSettings, OutboundEmail, Post, PostEvent, SpamCheck
from annotate.notifications import queue_email
from tests.akismet_server import akismet_server_fixture  # noqa: F401
from tests.factories import post_comment

# What each post below is sent with: what Akismet is told, and what is erased later.
BROWSER = {"User-Agent": "Mozilla/5.0 (Privacy test)", "Referer": "http://testserver/texts/"}
ADDRESS = {"REMOTE_ADDR": "192.0.2.44"}


def later(time_machine, **delta) -> None:
    time_machine.move_to(timezone.now() + timedelta(**delta))


@pytest.fixture(autouse=True)
def rules_alone(settings):
    """No Akismet key: each verdict is final as soon as the post is saved."""
    settings.AKISMET_API_KEY = ""


# Personal data in the spam-check snapshot


def test_ip_user_agent_and_referrer_are_erased_fifteen_days_after_the_verdict(
    client, author, document, sweep, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(author)
    post_comment(client, document, "Remember me not.", headers=BROWSER, meta=ADDRESS)
    post = Post.objects.get()
    before = dict(SpamCheck.objects.get(post=post).payload)
    assert (before["user_ip"], before["user_agent"]) == ("192.0.2.44", BROWSER["User-Agent"])
    final_at = SpamCheck.objects.get(post=post).final_at

    time_machine.move_to(final_at + timedelta(days=15) - timedelta(seconds=1), tick=False)
    sweep()
    assert SpamCheck.objects.get(post=post).payload == before

    time_machine.move_to(final_at + timedelta(days=15, seconds=1), tick=False)
    sweep()

    spam_check = SpamCheck.objects.get(post=post)
    assert spam_check.payload == {**before, "user_ip": "", "user_agent": "", "referrer": ""}
    assert spam_check.erased_at == timezone.now()
    [erased] = post.events.filter(kind=PostEvent.Kind.ERASED)
    assert erased.detail == "IP address, user agent, referrer."
    sweep()  # once only
    assert post.events.filter(kind=PostEvent.Kind.ERASED).count() == 1


def test_nothing_is_erased_while_the_verdict_is_still_open(
    client, author, document, akismet_server, sweep, time_machine
):
    akismet_server.mode = "refused"
    client.force_login(author)
    post_comment(client, document, "Still being checked.", headers=BROWSER, meta=ADDRESS)
    post = Post.objects.get()

    later(time_machine, days=14)
    sweep()
    later(time_machine, days=14)
    sweep()

    spam_check = SpamCheck.objects.get(post=post)
    assert Post.objects.get().held_reason == "check_abandoned"
    assert spam_check.final_at is None
    assert spam_check.payload["user_ip"] == "192.0.2.44"


def test_the_retention_period_is_a_setting(client, author, document, sweep, time_machine):
    ModerationSettings.objects.update_or_create(pk=1, defaults={"privacy_retention_days": 2})
    client.force_login(author)
    post_comment(client, document, "Short memory.", headers=BROWSER, meta=ADDRESS)

    later(time_machine, days=2, minutes=1)
    sweep()

    assert SpamCheck.objects.get().payload["user_ip"] == ""


# Old spam


def test_spam_older_than_fifteen_days_is_deleted_and_everything_else_kept(
    client, author, stranger, moderator, document, sweep, time_machine
):
    ModerationSettings.objects.update_or_create(pk=1, defaults={"disallowed_keys": "casino"})
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(author)
    post_comment(client, document, "Old casino spam.", headers=BROWSER, meta=ADDRESS)
    post_comment(
        client,
        document,
        "Old honeypot spam.",
        website="http://bot.example",
        headers=BROWSER,
        meta=ADDRESS,
    )
    post_comment(client, document, "An old, good comment.", headers=BROWSER, meta=ADDRESS)
    post_comment(
        client,
        document,
        "Old but held: https://a.example https://b.example",
        headers=BROWSER,
        meta=ADDRESS,
    )
    time_machine.move_to(timezone.now() + timedelta(days=2), tick=False)
    post_comment(client, document, "Younger casino spam.", headers=BROWSER, meta=ADDRESS)
    assert Post.objects.filter(status="spam").count() == 3

    time_machine.move_to(timezone.now() + timedelta(days=13, seconds=1), tick=False)
    result = sweep()

    assert result["spam_deleted"] == 2
    assert sorted(Post.objects.values_list("body", flat=True)) == [
        "An old, good comment.",
        "Old but held: https://a.example https://b.example",
        "Younger casino spam.",
    ]
    assert SpamCheck.objects.count() == 3


def test_spam_a_moderator_marked_recently_is_kept_fifteen_days_from_the_decision(
    client, author, moderator, document, sweep, time_machine
):
    client.force_login(author)
    post_comment(client, document, "Published a while ago.", headers=BROWSER, meta=ADDRESS)
    later(time_machine, days=20)
    lifecycle.decide(Post.objects.get(), "spam", by=moderator)

    later(time_machine, days=14)
    sweep()
    assert Post.objects.filter(status="spam").exists()
    later(time_machine, days=1, minutes=1)
    sweep()
    assert not Post.objects.exists()


def test_deleting_old_spam_keeps_other_readers_replies_to_it(
    client, author, stranger, moderator, document, sweep, time_machine
):
    client.force_login(author)
    post_comment(
        client, document, "Published, then found to be spam.", headers=BROWSER, meta=ADDRESS
    )
    spam_post = Post.objects.get()
    client.force_login(stranger)
    post_comment(
        client, document, "A reply worth keeping.", parent=spam_post, headers=BROWSER, meta=ADDRESS
    )
    lifecycle.decide(spam_post, "spam", by=moderator)

    later(time_machine, days=16)
    sweep()

    reply = Post.objects.get(body="A reply worth keeping.")
    assert reply.status == "published"
    assert reply.parent_id == spam_post.pk


def test_a_spammer_replying_to_their_own_spam_is_deleted_with_it(
    client, author, moderator, document, sweep, time_machine
):
    ModerationSettings.objects.update_or_create(pk=1, defaults={"disallowed_keys": "casino"})
    client.force_login(author)
    post_comment(client, document, "Casino one.", headers=BROWSER, meta=ADDRESS)
    post_comment(
        client, document, "Casino two.", parent=Post.objects.get(), headers=BROWSER, meta=ADDRESS
    )

    later(time_machine, days=16)
    sweep()

    assert not Post.objects.exists()


# Email


class BrokenMailServer(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("[Errno 111] Connection refused")


@pytest.fixture
def broken_mail(settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenMailServer"}}


@pytest.fixture
def working_mail(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def test_mail_that_cannot_be_sent_is_kept_and_sent_by_a_later_sweep(
    settings, broken_mail, db, sweep, time_machine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_email(None, "Held for moderation", "A post is waiting.", to="mo@example.com")

    email.refresh_from_db()
    assert email.sent_at is None
    assert email.attempts == 1
    assert email.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert email.next_attempt_at > timezone.now()
    later(time_machine, minutes=2)
    sweep()
    email.refresh_from_db()
    assert (email.sent_at, email.attempts) == (None, 2)

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    sweep()  # not due yet
    assert OutboundEmail.objects.get().sent_at is None
    later(time_machine, minutes=3)
    sweep()

    email.refresh_from_db()
    assert email.sent_at is not None
    assert email.attempts == 3
    assert email.next_attempt_at is None
    [sent] = mail.outbox
    assert (sent.to, sent.subject, sent.body) == (
        ["mo@example.com"],
        "Held for moderation",
        "A post is waiting.",
    )
    sweep()
    assert len(mail.outbox) == 1


def test_a_sent_email_is_not_sent_again(
    working_mail, db, sweep, time_machine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        queue_email(None, "Once", "Only once.", to="mo@example.com")

    later(time_machine, hours=1)
    sweep()

    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.get().attempts == 1
