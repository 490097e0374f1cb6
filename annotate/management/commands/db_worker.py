"""
django-tasks-db's worker, made to outlive its database.

The stock worker exits when the database restarts, fails over or crashes,
and leaves the row of a task it was running marked RUNNING for good. This
one waits for the database to come back and carries on, and on start it
puts back in the queue the tasks that a previous worker with the same
--worker-id was running when it was killed: one process per worker id, so
those rows can belong to nobody alive. (The work itself is claimed in our
own tables; see annotate/tasks.py. The sweep closes rows that no restarted
worker takes back.)
"""

import logging
import time

from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.tasks import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("annotate.worker")

# Waits between attempts to reach the database again, in seconds.
RECONNECT_WAITS = (1, 2, 5, 10, 15)


def requeue_own_rows(worker_id: str) -> int:
    """Tasks this worker id was running when its process died: run them again."""
    # Few rows run at any time; reading their worker ids works on every database.
    orphaned = [
        pk
        for pk, worker_ids in DBTaskResult.objects.running().values_list("pk", "worker_ids")
        if worker_ids and worker_ids[-1] == worker_id
    ]
    return DBTaskResult.objects.filter(pk__in=orphaned).update(
        status=TaskResultStatus.READY, started_at=None
    )


class Command(db_worker.Command):
    help = (
        "Run the background worker. It survives database restarts; give each worker process "
        "its own --worker-id (e.g. $(hostname)-1) so that a restarted worker takes back what "
        "it was running."
    )

    def handle(self, *args, **options) -> None:
        failures = 0
        while True:
            started = time.monotonic()
            try:
                if requeued := requeue_own_rows(options["worker_id"]):
                    logger.warning("Requeued %s task(s) left running by this worker id.", requeued)
                super().handle(*args, **options)
                return
            except (OperationalError, InterfaceError) as error:
                if time.monotonic() - started > 60:
                    failures = 0  # it ran well for a while: this is a new outage
                wait = RECONNECT_WAITS[min(failures, len(RECONNECT_WAITS) - 1)]
                failures += 1
                logger.warning("Database unavailable (%s); retrying in %s s.", error, wait)
                for connection in connections.all():
                    connection.close_if_unusable_or_obsolete()
                close_old_connections()
                time.sleep(wait)
