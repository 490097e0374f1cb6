"""
What joining a class's staff by link does not give: trust, moderation or
membership changes anywhere but in that class.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from annotate import spam
from annotate.models import Classroom, Membership, Post
from annotate.notifications import moderators_of
from tests.factories import make_class, make_moderator, make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def assistant(seeded) -> tuple:
    classroom = make_class(readings=[seeded])
    user = make_user("Tad Assistant", "tad@example.com")
    user.join_class_staff()
    Membership.objects.create(classroom=classroom, user=user, role=Membership.Role.ASSISTANT)
    return user, classroom


def test_class_staff_are_trusted_in_their_class_only(assistant, document):
    user, classroom = assistant
    teacher = make_user("Tess Teacher", "tess@example.com")
    teacher.become_teacher()
    site_moderator = make_moderator()

    assert spam.is_trusted(user, classroom.pk)
    assert not spam.is_trusted(user)  # the public discussions judge them as anyone
    assert not spam.is_trusted(teacher)
    assert spam.is_trusted(site_moderator)
    other = make_class("Other", "other")
    assert not spam.is_trusted(user, other.pk)


def test_a_former_assistant_hears_nothing_of_held_public_posts(assistant, document, stranger):
    user, _ = assistant
    site_moderator = make_moderator()
    Membership.objects.filter(user=user).delete()  # removed from their class
    held = make_post(document, stranger, "Held.", status=Post.Status.PENDING)

    assert list(moderators_of(held)) == [site_moderator]


def test_an_assistant_cannot_place_anyone_in_the_class_they_assist(client, assistant, seeded):
    user, assisted = assistant
    own = make_class("Own Class", "own", instructor=user)
    student = make_user("Ana Student", "ana@example.com")
    membership = Membership.objects.create(classroom=own, user=student)
    client.force_login(user)

    response = client.post(
        reverse("admin:annotate_membership_change", args=[membership.pk]),
        {"classroom": assisted.pk, "role": Membership.Role.INSTRUCTOR, "joined_at_0": "2027-01-01"},
    )

    assert response.status_code == 200  # the form again, with its error
    membership.refresh_from_db()
    assert (membership.classroom, membership.role) == (own, Membership.Role.STUDENT)
    assert not Membership.objects.filter(classroom=assisted, user=student).exists()


def test_an_overlong_group_number_shows_every_group(client, seeded):
    teacher = make_user("Tess Teacher", "tess@example.com")
    classroom = make_class(instructor=teacher, readings=[seeded])
    classroom.readings.update(in_groups=True)
    client.force_login(teacher)

    response = client.get(seeded.readings.get().get_absolute_url(), {"group": "9" * 5000})

    assert response.status_code == 200


def test_a_new_zone_and_an_expiry_saved_together_read_the_expiry_in_the_new_zone(client):
    teacher = make_user("Tess Teacher", "tess@example.com")
    classroom = make_class(instructor=teacher, time_zone="UTC")
    client.force_login(teacher)

    client.post(
        reverse("class_settings", args=[classroom.slug]),
        {"name": classroom.name, "time_zone": "Asia/Tokyo", "join_expires_at": "2027-03-01T17:00"},
    )

    classroom = Classroom.objects.get(pk=classroom.pk)
    assert classroom.join_expires_at == datetime(2027, 3, 1, 17, tzinfo=ZoneInfo("Asia/Tokyo"))
