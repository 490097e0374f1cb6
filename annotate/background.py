"""Queueing background work: after the transaction commits, deferred where possible."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.tasks import default_task_backend

RETRY_CAP = timedelta(minutes=20)


def unclaimed(field: str, now) -> Q:
    """Rows whose claim in `field` was never taken or has lapsed by `now`."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now})


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16, then every 20 minutes."""
    return min(RETRY_CAP, timedelta(minutes=2 ** max(0, attempts - 1)))


def enqueue(work, *args, run_after=None) -> None:
    """
    Queue `work` once the current transaction commits. Work due later is
    deferred where the backend can defer; elsewhere the sweep picks it up.
    """

    def send() -> None:
        if run_after is None:
            work.enqueue(*args)
        elif default_task_backend.supports_defer:
            work.using(run_after=run_after).enqueue(*args)

    # robust: a failure to queue (the task database gone for a moment) must not
    # turn an already saved post into an error page; the upkeep sweep catches up.
    transaction.on_commit(send, robust=True)
