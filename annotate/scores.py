"""
Participation scores: what a class's rubric gives each student on each
reading, the rule in plain words, and when scores are worked out again.

`compute` is pure over one student's published posts on one reading (a
constant number of queries, whatever the class's size); `recompute` saves
it into the student's Score and never touches the teacher's override.
`post_changed` is called by lifecycle.py after every event that can change
what counts, and queues the recompute for whoever it concerns.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from . import tasks
from .anchoring import paragraph_spans
from .background import enqueue
from .models import Classroom, Membership, Post, Reading, Rubric, Score

CENT = Decimal("0.01")


def rubric_for(classroom: Classroom) -> Rubric:
    """
    The class's rubric, made with the defaults the first time it is asked
    for. Making it queues the score of every student on every reading, so
    that a class whose students posted before it had a rubric is scored
    whole: from then on, a reading without a saved score is one where the
    student has no post to count.
    """
    rubric, created = Rubric.objects.get_or_create(classroom=classroom)
    if created:
        recompute_class(classroom)
    return rubric


def _points(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _words(body: str) -> int:
    return len(body.split())


def _counted(posts: list[dict], limit: int, each: Decimal, late_factor: Decimal) -> dict:
    """Up to `limit` posts at `each` points, on-time ones first; a late one earns its share."""
    chosen = sorted(posts, key=lambda post: (post["late"], post["created_at"]))[:limit]
    late = sum(1 for post in chosen if post["late"])
    points = each * (len(chosen) - late) + each * late_factor * late
    return {
        "found": len(posts),
        "counted": len(chosen),
        "late": late,
        "points": str(_points(points)),
    }


def compute(reading: Reading, student, rubric: Rubric | None = None) -> tuple[Decimal, dict]:
    """
    What the rubric gives `student` on `reading`, and how: a breakdown a
    teacher and the student can read. Only published, undeleted posts count.
    At most four queries (the rubric, the text, the student's posts, the
    replies they received); pass `rubric` to save one.
    """
    rubric = rubric or rubric_for(reading.classroom)
    document = reading.document
    revision = document.current_revision
    text = revision.text if revision else ""
    published = Post.objects.filter(
        classroom_id=reading.classroom_id,
        document_id=reading.document_id,
        status=Post.Status.PUBLISHED,
        deleted_at=None,
    )
    # Unordered (the counting orders them), so that the database reads the
    # student's posts by the author index rather than the reading's by date.
    posts = list(
        published.filter(author=student)
        .order_by()
        .values(
            "pk",
            "parent_id",
            "parent__author_id",
            "start",
            "end",
            "revision_id",
            "orphaned_at",
            "body",
            "created_at",
            "endorsed_at",
        )
    )
    for post in posts:
        post["late"] = reading.due_at is not None and post["created_at"] > reading.due_at

    annotations = [
        post
        for post in posts
        if post["parent_id"] is None
        and post["start"] is not None
        and _words(post["body"]) >= rubric.min_annotation_words
    ]
    # A reply to one's own post is not a conversation with anyone.
    replies = [
        post
        for post in posts
        if post["parent_id"] is not None and post["parent__author_id"] != student.pk
    ]

    sections = paragraph_spans(text)
    passages = [
        (post["start"], post["end"])
        for post in posts
        if post["start"] is not None
        and post["parent_id"] is None
        and revision is not None
        and post["revision_id"] == revision.pk
        and post["orphaned_at"] is None
    ]
    touched = sum(
        1
        for section_start, section_end in sections
        if any(start < section_end and end > section_start for start, end in passages)
    )
    spread = rubric.spread_points * touched / len(sections) if sections else Decimal(0)

    endorsed = any(post["endorsed_at"] is not None for post in posts)
    # The replies under the student's posts, found by the parent index alone
    # (a filter on status would lead SQLite to read every published post by
    # status instead) and sorted out here: a handful, however big the class.
    replies_received = Post.objects.filter(parent_id__in=[post["pk"] for post in posts]).order_by()
    replied_to = bool(posts) and any(
        status == Post.Status.PUBLISHED
        and deleted_at is None
        and author_id not in (None, student.pk)
        for author_id, status, deleted_at in replies_received.values_list(
            "author_id", "status", "deleted_at"
        )
    )
    engagement = rubric.engagement_points if (endorsed or replied_to) else Decimal(0)

    breakdown = {
        "annotations": _counted(
            annotations, rubric.annotations_counted, rubric.annotation_points, rubric.late_factor
        ),
        "replies": _counted(
            replies, rubric.replies_counted, rubric.reply_points, rubric.late_factor
        ),
        "spread": {"touched": touched, "sections": len(sections), "points": str(_points(spread))},
        "engagement": {
            "replied_to": replied_to,
            "endorsed": endorsed,
            "points": str(_points(engagement)),
        },
    }
    total = sum(
        (Decimal(part["points"]) for part in breakdown.values()),
        start=Decimal(0),
    )
    breakdown["total"] = str(_points(total))
    return _points(total), breakdown


def recompute(reading_id: int, student_id: int) -> Score | None:
    """
    Work the student's score on the reading out again and save it. The
    override fields are never written, so a teacher's override survives.
    None when the reading is gone or the student is no longer in the class.
    """
    reading = (
        Reading.objects.select_related("classroom", "document__current_revision")
        .filter(pk=reading_id)
        .first()
    )
    if reading is None:
        return None
    membership = (
        Membership.objects.select_related("user")
        .filter(classroom_id=reading.classroom_id, user_id=student_id)
        .first()
    )
    if membership is None:
        return None
    points, breakdown = compute(reading, membership.user)
    with transaction.atomic():
        score, created = Score.objects.select_for_update().get_or_create(
            reading=reading,
            student_id=student_id,
            defaults={"computed": points, "breakdown": breakdown, "computed_at": timezone.now()},
        )
        if not created:
            score.computed, score.breakdown = points, breakdown
            score.computed_at = timezone.now()
            score.save(update_fields=["computed", "breakdown", "computed_at"])
    return score


def recompute_reading(reading_id: int) -> int:
    """Every student's score on one reading (after the rubric changed). Returns how many."""
    reading = (
        Reading.objects.select_related("classroom", "document__current_revision")
        .filter(pk=reading_id)
        .first()
    )
    if reading is None:
        return 0
    students = Membership.objects.filter(
        classroom_id=reading.classroom_id, role=Membership.Role.STUDENT
    ).values_list("user_id", flat=True)
    for student_id in students:
        recompute(reading_id, student_id)
    return len(students)


def recompute_class(classroom: Classroom) -> None:
    """Queue the recompute of every reading of the class: one task a reading."""
    for reading_id in classroom.readings.values_list("pk", flat=True):
        enqueue(tasks.recompute_score, reading_id, None)


def post_changed(post: Post) -> None:
    """
    A class post was written, edited, deleted, published, hidden or picked
    by an instructor: queue the recompute of its author's score on that
    reading, and of the parent's author's when a reply changes the replies
    they received. Public posts have no score.
    """
    if post.classroom_id is None:
        return
    reading_id = (
        Reading.objects.filter(classroom_id=post.classroom_id, document_id=post.document_id)
        .values_list("pk", flat=True)
        .first()
    )
    if reading_id is None:
        return
    concerned = {post.author_id}
    if post.parent_id is not None:
        concerned.add(
            Post.objects.filter(pk=post.parent_id).values_list("author_id", flat=True).first()
        )
    for student_id in concerned - {None}:
        enqueue(tasks.recompute_score, reading_id, student_id)


def _points_phrase(points: Decimal) -> str:
    points = points.normalize()
    return f"{points:f} point" + ("" if points == 1 else "s")


def most_points(rubric: Rubric) -> Decimal:
    """The most a reading can earn under `rubric` (overrides aside)."""
    return (
        rubric.annotation_points * rubric.annotations_counted
        + rubric.reply_points * rubric.replies_counted
        + rubric.spread_points
        + rubric.engagement_points
    )


def describe(rubric: Rubric) -> list[str]:
    """The rule, sentence by sentence, in words a teacher and a student read alike."""
    late = rubric.late_factor.normalize()
    if late == 1:
        late_words = "Posts after the due date count in full."
    elif late == 0:
        late_words = "Posts after the due date earn nothing."
    else:
        late_words = (
            f"A post after the due date earns {late * 100:.0f}% of its points "
            "(on-time posts are counted first)."
        )
    maximum = most_points(rubric)
    return [
        f"Each reading is worth up to {_points_phrase(maximum)}. Only published posts count.",
        f"Annotations: {_points_phrase(rubric.annotation_points)} for each annotation of at "
        f"least {rubric.min_annotation_words} words, for up to {rubric.annotations_counted}.",
        f"Replies: {_points_phrase(rubric.reply_points)} for each reply to a classmate, for up "
        f"to {rubric.replies_counted}.",
        f"Spread: up to {_points_phrase(rubric.spread_points)} for annotations spread through "
        "the text, in proportion to the share of its paragraphs they touch.",
        f"Engagement: {_points_phrase(rubric.engagement_points)} when someone else replies to "
        "one of your posts, or an instructor picks one.",
        late_words,
        "An instructor may set a different score for a reading.",
    ]


def explain(breakdown: dict) -> list[tuple[str, str, str]]:
    """A breakdown as rows a person reads: what, how it was counted, points."""
    if not breakdown:
        return []
    annotations, replies = breakdown["annotations"], breakdown["replies"]
    spread, engagement = breakdown["spread"], breakdown["engagement"]

    def counted(part: dict, noun: str) -> str:
        words = f"{part['counted']} of {part['found']} {noun} counted"
        return words + (f", {part['late']} after the due date" if part["late"] else "")

    if engagement["endorsed"] and engagement["replied_to"]:
        engaged = "Replied to by a classmate, and an instructor's pick"
    elif engagement["endorsed"]:
        engaged = "An instructor's pick"
    elif engagement["replied_to"]:
        engaged = "Replied to by someone else"
    else:
        engaged = "No replies received yet"
    return [
        ("Annotations", counted(annotations, "long enough"), annotations["points"]),
        ("Replies", counted(replies, "replies to others"), replies["points"]),
        (
            "Spread",
            f"{spread['touched']} of {spread['sections']} paragraphs annotated",
            spread["points"],
        ),
        ("Engagement", engaged, engagement["points"]),
    ]


def student_scores(classroom: Classroom, student, readings: list[Reading]) -> list[dict]:
    """
    One student's score on each of `readings`, for their detail page and
    their own activity page, in two queries however many readings: a
    reading without a saved score is one where they have nothing counted
    yet (see `rubric_for`), shown as 0 with no breakdown.
    """
    rubric_for(classroom)
    saved = {
        score.reading_id: score
        for score in Score.objects.filter(reading__in=readings, student=student).select_related(
            "overridden_by"
        )
    }
    rows = []
    for reading in readings:
        score = saved.get(reading.pk)
        points, breakdown = (score.points, score.breakdown) if score else (Decimal(0), {})
        rows.append(
            {
                "reading": reading,
                "score": score,
                "points": points,
                "computed": score.computed if score else points,
                "overridden": score is not None and score.override is not None,
                "lines": explain(breakdown),
            }
        )
    return rows
