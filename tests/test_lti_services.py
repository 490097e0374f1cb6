"""
The LMS's services against the test platform: the roster (NRPS, in pages,
behind an OAuth2 token got with the tool's signed assertion) and the
gradebook (AGS scores), through an outage and back.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from annotate.lti import sync
from annotate.models import Classroom, LmsCourse, LmsGrade, LmsLink, Membership, Reading, Score
from tests.factories import make_document, make_user
from tests.lti_platform import INSTRUCTOR, LEARNER, MENTOR, TEACHING_ASSISTANT, launch

pytestmark = pytest.mark.django_db


def member(sub, name, *, roles=(LEARNER,), status="Active", email=None):
    return {
        "user_id": sub,
        "name": name,
        "email": email if email is not None else f"{sub}@school.example",
        "roles": list(roles),
        "status": status,
    }


@pytest.fixture
def course(client, platform, registration, run_background_work):
    """The course's class, made by its instructor's first launch, with its services offered."""
    launch(
        client,
        platform,
        sub="teacher",
        name="Tess Teacher",
        email="tess@school.example",
        roles=[INSTRUCTOR],
        **platform.services_claims(line_item=platform.line_item_url()),
    )
    platform.members = [member("teacher", "Tess Teacher", roles=[INSTRUCTOR])]
    return LmsCourse.objects.select_related("classroom", "context").get()


def names(classroom: Classroom, role=Membership.Role.STUDENT) -> list[str]:
    return sorted(
        classroom.memberships.filter(role=role).values_list("user__display_name", flat=True)
    )


# The roster -----------------------------------------------------------------------


def test_a_sync_brings_the_class_in_step_with_the_lms_roster(client, platform, course):
    platform.members += [
        member("s1", "Ada"),
        member("s2", "Ben"),
        member("s3", "Cy", roles=[TEACHING_ASSISTANT]),
        member("s4", "Dee", status="Inactive"),
        member("s5", "Eve", roles=[MENTOR]),
    ]

    changes = sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))

    classroom = course.classroom
    assert names(classroom) == ["Ada", "Ben"]
    assert names(classroom, Membership.Role.ASSISTANT) == ["Cy"]
    assert sorted(changes["added"]) == ["Ada", "Ben", "Cy"]
    course.refresh_from_db()
    assert course.roster_synced_at is not None and course.roster_error == ""
    # The roster came in pages of two, behind a token got with the tool's signed assertion.
    assert len(platform.tokens) == 1


def test_people_dropped_from_the_course_lose_the_class(client, platform, course):
    platform.members += [member("s1", "Ada"), member("s2", "Ben")]
    sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))
    classroom = course.classroom
    site_member = make_user("Guest", "guest@example.com")
    Membership.objects.create(classroom=classroom, user=site_member)
    ben = classroom.memberships.get(user__display_name="Ben").user

    platform.members = [m for m in platform.members if m["user_id"] != "s2"]
    platform.members[0]["roles"] = [INSTRUCTOR]
    changes = sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))

    assert changes["removed"] == ["Ben"]
    assert names(classroom) == ["Ada", "Guest"]  # only people from the LMS are removed
    client.force_login(ben)
    assert client.get(classroom.get_absolute_url()).status_code == 404


def test_a_role_change_in_the_roster_follows(client, platform, course):
    platform.members += [member("s1", "Ada")]
    sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))
    platform.members[1]["roles"] = [TEACHING_ASSISTANT]

    changes = sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))

    assert changes["role_changed"] == ["Ada: Student → Teaching assistant"]
    assert names(course.classroom, Membership.Role.ASSISTANT) == ["Ada"]


def test_a_roster_member_with_a_taken_address_waits_to_choose_at_launch(client, platform, course):
    existing = make_user("Ada Elsewhere", "ada@school.example")
    platform.members += [member("s1", "Ada", email="ada@school.example")]

    changes = sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))

    assert changes["waiting"] == ["Ada"]
    assert not course.classroom.memberships.filter(user=existing).exists()


def test_an_empty_roster_removes_nobody(client, platform, course):
    platform.members += [member("s1", "Ada")]
    sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))
    platform.members = []

    sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))

    course.refresh_from_db()
    assert "without anyone in a course role" in course.roster_error
    assert names(course.classroom) == ["Ada"]


def test_a_roster_of_mentors_alone_changes_nobody(client, platform, course):
    platform.members = [member("m1", "Mo", roles=[MENTOR])]

    sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))

    assert names(course.classroom, Membership.Role.INSTRUCTOR) == ["Tess Teacher"]


def test_someone_added_on_the_site_stays_though_they_came_from_another_course(
    client, platform, course
):
    client.logout()
    launch(client, platform, sub="guest", roles=[INSTRUCTOR], context={"id": "other"})
    guest = Membership.objects.get(classroom__lms_course__context__id_on_platform="other").user
    Membership.objects.create(classroom=course.classroom, user=guest, role="instructor")
    platform.members += [member("s1", "Ada")]

    changes = sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))

    assert changes["removed"] == []
    assert course.classroom.memberships.filter(user=guest).exists()


def test_an_lms_outage_keeps_the_class_as_it_was_and_says_so(client, platform, course):
    platform.members += [member("s1", "Ada")]
    platform.down = True

    with pytest.raises(sync.services.ServiceError):
        sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))

    course.refresh_from_db()
    assert "could not be fetched" in course.roster_error and "503" in course.roster_error
    assert course.roster_claimed_until is None
    page = client.get(reverse("roster", args=[course.classroom.slug]))
    assert "could not be fetched" in page.content.decode()


def test_the_instructor_syncs_the_roster_on_demand_and_sees_what_changed(client, platform, course):
    platform.members += [member("s1", "Ada"), member("s2", "Ben"), member("s3", "Cy")]

    response = client.post(reverse("lms_sync_roster", args=[course.classroom.slug]))

    assert response.status_code == 302
    roster = client.get(reverse("roster", args=[course.classroom.slug]))
    assert platform.issuer in roster["Content-Security-Policy"]  # it opens in the LMS's frame
    page = roster.content.decode()
    assert "Last synced" in page
    assert "Joined: " in page and "Ada" in page and "Cy" in page


def test_only_instructors_sync_the_roster(client, platform, course):
    assistant = make_user("Tara", "tara@example.com")
    Membership.objects.create(
        classroom=course.classroom, user=assistant, role=Membership.Role.ASSISTANT
    )
    client.force_login(assistant)

    response = client.post(reverse("lms_sync_roster", args=[course.classroom.slug]))

    assert response.status_code == 403


def test_the_daily_sweep_syncs_rosters_a_day_old(client, platform, course, sweep):
    platform.members += [member("s1", "Ada")]

    assert sweep()["lms_rosters_synced"] == 1
    assert sweep()["lms_rosters_synced"] == 0  # synced today already
    LmsCourse.objects.update(roster_synced_at=timezone.now() - timedelta(days=1, minutes=1))
    platform.members += [member("s2", "Ben")]
    assert sweep()["lms_rosters_synced"] == 1
    assert names(course.classroom) == ["Ada", "Ben"]


# Grades ----------------------------------------------------------------------------


@pytest.fixture
def assignment(client, platform, course):
    """The link's reading, with two students who launched it and their scores."""
    classroom = course.classroom
    reading = Reading.objects.create(classroom=classroom, document=make_document())
    link = LmsLink.objects.get()
    link.reading = reading
    link.save()
    platform.members += [member("s1", "Ada"), member("s2", "Ben")]
    sync.sync_roster(sync.claim_roster(course.pk, timezone.now()))
    ada = classroom.memberships.get(user__display_name="Ada").user
    ben = classroom.memberships.get(user__display_name="Ben").user
    Score.objects.create(reading=reading, student=ada, computed=Decimal("7"))
    Score.objects.create(
        reading=reading, student=ben, computed=Decimal("3"), override=Decimal("9.5")
    )
    return link


def sent_scores(platform) -> dict[str, tuple[float, float]]:
    return {s["userId"]: (s["scoreGiven"], s["scoreMaximum"]) for s in platform.scores}


def test_a_launch_keeps_the_links_gradebook_column(assignment, platform):
    assert assignment.line_item_url == platform.line_item_url()


def test_send_grades_posts_each_students_score_and_says_sent(
    client, platform, assignment, run_background_work
):
    reading = assignment.reading
    url = reverse("lms_send_grades", args=[reading.classroom.slug, reading.document.slug])

    response = client.post(url)

    assert response.status_code == 302
    assert sent_scores(platform) == {"s1": (7.0, 10.0), "s2": (9.5, 10.0)}  # the override counts
    assert {s["lineitem"] for s in platform.scores} == {"/lineitems/column-1"}
    assert {s["activityProgress"] for s in platform.scores} == {"Completed"}
    page = client.get(response["Location"]).content.decode()
    assert page.count(">sent") == 2


def test_grades_wait_out_an_lms_outage_and_arrive_once(
    client, platform, assignment, run_background_work, sweep
):
    reading = assignment.reading
    platform.down = True
    client.post(reverse("lms_send_grades", args=[reading.classroom.slug, reading.document.slug]))

    assert platform.scores == []
    assert set(LmsGrade.objects.values_list("status", flat=True)) == {"waiting"}
    page = client.get(reverse("lms_grades", args=[reading.classroom.slug, reading.document.slug]))
    assert "the last try failed: the LMS answered 503" in page.content.decode()

    platform.down = False
    assert sweep()["lms_grades_sent"] == 0  # not due yet: backoff
    LmsGrade.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert sweep()["lms_grades_sent"] == 2
    assert sweep()["lms_grades_sent"] == 0
    assert sent_scores(platform) == {"s1": (7.0, 10.0), "s2": (9.5, 10.0)}
    assert len(platform.scores) == 2
    assert set(LmsGrade.objects.values_list("status", flat=True)) == {"sent"}


def test_a_score_the_lms_refuses_fails_with_its_reason(
    client, platform, assignment, run_background_work
):
    reading = assignment.reading
    platform.members = [m for m in platform.members if m["user_id"] != "s2"]

    client.post(reverse("lms_send_grades", args=[reading.classroom.slug, reading.document.slug]))

    refused = LmsGrade.objects.get(student__display_name="Ben")
    assert refused.status == "failed" and refused.next_attempt_at is None
    assert refused.shown_status.startswith("failed: the LMS answered 422")
    page = client.get(reverse("lms_grades", args=[reading.classroom.slug, reading.document.slug]))
    assert "failed: the LMS answered 422" in page.content.decode()


def test_scores_go_by_themselves_once_the_reading_is_due(platform, assignment, sweep):
    Reading.objects.filter(pk=assignment.reading_id).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )

    assert sweep()["lms_grades_sent"] == 2
    assert sweep()["lms_grades_sent"] == 0  # queued once per due date
    assert len(platform.scores) == 2


def test_a_link_without_a_gradebook_column_says_why(
    client, platform, assignment, run_background_work
):
    LmsLink.objects.update(line_item_url="")
    reading = assignment.reading

    response = client.post(
        reverse("lms_send_grades", args=[reading.classroom.slug, reading.document.slug]),
        follow=True,
    )

    assert "gave this assignment no gradebook column" in response.content.decode()
    assert platform.scores == []


def test_teaching_assistants_see_the_grades_but_do_not_send_them(client, platform, assignment):
    reading = assignment.reading
    assistant = make_user("Tara", "tara@example.com")
    Membership.objects.create(
        classroom=reading.classroom, user=assistant, role=Membership.Role.ASSISTANT
    )
    client.force_login(assistant)
    args = [reading.classroom.slug, reading.document.slug]

    assert client.get(reverse("lms_grades", args=args)).status_code == 200
    assert client.post(reverse("lms_send_grades", args=args)).status_code == 403


def test_the_gradebook_links_to_the_lms_grades(client, assignment):
    reading = assignment.reading

    page = client.get(reverse("gradebook", args=[reading.classroom.slug]))

    assert reverse("lms_grades", args=[reading.classroom.slug, reading.document.slug]) in (
        page.content.decode()
    )


def test_a_score_queued_again_while_it_was_being_sent_keeps_its_new_points(platform, assignment):
    sync.queue_grades(assignment)
    sending = LmsGrade.objects.get(student__display_name="Ada")  # as a worker read it
    Score.objects.filter(student=sending.student).update(computed=Decimal("8"))
    sync.queue_grades(assignment)  # "Send grades" meanwhile, with the new points

    sending.mark_sent()

    grade = LmsGrade.objects.get(pk=sending.pk)
    assert (grade.status, grade.points) == ("waiting", Decimal("8"))
    assert grade.claimed_until is None
