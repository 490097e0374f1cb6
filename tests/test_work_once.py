"""
Background work is done once, and never left behind: each retried check,
report and email is claimed in the database before its network call, so
sweeps and workers running side by side on any number of servers do it
once; work whose task died or never got queued is taken up by the sweep.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import OperationalError, connection
from django.tasks import TaskResultStatus
from django.tasks.backends.immediate import ImmediateBackend
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotate import spam, tasks
from annotate.management.commands.db_worker import requeue_own_rows
from annotate.models import (
    DigestItem,
    HeldReason,
    OutboundEmail,
    Post,
    PostEvent,
    SpamCheck,
)
from annotate.notifications import queue_email
from annotate.tasks import fail_abandoned_task_rows, run_maintenance
from tests.akismet_server import akismet_server_fixture  # noqa: F401
from tests.factories import make_post, make_user, post_comment

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two sweeps at once need a database that runs writers side by side: "
    "run with DATABASE_URL=postgres://… (CI does)",
)


def later(time_machine, **delta) -> None:
    time_machine.move_to(timezone.now() + timedelta(**delta), tick=False)


class SlowMailServer:
    """A mail server that takes a moment over each message, so that two senders overlap."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        time.sleep(0.02)
        mail.outbox.extend(messages)
        return len(messages)


def due_work(document, count: int) -> None:
    """`count` posts whose check failed and is due again, and `count` emails due again."""
    author = make_user("Ada Author", "ada@example.com")
    past = timezone.now() - timedelta(minutes=30)
    for number in range(count):
        post = make_post(
            document,
            author,
            f"Post {number}",
            status=Post.Status.PENDING,
            held_reason=HeldReason.CHECK_FAILED,
        )
        SpamCheck.objects.create(
            post=post,
            payload={"comment_content": post.body, "user_ip": "192.0.2.1"},
            attempts=1,
            next_attempt_at=past,
        )
        OutboundEmail.objects.create(
            to=[f"reader{number}@example.com"],
            subject=f"Email {number}",
            body="Hello.",
            attempts=1,
            next_attempt_at=past,
        )


def two_sweeps_at_once(timeout: float) -> tuple[list[dict], list[Exception]]:
    """Run the upkeep sweep in two threads released together; their results and errors."""
    results, errors = [], []
    start = threading.Barrier(2)

    def sweep() -> None:
        try:
            start.wait()
            results.append(run_maintenance.call())
        except Exception as error:  # pragma: no cover - reported by the test
            errors.append(error)
        finally:
            connection.close()

    sweeps = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in sweeps:
        thread.start()
    for thread in sweeps:
        thread.join(timeout=timeout)
    return results, errors


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_check_each_post_once_and_send_each_email_once(
    document, akismet_server, settings
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.SlowMailServer"}}
    akismet_server.delay_seconds = 0.02
    due_work(document, 60)

    results, errors = two_sweeps_at_once(timeout=120)

    assert errors == []
    assert len(akismet_server.comment_checks()) == 60
    assert sorted(m.subject for m in mail.outbox) == sorted(f"Email {n}" for n in range(60))
    assert sum(result["checks"] for result in results) == 60
    assert sum(result["emails"] for result in results) == 60
    assert not Post.objects.filter(status=Post.Status.PENDING).exists()
    assert PostEvent.objects.filter(kind=PostEvent.Kind.AKISMET_HAM).count() == 60


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_one_digest(seeded, settings, time_machine):
    teacher = make_user("Tess Teacher", "tess@example.com", is_staff=True, is_superuser=True)
    author = make_user("Ada Author", "ada@example.com")
    for number in range(20):
        post = make_post(seeded, author, f"Held {number}")
        DigestItem.objects.create(recipient=teacher, post=post, why="Held.")
    later(time_machine, days=1, minutes=1)
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.SlowMailServer"}}

    _, errors = two_sweeps_at_once(timeout=60)
    run_maintenance.call()  # sends what the sweeps queued, if their own tasks did not

    assert errors == []
    digests = [m for m in mail.outbox if "digest" in m.subject]
    assert len(digests) == 1, [m.subject for m in digests]
    assert "(20)" in digests[0].subject


def test_a_sweep_skips_a_check_that_another_worker_has_claimed(
    document, akismet_server, settings, time_machine
):
    due_work(document, 2)
    claimed = SpamCheck.objects.order_by("pk").first()
    SpamCheck.objects.filter(pk=claimed.pk).update(
        check_claimed_until=timezone.now() + timedelta(seconds=30)
    )

    assert run_maintenance.call()["checks"] == 1
    assert len(akismet_server.comment_checks()) == 1
    # The claim lapses (its worker died): the next sweep takes the check up.
    later(time_machine, minutes=1)
    assert run_maintenance.call()["checks"] == 1
    assert len(akismet_server.comment_checks()) == 2


def test_a_claimed_email_is_not_sent_by_another_sender(db, settings, time_machine):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    email = queue_email(None, "Once", "Only once.", to="mo@example.com")
    OutboundEmail.objects.filter(pk=email.pk).update(
        claimed_until=timezone.now() + timedelta(seconds=60)
    )
    assert tasks.send_email.call(email.pk) == "already sent"
    assert run_maintenance.call()["emails"] == 0
    later(time_machine, minutes=2)
    assert run_maintenance.call()["emails"] == 1
    assert len(mail.outbox) == 1


# Work whose task died or never got queued


@pytest.fixture
def post_with_akismet(client, author, document, akismet_server, django_capture_on_commit_callbacks):
    """Post as `author` with spam checks on; the check runs (or not) as the test arranges."""

    def send(body: str) -> Post:
        client.force_login(author)
        with django_capture_on_commit_callbacks(execute=True):
            response = post_comment(client, document, body)
        assert response.status_code == 302
        return Post.objects.get(body=body)

    return send


def test_a_check_killed_mid_run_is_taken_up_within_two_minutes(
    post_with_akismet, monkeypatch, time_machine
):
    def worker_killed(payload, **kwargs):
        raise SystemExit("worker killed mid-check")

    time_machine.move_to(timezone.now(), tick=False)
    monkeypatch.setattr(spam, "check", worker_killed)
    post_with_akismet("Outlived its worker.")  # the task dies; the reader's post is saved
    monkeypatch.undo()
    post = Post.objects.get()
    assert (post.status, post.held_reason) == ("pending", "checking")

    later(time_machine, seconds=30)
    assert run_maintenance.call()["checks"] == 0  # the dead worker's claim still holds
    later(time_machine, seconds=90)
    assert run_maintenance.call()["checks"] == 1

    post.refresh_from_db()
    assert (post.status, post.spam_verdict) == ("published", "ham")


def test_a_post_whose_check_could_not_be_queued_is_checked_by_the_sweep(
    post_with_akismet, monkeypatch, time_machine, akismet_server
):
    def queue_down(*args, **kwargs):
        raise OperationalError("the task queue's database is away")

    time_machine.move_to(timezone.now(), tick=False)
    monkeypatch.setattr(ImmediateBackend, "enqueue", queue_down)
    post = post_with_akismet("Saved, but never queued.")
    monkeypatch.undo()
    assert (post.status, post.held_reason) == ("pending", "checking")
    assert akismet_server.comment_checks() == []

    later(time_machine, minutes=1, seconds=1)
    assert run_maintenance.call()["checks"] == 1
    post.refresh_from_db()
    assert post.status == "published"


# Task rows


def task_row(status: str, worker_id: str, started_minutes_ago: int) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="annotate.tasks.check_post",
        backend_name="default",
        run_after=timezone.now(),
        worker_ids=[worker_id],
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago),
    )


def test_a_worker_started_again_requeues_the_tasks_it_was_running_when_killed(db):
    mine = task_row(TaskResultStatus.RUNNING, "web-1", 1)
    other_workers = task_row(TaskResultStatus.RUNNING, "web-2", 1)
    finished = task_row(TaskResultStatus.SUCCESSFUL, "web-1", 1)

    assert requeue_own_rows("web-1") == 1

    mine.refresh_from_db()
    assert (mine.status, mine.started_at) == (TaskResultStatus.READY, None)
    other_workers.refresh_from_db()
    finished.refresh_from_db()
    assert other_workers.status == TaskResultStatus.RUNNING
    assert finished.status == TaskResultStatus.SUCCESSFUL


def test_the_sweep_closes_task_rows_whose_worker_never_came_back(db):
    lost = task_row(TaskResultStatus.RUNNING, "gone-1", 45)
    running = task_row(TaskResultStatus.RUNNING, "web-1", 1)

    assert run_maintenance.call()["abandoned_tasks"] == 1

    lost.refresh_from_db()
    running.refresh_from_db()
    assert lost.status == TaskResultStatus.FAILED
    assert "worker stopped" in lost.traceback
    assert running.status == TaskResultStatus.RUNNING
    assert fail_abandoned_task_rows(timezone.now()) == 1  # only `running` is left


# The database away


def test_while_the_database_is_away_the_site_answers_503_with_retry_after(
    client, document, monkeypatch
):
    def database_away(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr("annotate.views.get_space_for_reader", database_away)
    client.raise_request_exception = False
    response = client.get(document.get_absolute_url())

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "Back in a moment" in page
    assert "Nothing you had already posted is lost" in page


def test_other_failures_are_still_a_500(client, document, monkeypatch):
    def bug(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr("annotate.views.get_space_for_reader", bug)
    client.raise_request_exception = False
    response = client.get(document.get_absolute_url())
    assert response.status_code == 500
    assert "Retry-After" not in response
