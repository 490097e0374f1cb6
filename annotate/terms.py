"""
A class's time and its terms: the zone its times are given in, and copying a
class into a new term (its readings, instructions, due dates, groups and
reading settings; never its members or posts).
"""

import zoneinfo
from datetime import UTC, datetime, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .classes import get_classroom_for_instructor
from .forms import time_zone_choices
from .models import ClassGroup, Classroom, Membership, Reading, Rubric, User
from .scoping import assignable_documents
from .slugs import unique_class_slug

MAX_WEEKS = 104
"""How far a copy moves its due dates: two years covers any "same term next year"."""


def shift_in_zone(
    moment: datetime | None, weeks: int, zone: zoneinfo.ZoneInfo, new_zone: zoneinfo.ZoneInfo
) -> datetime | None:
    """
    `moment` moved by `weeks`, keeping its wall-clock time: 17:00 in the
    class's zone stays 17:00 across a change to or from summer time (adding
    weeks in UTC would make it 16:00 or 18:00), and in `new_zone` if the new
    class meets elsewhere. A time the clocks skip (01:30 in London on the
    night they go forward) becomes the hour after it (02:30); a time they
    pass twice, when they go back, the first of the two.
    """
    if moment is None:
        return None
    wall_clock = moment.astimezone(zone).replace(tzinfo=None) + timedelta(weeks=weeks)
    return wall_clock.replace(tzinfo=new_zone).astimezone(UTC)


class CopyClassForm(forms.Form):
    name = forms.CharField(
        label="Name of the new class",
        max_length=Classroom._meta.get_field("name").max_length,
        error_messages={"required": "Give the new class a name."},
    )
    term = forms.CharField(
        label="New term",
        max_length=Classroom._meta.get_field("term").max_length,
        help_text="e.g. Spring 2028: it tells the two classes apart on your Teaching page.",
        error_messages={"required": "Name the new term, e.g. Spring 2028."},
    )
    weeks = forms.IntegerField(
        label="Move due dates by (weeks)",
        min_value=0,
        max_value=MAX_WEEKS,
        initial=0,
        help_text="Each due date moves this many weeks later, at the same time of day. "
        "0 keeps the dates; 52 is the same week next year.",
        error_messages={
            "required": "Say how many weeks to move the due dates (0 keeps them).",
            "invalid": "Give a whole number of weeks, e.g. 52.",
            "min_value": "Due dates can only move later: give 0 or more weeks.",
            "max_value": f"Due dates can move at most {MAX_WEEKS} weeks (two years).",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        help_text="Where the new class meets: its due dates keep their time of day in this zone.",
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )

    def __init__(self, *args, classroom: Classroom, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].initial = classroom.name
        self.fields["time_zone"].initial = classroom.zone.key
        self.fields["weeks"].widget.attrs.update({"min": 0, "max": MAX_WEEKS})


def readings_to_copy(classroom: Classroom, user: User) -> tuple[list[Reading], list[Reading]]:
    """
    The class's readings that the copy takes, and those it leaves: a copy is
    a new assignment, so it takes only texts `user` may assign (public texts
    and their own). A co-instructor's private text stays with its owner.
    """
    assignable = set(
        assignable_documents(user)
        .filter(readings__classroom=classroom)
        .values_list("pk", flat=True)
    )
    readings = list(classroom.readings.select_related("document"))
    taken = [reading for reading in readings if reading.document_id in assignable]
    left = [reading for reading in readings if reading.document_id not in assignable]
    return taken, left


@transaction.atomic
def copy_class(
    classroom: Classroom, *, by: User, name: str, term: str, weeks: int, time_zone: str
) -> tuple[Classroom, list[Reading]]:
    """
    A new class for a new term from `classroom`: its settings, the readings
    `by` may assign (with due dates moved `weeks` later), its groups (empty),
    its rubric, and `by` as its one member, an instructor. New join and
    staff links. The readings left out are returned, for the teacher to hear of them.

    The site's moderation rules are site-wide and a text's own (premoderated,
    when its discussion closes) belong to the text, so both already apply to
    the copy; what a class sets per reading (hide-until-posted, discussed in
    groups) is copied.
    """
    zone, new_zone = classroom.zone, zoneinfo.ZoneInfo(time_zone)
    join_expires_at = shift_in_zone(classroom.join_expires_at, weeks, zone, new_zone)
    if join_expires_at and join_expires_at <= timezone.now():
        # A link that would be closed from the start helps nobody.
        join_expires_at = None
    copy = Classroom.objects.create(
        name=name,
        slug=unique_class_slug(name),
        term=term,
        description=classroom.description,
        time_zone=time_zone,
        member_limit=classroom.member_limit,
        allowed_domains=classroom.allowed_domains,
        join_expires_at=join_expires_at,
    )
    Membership.objects.create(classroom=copy, user=by, role=Membership.Role.INSTRUCTOR)
    ClassGroup.objects.bulk_create(
        ClassGroup(classroom=copy, name=group_name)
        for group_name in classroom.groups.values_list("name", flat=True)
    )
    rubric = Rubric.objects.filter(classroom=classroom).first()
    if rubric is not None:
        rubric.pk, rubric.classroom = None, copy
        rubric.save(force_insert=True)
    taken, left = readings_to_copy(classroom, by)
    Reading.objects.bulk_create(
        Reading(
            classroom=copy,
            document_id=reading.document_id,
            due_at=shift_in_zone(reading.due_at, weeks, zone, new_zone),
            instructions=reading.instructions,
            hide_until_posted=reading.hide_until_posted,
            in_groups=reading.in_groups,
        )
        for reading in taken
    )
    return copy, left


@require_http_methods(["GET", "POST"])
@login_required
def copy_class_view(request: HttpRequest, class_slug: str) -> HttpResponse:
    """Copy to a new term: the class's instructors (and superusers) only."""
    classroom = get_classroom_for_instructor(request, class_slug)
    form = CopyClassForm(request.POST or None, classroom=classroom)
    if request.method == "POST" and form.is_valid():
        copy, left = copy_class(classroom, by=request.user, **form.cleaned_data)
        messages.success(
            request,
            f"{copy} is ready, with a new join link. Its readings, groups and settings come "
            f"from {classroom}; it has no members but you, and no posts.",
        )
        if left:
            titles = ", ".join(f"“{reading.document.title}”" for reading in left)
            messages.warning(
                request,
                f"Not copied: {titles}, another teacher’s text. Ask its owner to add it.",
            )
        return redirect(copy)
    taken, left = readings_to_copy(classroom, request.user)
    context = {
        "classroom": classroom,
        "form": form,
        "taken": taken,
        "left": left,
        "group_count": classroom.groups.count(),
    }
    status = 400 if form.errors else 200
    return render(request, "annotate/copy_class.html", context, status=status)
