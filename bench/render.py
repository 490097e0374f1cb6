"""
Rendering benchmark: the document page against django-comments-xtd and a floor.

For N = 10, 100, 1,000 and 5,000 posts on the seed text (half annotations and
their replies, half page comments threaded up to five levels deep, Markdown
bodies of 50 to 400 characters), three pages are rendered through Django's test
client in one process, on one temporary SQLite database:

- ours: the document page as an anonymous reader gets it;
- xtd: the same text with the same N posts as django-comments-xtd comments, in
  the same tree, rendered by its stock `render_xtdcomment_tree` template tag;
- floor: a bare view that fetches the same rows in one query and prints author,
  date and body in a plain template loop (bench/render_site.py).

Each page is requested WARMUPS times, once more to count its queries, then RUNS
times, the three taking turns so that a busy moment of the machine slows all
three alike. Reported: the median CPU time and wall-clock time of a request,
its queries and its size. The ratios and the goals use CPU time, which other
work on the machine does not inflate; on an idle machine the two agree (see
docs/performance.md). Goals, at 1,000 and 5,000 posts: ours at least 10 times
faster than xtd and at most 1.5 times the floor; and the same number of queries
at every N. Exits 1 when a goal is missed.

    .venv/bin/pip install -r requirements-bench.txt
    .venv/bin/python -m bench.render
    .venv/bin/python -m bench.render --sizes 1000 --profile   # where our page spends its time
"""

import argparse
import gc
import io
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

SIZES = (10, 100, 1000, 5000)
GOAL_SIZES = (1000, 5000)
GOAL_FASTER_THAN_XTD = 10.0  # xtd time / our time, at least
GOAL_NEAR_FLOOR = 1.5  # our time / floor time, at most
WARMUPS = 2
RUNS = 7
SLOW_PAGE_SECONDS = 2.0
"""A page slower than this (django-comments-xtd at 5,000 comments) gets one
warm-up and SLOW_PAGE_RUNS runs, which keeps the whole benchmark near three minutes."""
SLOW_PAGE_RUNS = 3
SEED = 20261127
SLUG = "execute-the-pows"
SIDES = ("ours", "xtd", "floor")

ANNOTATION_ROOT_SHARE = 0.65  # of the annotation half; the rest are replies to them
ANNOTATION_REPLY_DEPTH = 2  # replies under annotations go this deep
COMMENT_ROOT_SHARE = 0.35  # of the comment half; the rest are replies, ...
COMMENT_REPLY_DEPTH = 4  # ... up to this depth (five levels, as THREAD_DEPTH)
ANNOTATION_WORDS = (1, 15)
BODY_LENGTH = (50, 400)
AUTHORS = 24


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--profile", action="store_true", help="profile our page at each size instead"
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-render-"))
    os.environ["BENCH_RENDER_DATABASE"] = str(folder / "db.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.render_settings"
    try:
        return run(args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args) -> int:
    try:
        import django_comments_xtd  # noqa: F401
    except ImportError:
        sys.exit(
            "The comparison needs django-comments-xtd: "
            ".venv/bin/pip install -r requirements-bench.txt"
        )
    import django

    # WhiteNoise looks for collectstatic's output, which the benchmark does not need.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    from importlib.metadata import version

    from django.core.management import call_command

    began = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_seeds", verbosity=0, stdout=io.StringIO())
    print(
        f"Django {version('django')}, django-comments-xtd {version('django-comments-xtd')}, "
        f"django-contrib-comments {version('django-contrib-comments')}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}.\n"
        f"Median of {args.runs} runs after {WARMUPS} warm-ups (a page slower than "
        f"{SLOW_PAGE_SECONDS:.0f} s: {SLOW_PAGE_RUNS} runs after 1); "
        "ratios from CPU time."
    )

    results = []
    for size in args.sizes:
        populate(size)
        if args.profile:
            profile_ours(size)
            continue
        results.append(measure(size, args.runs))
        print_row(results[-1], header=len(results) == 1)
    if args.profile:
        return 0

    failures = check_goals(results)
    print(
        f"\nTotal time {time.perf_counter() - began:.0f} s; "
        f"load average at the end {os.getloadavg()[0]:.1f}."
    )
    if failures:
        print("\nFAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


# The data


def populate(size: int) -> None:
    """`size` posts on the seed text, and the same tree again as xtd comments."""
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site
    from django.db import transaction
    from django_comments_xtd.models import XtdComment

    from annotate.anchoring import anchor_at
    from annotate.models import Document, Post, User
    from annotate.rendering import render_markdown

    rng = random.Random(SEED + size)
    document = Document.objects.with_text().get(slug=SLUG)
    text = document.text
    words = [(m.start(), m.end()) for m in _word_pattern().finditer(text)]
    vocabulary = [text[start:end] for start, end in words]
    authors = list(User.objects.filter(email__endswith="@bench.example"))
    if not authors:
        authors = [
            User.objects.create_user(
                email=f"reader{n}@bench.example",
                display_name=f"Reader {n} {rng.choice(vocabulary).title()}",
            )
            for n in range(AUTHORS)
        ]

    # Each half is a conversation in the order it happened: every post starts
    # a thread or replies to an earlier post.
    halves = []
    for kind, count, root_share, deepest in (
        ("annotation", size // 2, ANNOTATION_ROOT_SHARE, ANNOTATION_REPLY_DEPTH),
        ("comment", size - size // 2, COMMENT_ROOT_SHARE, COMMENT_REPLY_DEPTH),
    ):
        half: list[dict] = []
        open_parents: list[dict] = []
        for index in range(count):
            if index == 0 or rng.random() < root_share:
                node = {"parent": None, "depth": 0}
                if kind == "annotation":
                    first = rng.randrange(len(words))
                    last = min(len(words) - 1, first + rng.randint(*ANNOTATION_WORDS) - 1)
                    node["anchor"] = anchor_at(text, words[first][0], words[last][1])
            else:
                # Recent posts draw most replies, as on a live page.
                parent = open_parents[int(len(open_parents) * rng.random() ** 0.5)]
                node = {"parent": parent, "depth": parent["depth"] + 1}
            half.append(node)
            if node["depth"] < deepest:
                open_parents.append(node)
        halves.append(half[::-1])
    # The two halves interleaved at random, each in its own order, a post
    # every 1 to 90 minutes.
    nodes: list[dict] = []
    moment = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    while any(halves):
        left = len(halves[0])
        half = halves[0] if rng.random() * (left + len(halves[1])) < left else halves[1]
        node = half.pop()
        moment += timedelta(minutes=rng.randint(1, 90))
        node["created_at"] = moment
        node["author"] = rng.choice(authors)
        node["body"] = markdown_body(rng, vocabulary)
        nodes.append(node)

    with transaction.atomic():
        Post.objects.filter(document=document).delete()
        XtdComment.objects.all().delete()
        for depth in range(max((node["depth"] for node in nodes), default=-1) + 1):
            level = [node for node in nodes if node["depth"] == depth]
            posts = []
            for node in level:
                post = Post(
                    document=document,
                    author=node["author"],
                    parent=node["parent"]["post"] if node["parent"] else None,
                    depth=depth,
                    body=node["body"],
                    body_html=render_markdown(node["body"]),
                    created_at=node["created_at"],
                )
                if anchor := node.get("anchor"):
                    post.revision_id = document.current_revision_id
                    post.exact, post.prefix, post.suffix = (
                        anchor.exact,
                        anchor.prefix,
                        anchor.suffix,
                    )
                    post.start, post.end = anchor.start, anchor.end
                node["post"] = post
                posts.append(post)
            Post.objects.bulk_create(posts)

        # django-comments-xtd computes its thread order as each comment is
        # saved, so they are saved one by one, in the order they were written.
        content_type = ContentType.objects.get_for_model(Document)
        site = Site.objects.get_current()
        for node in nodes:
            author = node["author"]
            comment = XtdComment(
                content_type=content_type,
                object_pk=str(document.pk),
                site=site,
                user=author,
                user_name=author.display_name,
                user_email=author.email,
                comment=node["body"],
                submit_date=node["created_at"],
                is_public=True,
            )
            if node["parent"]:
                comment.parent_id = node["parent"]["xtd"].pk
            comment.save()
            node["xtd"] = comment


def _word_pattern():
    return re.compile(r"\w[\w’'-]*")


def markdown_body(rng: random.Random, vocabulary: list[str]) -> str:
    """A note of 50 to 400 characters, with the Markdown people write in comments."""
    target = rng.randint(*BODY_LENGTH)
    paragraphs: list[str] = []
    length = 0
    while length < target:
        words = [rng.choice(vocabulary).lower() for _ in range(rng.randint(5, 18))]
        mark = rng.random()
        at = rng.randrange(len(words))
        if mark < 0.2:
            words[at] = f"**{words[at]}**"
        elif mark < 0.35:
            words[at] = f"*{words[at]}*"
        elif mark < 0.45:
            words[at] = f"[{words[at]}](https://example.org/notes/{rng.randint(1, 999)})"
        elif mark < 0.5:
            words[at] = f"`{words[at]}`"
        sentence = " ".join(words).capitalize() + rng.choice("...?!")
        form = rng.random()
        if paragraphs and form < 0.08:
            sentence = "> " + sentence
        elif paragraphs and form < 0.14:
            sentence = "\n".join(f"- {word}" for word in words[:3])
        paragraphs.append(sentence)
        length += len(sentence) + 2
    body = "\n\n".join(paragraphs)
    return body[: BODY_LENGTH[1]].rstrip() if len(body) > BODY_LENGTH[1] else body


# The measurements


def urls() -> dict[str, str]:
    from django.urls import reverse

    return {
        "ours": reverse("document", args=[SLUG]),
        "xtd": reverse("bench_xtd", args=[SLUG]),
        "floor": reverse("bench_floor", args=[SLUG]),
    }


def timed_get(client, url: str) -> tuple[float, float, object]:
    """
    Wall-clock and CPU seconds of one request, and its response.

    Each request starts from a collected heap. A full collection of Python's
    cyclic garbage collector takes 150 to 300 ms in this process, and it falls
    on whichever request crosses its threshold, often one page paying for the
    garbage of the pages before it; collecting first (untimed) leaves each page
    its own collections.
    """
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    return time.perf_counter() - wall, time.process_time() - cpu, response


def measure(size: int, runs: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # CaptureQueriesContext reads Django's query log, which keeps only the last
    # 9,000 queries; django-comments-xtd makes more than that at 5,000 comments.
    connection.queries_log = deque(maxlen=1_000_000)
    client = Client()
    result: dict = {"size": size}
    pages = urls()
    for side, url in pages.items():
        wall, _, _ = timed_get(client, url)
        slow = wall > SLOW_PAGE_SECONDS
        for _ in range(0 if slow else WARMUPS - 1):
            client.get(url)
        with CaptureQueriesContext(connection) as queries:
            _, _, response = timed_get(client, url)
        if response.status_code != 200:
            raise SystemExit(f"the {side} page answered {response.status_code} at N={size}")
        shown = posts_shown(side, response.content.decode())
        if shown != size:
            raise SystemExit(f"the {side} page shows {shown} posts instead of {size}")
        result[side] = {
            "queries": len(queries),
            "bytes": len(response.content),
            "runs": min(runs, SLOW_PAGE_RUNS) if slow else runs,
            "wall": [],
            "cpu": [],
        }
    # The pages take turns, so that a busy moment of the machine slows all alike.
    for turn in range(runs):
        for side, url in pages.items():
            if turn < result[side]["runs"]:
                wall, cpu, _ = timed_get(client, url)
                result[side]["wall"].append(wall * 1000)
                result[side]["cpu"].append(cpu * 1000)
    for side in pages:
        result[side]["wall_ms"] = statistics.median(result[side]["wall"])
        result[side]["cpu_ms"] = statistics.median(result[side]["cpu"])
    return result


def posts_shown(side: str, html: str) -> int:
    marker = {
        "ours": r'<article class="post[" ]',
        "xtd": r'<div id="c\d+" class="comment[" ]',
        "floor": r"<article>",
    }[side]
    return len(re.findall(marker, html))


def profile_ours(size: int) -> None:
    import cProfile
    import pstats

    from django.test import Client

    client = Client()
    url = urls()["ours"]
    for _ in range(WARMUPS):
        client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        client.get(url)
    profiler.disable()
    print(f"\nOur page at N={size}, 3 requests:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


# The report


def ratios(result: dict, clock: str) -> tuple[float, float]:
    """xtd / ours and ours / floor, by CPU time ("cpu_ms") or wall-clock time ("wall_ms")."""
    ours, xtd, floor = (result[side][clock] for side in SIDES)
    return xtd / ours, ours / floor


QUERY_WIDTH = {"ours": 3, "xtd": 6, "floor": 3}


def print_row(result: dict, *, header: bool) -> None:
    if header:
        groups, columns = [f"{'':>5}"], [f"{'N':>5}"]
        for side, title in zip(SIDES, ("ours", "django-comments-xtd", "floor"), strict=True):
            width = QUERY_WIDTH[side]
            groups.append(f"{title:^{20 + width}}")
            columns.append(f"{'cpu ms':>8} {'wall':>6} {'q':>{width}} {'KB':>4}")
        for title in ("xtd/ours", "ours/floor"):
            groups.append(f"{title:^15}")
            columns.append(f"{'cpu':>7} {'wall':>7}")
        print()
        print("  ".join(groups).rstrip())
        print("  ".join(columns))
    cells = [f"{result['size']:>5}"]
    for side in SIDES:
        page = result[side]
        cells.append(
            f"{page['cpu_ms']:>8.1f} {page['wall_ms']:>6.0f} "
            f"{page['queries']:>{QUERY_WIDTH[side]}} {page['bytes'] / 1024:>4.0f}"
        )
    faster, near = ratios(result, "cpu_ms")
    faster_wall, near_wall = ratios(result, "wall_ms")
    cells.append(f"{faster:>6.1f}× {faster_wall:>6.1f}×")
    cells.append(f"{near:>6.2f}× {near_wall:>6.2f}×")
    print("  ".join(cells), flush=True)


def check_goals(results: list[dict]) -> list[str]:
    failures = []
    print("\nGoals (CPU time; wall-clock time in brackets):")

    def check(ok: bool, line: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'}  {line}")
        if not ok:
            failures.append(line)

    for result in results:
        if result["size"] not in GOAL_SIZES:
            continue
        faster, near = ratios(result, "cpu_ms")
        faster_wall, near_wall = ratios(result, "wall_ms")
        check(
            faster >= GOAL_FASTER_THAN_XTD,
            f"N={result['size']}: {faster:.1f}× ({faster_wall:.1f}×) faster than "
            f"django-comments-xtd; goal: at least {GOAL_FASTER_THAN_XTD:.0f}×",
        )
        check(
            near <= GOAL_NEAR_FLOOR,
            f"N={result['size']}: {near:.2f}× ({near_wall:.2f}×) the floor's time; "
            f"goal: at most {GOAL_NEAR_FLOOR}×",
        )
    counts = sorted({result["ours"]["queries"] for result in results})
    check(
        len(counts) == 1,
        f"our page's queries at every N: {', '.join(map(str, counts))}; goal: one number",
    )
    return failures


if __name__ == "__main__":
    sys.exit(main())
