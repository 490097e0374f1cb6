"""
Grading benchmark: the teaching staff's pages of a class at a school's scale.

A class of 300 students × 20 readings × 20 posts each (120,000 posts: on each
reading a student writes about 14 annotations and 6 replies to classmates,
a few of them still held for a moderator, some after the due date), on one
throwaway database (SQLite file or PostgreSQL database), in one process:

- scoring the class whole, as the first gradebook view of a class does
  (6,000 scores, one background task a reading, run here in the process);
- the instructor's class page and the gradebook (CSV and page), each against
  its floor (bench/grading_site.py): the same rows in one plain query, written
  out plainly, through the same client, session and middleware;
- recomputing one student's score after one new post, in a class of 100
  posts on a database that holds nothing else, and in the 120,000-post class.

Each request is timed from a collected heap, the page and its floor taking
turns so that a busy moment of the machine slows both alike; medians of
RUNS. Ratios use CPU time, which other work on the machine does not inflate.
Goals: the class page and the gradebook CSV each within GOAL_NEAR_FLOOR
times its floor (the gradebook page, an HTML table, is reported beside it); the recompute at
120,000 posts within GOAL_SAME_COST times the one at 100, with the same
number of queries. Exits 1 when a goal is missed.

    .venv/bin/python -m bench.grading                       # SQLite, about 2 minutes
    .venv/bin/python -m bench.grading --database postgres   # PostgreSQL on 127.0.0.1
"""

import argparse
import gc
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

STUDENTS = 300
READINGS = 20
POSTS_EACH = 20  # per student and reading
REPLY_SHARE = 0.3  # of each student's posts on a reading; the rest are annotations
QUESTION_SHARE = 0.15
HELD_SHARE = 0.04
PARAGRAPHS = 12
SMALL_STUDENTS = 5  # the small class: 5 × 1 reading × 20 posts = 100 posts
RUNS = 15
RECOMPUTE_RUNS = 60
GOAL_NEAR_FLOOR = 3.0  # page CPU time / floor CPU time, at most
GOAL_SAME_COST = 1.5  # recompute at 120,000 posts / at 100, at most
SEED = 20261204
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
POSTGRES_NAME = "annotate_bench_grading"
VOCABULARY = (
    "the prisoners returned from camps across Europe were met with suspicion "
    "interrogated by the security organs sent to filtration points and many "
    "went on to the labour camps of the north while others served in penal "
    "battalions or were barred from their former homes and work for years after "
    "victory historians still argue about how many and why the regime feared "
    "those who had seen the West"
)
WORDS = VOCABULARY.split()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--students", type=int, default=STUDENTS)
    args = parser.parse_args()
    with throwaway_database(args.database) as url:
        os.environ["BENCH_GRADING_DATABASE"] = url
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.grading_settings"
        return run(args)


@contextmanager
def throwaway_database(kind: str):
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bench-grading-"))
        try:
            yield f"sqlite:///{folder / 'db.sqlite3'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    import psycopg
    from psycopg import sql

    def admin(statement: str) -> None:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(sql.SQL(statement).format(sql.Identifier(POSTGRES_NAME)))

    admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    admin("CREATE DATABASE {}")
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + POSTGRES_NAME
    finally:
        from django.db import connections

        connections.close_all()
        admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")


def run(args) -> int:
    import django

    # WhiteNoise looks for collectstatic's output, which the benchmark does not need.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    from importlib.metadata import version

    from django.core.management import call_command
    from django.db import connection

    began = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    database = connection.vendor
    posts = args.students * READINGS * POSTS_EACH
    print(
        f"Django {version('django')}, Python {sys.version.split()[0]}, {database}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}.\n"
        f"A class of {args.students} students × {READINGS} readings × {POSTS_EACH} posts "
        f"= {posts:,} posts. Medians of {args.runs} runs (the recompute: "
        f"{RECOMPUTE_RUNS}); ratios from CPU time.\n"
    )
    rng = random.Random(SEED)
    failures = []

    small = populate(rng, "small", SMALL_STUDENTS, 1)
    small_recompute = measure_recompute(rng, small)

    started = time.perf_counter()
    big = populate(rng, "school", args.students, READINGS)
    print(f"Made the class in {time.perf_counter() - started:.0f} s.")
    from annotate import scores
    from annotate.models import Score

    started = time.perf_counter()
    scores.rubric_for(big["classroom"])
    scored = Score.objects.filter(reading__classroom=big["classroom"]).count()
    print(
        f"Scored the class whole ({scored:,} scores, {READINGS} background tasks) in "
        f"{time.perf_counter() - started:.1f} s.\n"
    )
    if scored != args.students * READINGS:
        failures.append(f"{scored} scores saved for {args.students * READINGS} (student, reading)")

    print(f"{'':34} {'wall ms':>9} {'CPU ms':>9} {'queries':>8} {'floor CPU':>10} {'ratio':>6}")
    for label, page, floor, goal in pages(big):
        result = measure_page(big["instructor"], page, floor, args.runs)
        ratio = result["page"]["cpu"] / result["floor"]["cpu"]
        print(
            f"{label:34} {result['page']['wall']:9.1f} {result['page']['cpu']:9.1f} "
            f"{result['page']['queries']:8} {result['floor']['cpu']:10.1f} {ratio:5.1f}×"
        )
        if goal and ratio > GOAL_NEAR_FLOOR:
            failures.append(f"{label}: {ratio:.1f}× its floor (goal {GOAL_NEAR_FLOOR:.0f}×)")

    big_recompute = measure_recompute(rng, big)
    print(f"\n{'Recompute one student, one post':34} {'wall ms':>9} {'CPU ms':>9} {'queries':>8}")
    for label, result in (
        (f"in a class of {SMALL_STUDENTS * POSTS_EACH} posts", small_recompute),
        (f"in a class of {posts:,} posts", big_recompute),
    ):
        print(f"  {label:32} {result['wall']:9.2f} {result['cpu']:9.2f} {result['queries']:8}")
    same_cost = big_recompute["cpu"] / small_recompute["cpu"]
    print(
        f"  {'ratio':32} {big_recompute['wall'] / small_recompute['wall']:8.2f}× {same_cost:8.2f}×"
    )
    if same_cost > GOAL_SAME_COST:
        failures.append(f"the recompute costs {same_cost:.2f}× more at {posts:,} posts")
    if big_recompute["queries"] != small_recompute["queries"]:
        failures.append(
            f"the recompute takes {big_recompute['queries']} queries at {posts:,} posts, "
            f"{small_recompute['queries']} at {SMALL_STUDENTS * POSTS_EACH}"
        )

    print(
        f"\nTotal time {time.perf_counter() - began:.0f} s; "
        f"load average at the end {os.getloadavg()[0]:.1f}."
    )
    if failures:
        print("\nFAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


# The data


def paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(3, 5)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def body(rng: random.Random) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 40))).capitalize()
    return words + ("?" if rng.random() < QUESTION_SHARE else ".")


def populate(rng: random.Random, name: str, students: int, readings: int) -> dict:
    """A class with its instructor, students and readings, each student's posts on each."""
    from django.db import transaction

    from annotate.anchoring import anchor_at, paragraph_spans
    from annotate.models import Classroom, Document, Membership, Post, Reading, User

    now = datetime.now(UTC)
    with transaction.atomic():
        classroom = Classroom.objects.create(name=f"History ({name})", slug=name)
        instructor = User.objects.create(
            email=f"teacher@{name}.example", display_name=f"Teacher {name}", is_teacher=True
        )
        Membership.objects.create(
            classroom=classroom, user=instructor, role=Membership.Role.INSTRUCTOR
        )
        people = User.objects.bulk_create(
            User(email=f"student{n}@{name}.example", display_name=f"Student {n:03}", password="!")
            for n in range(students)
        )
        Membership.objects.bulk_create(Membership(classroom=classroom, user=u) for u in people)
        texts = []
        for n in range(readings):
            document = Document.objects.create(
                slug=f"{name}-reading-{n}", title=f"Reading {n + 1}", is_public=False
            )
            document.revise("\n\n".join(paragraph(rng) for _ in range(PARAGRAPHS)))
            document.refresh_from_db()
            # Half the readings are past their due date, which some posts missed.
            due = now + timedelta(days=(n - readings // 2) * 3)
            Reading.objects.create(classroom=classroom, document=document, due_at=due)
            texts.append((document, due))

    annotations_each = round(POSTS_EACH * (1 - REPLY_SHARE))
    for document, due in texts:
        text = document.current_revision.text
        spans = paragraph_spans(text)

        def post(author, document=document, due=due, **fields):
            words = body(rng)
            held = rng.random() < HELD_SHARE
            return Post(
                document=document,
                classroom=classroom,
                author=author,
                body=words,
                body_html=f"<p>{escape(words)}</p>",
                status=Post.Status.PENDING if held else Post.Status.PUBLISHED,
                created_at=due + timedelta(hours=rng.uniform(-24 * 10, 24 * 2)),
                **fields,
            )

        annotations = []
        for author in people:
            for _ in range(annotations_each):
                first, last = rng.choice(spans)
                start = rng.randrange(first, last - 20)
                anchor = anchor_at(text, start, min(last, start + rng.randint(20, 80)))
                annotations.append(
                    post(
                        author,
                        revision_id=document.current_revision_id,
                        exact=anchor.exact,
                        prefix=anchor.prefix,
                        suffix=anchor.suffix,
                        start=anchor.start,
                        end=anchor.end,
                    )
                )
        with transaction.atomic():
            Post.objects.bulk_create(annotations, batch_size=2000)
        replies = []
        for author in people:
            others = [a for a in rng.sample(annotations, 12) if a.author_id != author.pk]
            for parent in others[: POSTS_EACH - annotations_each]:
                replies.append(post(author, parent=parent, depth=1))
        with transaction.atomic():
            Post.objects.bulk_create(replies, batch_size=2000)

    return {"classroom": classroom, "instructor": instructor, "students": people, "texts": texts}


# The measurements


def timed(work) -> tuple[float, float, object]:
    """Wall-clock and CPU milliseconds of `work()` from a collected heap, and its result."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def pages(big: dict) -> list[tuple[str, str, str, bool]]:
    """Each page, its floor, and whether the page has a goal."""
    from django.urls import reverse

    slug = big["classroom"].slug
    return [
        (
            "Instructor's class page",
            reverse("classroom", args=[slug]),
            reverse("bench_class_floor", args=[slug]),
            True,
        ),
        (
            "Gradebook CSV",
            reverse("export_gradebook_csv", args=[slug]),
            reverse("bench_gradebook_floor", args=[slug]),
            True,
        ),
        (
            # An HTML table of the same rows: reported beside the CSV's floor.
            "Gradebook page (no goal)",
            reverse("gradebook", args=[slug]),
            reverse("bench_gradebook_floor", args=[slug]),
            False,
        ),
    ]


def measure_page(instructor, page: str, floor: str, runs: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(instructor)
    result = {}
    for side, url in (("page", page), ("floor", floor)):
        client.get(url)  # warm-up
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        result[side] = {"queries": len(queries), "wall": [], "cpu": []}
    for _ in range(runs):
        for side, url in (("page", page), ("floor", floor)):
            wall, cpu, _ = timed(lambda url=url: client.get(url))
            result[side]["wall"].append(wall)
            result[side]["cpu"].append(cpu)
    for side in result.values():
        side["wall"], side["cpu"] = statistics.median(side["wall"]), statistics.median(side["cpu"])
    return result


def measure_recompute(rng: random.Random, cls: dict) -> dict:
    """
    One student of `cls` writes one more annotation on its first reading;
    what `post_changed` then costs: finding the reading and recomputing that
    student's score there (the background task, run at once here).
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotate import scores
    from annotate.models import Post, Score

    document, _ = cls["texts"][0]
    student = cls["students"][len(cls["students"]) // 2]

    def new_post() -> Post:
        return Post.objects.create(
            document=document,
            classroom=cls["classroom"],
            author=student,
            body=body(rng),
            body_html="<p>A new thought.</p>",
        )

    scores.post_changed(new_post())  # warm-up
    walls, cpus = [], []
    for _ in range(RECOMPUTE_RUNS):
        post = new_post()
        wall, cpu, _ = timed(lambda post=post: scores.post_changed(post))
        walls.append(wall)
        cpus.append(cpu)
    post = new_post()
    with CaptureQueriesContext(connection) as queries:
        scores.post_changed(post)
    score = Score.objects.get(reading__document=document, student=student)
    if score.breakdown["annotations"]["found"] < 1:
        raise SystemExit("the recompute did not count the student's posts")
    Post.objects.filter(author=student, body_html="<p>A new thought.</p>").delete()
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "queries": len(queries),
    }


if __name__ == "__main__":
    sys.exit(main())
