"""
A class from an LMS, as its teaching staff run it: syncing the roster on
demand, and each assignment's scores on their way to the LMS gradebook.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from .. import tasks
from ..background import enqueue
from ..classes import get_classroom_for_instructor, get_classroom_for_staff
from ..models import LmsGrade, LmsLink, Membership
from ..readings import get_reading
from .sync import course_of, queue_grades, why_no_grades


@require_POST
@login_required
def sync_roster_now(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    course = course_of(classroom)
    if course is None:
        raise Http404("This class is not an LMS course.")
    if not course.context.memberships_url:
        messages.error(
            request,
            "The LMS has not offered this course's roster (Names and Role Provisioning "
            "Services). Ask the LMS administrator to allow it for the tool; until then the "
            "class grows as people open its assignments.",
        )
    else:
        enqueue(tasks.sync_lms_roster, course.pk)
        messages.success(
            request,
            "The roster is being synced with the LMS. This page shows what changed once it is "
            "done: reload it in a moment.",
        )
    return redirect("roster", classroom.slug)


def _links(reading) -> list[LmsLink]:
    return list(LmsLink.objects.filter(reading=reading).select_related("resource_link__context"))


@require_safe
@login_required
def lms_grades(request: HttpRequest, class_slug: str, slug: str) -> HttpResponse:
    """Each student's score on the reading and where it stands in each LMS gradebook column."""
    classroom, role = get_classroom_for_staff(request, class_slug)
    reading = get_reading(classroom, slug)
    links = _links(reading)
    students = list(
        classroom.memberships.filter(role=Membership.Role.STUDENT)
        .select_related("user")
        .order_by("user__display_name", "pk")
    )
    grades = {
        (grade.link_id, grade.student_id): grade
        for grade in LmsGrade.objects.filter(link__in=links)
    }
    columns = [
        {
            "link": link,
            "problem": why_no_grades(link),
            "rows": [(m.user, grades.get((link.pk, m.user_id))) for m in students],
        }
        for link in links
    ]
    context = {
        "classroom": classroom,
        "reading": reading,
        "columns": columns,
        "instructs": role != Membership.Role.ASSISTANT,
    }
    return render(request, "annotate/lti/grades.html", context)


@require_POST
@login_required
def send_grades_now(request: HttpRequest, class_slug: str, slug: str) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    reading = get_reading(classroom, slug)
    sent = 0
    for link in _links(reading):
        if problem := why_no_grades(link):
            messages.error(request, f"{link}: {problem}")
            continue
        sent += queue_grades(link)
        enqueue(tasks.send_lms_grades, link.pk)
    if sent:
        messages.success(
            request,
            f"{sent} score{'s' if sent != 1 else ''} on {'their' if sent != 1 else 'its'} way "
            "to the LMS. Each row below says when it arrives; if the LMS is down, they wait "
            "and are tried again.",
        )
    return redirect(reverse("lms_grades", args=[classroom.slug, reading.document.slug]))
