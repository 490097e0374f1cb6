"""
Time zones: each class's due dates are entered and shown in its zone, with
the zone named; the exports give times in it with their UTC offset.
"""

import csv
import io
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from annotate.exports import _timestamp
from annotate.models import Classroom, Membership, Reading, User
from tests.factories import make_class, make_moderator, make_post, make_user

# London's clocks go forward at 01:00 UTC on Sunday 28 March 2027.
JANUARY_FIVE_PM_LONDON = datetime(2027, 1, 15, 17, 0, tzinfo=UTC)
APRIL_FIVE_PM_LONDON = datetime(2027, 4, 2, 16, 0, tzinfo=UTC)


@pytest.fixture
def teacher(db) -> User:
    return make_moderator("Tess Teacher", "tess@example.com")


@pytest.fixture
def student(db) -> User:
    return make_user("Stu Dent", "stu@example.com")


@pytest.fixture
def london(teacher, student, document) -> Classroom:
    classroom = make_class(
        instructor=teacher, students=[student], time_zone="Europe/London", slug="london"
    )
    Reading.objects.create(classroom=classroom, document=document, due_at=JANUARY_FIVE_PM_LONDON)
    return classroom


@pytest.fixture
def new_york(teacher, document) -> Classroom:
    classroom = make_class("Seminar", "seminar", instructor=teacher, time_zone="America/New_York")
    Reading.objects.create(classroom=classroom, document=document)
    return classroom


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.content.decode()[:2000]
    return BeautifulSoup(response.content, "html.parser")


def words(element) -> str:
    return " ".join(element.get_text().split())


def admin_form(response) -> dict:
    """What the class's admin form would send back as it stands."""
    form = soup(response).select_one("form#classroom_form")
    data = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        if field.name == "textarea":
            data[field["name"]] = field.get_text()
        elif field.name == "select":
            chosen = field.select_one("option[selected]")
            data[field["name"]] = chosen["value"] if chosen else ""
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data[field["name"]] = field.get("value", "on")
        elif field.get("type") not in ("submit", "button", "file"):
            data[field["name"]] = field.get("value", "")
    return data


def set_due_in_admin(client: Client, classroom: Classroom, date: str, time: str):
    url = f"/admin/annotate/classroom/{classroom.pk}/change/"
    data = admin_form(client.get(url))
    data |= {"readings-0-due_at_0": date, "readings-0-due_at_1": time}
    return client.post(url, data)


# Entering due dates


def test_the_admin_asks_for_due_dates_in_the_classs_zone_and_names_it(teacher, new_york):
    page = soup(signed_in(teacher).get(f"/admin/annotate/classroom/{new_york.pk}/change/"))

    assert words(page.select_one(".field-due_at legend")) == "Due (America/New York time):"


def test_a_due_date_entered_in_the_classs_zone_is_stored_as_that_instant(teacher, new_york):
    client = signed_in(teacher)

    response = set_due_in_admin(client, new_york, "2027-01-15", "12:00:00")

    assert response.status_code == 302, response.content.decode()[:2000]
    assert new_york.readings.get().due_at == datetime(2027, 1, 15, 17, 0, tzinfo=UTC)
    # And the form gives it back as entered, not in UTC.
    page = soup(client.get(f"/admin/annotate/classroom/{new_york.pk}/change/"))
    assert page.select_one("[name=readings-0-due_at_1]")["value"] == "12:00:00"


@pytest.mark.parametrize(
    ("date", "stored"),
    [
        ("2027-03-26", datetime(2027, 3, 26, 17, 0, tzinfo=UTC)),  # Greenwich time
        ("2027-03-29", datetime(2027, 3, 29, 16, 0, tzinfo=UTC)),  # summer time
    ],
)
def test_five_pm_in_london_is_the_right_instant_either_side_of_the_clocks_change(
    teacher, london, date, stored
):
    response = set_due_in_admin(signed_in(teacher), london, date, "17:00:00")

    assert response.status_code == 302
    assert london.readings.get().due_at == stored


def test_an_impossible_due_date_is_refused_with_a_message_and_nothing_changes(teacher, london):
    response = set_due_in_admin(signed_in(teacher), london, "2027-02-30", "17:00:00")

    assert response.status_code == 200
    assert "Enter a valid date" in words(soup(response))
    assert london.readings.get().due_at == JANUARY_FIVE_PM_LONDON


def test_the_admin_changes_no_zone_but_the_classs_own_page(teacher, new_york):
    """Other admin pages keep the site's zone: the class's is for its own page only."""
    client = signed_in(teacher)
    client.get(f"/admin/annotate/classroom/{new_york.pk}/change/")

    page = soup(client.get("/admin/annotate/classroom/add/"))

    assert "Due (UTC time)" in words(page)


# Showing them


def test_the_class_page_gives_due_dates_in_its_zone_for_the_reader_s_browser_to_add_theirs(
    student, london
):
    page = soup(signed_in(student).get("/classes/london/"))

    assert words(page.select("table.readings thead th")[1]) == "Due (Europe/London time)"
    due = page.select_one("table.readings tbody time")
    assert words(due) == "Fri 15 Jan, 17:00"
    assert due["datetime"] == "2027-01-15T17:00:00+00:00"
    assert due.has_attr("data-local")
    assert due["data-zone"] == "Europe/London"
    assert page.select_one("script[src$='js/localtime.js'][type=module]")


def test_the_reading_page_gives_its_due_date_with_the_zone_named(student, london, document):
    london.readings.update(due_at=APRIL_FIVE_PM_LONDON)

    page = soup(signed_in(student).get(f"/classes/london/texts/{document.slug}/"))

    line = page.select_one(".reading-class")
    assert "due Fri 2 Apr, 17:00 (Europe/London time)" in words(line)
    due = line.select_one("time[data-local]")
    assert due["datetime"] == "2027-04-02T17:00:00+01:00"
    assert page.select_one("script[src$='js/localtime.js'][type=module]")


def test_a_reading_without_a_due_date_loads_no_time_script(student, london, document):
    london.readings.update(due_at=None)

    page = soup(signed_in(student).get(f"/classes/london/texts/{document.slug}/"))

    assert "due" not in words(page.select_one(".reading-class"))
    assert not page.select_one("script[src$='js/localtime.js']")


# Exports


def test_the_discussion_export_gives_times_in_the_classs_zone_with_their_offset(
    teacher, new_york, document
):
    student = make_user("Stu Dent", "stu@example.com")
    Membership.objects.create(classroom=new_york, user=student)
    make_post(
        document,
        student,
        "Winter.",
        classroom=new_york,
        created_at=datetime(2027, 1, 15, 17, 0, tzinfo=UTC),
        edited_at=datetime(2027, 7, 1, 12, 30, tzinfo=UTC),
    )
    client = signed_in(teacher)

    rows = csv_rows(client.get("/classes/seminar/export/discussion.csv"))

    posted, edited = rows[0].index("posted"), rows[0].index("edited")
    assert rows[1][posted] == "2027-01-15T12:00:00-05:00"
    assert rows[1][edited] == "2027-07-01T08:30:00-04:00"  # summer time: another offset
    students = csv_rows(client.get("/classes/seminar/export/students.csv"))
    assert students[1][students[0].index("first_post")] == "2027-01-15T12:00:00-05:00"


def test_timestamps_name_one_instant_whatever_the_zone():
    moment = datetime(2027, 1, 15, 17, 0, tzinfo=UTC)
    paris = Classroom(time_zone="Europe/Paris").zone

    stamp = _timestamp(moment, paris)

    assert stamp == "2027-01-15T18:00:00+01:00"
    assert datetime.fromisoformat(stamp) == moment
    assert _timestamp(None, paris) == ""


def test_a_zone_the_system_no_longer_knows_gives_utc_rather_than_an_error():
    assert Classroom(time_zone="Mars/Olympus_Mons").zone.key == "UTC"
    assert Classroom(time_zone="../../etc/passwd").zone.key == "UTC"


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
