"""
The teaching staff's view of a class's reading: threads filtered by student,
questions or unanswered questions, who has and has not posted, and a
once-a-day reminder to those who have not.
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotate.models import ClassGroup, Membership, OutboundEmail, Post, Reading, User
from tests.factories import make_class, make_document, make_post, make_user
from tests.test_classes import messages_after, soup, words

READING = "/classes/history/texts/sample/"
REMIND = READING + "remind/"


@pytest.fixture
def instructor(db) -> User:
    return make_user("Tess Teacher", "tess@example.com")


@pytest.fixture
def assistant(db) -> User:
    return make_user("Tia Assistant", "tia@example.com")


@pytest.fixture
def ada(db) -> User:
    return make_user("Ada Author", "ada@example.com")


@pytest.fixture
def ben(db) -> User:
    return make_user("Ben Quiet", "ben@example.com")


@pytest.fixture
def document(db):
    return make_document()


@pytest.fixture
def classroom(instructor, assistant, ada, ben, document):
    classroom = make_class(instructor=instructor, students=[ada, ben], readings=[document])
    Membership.objects.create(classroom=classroom, user=assistant, role=Membership.Role.ASSISTANT)
    return classroom


def membership(classroom, user) -> Membership:
    return Membership.objects.get(classroom=classroom, user=user)


def thread_bodies(response) -> list[str]:
    return [words(body) for body in soup(response).select(".post-body")]


def test_a_student_sees_no_teaching_tools(client, classroom, ada):
    client.force_login(ada)
    page = soup(client.get(READING))
    assert page.select_one(".instructor-tools") is None
    assert "Remind those who haven" not in page.get_text()


def test_the_staff_filter_threads_by_student(client, classroom, document, assistant, ada, ben):
    asked = make_post(document, ada, "Ada's first thought.", classroom=classroom)
    make_post(document, ben, "Ben answers Ada.", classroom=classroom, parent=asked)
    make_post(document, ben, "Ben's own thought.", classroom=classroom)
    client.force_login(assistant)

    response = client.get(READING, {"student": membership(classroom, ada).pk})

    assert thread_bodies(response) == ["Ada's first thought.", "Ben answers Ada."]
    assert "Showing threads that Ada Author wrote in." in words(soup(response).main)
    ben_threads = thread_bodies(client.get(READING, {"student": membership(classroom, ben).pk}))
    assert ben_threads == ["Ada's first thought.", "Ben answers Ada.", "Ben's own thought."]


def test_a_student_of_another_class_or_nonsense_shows_everyone(
    client, classroom, document, instructor, ada
):
    make_post(document, ada, "Visible.", classroom=classroom)
    client.force_login(instructor)
    for wanted in ["99999", "x", "9" * 40, str(membership(classroom, instructor).pk)]:
        response = client.get(READING, {"student": wanted})
        assert response.status_code == 200
        assert thread_bodies(response) == ["Visible."]
        assert "That student is not one of this class’s" in words(soup(response).main)


def test_the_staff_see_questions_only_and_unanswered_only(
    client, classroom, document, instructor, ada, ben
):
    answered = make_post(document, ada, "Why is it so?", classroom=classroom)
    make_post(document, ben, "Because.", classroom=classroom, parent=answered)
    make_post(document, ben, "What does this mean?", classroom=classroom)
    make_post(document, ben, "A statement.", classroom=classroom)
    make_post(document, ben, "Held reply?", classroom=classroom, status=Post.Status.PENDING)
    client.force_login(instructor)

    questions = thread_bodies(client.get(READING, {"show": "questions"}))
    unanswered = thread_bodies(client.get(READING, {"show": "unanswered"}))
    everything = thread_bodies(client.get(READING, {"show": "nonsense"}))

    assert questions == ["Why is it so?", "Because.", "What does this mean?"]
    assert unanswered == ["What does this mean?"]
    assert len(everything) == 4


def test_the_student_and_question_filters_hold_together(
    client, classroom, document, instructor, ada, ben
):
    make_post(document, ada, "Ada asks?", classroom=classroom)
    make_post(document, ben, "Ben asks?", classroom=classroom)
    client.force_login(instructor)

    response = client.get(READING, {"show": "unanswered", "student": membership(classroom, ben).pk})

    assert thread_bodies(response) == ["Ben asks?"]


def test_the_roll_says_who_has_and_has_not_posted(
    client, classroom, document, instructor, ada, ben
):
    make_post(document, ada, "One.", classroom=classroom)
    make_post(document, ada, "Two, held.", classroom=classroom, status=Post.Status.PENDING)
    make_post(document, ben, "Spam.", classroom=classroom, status=Post.Status.SPAM)
    client.force_login(instructor)

    roll = soup(client.get(READING)).select_one("#roll")

    assert "1 of 2 students have posted" in words(roll.summary)
    assert "Posted (1) Ada Author (2 posts)" in words(roll)
    assert "Not posted yet (1) Ben Quiet" in words(roll)


def test_the_roll_goes_group_by_group_on_a_reading_in_groups(
    client, classroom, document, instructor, ada, ben
):
    Reading.objects.filter(classroom=classroom).update(in_groups=True)
    reds = ClassGroup.objects.create(classroom=classroom, name="Reds")
    Membership.objects.filter(user=ada).update(group=reds)
    make_post(document, ada, "Red post.", classroom=classroom)
    client.force_login(instructor)

    roll = words(soup(client.get(READING)).select_one("#roll"))

    assert "Reds: 1 of 1 posted" in roll
    assert "No group: 0 of 1 posted" in roll


def add_students(classroom, document, count: int, start: int) -> None:
    for number in range(start, start + count):
        student = make_user(f"Student {number}", f"student{number}@example.com")
        Membership.objects.create(classroom=classroom, user=student)
        if number % 2:
            make_post(document, student, f"Post {number}.", classroom=classroom)


def test_the_roll_costs_the_same_queries_for_a_small_or_a_large_class(
    client, classroom, document, instructor, django_assert_num_queries
):
    add_students(classroom, document, 3, 0)
    client.force_login(instructor)
    with CaptureQueriesContext(connection) as small:
        assert "of 5 students have posted" in words(soup(client.get(READING)).select_one("#roll"))

    add_students(classroom, document, 40, 100)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(READING)
    assert "of 45 students have posted" in words(soup(response).select_one("#roll"))


def test_reminding_emails_those_who_have_not_posted_once_a_day(
    client, classroom, document, assistant, ada, ben
):
    make_post(document, ada, "Posted.", classroom=classroom)
    client.force_login(assistant)

    response = client.post(REMIND)

    assert messages_after(client, response) == ["Reminded 1 student who had not posted yet."]
    email = OutboundEmail.objects.get()
    assert email.to == ["ben@example.com"]
    assert "http://" in email.body and READING in email.body
    assert Reading.objects.get().reminded_at is not None

    again = client.post(REMIND)
    assert "reminded less than a day ago" in messages_after(client, again)[0]
    assert OutboundEmail.objects.count() == 1
    button = soup(client.get(READING)).select_one(".remind-form button")
    assert button.has_attr("disabled")
    assert "Last reminded" in words(soup(client.get(READING)).select_one(".remind-form"))

    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        later = client.post(REMIND)
        assert messages_after(client, later) == ["Reminded 1 student who had not posted yet."]
    assert OutboundEmail.objects.count() == 2


def test_a_pending_post_counts_as_having_posted_but_spam_does_not(
    client, classroom, document, instructor, ada, ben
):
    make_post(document, ada, "Held.", classroom=classroom, status=Post.Status.PENDING)
    make_post(document, ben, "Spam.", classroom=classroom, status=Post.Status.SPAM)
    client.force_login(instructor)

    client.post(REMIND)

    assert [email.to for email in OutboundEmail.objects.all()] == [["ben@example.com"]]


def test_nobody_to_remind_sends_nothing(client, classroom, document, instructor, ada, ben):
    make_post(document, ada, "One.", classroom=classroom)
    make_post(document, ben, "Two.", classroom=classroom)
    client.force_login(instructor)

    response = client.post(REMIND)

    assert "nobody to remind" in messages_after(client, response)[0]
    assert not OutboundEmail.objects.exists()
    assert Reading.objects.get().reminded_at is None


def test_students_cannot_remind_and_outsiders_get_not_found(client, classroom, ada):
    client.force_login(ada)
    assert client.post(REMIND).status_code == 403
    client.force_login(make_user("Stan Stranger", "stan@example.com"))
    assert client.post(REMIND).status_code == 404
    assert client.get(REMIND).status_code == 405
    assert not OutboundEmail.objects.exists()
