"""
Participation scores as issue 14 describes them: what the rubric gives a
student on a reading, recomputed as their posts change, with the teacher's
override standing over any recomputation.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from annotate import lifecycle, scores
from annotate.models import Membership, Post, Reading, Score
from tests.factories import (
    make_class,
    make_document,
    make_moderator,
    make_post,
    make_user,
    post_comment,
)

FOUR_PARAGRAPHS = "\n\n".join(
    [
        "Alpha opens the text with a claim.",
        "Beta weighs the evidence for it.",
        "Gamma turns to the objections.",
        "Delta closes with a verdict.",
    ]
)
LONG = "This passage matters because it sets up the whole argument that follows in the essay."
PASSAGES = ["Alpha opens", "Beta weighs", "Gamma turns", "Delta closes"]


@pytest.fixture
def teacher(db):
    return make_moderator("Tess Teacher", "tess@example.com")


@pytest.fixture
def text(db):
    return make_document(FOUR_PARAGRAPHS, slug="essay", title="The essay")


@pytest.fixture
def classroom(teacher, author, stranger, text):
    return make_class(instructor=teacher, students=[author, stranger], readings=[text])


@pytest.fixture
def reading(classroom, text):
    return Reading.objects.select_related("classroom", "document__current_revision").get(
        classroom=classroom, document=text
    )


def published(text, user, classroom, body=LONG, **fields):
    return make_post(text, user, body, classroom=classroom, status=Post.Status.PUBLISHED, **fields)


def test_defaults_give_ten_points_for_a_full_contribution(
    reading, text, classroom, author, stranger
):
    mine = [published(text, author, classroom, passage=words) for words in PASSAGES]
    other = published(text, stranger, classroom)
    published(text, author, classroom, "I agree.", parent=other)
    published(text, author, classroom, "And so on.", parent=other)
    published(text, stranger, classroom, "Good point.", parent=mine[0])

    points, breakdown = scores.compute(reading, author)

    assert points == Decimal("10.00")
    assert breakdown["annotations"] == {"found": 4, "counted": 3, "late": 0, "points": "6.00"}
    assert breakdown["replies"]["points"] == "2.00"
    assert breakdown["spread"] == {"touched": 4, "sections": 4, "points": "1.00"}
    assert breakdown["engagement"]["replied_to"] is True


def test_short_unpublished_deleted_and_self_replies_do_not_count(reading, text, classroom, author):
    published(text, author, classroom, "Too short to count.", passage="Alpha opens")
    make_post(
        text, author, LONG, classroom=classroom, passage="Beta weighs", status=Post.Status.PENDING
    )
    published(text, author, classroom, passage="Gamma turns", deleted_at=timezone.now())
    own = published(text, author, classroom)
    published(text, author, classroom, "Answering myself.", parent=own)

    points, breakdown = scores.compute(reading, author)

    assert breakdown["annotations"]["counted"] == 0
    assert breakdown["replies"]["counted"] == 0
    assert breakdown["engagement"]["points"] == "0.00"
    # The short annotation still touches one of four paragraphs.
    assert breakdown["spread"] == {"touched": 1, "sections": 4, "points": "0.25"}
    assert points == Decimal("0.25")


def test_late_posts_earn_the_late_share_and_on_time_ones_are_counted_first(
    reading, text, classroom, author
):
    reading.due_at = timezone.now() - timedelta(days=1)
    reading.save(update_fields=["due_at"])
    published(text, author, classroom, passage="Alpha opens", minutes_ago=3 * 24 * 60)
    published(text, author, classroom, passage="Beta weighs")
    published(text, author, classroom, passage="Gamma turns")
    published(text, author, classroom, passage="Delta closes")

    points, breakdown = scores.compute(reading, author)

    # One on time (2) and two late at half (1 + 1).
    assert breakdown["annotations"] == {"found": 4, "counted": 3, "late": 2, "points": "4.00"}
    assert points == Decimal("5.00")


def test_an_instructors_pick_earns_the_engagement_points(reading, text, classroom, author, teacher):
    published(text, author, classroom, endorsed_at=timezone.now(), endorsed_by=teacher)

    _, breakdown = scores.compute(reading, author)

    assert breakdown["engagement"] == {"replied_to": False, "endorsed": True, "points": "1.00"}


def test_compute_takes_the_same_queries_however_many_posts(
    reading, text, classroom, author, stranger, django_assert_num_queries
):
    rubric = scores.rubric_for(classroom)
    published(text, author, classroom, passage="Alpha opens")
    with django_assert_num_queries(2):
        scores.compute(reading, author, rubric)
    for words in PASSAGES:
        other = published(text, stranger, classroom, passage=words)
        published(text, author, classroom, "A reply.", parent=other)
        published(text, stranger, classroom, "Back.", parent=published(text, author, classroom))
    with django_assert_num_queries(2):
        scores.compute(reading, author, rubric)


def test_posting_on_the_reading_page_saves_the_students_score(
    client, run_background_work, text, classroom, author, stranger
):
    client.force_login(author)
    post_comment(client, text, "A page comment.", classroom=classroom)
    parent = Post.objects.get(author=author)
    client.force_login(stranger)
    post_comment(client, text, "A reply to Ada.", classroom=classroom, parent=parent)

    ada = Score.objects.get(student=author)
    assert ada.breakdown["engagement"]["replied_to"] is True
    assert ada.computed == Decimal("1.00")
    assert Score.objects.get(student=stranger).computed == Decimal("1.00")


def test_deleting_a_post_takes_its_points_away(run_tasks, text, classroom, author):
    post = published(text, author, classroom, passage="Alpha opens")
    run_tasks(scores.post_changed, post)
    assert Score.objects.get(student=author).computed == Decimal("2.25")

    run_tasks(lifecycle.delete, post)

    assert Score.objects.get(student=author).computed == Decimal("0.00")


def test_a_moderators_removal_takes_its_points_away(run_tasks, text, classroom, author, teacher):
    post = published(text, author, classroom, passage="Alpha opens")
    run_tasks(scores.post_changed, post)

    run_tasks(lifecycle.decide, post, "remove", by=teacher)

    assert Score.objects.get(student=author).computed == Decimal("0.00")


def test_public_posts_have_no_score(run_tasks, text, author):
    run_tasks(scores.post_changed, make_post(text, author, status=Post.Status.PUBLISHED))

    assert not Score.objects.exists()


def test_an_override_survives_recomputation(reading, text, classroom, author, teacher):
    score = scores.recompute(reading.pk, author.pk)
    score.override, score.override_comment = Decimal("7"), "Spoke up in class."
    score.overridden_by = teacher
    score.save()
    published(text, author, classroom, passage="Alpha opens")

    scores.recompute(reading.pk, author.pk)

    score.refresh_from_db()
    assert score.computed == Decimal("2.25")
    assert (score.override, score.override_comment) == (Decimal("7.00"), "Spoke up in class.")
    assert score.points == Decimal("7.00")


def test_recompute_skips_someone_no_longer_in_the_class(reading, author):
    Membership.objects.filter(user=author).delete()

    assert scores.recompute(reading.pk, author.pk) is None
    assert not Score.objects.exists()


def test_the_rule_reads_in_plain_words(classroom):
    rubric = scores.rubric_for(classroom)
    rubric.late_factor = Decimal("0.25")

    rule = scores.describe(rubric)

    assert rule[0] == "Each reading is worth up to 10 points. Only published posts count."
    assert "2 points for each annotation of at least 15 words, for up to 3." in rule[1]
    assert any("earns 25% of its points" in sentence for sentence in rule)


def test_the_rubric_is_made_once_with_its_defaults(classroom):
    assert scores.rubric_for(classroom).pk == scores.rubric_for(classroom).pk
    assert scores.rubric_for(classroom).annotation_points == Decimal("2")


def test_a_student_elsewhere_is_not_scored_here(reading, text, classroom):
    outsider = make_user("Out Sider", "out@example.com")
    published(text, outsider, classroom)

    assert scores.recompute(reading.pk, outsider.pk) is None
