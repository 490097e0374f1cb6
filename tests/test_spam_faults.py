"""
Nothing is lost when Akismet fails: against a local Akismet that is slow,
broken, confused, refusing our key or not there at all, every post is kept,
retried by the upkeep sweep, and decided once Akismet is back.
"""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate import lifecycle, spam, tasks
from annotate.lifecycle import GIVE_UP_AFTER
from annotate.models import HeldReason, OutboundEmail, Post, PostEvent, SpamCheck, Verdict
from tests.akismet_server import FAULTS, MODES, akismet_server_fixture  # noqa: F401
from tests.factories import make_user, post_comment

# Each fault, and words its history entry must say so a moderator understands it.
FAULT_MESSAGES = {
    "slow": "timed out",
    "error500": "500",
    "garbage": "maybe",
    "invalid_key": "api key",
    "refused": "refused",
}
assert set(FAULT_MESSAGES) == FAULTS

# The 200-post stress test alone takes about four seconds.
pytestmark = pytest.mark.slow


@pytest.fixture
def post_now(client, django_capture_on_commit_callbacks):
    """Post as the signed-in reader, then run the background work as after a commit."""

    def send(document, body):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_comment(client, document, body)
        assert response.status_code == 302, response.content.decode()
        return Post.objects.get(body=body)

    return send


def travel_to(time_machine, moment) -> None:
    time_machine.move_to(moment)


def later(time_machine, **delta) -> None:
    time_machine.move_to(timezone.now() + timedelta(**delta))


def checks_about(server, post: Post) -> list[dict]:
    return [f for f in server.comment_checks() if f["comment_content"] == post.body]


# One fault at a time


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_post_survives_an_akismet_fault_and_is_published_once_akismet_is_back(
    client, author, stranger, document, akismet_server, post_now, sweep, time_machine, fault
):
    akismet_server.mode = fault
    client.force_login(author)

    post = post_now(document, f"Kept despite {fault}.")

    assert Post.objects.filter(body=f"Kept despite {fault}.").count() == 1
    assert (post.status, post.held_reason, post.spam_verdict) == ("pending", "check_failed", "")
    [error] = post.events.filter(kind=PostEvent.Kind.AKISMET_ERROR)
    assert FAULT_MESSAGES[fault] in error.detail.lower()
    assert "Next attempt at" in error.detail
    assert "\n" not in error.detail
    spam_check = SpamCheck.objects.get(post=post)
    assert spam_check.next_attempt_at > timezone.now()
    assert spam_check.attempts == 1
    assert spam_check.final_at is None
    # The author sees it waiting; nobody else sees it yet.
    page = client.get(document.get_absolute_url()).content.decode()
    assert f"Kept despite {fault}." in page
    client.force_login(stranger)
    assert f"Kept despite {fault}." not in client.get(document.get_absolute_url()).content.decode()

    akismet_server.mode = "ham"
    asked = len(checks_about(akismet_server, post))
    sweep()  # not due yet: nothing is asked
    assert len(checks_about(akismet_server, post)) == asked
    travel_to(time_machine, spam_check.next_attempt_at + timedelta(seconds=1))
    sweep()

    post.refresh_from_db()
    spam_check.refresh_from_db()
    assert (post.status, post.held_reason, post.spam_verdict) == ("published", "", "ham")
    assert spam_check.checked_at is not None
    assert spam_check.next_attempt_at is None
    assert spam_check.last_error == ""
    assert spam_check.final_at is not None
    assert checks_about(akismet_server, post)[-1]["recheck_reason"] == "cron_retry"
    assert f"Kept despite {fault}." in client.get(document.get_absolute_url()).content.decode()
    assert Post.objects.filter(body=f"Kept despite {fault}.").count() == 1


def test_retries_back_off_then_come_every_twenty_minutes(
    client, author, document, akismet_server, post_now, sweep, time_machine
):
    akismet_server.mode = "error500"
    client.force_login(author)
    post = post_now(document, "Patience.")
    waits = []
    for _ in range(7):
        spam_check = SpamCheck.objects.get(post=post)
        waits.append(round((spam_check.next_attempt_at - timezone.now()).total_seconds() / 60))
        travel_to(time_machine, spam_check.next_attempt_at + timedelta(seconds=1))
        sweep()

    assert waits == [1, 2, 4, 8, 16, 20, 20]
    assert len(checks_about(akismet_server, post)) == 8
    assert post.events.filter(kind=PostEvent.Kind.AKISMET_ERROR).count() == 8


def test_a_check_that_dies_with_its_worker_is_taken_up_by_the_sweep(
    client, author, document, akismet_server, post_now, sweep, time_machine, monkeypatch
):
    def worker_killed(payload, **kwargs):
        raise SystemExit("worker killed mid-check")

    monkeypatch.setattr(spam, "check", worker_killed)
    client.force_login(author)
    post = post_now(document, "Outlived its worker.")
    assert (post.status, post.held_reason) == ("pending", "checking")
    monkeypatch.undo()

    later(time_machine, minutes=1)
    sweep()
    assert Post.objects.get(pk=post.pk).status == "pending"  # the check may still be running
    later(time_machine, minutes=5)
    sweep()

    post.refresh_from_db()
    assert (post.status, post.spam_verdict) == ("published", "ham")
    assert Post.objects.filter(body="Outlived its worker.").count() == 1


def test_the_discard_header_makes_a_retried_post_spam_with_verdict_discard(
    client, author, document, akismet_server, post_now, sweep, time_machine
):
    akismet_server.mode = "refused"
    client.force_login(author)
    post = post_now(document, "Buy buy buy.")
    akismet_server.mode = "discard"

    later(time_machine, minutes=2)
    sweep()

    post.refresh_from_db()
    assert (post.status, post.held_reason, post.spam_verdict) == ("spam", "", Verdict.DISCARD)
    assert post.events.filter(kind=PostEvent.Kind.AKISMET_DISCARD).exists()


# Moderators decide; checks never undo it


def test_a_moderator_approving_a_waiting_post_is_not_undone_by_checks(
    client,
    author,
    moderator,
    document,
    akismet_server,
    post_now,
    sweep,
    time_machine,
    django_capture_on_commit_callbacks,
):
    akismet_server.mode = "error500"
    client.force_login(author)
    post = post_now(document, "Approved by hand.")
    lifecycle.decide(post, "approve", by=moderator)
    akismet_server.mode = "spam"

    later(time_machine, hours=1)
    sweep()
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.recheck(post, by=moderator)

    post.refresh_from_db()
    assert (post.status, post.moderated_by) == ("published", moderator)
    assert SpamCheck.objects.get(post=post).next_attempt_at is None
    assert post.spam_verdict == "spam"  # recorded, for the moderator to see
    assert post.events.filter(kind=PostEvent.Kind.AKISMET_SPAM).count() == 1
    assert [f.get("recheck_reason") for f in checks_about(akismet_server, post)] == [
        None,
        "recheck_queue",
    ]


def test_a_moderators_spam_decision_stands_against_a_later_ham_answer(
    client,
    author,
    moderator,
    document,
    akismet_server,
    post_now,
    django_capture_on_commit_callbacks,
):
    client.force_login(author)
    post = post_now(document, "Looked fine to Akismet.")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.decide(post, "spam", by=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.recheck(post, by=moderator)

    post.refresh_from_db()
    assert (post.status, post.spam_verdict, post.moderated_by) == ("spam", "ham", moderator)


def test_a_moderator_deciding_while_a_check_is_on_its_way_wins(
    client, author, moderator, document, akismet_server, post_now, monkeypatch
):
    akismet_server.mode = "spam"
    ask_akismet = spam.check

    def check_while_a_moderator_approves(payload, **kwargs):
        answer = ask_akismet(payload, **kwargs)
        lifecycle.decide(Post.objects.get(body=payload["comment_content"]), "approve", by=moderator)
        return answer

    monkeypatch.setattr(spam, "check", check_while_a_moderator_approves)
    client.force_login(author)

    post = post_now(document, "Decided mid-check.")

    assert (post.status, post.spam_verdict, post.moderated_by) == ("published", "spam", moderator)


# Giving up


def test_after_fifteen_days_without_a_verdict_the_post_is_left_to_a_moderator(
    client, author, moderators_group, document, akismet_server, post_now, sweep, time_machine
):
    akismet_server.mode = "error500"
    client.force_login(author)
    post = post_now(document, "Never checked.")
    created = post.created_at

    for days in (1, 7, 14):
        travel_to(time_machine, created + timedelta(days=days))
        sweep()
        post.refresh_from_db()
        assert post.held_reason == HeldReason.CHECK_FAILED
    assert not OutboundEmail.objects.exists()

    travel_to(time_machine, created + GIVE_UP_AFTER + timedelta(minutes=1))
    sweep()

    post.refresh_from_db()
    assert (post.status, post.held_reason) == ("pending", "check_abandoned")
    assert post.events.filter(kind=PostEvent.Kind.AKISMET_GAVE_UP).exists()
    assert SpamCheck.objects.get(post=post).next_attempt_at is None
    [email] = OutboundEmail.objects.all()
    assert email.to == ["mo@example.com"]
    assert "Never checked." in email.body
    assert reverse("admin:annotate_post_change", args=[post.pk]) in email.body
    assert email.sent_at is not None
    assert [m.to for m in mail.outbox] == [["mo@example.com"]]

    asked = len(akismet_server.comment_checks())
    akismet_server.mode = "ham"
    later(time_machine, days=1)
    sweep()
    assert len(akismet_server.comment_checks()) == asked  # a human decides now
    post.refresh_from_db()
    assert post.held_reason == "check_abandoned"
    assert Post.objects.filter(body="Never checked.").count() == 1


def test_a_held_post_is_announced_to_moderators_only_once_it_is_checked(
    client, author, moderators_group, document, akismet_server, post_now, sweep, time_machine
):
    akismet_server.mode = "slow"
    client.force_login(author)
    post = post_now(document, "Two links: https://a.example and https://b.example")
    assert not OutboundEmail.objects.exists()
    akismet_server.mode = "ham"

    later(time_machine, minutes=2)
    sweep()

    post.refresh_from_db()
    assert (post.status, post.held_reason) == ("pending", "links")
    [email] = OutboundEmail.objects.all()
    assert "2 links" in email.body


# Reports to Akismet


def test_reports_send_exactly_what_the_check_saw(
    client,
    author,
    moderator,
    document,
    akismet_server,
    post_now,
    sweep,
    time_machine,
    django_capture_on_commit_callbacks,
):
    client.force_login(author)
    missed = post_now(document, "Akismet missed this one.")
    akismet_server.mode = "refused"
    wrongly_caught = post_now(document, "Akismet was wrong here.")
    akismet_server.mode = "spam"
    later(time_machine, minutes=2)
    sweep()
    wrongly_caught.refresh_from_db()
    assert wrongly_caught.status == "spam"

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.decide(missed, "spam", by=moderator)
        lifecycle.decide(wrongly_caught, "not_spam", by=moderator)

    [submitted_spam] = akismet_server.received("submit-spam")
    [submitted_ham] = akismet_server.received("submit-ham")
    [check_of_missed] = checks_about(akismet_server, missed)
    retry_of_caught = checks_about(akismet_server, wrongly_caught)[-1]
    assert retry_of_caught.pop("recheck_reason") == "cron_retry"
    assert submitted_spam.fields == check_of_missed
    assert submitted_ham.fields == retry_of_caught
    assert missed.events.filter(kind=PostEvent.Kind.SUBMITTED_SPAM).exists()
    assert wrongly_caught.events.filter(kind=PostEvent.Kind.SUBMITTED_HAM).exists()
    assert not SpamCheck.objects.exclude(submission="").exists()


@pytest.mark.parametrize("fault", ["error500", "garbage", "refused", "invalid_key"])
def test_a_failed_report_is_sent_again_by_the_sweep_until_it_gets_through(
    client,
    author,
    moderator,
    document,
    akismet_server,
    post_now,
    sweep,
    time_machine,
    django_capture_on_commit_callbacks,
    fault,
):
    client.force_login(author)
    post = post_now(document, "Spam that got through.")
    akismet_server.mode = fault

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.decide(post, "spam", by=moderator)
    later(time_machine, minutes=2)
    sweep()  # still failing

    spam_check = SpamCheck.objects.get(post=post)
    assert (spam_check.submission, spam_check.submission_attempts) == ("spam", 2)
    assert post.events.filter(kind=PostEvent.Kind.SUBMIT_ERROR).count() == 2
    assert not post.events.filter(kind=PostEvent.Kind.SUBMITTED_SPAM).exists()

    akismet_server.mode = "ham"
    sweep()  # not due yet
    assert SpamCheck.objects.get(post=post).submission == "spam"
    travel_to(time_machine, spam_check.submission_next_at + timedelta(seconds=1))
    sweep()

    spam_check.refresh_from_db()
    assert (spam_check.submission, spam_check.submission_next_at) == ("", None)
    assert post.events.filter(kind=PostEvent.Kind.SUBMITTED_SPAM).count() == 1
    [check] = checks_about(akismet_server, post)
    submitted = akismet_server.received("submit-spam")
    assert [s.fields for s in submitted][-1] == check
    post.refresh_from_db()
    assert post.status == "spam"


# Everything at once


def test_two_hundred_posts_under_random_faults_are_all_kept_once_and_all_decided(
    author,
    stranger,
    document,
    akismet_server,
    settings,
    monkeypatch,
    time_machine,
    django_capture_on_commit_callbacks,
    sweep,
):
    rng = random.Random(20251007)
    # Faster faults: a timeout on localhost is only a short wait. A spurious
    # timeout is one more fault, which this test must survive anyway.
    settings.AKISMET_TIMEOUT = 0.02
    akismet_server.slow_seconds = 0.1
    # Smaller sweeps, so that clearing the backlog takes several.
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 25)
    readers = [author, stranger] + [
        make_user(f"Reader {n}", f"reader{n}@example.com") for n in range(3)
    ]
    browsers = []
    for reader in readers:
        browsers.append(Client())
        browsers[-1].force_login(reader)
    modes = sorted(MODES)
    accepted = []

    for number in range(200):
        akismet_server.mode = rng.choice(modes)
        body = f"Post {number}: a thought about the text."
        with django_capture_on_commit_callbacks(execute=True):
            response = post_comment(rng.choice(browsers), document, body)
        if response.status_code == 302:
            accepted.append(body)
        if number % 40 == 39:
            akismet_server.mode = rng.choice(modes)
            later(time_machine, minutes=rng.choice([1, 5, 21]))
            sweep()

    akismet_server.mode = "ham"
    for _ in range(60):
        due = SpamCheck.objects.filter(next_attempt_at__isnull=False, post__status="pending")
        if not due.exists():
            break
        later(time_machine, minutes=21)
        sweep()

    assert len(accepted) == 200
    stored = Counter(Post.objects.values_list("body", flat=True))
    assert [body for body in accepted if stored[body] != 1] == []
    assert sum(stored.values()) == 200
    statuses = Counter(Post.objects.values_list("status", flat=True))
    assert set(statuses) <= {"published", "spam"}, statuses
    assert statuses["spam"] > 0 and statuses["published"] > 0
    assert not SpamCheck.objects.filter(final_at=None).exists()
    assert SpamCheck.objects.count() == 200
    assert not Post.objects.exclude(status="spam").exclude(spam_verdict=Verdict.HAM).exists()
    # Every post was asked about, and the faults really happened.
    asked = Counter(f["comment_content"] for f in akismet_server.comment_checks())
    assert set(asked) == set(accepted)
    assert PostEvent.objects.filter(kind=PostEvent.Kind.AKISMET_ERROR).count() > 50
