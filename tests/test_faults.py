"""
The fault suite: the site as a server runs it (gunicorn, `manage.py db_worker`,
PostgreSQL, Akismet) while parts of it fail mid-run.

- Akismet (the local stand-in) switches between answers, timeouts, 5xx,
  garbage, a rejected key and refused connections while readers post.
- The worker is killed with SIGKILL in the middle of a check, and restarted.
- PostgreSQL restarts (and crashes) under the readers' feet.
- (In-process) the database goes away between saving a post and answering.

After recovery every post that got a success response is present exactly
once, with a verdict or waiting for one (pending, due for the upkeep sweep),
and the sweep then decides every one of them.

The database is a throwaway PostgreSQL cluster that the suite starts itself
in a temporary folder (tests/faults/postgres.py), never the machine's shared
server. Without initdb and pg_ctl the suite skips, except in CI, where it fails.
Run it alone with `pytest -m faults`; docs/reliability.md says more.
"""

import itertools
import os
import signal
import threading
import time
from collections import Counter

import pytest
from django.db import OperationalError
from django.urls import reverse

from annotate.models import Post
from tests.akismet_server import FAULTS, AkismetServer
from tests.faults.postgres import Cluster, ClusterUnavailable
from tests.faults.site import Outcomes, Site, Supervisor, prepare_template

pytestmark = [pytest.mark.faults, pytest.mark.slow]

VERDICTS = {"ham", "spam", "discard"}
WAITING = {"checking", "check_failed"}


@pytest.fixture(scope="session")
def cluster():
    """A throwaway PostgreSQL with a migrated template database; stopped and deleted after."""
    try:
        cluster = Cluster()
    except ClusterUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"fault suite: {error}")
        pytest.skip(f"fault suite: {error}")
    try:
        cluster.start()
        cluster.sessions = prepare_template(cluster)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def akismet():
    server = AkismetServer(slow_seconds=0.5).start()
    yield server
    server.stop()


@pytest.fixture
def site(cluster, akismet, request, tmp_path):
    """A fresh copy of the site's database, and its processes once the test starts them."""
    name = "faults_" + request.node.name.removeprefix("test_")[:40]
    site = Site(cluster, name, cluster.sessions, tmp_path)
    site.settings.update(
        AKISMET_API_KEY="local-test-key",
        AKISMET_API_URL=akismet.base_url,
        AKISMET_TIMEOUT="0.3",
    )
    yield site
    site.stop()


def post_until(site: Site, stop: threading.Event, outcomes: Outcomes, *, limit: int) -> None:
    """Each reader posts, one post after another, until `stop` or `limit` posts each.

    Every attempt has words of its own, so a post saved twice would show; a
    reader whose post failed waits a moment and posts again.
    """

    def reader_loop(reader) -> None:
        for attempt in range(limit):
            if stop.is_set():
                return
            body = f"{reader.name} attempt {attempt}: a thought while things break."
            if not outcomes.record(body, reader.post(body)):
                time.sleep(0.1)

    threads = [threading.Thread(target=reader_loop, args=(r,)) for r in site.readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def assert_each_success_is_kept_once(site: Site, outcomes: Outcomes) -> list[dict]:
    posts = site.posts()
    stored = Counter(post["body"] for post in posts)
    assert [body for body in outcomes.succeeded if stored[body] != 1] == [], site.diagnostics()
    assert [body for body, count in stored.items() if count > 1] == []
    return posts


def undecided(posts: list[dict]) -> list[dict]:
    """Posts with no verdict; each must be waiting for a check that the sweep will take up."""
    waiting = [post for post in posts if post["spam_verdict"] not in VERDICTS]
    for post in waiting:
        assert post["status"] == "pending", post
        assert post["held_reason"] in WAITING, post
        assert post["next_attempt_at"] is not None, post
    return waiting


def assert_all_decided_after_the_sweep(site: Site) -> list[dict]:
    site.catch_up()
    posts = site.posts()
    assert [post for post in posts if post["spam_verdict"] not in VERDICTS] == []
    assert {post["status"] for post in posts} <= {"published", "spam"}
    return posts


# The database goes away between saving a post and answering -------------------


def test_a_post_saved_just_before_the_database_goes_away_is_answered_as_saved(
    client, author, document, monkeypatch
):
    """Answering with an error here would make the reader post the same words twice."""

    def database_gone(self, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    client.force_login(author)
    monkeypatch.setattr(Post, "refresh_from_db", database_gone)
    url = reverse("create_post", args=[document.slug])
    response = client.post(url, {"body": "Saved, then the lights went out."})
    monkeypatch.undo()

    post = Post.objects.get()
    assert post.body == "Saved, then the lights went out."
    assert (response.status_code, response.url) == (302, post.get_absolute_url())


# Akismet ---------------------------------------------------------------------


# How each fault reads in a post's history (as in test_spam_faults).
FAULT_WORDS = {
    "slow": "timed out",
    "error500": "500",
    "garbage": "maybe",
    "invalid_key": "api key",
    "refused": "refused",
}
assert set(FAULT_WORDS) == FAULTS


class Switcher(threading.Thread):
    """
    Moves the stand-in to its next mode after every two checks it answers. A
    refused connection reaches no handler and is never counted, so that mode
    lasts 0.3 s instead. Counting checks rather than time makes every mode
    meet real checks however fast or slow the machine is.
    """

    def __init__(self, akismet: AkismetServer, modes: list[str]) -> None:
        super().__init__()
        self.akismet = akismet
        self.modes = itertools.cycle(modes)
        self.seen = Counter()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.akismet.mode = mode = next(self.modes)
            self.seen[mode] += 1
            asked, since = len(self.akismet.comment_checks()), time.monotonic()
            while not self.done.wait(0.01):
                if len(self.akismet.comment_checks()) >= asked + 2 or (
                    mode == "refused" and time.monotonic() - since > 0.3
                ):
                    break


def test_akismet_switching_between_faults_mid_run_loses_and_doubles_no_post(site, akismet):
    # Refused last in the cycle: it answers instantly, so it drains the queue fastest.
    modes = ["ham", "slow", "error500", "garbage", "invalid_key", "spam", "discard", "refused"]
    assert set(modes) >= FAULTS
    switcher = Switcher(akismet, modes)
    site.start()
    switcher.start()
    outcomes = Outcomes()
    try:
        post_until(site, threading.Event(), outcomes, limit=15)
        site.wait_for_queue()
    finally:
        switcher.done.set()
        switcher.join()

    akismet.mode = "ham"
    assert len(outcomes.succeeded) == 45, outcomes.failed
    posts = assert_each_success_is_kept_once(site, outcomes)
    assert len(posts) == 45
    assert undecided(posts), "no check failed: the faults never reached the worker"
    # Every kind of fault met a real check in the worker, and was recorded.
    errors = site.query("SELECT lower(detail) FROM annotate_postevent WHERE kind = 'akismet_error'")
    met = {fault for fault, words in FAULT_WORDS.items() if any(words in e for (e,) in errors)}
    assert met == FAULTS, (switcher.seen, errors)
    posts = assert_all_decided_after_the_sweep(site)
    assert Counter(post["spam_verdict"] for post in posts)["ham"] > 0


# The worker ------------------------------------------------------------------


def test_a_worker_killed_mid_check_and_restarted_leaves_no_post_behind(site, akismet):
    """
    A check in flight dies with its worker. The worker, started again with
    its --worker-id, puts the task back in the queue instead of leaving it
    RUNNING for ever; the check itself stays claimed until its lease runs out,
    then the sweep takes it up (within a minute or two on a server).
    """
    akismet.mode = "slow"
    akismet.slow_seconds = 1.5
    site.settings["AKISMET_TIMEOUT"] = "5"
    site.start()
    outcomes = Outcomes()
    post_until(site, threading.Event(), outcomes, limit=3)
    assert len(outcomes.succeeded) == 9, outcomes.failed

    kills = 0
    for _ in range(2):
        asked = len(akismet.comment_checks())
        wait_for(lambda n=asked: len(akismet.comment_checks()) > n, "a check to start", site)
        time.sleep(0.2)  # well inside the stand-in's 1.5 s answer
        assert site.worker.kill(signal.SIGKILL) == -signal.SIGKILL
        kills += 1
        site.worker.start()
    akismet.mode = "ham"
    site.wait_for_queue(stuck=0)
    assert site.tasks("RUNNING") == 0
    # The whole log: on a busy machine the tasks run since can push it out of the tail.
    assert "Requeued 1 task(s) left running by this worker id." in site.worker.log.read_text()

    posts = assert_each_success_is_kept_once(site, outcomes)
    assert len(posts) == 9
    assert len(undecided(posts)) == kills  # exactly the checks that were killed
    assert_all_decided_after_the_sweep(site)


# PostgreSQL ------------------------------------------------------------------


def test_postgresql_restarting_and_crashing_mid_run_loses_and_doubles_no_post(
    site, akismet, cluster
):
    """
    Readers post continuously while PostgreSQL restarts (`pg_ctl restart -m
    fast`) and then crashes (`stop -m immediate`, down for two seconds, started
    again). The worker waits for the database and carries on: the supervisor
    (as systemd's Restart=always would) never has to start it again. While
    the database is away the site answers 503 with Retry-After, not 500.
    """
    site.start()
    outcomes = Outcomes()
    stop = threading.Event()
    readers = threading.Thread(
        target=post_until, args=(site, stop, outcomes), kwargs={"limit": 400}
    )
    with Supervisor(site.worker) as supervisor:
        readers.start()
        try:
            wait_for(lambda: len(outcomes.succeeded) >= 10, "posts before the restart", site)
            cluster.restart("fast")
            before_crash = len(outcomes.succeeded)
            wait_for(lambda: len(outcomes.succeeded) >= before_crash + 10, "recovery", site)
            cluster.stop("immediate")
            time.sleep(2)
            cluster.start()
            after_crash = len(outcomes.succeeded)
            wait_for(lambda: len(outcomes.succeeded) >= after_crash + 10, "recovery", site)
        finally:
            stop.set()
            readers.join()
        site.wait_for_queue(stuck=None)

    assert sum(outcomes.failed.values()) > 0, "no request failed: the database never went away"
    assert supervisor.restarts == 0, site.worker.log_tail()
    assert 500 not in outcomes.failed, (dict(outcomes.failed), site.web.log_tail())
    # The same processes serve again without a restart.
    assert all(reader.post(f"{reader.name} after recovery") == 302 for reader in site.readers)
    outcomes.succeeded += [f"{reader.name} after recovery" for reader in site.readers]
    posts = assert_each_success_is_kept_once(site, outcomes)
    undecided(posts)
    assert_all_decided_after_the_sweep(site)
    print(
        f"\n{len(outcomes.succeeded)} posts succeeded, {dict(outcomes.failed)} failed "
        f"({len(set(outcomes.failed_bodies) & {p['body'] for p in posts})} of those were saved "
        f"all the same); the worker was restarted {supervisor.restarts} times"
    )


def wait_for(condition, what: str, site: Site, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{site.diagnostics()}")
        time.sleep(0.05)
