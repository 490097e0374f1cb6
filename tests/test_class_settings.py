"""A class's settings and its deletion, from the site: for its instructors alone."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from annotate.models import Classroom, Document, Membership, Post, User
from tests.factories import make_class, make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher() -> User:
    user = make_user("Tess Teacher", "tess@school.edu")
    user.become_teacher()
    return user


@pytest.fixture
def classroom(teacher, seeded) -> Classroom:
    return make_class(instructor=teacher, readings=[seeded], time_zone="America/New_York")


def text_of(response) -> str:
    return " ".join(BeautifulSoup(response.content, "html.parser").get_text().split())


def settings_form(classroom: Classroom, **changes) -> dict:
    data = {
        "name": classroom.name,
        "term": classroom.term,
        "time_zone": classroom.time_zone,
        "description": classroom.description,
        "allowed_domains": classroom.allowed_domains,
        "member_limit": "",
        "join_expires_at": "",
    }
    return {**data, **changes}


def test_an_instructor_changes_the_settings_with_the_expiry_in_the_class_zone(
    client, teacher, classroom
):
    client.force_login(teacher)
    url = reverse("class_settings", args=[classroom.slug])
    page = client.get(url)
    assert "Join link expires (America/New York time, optional)" in text_of(page)

    response = client.post(
        url,
        settings_form(
            classroom, name="Soviet History", member_limit="30", join_expires_at="2027-03-01T17:00"
        ),
    )

    assert response.status_code == 302
    classroom.refresh_from_db()
    assert classroom.name == "Soviet History"
    assert classroom.member_limit == 30
    assert classroom.join_expires_at == datetime(
        2027, 3, 1, 17, tzinfo=ZoneInfo("America/New_York")
    )
    # Shown again as the class's wall-clock time, not UTC.
    again = BeautifulSoup(client.get(url).content, "html.parser")
    assert again.find(id="id_join_expires_at")["value"] == "2027-03-01T17:00"


def test_bad_settings_are_refused_with_a_message_and_nothing_changes(client, teacher, classroom):
    client.force_login(teacher)

    response = client.post(
        reverse("class_settings", args=[classroom.slug]),
        settings_form(classroom, name="", time_zone="Mars/Olympus", join_expires_at="soon"),
    )

    assert response.status_code == 400
    text = text_of(response)
    assert "Nothing was saved yet" in text
    assert "Enter a date and time, e.g. 2027-03-01 17:00." in text
    classroom.refresh_from_db()
    assert classroom.name == "Modern History"
    assert classroom.time_zone == "America/New_York"


def test_a_teaching_assistant_and_a_student_cannot_change_or_delete_the_class(client, classroom):
    assistant = make_user("Tad Assistant", "tad@school.edu")
    Membership.objects.create(classroom=classroom, user=assistant, role="assistant")
    student = make_user("Ana Student", "ana@school.edu")
    Membership.objects.create(classroom=classroom, user=student)

    for person, status in [(assistant, 403), (student, 404)]:
        client.force_login(person)
        settings_url = reverse("class_settings", args=[classroom.slug])
        assert client.post(settings_url, settings_form(classroom, name="X")).status_code == status
        delete_url = reverse("delete_class", args=[classroom.slug])
        assert client.post(delete_url, {"name": classroom.name}).status_code == status

    classroom.refresh_from_db()
    assert classroom.name == "Modern History"


def test_deleting_asks_for_the_class_name_then_deletes_its_discussion_and_keeps_its_texts(
    client, teacher, classroom, seeded
):
    student = make_user("Ana Student", "ana@school.edu")
    Membership.objects.create(classroom=classroom, user=student)
    make_post(seeded, student, "A class note.", classroom=classroom)
    public_note = make_post(seeded, student, "A public note.")
    client.force_login(teacher)
    url = reverse("delete_class", args=[classroom.slug])
    page = text_of(client.get(url))
    assert "its 2 members lose their place in it, and its 1 post are deleted" in page

    wrong = client.post(url, {"name": "Modern"})

    assert wrong.status_code == 400
    assert "That is not the class’s name." in text_of(wrong)
    assert Classroom.objects.filter(pk=classroom.pk).exists()

    response = client.post(url, {"name": "Modern History"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("teaching")
    assert "Modern History is deleted, with its discussions. Its texts are kept." in text_of(
        response
    )
    assert not Classroom.objects.filter(pk=classroom.pk).exists()
    assert list(Post.objects.all()) == [public_note]
    assert Document.objects.filter(pk=seeded.pk).exists()
    assert User.objects.filter(pk=student.pk).exists()
