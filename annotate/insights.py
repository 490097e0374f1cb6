"""
A reading's insights, for its teaching staff: the text as a heatmap of how
many students annotated each passage, where the class is stuck (questions,
and questions nobody has answered), and posts per day around the due date.

Everything is counted from one query of the posts the staff read on the
reading's page (`Space.posts_for`, and only what the page shows), so the page
costs the same few queries for ten posts or ten thousand. The pictures are
drawn here and in the template as HTML and SVG, each with a table saying the
same: no script, no inline style, so the strict CSP holds.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import Truncator
from django.views.decorators.http import require_safe

from .anchoring import segment
from .classes import asks_something
from .discussion import is_highlighted
from .models import Membership, Post
from .spaces import Space, get_space_for_reader, on_the_page

BANDS = [
    # (fewest students, label): a segment falls in the last band it reaches.
    (0, "no students"),
    (1, "1 student"),
    (2, "2–3 students"),
    (4, "4–6 students"),
    (7, "7 or more students"),
]
"""The heatmap's shades, from none to most distinct students annotating a passage."""

STUCK_ROWS = 5
"""How many passages each "where the class is stuck" list shows."""

CHART_WIDTH = 600
CHART_HEIGHT = 160
CHART_TOP = 20
"""Room above the bars for the due date's label."""


def band_of(students: int) -> int:
    return max(index for index, (least, _) in enumerate(BANDS) if students >= least)


@dataclass
class Thread:
    """An annotation's thread, as the insights count it."""

    pk: int
    start: int
    end: int
    quote: str
    questions: int = 0
    """Published posts in the thread asking something (`asks_something`)."""
    unanswered: bool = False
    """The first post asks something and no published reply answers it."""


@dataclass
class Run:
    """A run of the text covered by the same annotations, with who annotated it."""

    text: str
    start: int
    students: int
    annotations: int
    questions: int
    band: int


@dataclass
class Passage:
    """Words that one or more annotations quote exactly, with their threads."""

    quote: str
    start: int
    threads: list[Thread] = field(default_factory=list)

    @property
    def questions(self) -> int:
        return sum(thread.questions for thread in self.threads)

    @property
    def unanswered(self) -> int:
        return sum(thread.unanswered for thread in self.threads)


@dataclass
class Day:
    day: date
    posts: int
    when: str = "before"
    """"before", "due" or "after": where the day falls against the due date's day."""
    # The bar's place in the chart, in the SVG's own units.
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0


def shown_posts(space: Space, user) -> list:
    """
    The published posts the reading's page shows `user` (none deleted, no
    reply under a post they cannot read), each knowing whether it asks
    something and whether a student of the class wrote it. One query.
    """
    students = Membership.objects.filter(
        classroom=space.classroom, role=Membership.Role.STUDENT, user=OuterRef("author_id")
    )
    fields = [
        "pk",
        "parent_id",
        "author_id",
        "status",
        "deleted_at",
        "created_at",
        "revision_id",
        "start",
        "end",
        "exact",
        "asks",
        "by_student",
    ]
    rows = (
        space.posts_for(user)
        .annotate(asks=asks_something(), by_student=Exists(students))
        .values_list(*fields, named=True)
    )
    readable = {row.pk: row for row in rows}
    shown = on_the_page({pk: row.parent_id for pk, row in readable.items()})
    return sorted(
        (
            readable[pk]
            for pk in shown
            if readable[pk].deleted_at is None and readable[pk].status == Post.Status.PUBLISHED
        ),
        key=lambda row: (row.created_at, row.pk),
    )


def annotation_threads(posts: list, text: str, revision_id: int | None) -> dict[int, Thread]:
    """Each highlighted annotation's thread, by its first post's id, with its questions."""
    by_pk = {row.pk: row for row in posts}

    def root_of(row):
        while row.parent_id is not None:
            row = by_pk[row.parent_id]
        return row

    threads = {
        row.pk: Thread(row.pk, row.start, row.end, row.exact, unanswered=row.asks)
        for row in posts
        if row.parent_id is None
        and row.start is not None
        and is_highlighted(row, text, revision_id)
    }
    for row in posts:
        thread = threads.get(root_of(row).pk)
        if thread is None:
            continue
        thread.questions += row.asks
        if row.parent_id == thread.pk:
            thread.unanswered = False
    return threads


def heatmap(text: str, threads: dict[int, Thread], authors: dict[int, int | None]):
    """
    The text's paragraphs, each a list of runs shaded by how many different
    students' annotations cover them. `authors` gives a student author for
    each annotation (None for the staff's).
    """
    highlights = [(pk, thread.start, thread.end) for pk, thread in threads.items()]
    paragraphs = []
    for paragraph in segment(text, highlights):
        runs = []
        for piece in paragraph.segments:
            students = len({authors[pk] for pk in piece.post_ids} - {None})
            runs.append(
                Run(
                    text=piece.text,
                    start=piece.start,
                    students=students,
                    annotations=len(piece.post_ids),
                    questions=sum(threads[pk].questions for pk in piece.post_ids),
                    band=band_of(students),
                )
            )
        paragraphs.append(runs)
    return paragraphs


def stuck_passages(threads: dict[int, Thread]) -> tuple[list[Passage], list[Passage]]:
    """The passages with the most questions, and those with the most unanswered ones."""
    passages: dict[tuple[int, int], Passage] = {}
    for thread in threads.values():
        passage = passages.setdefault(
            (thread.start, thread.end), Passage(_excerpt(thread.quote), thread.start)
        )
        passage.threads.append(thread)
    asked = [passage for passage in passages.values() if passage.questions]
    most_questions = sorted(asked, key=lambda p: (-p.questions, -p.unanswered, p.start))
    most_unanswered = sorted(
        (passage for passage in asked if passage.unanswered),
        key=lambda p: (-p.unanswered, -p.questions, p.start),
    )
    return most_questions[:STUCK_ROWS], most_unanswered[:STUCK_ROWS]


def activity(posts: list, zone, due_at) -> list[Day]:
    """
    Posts per day in the class's time zone, every day from the first post
    (or the due date, if earlier) to the last, each bar placed in the chart.
    """
    if not posts:
        return []
    counts = Counter(row.created_at.astimezone(zone).date() for row in posts)
    due_day = due_at.astimezone(zone).date() if due_at else None
    first, last = min(counts), max(counts)
    if due_day is not None:
        first, last = min(first, due_day), max(last, due_day)
    total_days = (last - first).days + 1
    days = [
        Day(first + timedelta(days=offset), counts[first + timedelta(days=offset)])
        for offset in range(total_days)
    ]
    most = max(counts.values())
    slot = CHART_WIDTH / total_days
    for day in days:
        if due_day is not None and day.day >= due_day:
            day.when = "due" if day.day == due_day else "after"
        day.width = round(max(slot * 0.8, 1), 2)
        day.x = round((day.day - first).days * slot + (slot - day.width) / 2, 2)
        day.height = round((CHART_HEIGHT - CHART_TOP) * day.posts / most, 2)
        day.y = round(CHART_HEIGHT - day.height, 2)
    return days


def due_line(days: list[Day], due_at, zone) -> float | None:
    """Where the due date falls along the chart: in its day's slot, at its time of day."""
    if due_at is None or not days:
        return None
    moment = due_at.astimezone(zone)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    into_day = (moment - midnight).total_seconds() / 86_400
    return round(((moment.date() - days[0].day).days + into_day) * CHART_WIDTH / len(days), 2)


def _excerpt(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(90)


@require_safe
def insights(request: HttpRequest, class_slug: str, slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    space = get_space_for_reader(request, slug, class_slug)
    if not space.teaches:
        raise Http404("Only the class's instructors and teaching assistants can see that.")
    document, classroom, reading = space.document, space.classroom, space.reading
    text = document.text
    posts = shown_posts(space, request.user)
    threads = annotation_threads(posts, text, document.current_revision_id)
    authors_by_pk = {row.pk: row.author_id if row.by_student else None for row in posts}
    paragraphs = heatmap(text, threads, authors_by_pk)
    runs = [run for paragraph in paragraphs for run in paragraph if run.annotations]
    ranked = sorted(runs, key=lambda run: (-run.students, -run.annotations, run.start))
    band_counts = Counter(run.band for paragraph in paragraphs for run in paragraph)
    most_questions, most_unanswered = stuck_passages(threads)
    days = activity(posts, classroom.zone, reading.due_at)
    due_x = due_line(days, reading.due_at, classroom.zone)
    after_due = sum(1 for row in posts if reading.due_at and row.created_at > reading.due_at)
    context = {
        "space": space,
        "document": document,
        "classroom": classroom,
        "reading": reading,
        "post_count": len(posts),
        "annotation_count": len(threads),
        "annotating_students": len({authors_by_pk[pk] for pk in threads} - {None}),
        "paragraphs": paragraphs,
        "ranked": [(run, _excerpt(run.text)) for run in ranked],
        "legend": [
            {"band": index, "label": label, "runs": band_counts[index]}
            for index, (_, label) in enumerate(BANDS)
        ],
        "most_questions": most_questions,
        "most_unanswered": most_unanswered,
        "days": days,
        "posted_days": [day for day in days if day.posts],
        "first_day": days[0].day if days else None,
        "last_day": days[-1].day if days else None,
        "before_due": len(posts) - after_due,
        "after_due": after_due,
        "most_in_a_day": max((day.posts for day in days), default=0),
        "due_x": due_x,
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT, "top": CHART_TOP},
    }
    return render(request, "annotate/insights.html", context)
