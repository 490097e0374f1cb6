"""A reading's insights page: the heatmap, where the class is stuck, and activity per day."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone

from annotate.models import Membership, Post, Reading
from tests.browser import assert_no_axe_violations, sign_in
from tests.factories import make_class, make_document, make_post, make_user

TEXT = "The prisoners were returned home.\n\nMany of them did not want to go back at all."


@pytest.fixture
def people(db):
    return {
        "instructor": make_user("Ida Instructor", "ida@example.com"),
        "assistant": make_user("Tad Assistant", "tad@example.com"),
        "students": [make_user(f"Student {n}", f"s{n}@example.com") for n in range(8)],
        "stranger": make_user("Sam Stranger", "sam@example.com"),
    }


@pytest.fixture
def reading(people):
    document = make_document(TEXT, slug="yalta", title="Yalta")
    classroom = make_class(
        instructor=people["instructor"], students=people["students"], readings=[document]
    )
    Membership.objects.create(
        classroom=classroom, user=people["assistant"], role=Membership.Role.ASSISTANT
    )
    return Reading.objects.select_related("classroom", "document").get(classroom=classroom)


def url(reading) -> str:
    return reverse("reading_insights", args=[reading.classroom.slug, reading.document.slug])


def page(client, user, reading):
    client.force_login(user)
    response = client.get(url(reading))
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def annotate(reading, author, passage, body="A note.", **fields) -> Post:
    return make_post(
        reading.document, author, body, classroom=reading.classroom, passage=passage, **fields
    )


def test_only_the_teaching_staff_see_a_readings_insights(client, people, reading, superuser):
    for user in (people["instructor"], people["assistant"], superuser):
        client.force_login(user)
        assert client.get(url(reading)).status_code == 200
    for user in (people["students"][0], people["stranger"]):
        client.force_login(user)
        assert client.get(url(reading)).status_code == 404
    client.logout()
    assert client.get(url(reading)).status_code == 302


def test_an_unknown_reading_is_not_found(client, people, reading):
    client.force_login(people["instructor"])
    missing = reverse("reading_insights", args=[reading.classroom.slug, "nothing-here"])
    assert client.get(missing).status_code == 404


def test_a_reading_without_posts_says_what_to_do_first(client, people, reading):
    soup = page(client, people["instructor"], reading)
    assert "No posts on this reading yet" in soup.select_one(".empty").text
    assert soup.find("svg") is None


def test_the_class_page_and_the_reading_page_link_to_insights_for_staff_only(
    client, people, reading
):
    insights = url(reading)
    client.force_login(people["assistant"])
    assert insights in client.get(reading.classroom.get_absolute_url()).content.decode()
    assert insights in client.get(reading.get_absolute_url()).content.decode()
    client.force_login(people["students"][0])
    assert insights not in client.get(reading.classroom.get_absolute_url()).content.decode()
    assert insights not in client.get(reading.get_absolute_url()).content.decode()


def test_the_heatmap_shades_passages_by_distinct_students(client, people, reading):
    students = people["students"]
    # Three students on "returned home", one of them twice; the instructor's note counts for no one.
    for student in students[:3]:
        annotate(reading, student, "returned home")
    annotate(reading, students[0], "returned home")
    annotate(reading, people["instructor"], "did not want")
    annotate(reading, students[3], "did not want", status=Post.Status.PENDING)  # not published
    soup = page(client, people["instructor"], reading)
    shaded = {span.text: span["class"] for span in soup.select(".heat-text span")}
    assert shaded["returned home"] == ["heat-2"]  # 2–3 students
    assert shaded["did not want"] == ["heat-0"]  # only the staff annotated it
    rows = [
        [cell.text for cell in row.find_all(["th", "td"])]
        for row in soup.select("#ranked-caption ~ tbody tr")
    ]
    assert rows[0] == ["1", "“returned home”", "3", "4", "0"]
    assert rows[1] == ["2", "“did not want”", "0", "1", "0"]
    legend = [item.text.strip() for item in soup.select(".heat-legend li")]
    assert legend == [
        "Text no students",
        "Text 1 student",
        "Text 2–3 students",
        "Text 4–6 students",
        "Text 7 or more students",
    ]


def test_seven_students_reach_the_darkest_band(client, people, reading):
    for student in people["students"][:7]:
        annotate(reading, student, "Many of them")
    soup = page(client, people["instructor"], reading)
    assert soup.find("span", string="Many of them")["class"] == ["heat-4"]


def test_where_the_class_is_stuck_lists_questions_and_links_their_threads(client, people, reading):
    students = people["students"]
    asked = annotate(reading, students[0], "returned home", "Why home?")
    again = annotate(reading, students[1], "returned home", "Home to what?")
    # A reply still awaiting moderation answers nothing yet.
    make_post(
        reading.document,
        students[4],
        "Because.",
        classroom=reading.classroom,
        parent=asked,
        status=Post.Status.PENDING,
    )
    answered = annotate(reading, students[2], "did not want", "Who decided?")
    make_post(
        reading.document,
        people["instructor"],
        "Stalin.",
        classroom=reading.classroom,
        parent=answered,
    )
    annotate(reading, students[3], "go back", "A plain note.")
    soup = page(client, people["instructor"], reading)
    most, unanswered = soup.select(".stuck-list")
    first = most.select_one("li")
    assert "returned home" in first.text and "2 questions, 2 unanswered" in first.text
    assert [link["href"] for link in first.select(".stuck-links a")] == [
        f"{reading.get_absolute_url()}?post={pk}#post-{pk}" for pk in (asked.pk, again.pk)
    ]
    assert len(most.select("li")) == 2
    assert [li.select_one(".insights-quote").text for li in unanswered.select("li")] == [
        "“returned home”"
    ]


def test_activity_counts_posts_per_day_in_the_class_zone_around_the_due_date(
    client, people, reading
):
    zone = ZoneInfo("America/New_York")
    reading.classroom.time_zone = "America/New_York"
    reading.classroom.save()
    reading.due_at = datetime(2026, 3, 10, 9, 0, tzinfo=zone)
    reading.save()
    student = people["students"][0]
    # 23:30 in New York on the 8th is the 9th in UTC: it counts on the 8th.
    for moment in [
        datetime(2026, 3, 8, 23, 30, tzinfo=zone),
        datetime(2026, 3, 8, 10, 0, tzinfo=zone),
        datetime(2026, 3, 12, 12, 0, tzinfo=zone),
    ]:
        annotate(reading, student, "returned home", created_at=moment)
    soup = page(client, people["instructor"], reading)
    svg = soup.find("svg")
    assert svg["role"] == "img" and svg.title.text and svg.desc.text
    assert len(svg.select("rect.bar")) == 2
    assert len(svg.select("rect.bar-after")) == 1
    assert svg.select_one("line.chart-due") is not None
    rows = [
        [cell.text for cell in row.find_all(["th", "td"])]
        for row in soup.select(".activity-table tbody tr")
    ]
    assert rows == [["Sun 8 Mar 2026", "2", "Before"], ["Thu 12 Mar 2026", "1", "After"]]
    assert "2 posts before the due date, 1 after it" in soup.text


def test_the_page_has_no_inline_styles_or_scripts(client, people, reading):
    annotate(reading, people["students"][0], "returned home", "Why?")
    soup = page(client, people["instructor"], reading)
    assert not soup.select("[style]") and not soup.find("style")
    assert all(script.get("src") for script in soup.find_all("script"))


def populate(reading, students, count: int) -> None:
    text = reading.document.text
    start = timezone.now() - timedelta(days=20)
    for index in range(count):
        passage = ["returned home", "did not want", "Many of them", "go back"][index % 4]
        root = annotate(
            reading,
            students[index % len(students)],
            passage,
            "Why?" if index % 3 else "A note.",
            created_at=start + timedelta(hours=index * 2),
        )
        if index % 2:
            make_post(
                reading.document,
                students[(index + 1) % len(students)],
                "Reply",
                classroom=reading.classroom,
                parent=root,
            )
    assert text


@pytest.mark.parametrize("count", [10, 200])
def test_the_page_costs_the_same_queries_however_many_posts(
    client, people, reading, django_assert_num_queries, count
):
    populate(reading, people["students"], count)
    client.force_login(people["instructor"])
    client.get(url(reading))  # warm up whatever is cached once per process
    # The session, the user, the class, the membership, the reading, and the posts.
    with django_assert_num_queries(6):
        response = client.get(url(reading))
    assert response.status_code == 200


PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("screen", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_the_insights_page_fits_the_screen_and_axe_finds_nothing(
    new_context, people, reading, screen
):
    reading.due_at = timezone.now() - timedelta(days=3)
    reading.save()
    populate(reading, people["students"], 12)
    page = new_context(**screen).new_page()
    sign_in(page, people["instructor"].email, next_path=url(reading))
    assert page.get_by_role("heading", name="Heatmap of the text").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= screen["viewport"]["width"]
    assert_no_axe_violations(page)
