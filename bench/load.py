"""
Load benchmark: the site under gunicorn with a realistic mix of readers, on
SQLite, on PostgreSQL, and on two app servers sharing one PostgreSQL.

    .venv/bin/python -m bench.load                  # the reported run: 60 s per run
    .venv/bin/python -m bench.load --duration 10    # a quick check
    .venv/bin/python -m bench.load --runs sqlite    # one run only

Every run starts from nothing and cleans up after itself: a fresh database (a
SQLite file in a temporary folder, or a PostgreSQL database annotate_bench_<pid>_<n>
that it creates and drops), `migrate`, `load_seeds`, 2,000 readers with
sessions, a discussion of 60 posts, then one db_worker and gunicorn (2 workers
per server, debug off) on free ports of 127.0.0.1, beside a private Redis, the
Akismet stand-in of tests/akismet_server.py and an SMTP sink. wrk sends the mix
of bench/load/mix.lua: 45% signed-in reads, 45% anonymous reads, 10% posts
(page comments, annotations and replies in equal shares). Definitions and the
reported figures: docs/performance.md, "Load".

Prints a table, the checks and the goals; exits 1 when a goal is missed. Needs
wrk (`apt-get install -y wrk`), redis-server, a PostgreSQL server that the
`postgres` user can create databases on (BENCH_POSTGRES_URL), and
requirements-dev.txt installed (the Akismet stand-in lives in tests/).
"""

import argparse
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from tests.akismet_server import AkismetServer

BASE_DIR = Path(__file__).resolve().parent.parent
HERE = BASE_DIR / "bench" / "load"
PYTHON = sys.executable
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = secrets.token_urlsafe(50)
"""One key for every server of a run: sessions made on one must be valid on all."""

WORKERS_PER_SERVER = 2
READERS = 2000
SEEDED_POSTS = 60
LOGIN_READERS = 4
"""Readers who sign in through the real login form before the load (not in the mix)."""
POST_SHARE = 0.10
SIGNED_IN_SHARE = 0.5
"""Of the reads."""
SITE_VARIABLES = re.compile(
    r"^(DJANGO_|AKISMET_|EMAIL_|SIGNUP_|ACCOUNT_)|^(DATABASE_URL|REDIS_URL|SITE_URL|"
    r"SOCIAL_PROVIDERS|DEFAULT_FROM_EMAIL|TIME_ZONE|LOG_LEVEL)$"
)
MISSING_READER = "signed-in read shown as someone else or anonymous"
"""The problem mix.lua reports when a page did not show its session's reader."""
SERVER_LOG_FAULTS = ("database is locked", "Traceback", "Internal Server Error")


# Processes -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """Every process a benchmark starts, each in its own group, stopped on the way out."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        process.log_path = self.logs / f"{name}.log"
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            # The whole group: gunicorn's workers go with their master.
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def site_env(
    database_url: str, *, tasks: str, akismet_url: str, smtp_port: int, redis_url: str = ""
) -> dict[str, str]:
    """A server's environment, as docs/deploy.md has it, with none of the caller's site settings."""
    env = {name: value for name, value in os.environ.items() if not SITE_VARIABLES.match(name)}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_HTTPS="0",
        DATABASE_URL=database_url,
        DJANGO_TASKS=tasks,
        AKISMET_API_KEY="bench-key",
        AKISMET_API_URL=akismet_url,
        AKISMET_IS_TEST="1",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="0",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(BASE_DIR),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def database_helper(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [PYTHON, str(HERE / "prepare.py"), *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"prepare.py {args[0]} failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def collectstatic() -> None:
    """The manifest that debug-off pages need (into STATIC_ROOT, as a deploy does)."""
    env = site_env(
        "sqlite:///unused.sqlite3", tasks="immediate", akismet_url="http://x", smtp_port=25
    )
    manage(env, "collectstatic", "--no-input", "--verbosity", "0")


def start_gunicorn(
    processes: Processes, name: str, env: dict[str, str]
) -> tuple[str, subprocess.Popen]:
    """gunicorn on a free port; returns its base URL and process once it answers."""
    port = free_port()
    args = [PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    args += ["--workers", str(WORKERS_PER_SERVER), "--timeout", "60", "--graceful-timeout", "5"]
    # gunicorn's control socket is one path per user by default: servers would share it.
    args += ["--no-control-socket", "--access-logfile", str(processes.logs / f"{name}.access.log")]
    process = processes.start(name, args, env)
    base_url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base_url}/privacy/", process)
    return base_url, process


def start_worker(processes: Processes, name: str, env: dict[str, str]) -> subprocess.Popen:
    return processes.start(name, [PYTHON, "manage.py", "db_worker", "--no-startup-delay"], env)


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:4]} exited; see {process.log_path}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s; see {process.log_path}")


def start_redis(processes: Processes) -> str:
    """A private Redis with nothing saved, so no run leaves keys in the machine's own."""
    if not shutil.which("redis-server"):
        raise SystemExit("bench needs redis-server (apt-get install -y redis-server).")
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no"]
    process = processes.start("redis", args, dict(os.environ))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}"
        except OSError:
            if process.poll() is not None:
                break
        time.sleep(0.1)
    raise RuntimeError(f"redis-server did not start; see {process.log_path}")


@contextmanager
def fresh_database(kind: str, folder: Path, number: int) -> Iterator[str]:
    """A new, empty database; a PostgreSQL one is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'bench-{number}.sqlite3'}"
        return
    name = f"annotate_bench_{os.getpid()}_{number}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


class SmtpSink:
    """Accepts every email (reply notifications) and keeps a count; sends nothing on."""

    def __init__(self) -> None:
        sink = self
        self.received = 0

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 bench SMTP sink\r\n")
                while line := self.rfile.readline():
                    command = line[:4].upper()
                    if command == b"DATA":
                        self.wfile.write(b"354 go on\r\n")
                        while self.rfile.readline() not in (b".\r\n", b""):
                            pass
                        sink.received += 1
                        self.wfile.write(b"250 kept\r\n")
                    elif command == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    elif command == b"EHLO":
                        self.wfile.write(b"250 bench\r\n")
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Readers ---------------------------------------------------------------------------


@dataclass
class Reader:
    session: str
    csrf: str
    name: str
    email: str


@dataclass
class Discussion:
    """What prepare.py made: the page, its readers, posts to reply to, passages to quote."""

    path: str
    readers: list[Reader]
    login_readers: list[Reader]
    parents: list[str]
    anchors: list[str]
    data_file: Path

    @classmethod
    def read(cls, data_file: Path) -> "Discussion":
        path, readers, login_readers, parents, anchors = "", [], [], [], []
        for line in data_file.read_text(encoding="utf-8").splitlines():
            kind, *fields = line.split("\t")
            if kind == "path":
                path = fields[0]
            elif kind == "user":
                readers.append(Reader(*fields))
            elif kind == "login":
                login_readers.append(Reader("", "", *fields))
            elif kind == "parent":
                parents.append(fields[0])
            elif kind == "anchor":
                anchors.append(fields[0])
        return cls(path, readers, login_readers, parents, anchors, data_file)


def prepare_site(
    env: dict[str, str], folder: Path, readers: int, login_readers: int
) -> tuple[Discussion, dict]:
    """Migrate, load the seeds and make the readers; returns them and prepare.py's summary."""
    manage(env, "migrate", "--no-input")
    manage(env, "load_seeds")
    data_file = folder / f"data-{secrets.token_hex(4)}.tsv"
    summary = database_helper(
        env,
        "prepare",
        f"--users={readers}",
        f"--login-users={login_readers}",
        f"--seed-posts={SEEDED_POSTS}",
        f"--out={data_file}",
    )
    return Discussion.read(data_file), summary


POST_ID = re.compile(r"[?&]post=(\d+)")


def signed_in_as(page: str, name: str) -> bool:
    return f"Signed in as <strong>{name}</strong>" in page


@dataclass
class SessionCheck:
    tried: int = 0
    passed: int = 0
    saved: dict[str, int] = field(default_factory=dict)
    """Post token -> the id its redirect named."""
    failures: list[str] = field(default_factory=list)


def check_sessions(
    servers: list[str], discussion: Discussion, password: str, marker: str
) -> SessionCheck:
    """
    Each login reader signs in through the real form on one server, then reads
    and posts on the next one (the same one when there is only one).
    """
    check = SessionCheck()
    for number, reader in enumerate(discussion.login_readers):
        here, there = servers[number % len(servers)], servers[(number + 1) % len(servers)]
        check.tried += 1
        with httpx.Client(timeout=30) as client:
            client.get(f"{here}/accounts/login/")
            answer = client.post(
                f"{here}/accounts/login/",
                data={
                    "login": reader.email,
                    "password": password,
                    "csrfmiddlewaretoken": client.cookies["csrftoken"],
                },
            )
            if answer.status_code != 302:
                check.failures.append(f"{reader.email}: sign-in on {here} answered {answer}")
                continue
            page = client.get(f"{there}{discussion.path}")
            if not signed_in_as(page.text, reader.name):
                check.failures.append(f"{reader.email}: not signed in on {there}")
                continue
            token = f"{marker}-login-{number}"
            posted = client.post(
                f"{there}{discussion.path}posts/",
                data={
                    "body": f"Signed in elsewhere: note {token}.",
                    "csrfmiddlewaretoken": client.cookies["csrftoken"],
                },
            )
            post_id = POST_ID.search(posted.headers.get("location", ""))
            if posted.status_code != 302 or not post_id:
                check.failures.append(f"{reader.email}: posting on {there} answered {posted}")
                continue
            check.saved[token] = int(post_id.group(1))
            check.passed += 1
    return check


def read_alone(server: str, discussion: Discussion, reads: int = 30) -> list[float]:
    """
    Milliseconds for the page read by one reader at a time (signed in, then not, in
    turn) before the load: what a request costs without waiting for another.
    """
    times = []
    with httpx.Client(timeout=30) as client:
        for number in range(reads):
            reader = discussion.readers[number]
            headers = {"Cookie": f"sessionid={reader.session}"} if number % 2 else {}
            started = time.perf_counter()
            client.get(f"{server}{discussion.path}", headers=headers).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


# The load --------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of them at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class WrkResult:
    seconds: float
    requests: int
    socket_errors: dict[str, int]
    latencies: dict[str, list[float]]
    statuses: Counter
    problems: Counter
    sent: set[str]
    """The tokens of the posts sent."""
    saved: list[tuple[str, int]]
    """(token, id) of every post answered as saved (302 naming the new post)."""
    refused: set[str]
    """The tokens of posts answered with an error."""

    @property
    def all_latencies(self) -> list[float]:
        return [ms for values in self.latencies.values() for ms in values]

    def kind_latencies(self, prefix: str) -> list[float]:
        return [
            ms
            for kind, values in self.latencies.items()
            if kind.startswith(prefix)
            for ms in values
        ]

    @property
    def error_statuses(self) -> Counter:
        return Counter(
            {(kind, status): n for (kind, status), n in self.statuses.items() if status >= 400}
        )


def run_wrk(
    servers: list[str],
    discussion: Discussion,
    folder: Path,
    *,
    seconds: int,
    connections: int,
    marker: str,
) -> WrkResult:
    out = folder / f"wrk-{marker}.tsv"
    env = dict(
        os.environ,
        BENCH_DATA=str(discussion.data_file),
        BENCH_OUT=str(out),
        BENCH_SERVERS=",".join(url.removeprefix("http://") for url in servers),
        BENCH_THREADS=str(connections),
        BENCH_RUN=marker,
        BENCH_POST_SHARE=str(POST_SHARE),
        BENCH_SIGNED_IN_SHARE=str(SIGNED_IN_SHARE),
    )
    args = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds}s"]
    args += ["--timeout", "30s", "-s", str(HERE / "mix.lua"), f"{servers[0]}{discussion.path}"]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    (folder / f"wrk-{marker}.log").write_text(done.stdout + done.stderr)
    if done.returncode or not out.exists():
        raise RuntimeError(f"wrk failed:\n{done.stdout}{done.stderr}")
    numbers = [int(value) for value in out.read_text().split("\t")]
    names = ("connect", "read", "write", "status", "timeout")
    result = WrkResult(
        seconds=numbers[0] / 1e6,
        requests=numbers[1],
        socket_errors=dict(zip(names, numbers[3:], strict=True)),
        latencies={},
        statuses=Counter(),
        problems=Counter(),
        sent=set(),
        saved=[],
        refused=set(),
    )
    for thread in range(connections):
        for line in Path(f"{out}.{thread}").read_text().splitlines():
            kind, *fields = line.split("\t")
            if kind == "sent":
                result.sent.add(fields[0])
                continue
            status, elapsed, post_id, problem, token = fields
            result.latencies.setdefault(kind, []).append(float(elapsed))
            result.statuses[kind, int(status)] += 1
            if post_id:
                result.saved.append((token, int(post_id)))
            elif token and int(status) >= 400:
                result.refused.add(token)
            if problem:
                result.problems[problem] += 1
    return result


@dataclass
class RunConfig:
    label: str
    database: str
    servers: int


RUNS = {
    "sqlite": RunConfig("SQLite, 1 server", "sqlite", 1),
    "postgres": RunConfig("PostgreSQL, 1 server", "postgres", 1),
    "two": RunConfig("PostgreSQL, 2 servers", "postgres", 2),
}


@dataclass
class RunResult:
    config: RunConfig
    wrk: WrkResult
    sessions: SessionCheck
    counted: dict
    drain_seconds: float
    checks_sent: int
    checks_distinct: int
    log_faults: Counter
    flood_seconds: int
    load_average: float
    """The machine's 1-minute load average as wrk stopped (2 cores: above 2 is a queue)."""
    served: list[int]
    """Requests in each server's access log."""
    alone: list[float]
    """Milliseconds of page reads one at a time, before the load."""

    @property
    def requests_per_second(self) -> float:
        return self.wrk.requests / self.wrk.seconds

    @property
    def posts(self) -> "PostTally":
        return PostTally.of(self)

    def errors(self) -> Counter:
        errors = Counter()
        for (kind, status), n in self.wrk.error_statuses.items():
            errors[f"{status} on {kind}"] += n
        for name, n in self.wrk.socket_errors.items():
            if n and name != "status":
                errors[f"socket {name}"] += n
        errors.update(self.wrk.problems)
        errors.update({f"log: {fault}": n for fault, n in self.log_faults.items() if n})
        return errors


@dataclass
class PostTally:
    """Posts answered as saved against the rows in the database, matched by token."""

    answered: int
    in_database: int
    lost: int
    """Answered as saved, but not in the database under the id the answer named."""
    duplicated: int
    """Extra rows for one post, or one id answered for two posts."""
    in_flight: int
    """In the database, sent, and not answered because wrk stopped first: no error."""
    unexpected: int
    """In the database though never sent, or answered with an error."""

    @classmethod
    def of(cls, result: "RunResult") -> "PostTally":
        answered = dict(result.wrk.saved) | result.sessions.saved
        rows = Counter(token for _, token in result.counted["tokens"])
        row_ids = {(token, pk) for pk, token in result.counted["tokens"]}
        answered_tokens = set(answered)
        unanswered = result.wrk.sent - answered_tokens - result.wrk.refused
        ids = [pk for _, pk in result.wrk.saved] + list(result.sessions.saved.values())
        return cls(
            answered=len(result.wrk.saved) + len(result.sessions.saved),
            in_database=len(result.counted["tokens"]),
            lost=sum((token, pk) not in row_ids for token, pk in answered.items()),
            duplicated=sum(n - 1 for n in rows.values() if n > 1)
            + len(result.wrk.saved)
            - len(dict(result.wrk.saved))
            + len(ids)
            - len(set(ids)),
            in_flight=sum(token in unanswered for token in rows),
            unexpected=sum(
                token not in answered_tokens and token not in unanswered for token in rows
            ),
        )

    @property
    def exact(self) -> bool:
        return (
            self.lost == self.duplicated == self.unexpected == 0
            and self.in_database == self.answered + self.in_flight
        )


def scan_logs(processes: list[subprocess.Popen]) -> Counter:
    faults = Counter()
    for process in processes:
        text = process.log_path.read_text(errors="replace")
        for fault in SERVER_LOG_FAULTS:
            faults[fault] += text.count(fault)
    return faults


def wait_for_worker(env: dict[str, str], marker: str, timeout: float) -> tuple[dict, float]:
    """Wait until the worker has checked every post of the run; returns the count and the wait."""
    started = time.monotonic()
    while True:
        counted = database_helper(env, "count", "--marker", marker)
        waiting = counted["statuses"].get("pending/checking", 0)
        if not waiting or time.monotonic() - started > timeout:
            return counted, time.monotonic() - started
        time.sleep(1)


def load_run(
    config: RunConfig,
    number: int,
    args: argparse.Namespace,
    folder: Path,
    processes: Processes,
    akismet: AkismetServer,
    smtp: SmtpSink,
    redis_url: str,
) -> RunResult:
    marker = f"bench{os.getpid()}r{number}"
    with fresh_database(config.database, folder, number) as database_url:
        env = site_env(
            database_url,
            tasks="database",
            akismet_url=akismet.base_url,
            smtp_port=smtp.port,
            redis_url=f"{redis_url}/{number}",
        )
        discussion, summary = prepare_site(env, folder, args.readers, LOGIN_READERS)
        started_here = []
        try:
            started_here.append(start_worker(processes, f"worker-{number}", env))
            servers = []
            for server in range(config.servers):
                url, gunicorn = start_gunicorn(processes, f"gunicorn-{number}-{server}", env)
                servers.append(url)
                started_here.append(gunicorn)
            sessions = check_sessions(servers, discussion, summary["password"], marker)
            alone = read_alone(servers[0], discussion)
            wrk = run_wrk(
                servers,
                discussion,
                folder,
                seconds=args.duration,
                connections=args.connections,
                marker=marker,
            )
            load_average = os.getloadavg()[0]
            counted, drained = wait_for_worker(env, marker, timeout=args.drain_timeout)
        finally:
            for process in reversed(started_here):
                processes.stop(process)
        checks = [
            fields["comment_content"]
            for fields in akismet.comment_checks()
            if marker in fields.get("comment_content", "")
        ]
        return RunResult(
            config=config,
            wrk=wrk,
            sessions=sessions,
            counted=counted,
            drain_seconds=drained,
            checks_sent=len(checks),
            checks_distinct=len(set(checks)),
            log_faults=scan_logs(started_here),
            alone=alone,
            served=[
                len((folder / f"gunicorn-{number}-{server}.access.log").read_text().splitlines())
                for server in range(config.servers)
            ],
            flood_seconds=summary["flood_seconds"],
            load_average=load_average,
        )


# Report ----------------------------------------------------------------------------


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f}"


def report(results: list[RunResult], args: argparse.Namespace, elapsed: float) -> bool:
    print()
    print(
        f"Load: gunicorn with {WORKERS_PER_SERVER} sync workers per server, debug off, one "
        f"db_worker, Akismet stand-in answering at once, Redis cache; wrk with "
        f"{args.connections} connections for {args.duration} s per run."
    )
    print(
        f"Mix: {(1 - POST_SHARE) * SIGNED_IN_SHARE:.0%} signed-in reads, "
        f"{(1 - POST_SHARE) * (1 - SIGNED_IN_SHARE):.0%} anonymous reads, {POST_SHARE:.0%} posts "
        f"(comments, annotations, replies); {args.readers} readers, {SEEDED_POSTS} posts "
        f"to start with, flood control {results[0].flood_seconds} s."
    )
    print()
    header = (
        f"{'run':<24}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'reads p50/p99':>15}{'posts p50/p99':>15}{'errors':>8}{'alone':>7}{'load':>6}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        everything = result.wrk.all_latencies
        reads, posts = result.wrk.kind_latencies("read"), result.wrk.kind_latencies("post")
        print(
            f"{result.config.label:<24}{result.wrk.requests:>9}{result.requests_per_second:>8.1f}"
            f"{ms(percentile(everything, 0.5)):>8}{ms(percentile(everything, 0.99)):>8}"
            f"{ms(percentile(reads, 0.5)) + '/' + ms(percentile(reads, 0.99)):>15}"
            f"{ms(percentile(posts, 0.5)) + '/' + ms(percentile(posts, 0.99)):>15}"
            f"{sum(result.errors().values()):>8}{ms(percentile(result.alone, 0.5)):>7}"
            f"{result.load_average:>6.1f}"
        )
    print(
        "(ms: from sending a request to its whole response. alone: p50 ms of 30 page reads "
        "one at a time before the load. load: the machine's 1-minute load average as wrk "
        "stopped; it has 2 cores.)"
    )
    print()
    by_label = {result.config.database + str(result.config.servers): result for result in results}
    ratios = []
    if "sqlite1" in by_label and "postgres1" in by_label:
        ratio = by_label["postgres1"].requests_per_second / by_label["sqlite1"].requests_per_second
        ratios.append(f"PostgreSQL/SQLite {ratio:.2f}×")
    if "postgres1" in by_label and "postgres2" in by_label:
        ratio = (
            by_label["postgres2"].requests_per_second / by_label["postgres1"].requests_per_second
        )
        ratios.append(f"two servers/one {ratio:.2f}×")
    if ratios:
        print("Throughput ratios (same session): " + ", ".join(ratios) + ".")

    goals = []
    for result in results:
        label = result.config.label
        errors = result.errors()
        print()
        print(f"{label}:")
        statuses = Counter()
        for (_kind, status), n in result.wrk.statuses.items():
            statuses[status] += n
        print(
            "  responses by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        )
        print("  errors: " + (", ".join(f"{name}: {n}" for name, n in errors.items()) or "none"))
        if len(result.served) > 1:
            print(
                "  requests served (access logs, sign-in check included): "
                + ", ".join(f"server {n + 1}: {count}" for n, count in enumerate(result.served))
            )
        counted, posts = result.counted, result.posts
        print(
            f"  posts: {posts.answered} answered as saved ({len(result.wrk.saved)} in the load, "
            f"{len(result.sessions.saved)} in the sign-in check), {posts.in_database} in the "
            f"database ({posts.in_flight} of them sent as wrk stopped); lost {posts.lost}, "
            f"duplicated {posts.duplicated}, unexpected {posts.unexpected}"
        )
        published = counted["statuses"].get("published", 0)
        print(
            f"  spam checks: {result.checks_sent} sent to the stand-in for "
            f"{result.checks_distinct} posts; {published} of {posts.in_database} posts "
            f"published, {result.drain_seconds:.0f} s after the load stopped; attempts "
            f"{counted['check_attempts']}"
        )
        sessions = result.sessions
        where = "another server" if result.config.servers > 1 else "the same server"
        print(
            f"  sessions: {sessions.passed} of {sessions.tried} readers signed in through the "
            f"login form and then read and posted as themselves on {where}; "
            f"{result.wrk.problems.get(MISSING_READER, 0)} "
            f"of {len(result.wrk.latencies.get('read signed-in', []))} signed-in reads in the "
            "load were not shown as their reader"
        )
        for failure in sessions.failures:
            print(f"    {failure}")
        goals.append(
            (f"{label}: zero errors (no 5xx, no 429, no 'database is locked')", not errors)
        )
        goals.append(
            (
                f"{label}: every saved post exactly once",
                posts.exact,
            )
        )
        goals.append(
            (
                f"{label}: every post checked once by the worker",
                published == posts.in_database
                and result.checks_sent == result.checks_distinct == posts.in_database,
            )
        )
        sessions_goal = (
            "sessions valid on either server"
            if result.config.servers > 1
            else "sessions valid (signed in through the form and as made beforehand)"
        )
        goals.append(
            (
                f"{label}: {sessions_goal}",
                sessions.passed == sessions.tried > 0
                and not result.wrk.problems.get(MISSING_READER),
            )
        )
    print()
    print("Goals:")
    for name, met in goals:
        print(f"  [{'met' if met else 'MISSED'}] {name}")
    print(f"\nTotal time {elapsed:.0f} s.")
    return all(met for _, met in goals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds per run (default 60)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--readers", type=int, default=READERS)
    parser.add_argument(
        "--runs",
        default="sqlite,postgres,two",
        help="comma-separated, from: sqlite, postgres, two (default: all three)",
    )
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args()
    runs = [RUNS[name] for name in args.runs.split(",")]
    if not shutil.which("wrk"):
        raise SystemExit("bench.load needs wrk: apt-get install -y wrk")

    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="annotate-bench-load-"))
    processes = Processes(folder)
    akismet = AkismetServer().start()
    smtp = SmtpSink()
    results = []
    try:
        collectstatic()
        redis_url = start_redis(processes)
        for number, config in enumerate(runs):
            print(f"Running: {config.label} ({args.duration} s)…", flush=True)
            results.append(
                load_run(config, number, args, folder, processes, akismet, smtp, redis_url)
            )
    finally:
        processes.stop_all()
        akismet.stop()
        smtp.stop()
        if args.keep:
            print(f"Logs and data kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    ok = report(results, args, time.monotonic() - started)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
