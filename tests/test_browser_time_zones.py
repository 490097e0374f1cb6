"""A student abroad, in a real browser: the class's time, and their own beside it."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from annotate.models import Reading
from tests.browser import sign_in
from tests.factories import make_class, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def london_class(document):
    student = make_user("Stu Dent", "stu@example.com")
    classroom = make_class(students=[student], time_zone="Europe/London", slug="london")
    Reading.objects.create(
        classroom=classroom, document=document, due_at=datetime(2027, 1, 15, 17, 0, tzinfo=UTC)
    )
    return classroom


def test_a_student_abroad_sees_the_classs_time_and_their_own(new_context, london_class):
    page = new_context(timezone_id="Europe/Paris").new_page()
    sign_in(page, "stu@example.com", next_path="/classes/london/")

    due = page.locator("table.readings tbody td").first
    expect(due).to_have_text("Fri 15 Jan, 17:00 — 18:00 your time (Europe/Paris)")

    page.get_by_role("link", name="Sample text").click()
    expect(page.locator(".reading-class")).to_contain_text(
        "due Fri 15 Jan, 17:00 (Europe/London time) — 18:00 your time (Europe/Paris)"
    )


def test_a_day_ahead_the_student_s_own_date_is_given_too(new_context, london_class):
    page = new_context(timezone_id="Asia/Tokyo").new_page()
    sign_in(page, "stu@example.com", next_path="/classes/london/texts/sample/")

    expect(page.locator(".reading-class")).to_contain_text(
        "(Europe/London time) — Sat 16 Jan, 02:00 your time (Asia/Tokyo)"
    )


def test_a_student_in_the_classs_zone_reads_its_time_alone(new_context, london_class):
    page = new_context(timezone_id="Europe/London").new_page()
    sign_in(page, "stu@example.com", next_path="/classes/london/")

    expect(page.locator("table.readings tbody td").first).to_have_text("Fri 15 Jan, 17:00")
    expect(page.locator(".local-time")).to_have_count(0)
