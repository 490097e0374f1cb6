"""
Copy to a new term: a new class with the old one's readings, instructions,
due dates (moved by whole weeks, same time of day), groups and reading
settings, a new join link, its copier as its one member, and no posts.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from annotate.models import ClassGroup, Classroom, Membership, Post, Reading, Rubric, User
from annotate.terms import shift_in_zone
from tests.factories import make_class, make_document, make_moderator, make_post, make_user

URL = "/classes/history/copy/"
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
# 17:00 in London in January (Greenwich time): 12 weeks on is after the clocks go forward.
FIVE_PM_IN_JANUARY = datetime(2027, 1, 15, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def teacher(db) -> User:
    return make_moderator("Tess Teacher", "tess@example.com")


@pytest.fixture
def student(db) -> User:
    return make_user("Stu Dent", "stu@example.com")


@pytest.fixture
def classroom(teacher, student, document) -> Classroom:
    classroom = make_class(
        instructor=teacher,
        students=[student],
        term="Spring 2027",
        description="Close reading of wartime texts.",
        time_zone="Europe/London",
        member_limit=30,
        allowed_domains="school.edu",
        join_expires_at=datetime(2027, 2, 1, 9, 0, tzinfo=UTC),
    )
    Reading.objects.create(
        classroom=classroom,
        document=document,
        due_at=FIVE_PM_IN_JANUARY,
        instructions="Read closely.",
        hide_until_posted=True,
        in_groups=True,
    )
    Reading.objects.create(
        classroom=classroom, document=make_document(slug="second", title="Second text")
    )
    red = ClassGroup.objects.create(classroom=classroom, name="Red")
    ClassGroup.objects.create(classroom=classroom, name="Blue")
    classroom.memberships.filter(user=student).update(group=red)
    make_post(document, student, "Last term's note.", classroom=classroom)
    return classroom


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def words(response) -> str:
    return " ".join(soup(response).get_text().split())


def copy(client: Client, **fields):
    data = {
        "name": "Modern History",
        "term": "Spring 2028",
        "weeks": "52",
        "time_zone": "Europe/London",
    }
    return client.post(URL, data | fields)


def the_copy() -> Classroom:
    return Classroom.objects.exclude(slug="history").get()


# Copying


def test_the_form_starts_from_the_class_and_says_what_the_copy_takes(teacher, classroom):
    page = soup(signed_in(teacher).get(URL))

    assert page.select_one("[name=name]")["value"] == "Modern History"
    assert page.select_one("[name=time_zone] option[selected]")["value"] == "Europe/London"
    assert page.select_one("[name=weeks]")["value"] == "0"
    summary = " ".join(page.select_one(".copy-summary").get_text().split())
    assert "2 readings" in summary
    assert "2 groups" in summary
    assert page.select_one("label[for=id_weeks]").get_text() == "Move due dates by (weeks):"


def test_a_copy_takes_readings_groups_and_settings_and_no_members_or_posts(
    teacher, classroom, document
):
    Rubric.objects.create(classroom=classroom, annotation_points=3, visible_to_students=True)

    response = copy(signed_in(teacher), weeks="52")

    new = the_copy()
    assert response.status_code == 302
    assert response["Location"] == f"/classes/{new.slug}/"
    assert new.slug != "history"
    assert (new.name, new.term) == ("Modern History", "Spring 2028")
    assert new.description == "Close reading of wartime texts."
    assert (new.time_zone, new.member_limit, new.allowed_domains) == (
        "Europe/London", 30, "school.edu",
    )  # fmt: skip
    for token in ("join_token", "instructor_token", "assistant_token"):
        assert getattr(new, token) != getattr(classroom, token)
    assert [(m.user, m.role) for m in new.memberships.all()] == [
        (teacher, Membership.Role.INSTRUCTOR)
    ]
    assert (new.rubric.annotation_points, new.rubric.visible_to_students) == (3, True)
    assert Rubric.objects.get(classroom=classroom).annotation_points == 3
    assert sorted(new.groups.values_list("name", flat=True)) == ["Blue", "Red"]
    assert not Membership.objects.filter(group__classroom=new).exists()
    first = new.readings.get(document=document)
    assert first.instructions == "Read closely."
    assert (first.hide_until_posted, first.in_groups) == (True, True)
    # Same week next year, same time in London: 17:00 on Friday 14 January 2028.
    assert first.due_at == datetime(2028, 1, 14, 17, 0, tzinfo=UTC)
    second = new.readings.get(document__slug="second")
    assert (second.due_at, second.hide_until_posted, second.in_groups) == (None, False, False)
    assert not Post.objects.filter(classroom=new).exists()
    # The old class is as it was.
    assert classroom.readings.count() == 2
    assert classroom.memberships.count() == 2
    assert Post.objects.filter(classroom=classroom).count() == 1


def test_the_new_class_page_welcomes_its_teacher_with_the_new_join_link(teacher, classroom):
    client = signed_in(teacher)

    response = client.post(
        URL, {"name": "Modern History", "term": "Spring 2028", "weeks": "0",
              "time_zone": "Europe/London"},
        follow=True,
    )  # fmt: skip

    new = the_copy()
    page = soup(response)
    assert "Modern History (Spring 2028) is ready, with a new join link" in words(response)
    assert page.select_one("#join-url")["value"].endswith(new.get_join_url())
    assert "Second text" in words(response)


def test_due_dates_keep_their_time_of_day_across_the_change_to_summer_time(teacher, classroom):
    copy(signed_in(teacher), weeks="12")

    due = the_copy().readings.get(document__slug="sample").due_at
    # 12 weeks after Friday 15 January is Friday 9 April, in British Summer Time:
    # 17:00 there is 16:00 UTC. Adding 12 weeks in UTC would have said 18:00.
    assert due == datetime(2027, 4, 9, 16, 0, tzinfo=UTC)
    assert due != FIVE_PM_IN_JANUARY + timedelta(weeks=12)


def test_a_class_that_moves_keeps_the_hour_in_its_new_zone(teacher, classroom):
    copy(signed_in(teacher), weeks="0", time_zone="America/New_York")

    new = the_copy()
    assert new.time_zone == "America/New_York"
    # 17:00 in New York in January: 22:00 UTC.
    assert new.readings.get(document__slug="sample").due_at == datetime(
        2027, 1, 15, 22, 0, tzinfo=UTC
    )


def test_the_join_link_expiry_moves_with_the_dates_or_goes_when_it_would_be_past(
    teacher, classroom
):
    copy(signed_in(teacher), weeks="52")
    assert the_copy().join_expires_at == datetime(2028, 1, 31, 9, 0, tzinfo=UTC)

    Classroom.objects.exclude(slug="history").delete()
    copy(signed_in(teacher), weeks="4")  # 1 March 2027: before "now", June 2027
    assert the_copy().join_expires_at is None


def test_a_co_instructors_private_text_stays_behind_and_the_teacher_is_told(teacher, classroom):
    colleague = make_user("Cole League", "cole@example.com")
    Membership.objects.create(classroom=classroom, user=colleague, role=Membership.Role.INSTRUCTOR)
    private = make_document(
        slug="coles-notes", title="Cole’s notes", is_public=False, owner=colleague
    )
    Reading.objects.create(classroom=classroom, document=private)
    client = signed_in(teacher)

    assert "Cole’s notes" in " ".join(
        soup(client.get(URL)).select_one(".notice").get_text().split()
    )
    response = client.post(
        URL, {"name": "Modern History", "term": "Spring 2028", "weeks": "0",
              "time_zone": "Europe/London"},
        follow=True,
    )  # fmt: skip

    assert not the_copy().readings.filter(document=private).exists()
    assert the_copy().readings.count() == 2
    assert "Not copied: “Cole’s notes”, another teacher’s text." in words(response)
    # Their own copy of the class takes it.
    Classroom.objects.exclude(slug="history").delete()
    copy(signed_in(colleague))
    assert the_copy().readings.filter(document=private).exists()


def test_a_superuser_copies_every_reading_and_teaches_the_copy(classroom):
    superuser = make_user("Sue Super", "sue@example.com", is_staff=True, is_superuser=True)

    response = copy(signed_in(superuser))

    assert response.status_code == 302
    assert the_copy().readings.count() == 2
    assert the_copy().memberships.get().user == superuser


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"weeks": "-1"}, "Due dates can only move later: give 0 or more weeks."),
        ({"weeks": "105"}, "Due dates can move at most 104 weeks (two years)."),
        ({"weeks": "two"}, "Give a whole number of weeks, e.g. 52."),
        ({"weeks": ""}, "Say how many weeks to move the due dates (0 keeps them)."),
        ({"term": ""}, "Name the new term, e.g. Spring 2028."),
        ({"name": "   "}, "Give the new class a name."),
        ({"name": "x" * 201}, "Ensure this value has at most 200 characters"),
        ({"time_zone": "Mars/Olympus_Mons"}, "Choose a time zone from the list."),
        ({"weeks": "9" * 40}, "Due dates can move at most 104 weeks (two years)."),
    ],
)
def test_a_bad_answer_is_refused_with_a_message_and_keeps_the_others(
    teacher, classroom, fields, message
):
    response = copy(signed_in(teacher), **fields)

    assert response.status_code == 400
    assert message in words(response)
    page = soup(response)
    if "term" not in fields:
        assert page.select_one("[name=term]")["value"] == "Spring 2028"
    assert Classroom.objects.count() == 1


# Who may


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_teaching_assistant_is_told_only_instructors_copy_a_class(classroom, method):
    assistant = make_user("Tia Assistant", "tia@example.com")
    Membership.objects.create(classroom=classroom, user=assistant, role=Membership.Role.ASSISTANT)

    response = getattr(signed_in(assistant), method)(
        URL, {"name": "Mine", "term": "X", "weeks": 0, "time_zone": "UTC"}
    )

    assert response.status_code == 403
    assert Classroom.objects.count() == 1


@pytest.mark.parametrize("who", ["student", "stranger"])
def test_students_and_outsiders_find_no_such_page(classroom, student, who):
    user = student if who == "student" else make_user("Sam Stranger", "sam@example.com")

    assert signed_in(user).get(URL).status_code == 404
    assert (
        signed_in(user)
        .post(URL, {"name": "Mine", "term": "X", "weeks": 0, "time_zone": "UTC"})
        .status_code
        == 404
    )
    assert signed_in(user).get("/classes/no-such-class/copy/").status_code == 404
    assert Classroom.objects.count() == 1


def test_signing_in_comes_first(classroom):
    response = Client().get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_only_instructors_find_the_link_on_the_class_page(teacher, student, classroom):
    assistant = make_user("Tia Assistant", "tia@example.com")
    Membership.objects.create(classroom=classroom, user=assistant, role=Membership.Role.ASSISTANT)

    def link(user):
        return soup(signed_in(user).get("/classes/history/")).select_one(f"a[href='{URL}']")

    assert link(teacher).get_text() == "Copy to a new term"
    assert link(assistant) is None
    assert link(student) is None


# Cost


def test_copying_takes_as_many_queries_for_many_readings_as_for_few(teacher, classroom):
    def queries_to_copy() -> int:
        Classroom.objects.exclude(slug="history").delete()
        with CaptureQueriesContext(connection) as queries:
            assert copy(signed_in(teacher)).status_code == 302
        return len(queries)

    few = queries_to_copy()
    for number in range(20):
        text = make_document(slug=f"extra-{number}", title=f"Extra {number}")
        Reading.objects.create(classroom=classroom, document=text, due_at=FIVE_PM_IN_JANUARY)
        ClassGroup.objects.create(classroom=classroom, name=f"Group {number}")

    assert queries_to_copy() == few
    assert the_copy().readings.count() == 22


LONDON = ZoneInfo("Europe/London")


def test_a_due_time_the_clocks_skip_becomes_the_hour_after_it():
    # 01:30 on Sunday 21 March 2027; a week on, London's clocks jump from 01:00 to 02:00.
    due = datetime(2027, 3, 21, 1, 30, tzinfo=UTC)

    moved = shift_in_zone(due, 1, LONDON, LONDON)

    assert moved.astimezone(LONDON).strftime("%d %b %H:%M %Z") == "28 Mar 02:30 BST"


def test_a_due_time_the_clocks_pass_twice_is_the_first_of_the_two():
    # 01:30 summer time on 24 October 2027; a week on, 01:30 comes twice.
    due = datetime(2027, 10, 24, 0, 30, tzinfo=UTC)

    moved = shift_in_zone(due, 1, LONDON, LONDON)

    assert moved == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST, not GMT
    assert shift_in_zone(None, 1, LONDON, LONDON) is None
