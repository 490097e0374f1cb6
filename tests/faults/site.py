"""
The site as a server runs it, for the fault suite: gunicorn and
`manage.py db_worker` as separate processes against a throwaway database,
readers posting over HTTP, and what ended up in the database.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from tests.faults.postgres import Cluster, free_port

BASE_DIR = Path(__file__).resolve().parents[2]
TEMPLATE_DATABASE = "annotate_faults_template"
DOCUMENT_SLUG = "faults"
READERS = 3
# Any 32 letters and digits: Django compares the header with the cookie.
CSRF_TOKEN = "faultsuite0123456789abcdefghijkl"
# Settings of the machine that must not leak into the site under test.
FOREIGN_PREFIXES = (
    "DJANGO_", "AKISMET_", "DATABASE_", "REDIS_", "EMAIL_", "SIGNUP_", "SOCIAL_", "ACCOUNT_",
    "SITE_URL", "PYTEST_", "DEFAULT_FROM_EMAIL",
)  # fmt: skip

SETUP = """
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from annotate.models import Document, ModerationSettings, User

ModerationSettings.objects.update_or_create(pk=1, defaults={"flood_seconds": 0})
document = Document.objects.create(slug=%(slug)r, title="Faults")
document.revise("A short text to discuss while things break around it.")
sessions = []
for number in range(%(readers)d):
    user = User.objects.create_user(
        email=f"reader{number}@example.com", display_name=f"Reader {number}"
    )
    user.emailaddress_set.create(email=user.email, verified=True, primary=True)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    sessions.append(session.session_key)
print(json.dumps(sessions))
"""


def site_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a site process: this machine's, less the site's own settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        # Debug serves static files without collectstatic and prints email.
        DJANGO_DEBUG="true",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    environment.update(settings)
    return environment


def manage(environment: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare_template(cluster: Cluster) -> list[str]:
    """A migrated database with readers and a text, copied for each test; their session keys."""
    url = cluster.create_database(TEMPLATE_DATABASE)
    environment = site_environment(url)
    manage(environment, "migrate", "--no-input", "-v", "0")
    output = manage(environment, "shell", "-c", SETUP % {"slug": DOCUMENT_SLUG, "readers": READERS})
    return json.loads(output.strip().splitlines()[-1])


# As the deploy guide says: each worker process has its own fixed id, so that
# a worker started again takes back the tasks it was running when it died.
WORKER_ID = "faults-worker-1"


class Service:
    """A process of the site in a process group of its own, its output in a log file."""

    def __init__(self, name: str, command: list[str], environment: dict, log: Path) -> None:
        self.name = name
        self.command = command
        self.environment = environment
        self.log = log
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("a") as log:
            log.write(f"\n--- {self.name} start {self.starts + 1} at {time.time():.1f}\n")
            self.process = subprocess.Popen(
                self.command,
                cwd=BASE_DIR,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, signum: int = signal.SIGKILL) -> int:
        """Send `signum` to this service's own process group; return the exit status."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)
        return self.process.wait(timeout=20)

    def stop(self) -> None:
        if not self.running:
            return
        try:
            self.kill(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return f"--- last lines of {self.log.name}:\n" + "\n".join(text.splitlines()[-lines:])


class Supervisor:
    """Restarts a service that exits, as systemd's Restart=always would; counts the restarts."""

    def __init__(self, service: Service, *, delay: float = 0.3) -> None:
        self.service = service
        self.delay = delay
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "Supervisor":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.delay):
            if not self.service.running:
                self.restarts += 1
                self.service.start()


@dataclass
class Outcomes:
    """What readers were told: the bodies of posts that got a success response, and the rest."""

    succeeded: list[str] = field(default_factory=list)
    failed: Counter = field(default_factory=Counter)
    failed_bodies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, body: str, outcome: int | str) -> bool:
        success = outcome == 302
        with self.lock:
            if success:
                self.succeeded.append(body)
            else:
                self.failed[outcome] += 1
                self.failed_bodies.append(body)
        return success


class Reader:
    """A signed-in reader posting over HTTP like a browser (the session comes from the setup)."""

    def __init__(self, base_url: str, session_key: str, name: str) -> None:
        self.name = name
        self.http = httpx.Client(
            base_url=base_url,
            timeout=15,
            headers={
                "Cookie": f"sessionid={session_key}; csrftoken={CSRF_TOKEN}",
                "X-CSRFToken": CSRF_TOKEN,
            },
        )

    def post(self, body: str) -> int | str:
        """The response status, or the name of the connection error."""
        try:
            response = self.http.post(f"/texts/{DOCUMENT_SLUG}/posts/", data={"body": body})
        except httpx.HTTPError as error:
            return type(error).__name__
        if response.status_code == 302 and "?post=" not in response.headers.get("location", ""):
            return "302 elsewhere"  # e.g. to the sign-in page: not a saved post
        return response.status_code

    def close(self) -> None:
        self.http.close()


class Site:
    """One test's copy of the site: its database, web server, worker, readers and logs."""

    def __init__(self, cluster: Cluster, database: str, sessions: list[str], logs: Path) -> None:
        self.cluster = cluster
        self.database = database
        self.url = cluster.create_database(database, template=TEMPLATE_DATABASE)
        self.sessions = sessions
        self.logs = logs
        self.settings: dict[str, str] = {"DJANGO_TASKS": "database"}
        self.web: Service | None = None
        self.worker: Service | None = None
        self.readers: list[Reader] = []

    @property
    def environment(self) -> dict[str, str]:
        return site_environment(self.url, **self.settings)

    def start(self) -> "Site":
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.web = Service(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--timeout", "30", "--graceful-timeout", "2"],
            self.environment,
            self.logs / "gunicorn.log",
        )  # fmt: skip
        self.worker = Service(
            "db_worker",
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
             "--interval", "0.1", "--worker-id", WORKER_ID],
            self.environment,
            self.logs / "worker.log",
        )  # fmt: skip
        self.web.start()
        self.worker.start()
        self._wait_for_web()
        self.readers = [
            Reader(self.base_url, session, f"reader{number}")
            for number, session in enumerate(self.sessions)
        ]
        return self

    def _wait_for_web(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base_url + "/privacy/", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if not self.web.running:
                break
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not come up\n{self.web.log_tail()}")

    def stop(self) -> None:
        for reader in self.readers:
            reader.close()
        for service in (self.web, self.worker):
            if service is not None:
                service.stop()

    def diagnostics(self) -> str:
        return "\n".join(
            [s.log_tail() for s in (self.web, self.worker) if s] + [self.cluster.log_tail()]
        )

    # The database, read directly

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url, connect_timeout=5) as connection:
            return connection.execute(sql, params).fetchall()

    def posts(self) -> list[dict]:
        rows = self.query(
            "SELECT p.body, p.status, p.held_reason, p.spam_verdict, c.next_attempt_at "
            "FROM annotate_post p LEFT JOIN annotate_spamcheck c ON c.post_id = p.id"
        )
        keys = ("body", "status", "held_reason", "spam_verdict", "next_attempt_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def tasks(self, status: str) -> int:
        """Tasks in `status`; READY counts only those due now (not deferred retries)."""
        sql = "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = %s"
        if status == "READY":
            sql += " AND (run_after <= now() OR run_after >= '9999-01-01')"
        return self.query(sql, (status,))[0][0]

    def wait_for_queue(self, *, stuck: int | None = 0, timeout: float = 60) -> None:
        """
        Until the worker has run every task that is due (deferred retries wait)
        and no more than `stuck` are still marked running: a task whose worker
        was killed stays RUNNING for ever. With `stuck=None` (not known), until
        the number running has not changed for two seconds.
        """
        deadline = time.monotonic() + timeout
        last, steady_since = None, time.monotonic()
        while True:
            ready, running = self.tasks("READY"), self.tasks("RUNNING")
            if running != last:
                last, steady_since = running, time.monotonic()
            settled = (
                running <= stuck if stuck is not None else (time.monotonic() - steady_since >= 2)
            )
            if not ready and settled:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the worker left {ready} tasks waiting and {running} running\n"
                    f"{self.diagnostics()}"
                )
            time.sleep(0.1)

    def catch_up(self) -> str:
        """
        Let the clock run to every due retry (a check's grace period, a backoff)
        and run the upkeep sweep as cron would: whatever lost its task is taken up.
        """
        self.query(
            "UPDATE annotate_spamcheck SET next_attempt_at = now() - interval '1 second', "
            "check_claimed_until = NULL WHERE next_attempt_at IS NOT NULL RETURNING post_id"
        )
        return manage(self.environment, "sweep")
