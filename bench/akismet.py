"""
Akismet latency benchmark: how long a reader waits for a post to be saved while
Akismet takes 0, 200 or 1,000 ms to answer, with the spam check in the
background (DJANGO_TASKS=database and a db_worker, as on a server) and, as a
contrast, run inside the request (DJANGO_TASKS=immediate, the laptop default).

    .venv/bin/python -m bench.akismet               # the reported run
    .venv/bin/python -m bench.akismet --posts 10    # a quick check

Everything is started here and stopped afterwards: a fresh PostgreSQL database
(or --database sqlite), gunicorn with 2 workers and debug off on a free port of
127.0.0.1, the db_worker, the Akismet stand-in of tests/akismet_server.py with
its delay switched between runs, and an SMTP sink. One reader at a time posts a
page comment, an annotation or a reply (in turn, each post by another reader so
that flood control never applies), with the stand-in's delay changed before
each post (0, 200, 1,000 ms, 0, ...); the time is the POST's, until its
redirect arrives. Definitions and figures: docs/performance.md, "Akismet latency".

The goal, checked here: with the background backend, the median POST at 1,000
ms (and at 200 ms) is at most 1.5 × the median at 0 ms plus 50 ms. Exits 1 when
it is missed or any post fails.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.load import (
    POST_ID,
    Discussion,
    Processes,
    SmtpSink,
    collectstatic,
    fresh_database,
    percentile,
    prepare_site,
    site_env,
    start_gunicorn,
    start_worker,
    wait_for_worker,
)
from tests.akismet_server import AkismetServer

DELAYS_MS = (0, 200, 1000)
WARM_UP_POSTS = 6
LIMIT_RATIO = 1.5
LIMIT_ALLOWANCE_MS = 50
"""The goal: background median at a delay <= LIMIT_RATIO × median at 0 ms + this."""


@dataclass
class Sample:
    backend: str
    delay_ms: int
    seconds: list[float]
    failures: list[str]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.seconds, 0.95) * 1000


class Poster:
    """Posts as the discussion's readers in turn: comment, annotation, reply."""

    def __init__(self, base_url: str, discussion: Discussion, marker: str) -> None:
        self.base_url = base_url
        self.discussion = discussion
        self.marker = marker
        self.turn = 0

    def post(self, label: str) -> tuple[float, str]:
        """One post; returns the seconds it took and what went wrong ("" when saved)."""
        reader = self.discussion.readers[self.turn]
        token = f"{self.marker}-{label}-{self.turn}"
        fields = {
            "csrfmiddlewaretoken": reader.csrf,
            "website": "",
            "body": f"Latency note {token}: the order came from Moscow.",
        }
        encoded = str(httpx.QueryParams(fields))
        kind = self.turn % 3
        if kind == 1:
            encoded += "&" + self.discussion.anchors[self.turn % len(self.discussion.anchors)]
        elif kind == 2:
            parent = self.discussion.parents[self.turn % len(self.discussion.parents)]
            encoded += f"&parent={parent}"
        self.turn += 1
        headers = {
            "Cookie": f"sessionid={reader.session}; csrftoken={reader.csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        with httpx.Client(timeout=30) as client:
            started = time.perf_counter()
            answer = client.post(
                f"{self.base_url}{self.discussion.path}posts/", content=encoded, headers=headers
            )
            elapsed = time.perf_counter() - started
        if answer.status_code != 302 or not POST_ID.search(answer.headers.get("location", "")):
            return elapsed, f"{token}: answered {answer.status_code}"
        return elapsed, ""


def set_delay(akismet: AkismetServer, delay_ms: int) -> None:
    if delay_ms:
        akismet.slow_seconds = delay_ms / 1000
        akismet.mode = "slow"  # answers "ham" after slow_seconds
    else:
        akismet.mode = "ham"


def measure(poster: Poster, akismet: AkismetServer, backend: str, posts: int) -> list[Sample]:
    """
    `posts` posts at each delay, the delays taken in turn (0, 200, 1,000, 0, ...) so
    that whatever else the machine does falls on all of them alike.
    """
    samples = {delay_ms: Sample(backend, delay_ms, [], []) for delay_ms in DELAYS_MS}
    for _ in range(posts):
        for delay_ms, sample in samples.items():
            set_delay(akismet, delay_ms)
            seconds, failure = poster.post(f"{backend}-{delay_ms}")
            sample.seconds.append(seconds)
            if failure:
                sample.failures.append(failure)
    return list(samples.values())


def warm_up(poster: Poster, akismet: AkismetServer) -> None:
    """Posts not measured: each gunicorn worker's first requests load templates and code."""
    set_delay(akismet, 0)
    for _ in range(WARM_UP_POSTS):
        poster.post("warmup")


def run(args: argparse.Namespace) -> tuple[list[Sample], dict]:
    folder = Path(tempfile.mkdtemp(prefix="annotate-bench-akismet-"))
    processes = Processes(folder)
    akismet = AkismetServer().start()
    smtp = SmtpSink()
    marker = f"akismet{os.getpid()}"
    samples: list[Sample] = []
    facts: dict = {}
    try:
        collectstatic()
        with fresh_database(args.database, folder, 0) as database_url:
            readers = 2 * (WARM_UP_POSTS + args.posts * len(DELAYS_MS))

            def env_for(tasks: str) -> dict[str, str]:
                return site_env(
                    database_url, tasks=tasks, akismet_url=akismet.base_url, smtp_port=smtp.port
                )

            discussion, _ = prepare_site(env_for("database"), folder, readers, 0)

            # The spam check in the background: the db_worker asks the stand-in.
            env = env_for("database")
            worker = start_worker(processes, "worker", env)
            server, gunicorn = start_gunicorn(processes, "gunicorn-background", env)
            poster = Poster(server, discussion, marker)
            warm_up(poster, akismet)
            samples += measure(poster, akismet, "background", args.posts)
            processes.stop(gunicorn)
            counted, waited = wait_for_worker(env, marker, timeout=args.drain_timeout)
            processes.stop(worker)
            checked = [
                fields["comment_content"]
                for fields in akismet.comment_checks()
                if marker in fields.get("comment_content", "")
            ]
            facts["background"] = {
                "posts": len(counted["tokens"]),
                "published": counted["statuses"].get("published", 0),
                "checks": len(checked),
                "distinct_checks": len(set(checked)),
                "drain_seconds": waited,
            }

            # The laptop default: the check runs inside the request.
            server, _ = start_gunicorn(processes, "gunicorn-immediate", env_for("immediate"))
            poster.base_url = server
            warm_up(poster, akismet)
            samples += measure(poster, akismet, "immediate", args.posts)
            processes.stop_all()
    finally:
        processes.stop_all()
        akismet.stop()
        smtp.stop()
        if args.keep:
            print(f"Logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return samples, facts


def report(samples: list[Sample], facts: dict, args: argparse.Namespace, elapsed: float) -> bool:
    database = {"postgres": "PostgreSQL", "sqlite": "SQLite"}[args.database]
    print()
    print(
        f"Akismet latency: one reader at a time posts (comment, annotation, reply in turn), "
        f"{args.posts} posts per delay, the delays in turn, after {WARM_UP_POSTS} unmeasured "
        f"ones; gunicorn with 2 workers, debug off, {database}. Time: the POST until its "
        "redirect arrives."
    )
    print()
    header = f"{'backend':<30}{'Akismet':>9}{'median ms':>11}{'p95 ms':>8}{'median / at 0 ms':>18}"
    print(header)
    print("-" * len(header))
    names = {
        "background": "background (db_worker)",
        "immediate": "immediate (laptop default)",
    }
    base = {s.backend: s.median_ms for s in samples if s.delay_ms == 0}
    for sample in samples:
        print(
            f"{names[sample.backend] if sample.delay_ms == 0 else '':<30}"
            f"{f'{sample.delay_ms} ms':>9}{sample.median_ms:>11.0f}{sample.p95_ms:>8.0f}"
            f"{sample.median_ms / base[sample.backend]:>17.2f}×"
        )
    background = facts["background"]
    print()
    print(
        f"Worker: {background['published']} of {background['posts']} background posts checked "
        f"and published, {background['drain_seconds']:.0f} s after the last one was sent (the "
        f"stand-in still answering after {DELAYS_MS[-1]} ms); the stand-in received "
        f"{background['checks']} checks for {background['distinct_checks']} posts."
    )
    failures = [failure for sample in samples for failure in sample.failures]
    if failures:
        print("Failed posts: " + "; ".join(failures))

    goals = []
    for sample in samples:
        if sample.backend != "background" or sample.delay_ms == 0:
            continue
        limit = LIMIT_RATIO * base["background"] + LIMIT_ALLOWANCE_MS
        goals.append(
            (
                f"background median at {sample.delay_ms} ms ≤ {LIMIT_RATIO} × median at 0 ms + "
                f"{LIMIT_ALLOWANCE_MS} ms: {sample.median_ms:.0f} ≤ {limit:.0f} ms",
                sample.median_ms <= limit,
            )
        )
    goals.append(("every post saved (302 naming the new post)", not failures))
    goals.append(
        (
            "every background post checked exactly once by the worker",
            background["published"]
            == background["posts"]
            == background["checks"]
            == background["distinct_checks"],
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
    parser.add_argument("--posts", type=int, default=30, help="posts per delay (default 30)")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args()
    started = time.monotonic()
    samples, facts = run(args)
    ok = report(samples, facts, args, time.monotonic() - started)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
