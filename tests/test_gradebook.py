"""
The rubric page, the gradebook (page and CSV), each student's scores with
the teacher's override, and a student's own breakdown on "My activity".
"""

import csv
import io
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate import scores
from annotate.models import Membership, Post, Reading, Rubric, Score
from tests.factories import make_class, make_document, make_moderator, make_post, make_user


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


LONG = "This passage matters because it sets up the whole argument that follows in the essay."


@pytest.fixture
def teacher(db):
    return make_moderator("Tess Teacher", "tess@example.com")


@pytest.fixture
def assistant(db):
    return make_user("Tia Assistant", "tia@example.com")


@pytest.fixture
def text(db):
    return make_document(slug="essay", title="The essay")


@pytest.fixture
def classroom(teacher, assistant, author, text):
    classroom = make_class(instructor=teacher, students=[author], readings=[text])
    Membership.objects.create(classroom=classroom, user=assistant, role=Membership.Role.ASSISTANT)
    return classroom


@pytest.fixture
def reading(classroom, text):
    return Reading.objects.get(classroom=classroom, document=text)


def url(name, classroom, *args):
    return reverse(name, args=[classroom.slug, *args])


def scored(reading, student, points="3", **fields):
    return Score.objects.create(
        reading=reading, student=student, computed=Decimal(points), **fields
    )


def membership_of(classroom, user):
    return Membership.objects.get(classroom=classroom, user=user)


# The rubric


def test_instructor_changes_the_rubric_and_every_score_is_worked_out_again(
    client, run_background_work, classroom, teacher, author, text
):
    make_post(
        text, author, LONG, classroom=classroom, passage="First paragraph", status="published"
    )
    client.force_login(teacher)
    data = {
        "annotation_points": "5", "annotations_counted": "3", "min_annotation_words": "10",
        "reply_points": "1", "replies_counted": "2", "spread_points": "1",
        "engagement_points": "1", "late_factor": "0.5", "visible_to_students": "on",
    }  # fmt: skip

    response = client.post(url("class_rubric", classroom), data, follow=True)

    assert "The rubric is saved" in response.content.decode()
    assert "5 points for each annotation of at least 10 words" in response.content.decode()
    assert Rubric.objects.get(classroom=classroom).visible_to_students
    # 5 for the annotation, 0.5 for touching one of two paragraphs.
    assert Score.objects.get(student=author).computed == Decimal("5.50")


def test_a_late_share_above_one_is_refused_with_a_clear_message(client, classroom, teacher):
    client.force_login(teacher)
    data = {
        "annotation_points": "2", "annotations_counted": "3", "min_annotation_words": "15",
        "reply_points": "1", "replies_counted": "2", "spread_points": "1",
        "engagement_points": "1", "late_factor": "1.5",
    }  # fmt: skip

    response = client.post(url("class_rubric", classroom), data)

    assert response.status_code == 400
    assert "Give a share between 0" in response.content.decode()
    assert Rubric.objects.get(classroom=classroom).late_factor == Decimal("0.5")


def test_a_teaching_assistant_reads_the_rubric_but_cannot_change_it(client, classroom, assistant):
    client.force_login(assistant)

    page = client.get(url("class_rubric", classroom)).content.decode()

    assert "Each reading is worth up to 10 points" in page
    assert "Save the rubric" not in page
    assert client.post(url("class_rubric", classroom), {"late_factor": "1"}).status_code == 403


def test_students_and_strangers_do_not_reach_the_gradebook(client, classroom, author, stranger):
    for user in (author, stranger):
        client.force_login(user)
        assert client.get(url("gradebook", classroom)).status_code == 404
        assert client.get(url("class_rubric", classroom)).status_code == 404
        assert client.get(url("export_gradebook_csv", classroom)).status_code == 404


# The gradebook


def test_gradebook_shows_points_totals_and_overrides(client, classroom, teacher, author, reading):
    second = Reading.objects.create(
        classroom=classroom, document=make_document(slug="two", title="Two")
    )
    scored(reading, author, "3")
    scored(second, author, "2", override=Decimal("4.5"))
    client.force_login(teacher)

    page = client.get(url("gradebook", classroom)).content.decode()

    assert "set by an instructor" in page
    assert "7.5" in page  # 3 + the override 4.5
    assert url("student_scores", classroom, membership_of(classroom, author).pk) in page


def test_a_student_with_nothing_scored_reads_as_not_scored_yet(client, classroom, teacher):
    client.force_login(teacher)

    assert "not scored yet" in client.get(url("gradebook", classroom)).content.decode()


def test_the_gradebook_takes_the_same_queries_however_big_the_class(
    client, classroom, teacher, reading, django_assert_num_queries
):
    client.force_login(teacher)
    client.get(url("gradebook", classroom))
    with CaptureQueriesContext(connection) as small:
        client.get(url("gradebook", classroom))
    for number in range(6):
        student = make_user(f"Student {number}", f"s{number}@example.com")
        Membership.objects.create(classroom=classroom, user=student)
        extra = make_document(slug=f"text-{number}", title=f"Text {number}")
        scored(Reading.objects.create(classroom=classroom, document=extra), student)
        scored(reading, student)
    with django_assert_num_queries(len(small.captured_queries)):
        page = client.get(url("gradebook", classroom)).content.decode()
    assert "Student 5" in page


def test_the_gradebook_csv_has_a_row_a_student_and_a_column_a_reading(
    client, classroom, teacher, author, reading
):
    author.display_name = "=HYPERLINK(1)"
    author.save(update_fields=["display_name"])
    scored(reading, author, "3", override=Decimal("8"))
    client.force_login(teacher)

    response = client.get(url("export_gradebook_csv", classroom))

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["student", "email", "The essay", "total"]
    assert rows[1] == ["'=HYPERLINK(1)", "ada@example.com", "8.00", "8.00"]
    assert len(rows) == 2


def test_teaching_assistants_see_the_gradebook_but_not_its_csv(client, classroom, assistant):
    client.force_login(assistant)

    assert client.get(url("gradebook", classroom)).status_code == 200
    assert client.get(url("export_gradebook_csv", classroom)).status_code == 403


# A student's scores and the override


def test_an_instructors_override_survives_recomputation(
    client, classroom, teacher, author, reading, text
):
    client.force_login(teacher)
    detail = url("student_scores", classroom, membership_of(classroom, author).pk)

    response = client.post(
        detail, {"reading": reading.pk, "points": "9", "comment": "Led the seminar."}, follow=True
    )

    page = response.content.decode()
    assert "Your score for The essay is saved" in page
    assert "Led the seminar." in page
    make_post(
        text, author, LONG, classroom=classroom, passage="First paragraph", status="published"
    )
    scores.recompute(reading.pk, author.pk)
    score = Score.objects.get(student=author)
    assert (score.points, score.computed) == (Decimal("9.00"), Decimal("2.50"))
    assert (score.override_comment, score.overridden_by) == ("Led the seminar.", teacher)


def test_clearing_the_override_gives_the_rubrics_score_back(
    client, classroom, teacher, author, reading
):
    scored(reading, author, "2", override=Decimal("9"), override_comment="Why.")
    client.force_login(teacher)
    detail = url("student_scores", classroom, membership_of(classroom, author).pk)

    client.post(detail, {"reading": reading.pk, "points": "", "comment": ""})

    score = Score.objects.get(student=author)
    assert (score.override, score.points) == (None, Decimal("2.00"))


def test_a_negative_override_is_refused_and_nothing_changes(
    client, classroom, teacher, author, reading
):
    client.force_login(teacher)
    detail = url("student_scores", classroom, membership_of(classroom, author).pk)

    response = client.post(detail, {"reading": reading.pk, "points": "-1", "comment": ""})

    assert response.status_code == 400
    assert "Nothing was saved yet" in response.content.decode()
    assert not Score.objects.exists()


def test_a_teaching_assistant_reads_a_students_scores_but_cannot_override(
    client, classroom, assistant, author, reading
):
    scored(reading, author, "2", override=Decimal("5"), override_comment="Private note.")
    client.force_login(assistant)
    detail = url("student_scores", classroom, membership_of(classroom, author).pk)

    page = client.get(detail).content.decode()

    assert "Private note." in page
    assert "Save the score" not in page
    assert client.post(detail, {"reading": reading.pk, "points": "1"}).status_code == 403


def test_the_detail_page_of_a_non_student_or_another_class_is_not_found(
    client, classroom, teacher, assistant
):
    client.force_login(teacher)
    other = make_class("Other", "other", students=[make_user("Olga", "olga@example.com")])

    for membership in (membership_of(classroom, assistant), other.memberships.get()):
        assert client.get(url("student_scores", classroom, membership.pk)).status_code == 404


def test_a_class_scored_for_the_first_time_is_scored_whole(
    client, classroom, teacher, author, text, django_capture_on_commit_callbacks
):
    # Posts from before the class had a rubric, which no recompute has seen.
    make_post(
        text, author, LONG, classroom=classroom, passage="First paragraph", status="published"
    )
    client.force_login(teacher)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(url("gradebook", classroom))

    assert Score.objects.get(student=author).computed == Decimal("2.50")
    assert "–" in soup(first).select("td.score-cell")[0].get_text()  # worked out after the page
    page = client.get(url("student_scores", classroom, membership_of(classroom, author).pk))
    assert "The essay: 2.50 points" in page.content.decode()


def test_a_reading_with_nothing_counted_says_so_without_working_anything_out(
    client, classroom, teacher, author, reading
):
    scores.rubric_for(classroom)
    client.force_login(teacher)
    target = url("student_scores", classroom, membership_of(classroom, author).pk)

    page = soup(client.get(target))

    assert "The essay: 0 points" in page.select_one("h2").get_text()
    assert "Nothing counted yet" in page.select_one(".score-reading .empty").get_text()


def test_a_students_detail_page_takes_the_same_queries_however_many_readings(
    client, classroom, teacher, author, text, reading, django_assert_num_queries
):
    make_post(text, author, LONG, classroom=classroom, passage="First paragraph")
    scored(reading, author, breakdown=scores.compute(reading, author)[1])
    client.force_login(teacher)
    target = url("student_scores", classroom, membership_of(classroom, author).pk)
    client.get(target)
    with CaptureQueriesContext(connection) as small:
        client.get(target)
    for number in range(5):
        extra = make_document(slug=f"text-{number}", title=f"Text {number}")
        more = Reading.objects.create(classroom=classroom, document=extra)
        make_post(extra, author, LONG, classroom=classroom, passage="First paragraph")
        scored(more, author, breakdown=scores.compute(more, author)[1])

    with django_assert_num_queries(len(small.captured_queries)):
        page = soup(client.get(target))

    assert len(page.select(".score-reading")) == 6


# My activity


def test_students_see_their_breakdown_when_the_teacher_shows_scores(
    client, classroom, author, reading
):
    scored(
        reading,
        author,
        "2",
        override=Decimal("6"),
        override_comment="Private note.",
        breakdown=scores.compute(reading, author)[1],
    )
    rubric = scores.rubric_for(classroom)
    client.force_login(author)

    assert "My participation" not in client.get(reverse("my_activity")).content.decode()

    rubric.visible_to_students = True
    rubric.save()
    page = client.get(reverse("my_activity")).content.decode()

    assert "My participation in Modern History" in page
    assert "The essay: 6 points" in page
    assert "Each reading is worth up to 10 points" in page
    assert "Private note." not in page


def test_my_activity_takes_the_same_queries_however_many_scored_readings(
    client, classroom, author, text, reading, django_assert_num_queries
):
    rubric = scores.rubric_for(classroom)
    rubric.visible_to_students = True
    rubric.save()
    make_post(text, author, LONG, classroom=classroom, passage="First paragraph")
    scored(reading, author, breakdown=scores.compute(reading, author)[1])
    client.force_login(author)
    client.get(reverse("my_activity"))
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("my_activity"))
    for number in range(5):
        extra = make_document(slug=f"text-{number}", title=f"Text {number}")
        more = Reading.objects.create(classroom=classroom, document=extra)
        make_post(extra, author, LONG, classroom=classroom, passage="First paragraph")
        scored(more, author, breakdown=scores.compute(more, author)[1])

    with django_assert_num_queries(len(small.captured_queries)):
        page = client.get(reverse("my_activity")).content.decode()

    assert "Text 4: 3 points" in page


def test_class_page_links_the_rubric_and_gradebook_for_its_staff(
    client, classroom, teacher, author
):
    client.force_login(teacher)
    page = client.get(classroom.get_absolute_url()).content.decode()
    assert url("gradebook", classroom) in page and url("class_rubric", classroom) in page

    client.force_login(author)
    assert (
        url("gradebook", classroom) not in client.get(classroom.get_absolute_url()).content.decode()
    )


def test_only_published_posts_count_in_the_gradebook(run_tasks, classroom, author, text, reading):
    post = make_post(
        text,
        author,
        LONG,
        classroom=classroom,
        passage="First paragraph",
        status=Post.Status.PENDING,
    )
    run_tasks(scores.post_changed, post)

    assert Score.objects.get(student=author).computed == Decimal("0.00")


def test_the_gradebook_csv_takes_the_same_queries_however_big_the_class(
    client, classroom, teacher, reading, django_assert_num_queries
):
    client.force_login(teacher)
    client.get(url("export_gradebook_csv", classroom))  # the first makes the rubric
    with CaptureQueriesContext(connection) as small:
        client.get(url("export_gradebook_csv", classroom))
    for number in range(5):
        student = make_user(f"Student {number}", f"s{number}@example.com")
        Membership.objects.create(classroom=classroom, user=student)
        extra = make_document(slug=f"text-{number}", title=f"Text {number}")
        scored(Reading.objects.create(classroom=classroom, document=extra), student)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url("export_gradebook_csv", classroom))
    assert len(response.content.decode("utf-8-sig").splitlines()) == 7
