"""
Keeping a class in step with its LMS course: the roster (who is in the
class, in which role) and the scores sent to the LMS's gradebook columns.
Both run as background work (annotate/tasks.py): on demand, once a day for
the roster, after a reading's due date for its scores.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from lti_tool.models import LtiMembership, LtiUser

from .. import scores
from ..background import backoff, unclaimed
from ..models import LmsCourse, LmsGrade, LmsLink, Membership, Score, User
from . import services
from .provisioning import new_person, site_role, tidied

ROSTER_EVERY = timedelta(days=1)
ROSTER_LEASE = timedelta(minutes=10)
GRADES_LEASE = timedelta(minutes=10)
# Scores sent by one task: at the services' 10-second timeout, well inside the lease.
GRADES_BATCH = 40


# The roster -------------------------------------------------------------------------


def sync_roster(course: LmsCourse) -> dict:
    """
    Make the class's members those of the LMS course: active members with
    a course role join (with an account made for them, as a first launch
    would), roles follow the LMS, and people who left the course, or whose
    membership the LMS made inactive, lose the class. Only people who came
    from this LMS are ever removed. Returns what changed, as it is shown.
    """
    context = course.context
    registration = context.deployment.registration
    try:
        members = services.roster(registration, context.memberships_url)
    except services.ServiceError as error:
        _record(course, error=f"The roster could not be fetched: {error}.")
        raise
    classroom = course.classroom
    # People are removed only if they came to the class from this course: by a launch
    # of it or an earlier sync of its roster (django-lti's membership of the context).
    from_course = set(
        LtiMembership.objects.filter(context=context)
        .exclude(user__auth_user=None)
        .values_list("user__auth_user_id", flat=True)
    )
    current = {m.user_id: m for m in classroom.memberships.select_related("user")}
    active = [
        m
        for m in members
        if isinstance(m, dict)
        and m.get("status", "Active") == "Active"
        and isinstance(m.get("user_id"), str)
        and 0 < len(m["user_id"]) <= 255
    ]

    try:
        changes = _apply_roster(course, active, current, from_course, registration)
    except EmptyRoster:
        _record(
            course,
            error="The LMS sent a roster without anyone in a course role: nobody was changed.",
        )
        return course.roster_changes
    _record(course, changes=changes)
    return changes


class EmptyRoster(Exception):
    """A roster with nobody in a class role: far likelier the LMS's fault than an empty course."""


@transaction.atomic
def _apply_roster(course, active, current, from_course, registration) -> dict:
    classroom, context = course.classroom, course.context
    changes = {"added": [], "removed": [], "role_changed": [], "waiting": []}
    keep = set()
    for member in active:
        role = site_role(member.get("roles") if isinstance(member.get("roles"), list) else [])
        if role is None:
            continue
        lti_user, user = _person(registration, member)
        if user is None:
            changes["waiting"].append(_name(member))
            continue
        LtiMembership.objects.get_or_create(user=lti_user, context=context)
        keep.add(user.pk)
        membership = current.get(user.pk)
        if membership is None:
            Membership.objects.create(classroom=classroom, user=user, role=role)
            changes["added"].append(str(user))
        elif membership.role != role:
            Membership.objects.filter(pk=membership.pk).update(role=role)
            changes["role_changed"].append(
                f"{user}: {membership.get_role_display()} → {Membership.Role(role).label}"
            )
        if role != Membership.Role.STUDENT:
            user.join_class_staff()
    leaving = [m for user_id, m in current.items() if user_id in from_course - keep]
    if leaving and not keep:
        raise EmptyRoster
    instructors = {
        user_id
        for user_id, m in current.items()
        if m.role == Membership.Role.INSTRUCTOR and m not in leaving
    } | {
        m.user_id
        for m in classroom.memberships.filter(role=Membership.Role.INSTRUCTOR, user_id__in=keep)
    }
    for membership in leaving:
        if membership.role == Membership.Role.INSTRUCTOR and not instructors:
            continue  # never the last instructor: the class would have nobody to run it
        membership.delete()
        changes["removed"].append(str(membership.user))
    return changes


def _person(registration, member: dict) -> tuple[LtiUser, User | None]:
    """The member and their account: linked before, or made now; None while they must choose."""
    claims = {**member, "sub": member["user_id"]}
    tidied(claims)  # names and addresses the database can hold, as for a launch
    lti_user, _ = LtiUser.objects.get_or_create(
        registration=registration,
        sub=member["user_id"],
        defaults={
            key: claims[key]
            for key in ("name", "given_name", "family_name", "email")
            if key in claims
        },
    )
    if lti_user.auth_user_id is not None:
        return lti_user, lti_user.auth_user
    email = claims.get("email", "")
    if email and User.objects.filter(email__iexact=email).exists():
        return lti_user, None  # never merged by address: they choose on their first launch
    lti_user.auth_user = new_person(registration, claims, separate=False)
    lti_user.save(update_fields=["auth_user", "datetime_modified"])
    return lti_user, lti_user.auth_user


def _name(member: dict) -> str:
    return member.get("name") or member.get("email") or member["user_id"]


def _record(course: LmsCourse, *, changes=None, error: str = "") -> None:
    course.roster_synced_at = timezone.now() if changes is not None else course.roster_synced_at
    course.roster_changes = changes if changes is not None else course.roster_changes
    course.roster_error = error
    course.roster_claimed_until = None
    course.save(
        update_fields=["roster_synced_at", "roster_changes", "roster_error", "roster_claimed_until"]
    )


def claim_roster(course_id: int, now) -> LmsCourse | None:
    """The course, claimed for one sync at a time; None if a sync of it is running."""
    claimed = (
        LmsCourse.objects.filter(pk=course_id)
        .exclude(context__memberships_url="")
        .filter(unclaimed("roster_claimed_until", now))
        .update(roster_claimed_until=now + ROSTER_LEASE)
    )
    if not claimed:
        return None
    return LmsCourse.objects.select_related("classroom", "context__deployment__registration").get(
        pk=course_id
    )


def rosters_due(now):
    """Courses with a roster service whose last sync is a day old, or that never synced."""
    stale = now - ROSTER_EVERY
    return (
        LmsCourse.objects.exclude(context__memberships_url="")
        .filter(unclaimed("roster_claimed_until", now))
        .filter(Q(roster_synced_at=None) | Q(roster_synced_at__lt=stale))
        .values_list("pk", flat=True)
    )


# Grades -------------------------------------------------------------------------------


def course_of(classroom) -> LmsCourse | None:
    """The LMS course a class is, if it is one."""
    return (
        LmsCourse.objects.filter(classroom=classroom)
        .select_related("context__deployment__registration")
        .first()
    )


def why_no_grades(link: LmsLink) -> str | None:
    """Why the link's scores cannot go to the LMS, in words for its instructor; None if they can."""
    if link.reading_id is None:
        return "This assignment has no reading yet."
    if not link.line_item_url:
        return (
            "The LMS gave this assignment no gradebook column. Add the assignment again by "
            "choosing the tool from the LMS (deep linking), which creates one."
        )
    if not link.resource_link.context.can_publish_scores:
        return (
            "The LMS does not let the tool post scores in this course: ask the LMS "
            "administrator to grant the tool the AGS score scope."
        )
    return None


def subjects(registration, user_ids=None) -> dict[int, str]:
    """Account id → the LMS's user id (`sub`), for the accounts that came from `registration`."""
    found = LtiUser.objects.filter(registration=registration).exclude(auth_user=None)
    if user_ids is not None:
        found = found.filter(auth_user_id__in=user_ids)
    return dict(found.values_list("auth_user_id", "sub"))


def queue_grades(link: LmsLink) -> int:
    """Queue every student's current score on the link's reading; how many were queued."""
    reading = link.reading
    maximum = scores.most_points(scores.rubric_for(reading.classroom))
    students = reading.classroom.memberships.filter(
        role=Membership.Role.STUDENT,
        user_id__in=subjects(link.resource_link.context.deployment.registration),
    ).values_list("user_id", flat=True)
    points = {score.student_id: score.points for score in Score.objects.filter(reading=reading)}
    queued = {student_id: points.get(student_id, 0) for student_id in students}
    with transaction.atomic():
        LmsGrade.queue(link, queued, maximum)
        LmsLink.objects.filter(pk=link.pk).update(grades_queued_at=timezone.now())
    return len(queued)


def send_grades(link_id: int, now) -> dict:
    """Send the link's due scores to its line item, retrying later what meets an outage."""
    claimed_until = now + GRADES_LEASE
    due = LmsGrade.objects.filter(
        link_id=link_id, status=LmsGrade.Status.WAITING, next_attempt_at__lte=now
    ).filter(unclaimed("claimed_until", now))
    ids = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:GRADES_BATCH])
    LmsGrade.objects.filter(pk__in=ids).filter(unclaimed("claimed_until", now)).update(
        claimed_until=claimed_until
    )
    grades = list(
        LmsGrade.objects.filter(pk__in=ids, claimed_until=claimed_until).select_related(
            "link__resource_link__context__deployment__registration"
        )
    )
    done = {"sent": 0, "retrying": 0, "failed": 0, "more": len(ids) == GRADES_BATCH}
    if not grades:
        return done
    link = grades[0].link
    registration = link.resource_link.context.deployment.registration
    known = subjects(registration, [grade.student_id for grade in grades])
    by_subject = {known[g.student_id]: g for g in grades if g.student_id in known}
    for grade in grades:
        if grade.student_id not in known:
            grade.mark_refused("the student is not known to the LMS (they never came from it)")
            done["failed"] += 1
    batch = [(sub, g.points, g.maximum) for sub, g in by_subject.items()]
    for subject, error in services.send_scores(registration, link.line_item_url, batch):
        grade = by_subject[subject]
        if error is None:
            grade.mark_sent()
            done["sent"] += 1
        elif error.passing:
            grade.retry_later(str(error), timezone.now() + backoff(grade.attempts + 1))
            done["retrying"] += 1
        else:
            grade.mark_refused(str(error))
            done["failed"] += 1
    return done


def grades_due(now):
    """Links with scores waiting whose next try is due."""
    return (
        LmsGrade.objects.filter(status=LmsGrade.Status.WAITING, next_attempt_at__lte=now)
        .filter(unclaimed("claimed_until", now))
        .values_list("link_id", flat=True)
        .distinct()
    )


def links_past_due(now):
    """Links whose reading's due date has passed since their scores were last queued."""
    return (
        LmsLink.objects.exclude(line_item_url="")
        .filter(reading__due_at__lte=now, resource_link__context__can_publish_scores=True)
        .filter(Q(grades_queued_at=None) | Q(grades_queued_at__lt=F("reading__due_at")))
        .select_related("reading__classroom", "resource_link__context__deployment__registration")
    )
