"""
A class's small groups: the instructors make them by hand or split the class
at random, and move students between them. On a reading discussed in groups
(`Reading.in_groups`) each student reads only their group's posts and the
teaching staff's; annotate/spaces.py applies that everywhere a post is read.

Teaching assistants see the groups page but cannot change it: who reads whom
is the instructors' decision, as the roster is.
"""

import math
import random

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from .classes import get_classroom_for_instructor, get_classroom_for_staff
from .models import ClassGroup, Classroom, Membership
from .spaces import STAFF

shuffle = random.SystemRandom().shuffle
"""How a random split orders the students; tests put a seeded one in its place."""


# Forms ------------------------------------------------------------------------


class GroupNameForm(forms.Form):
    """A new group's name, or a new name for one."""

    name = forms.CharField(
        label="Group name",
        max_length=ClassGroup._meta.get_field("name").max_length,
        help_text="Students see it on the class page, e.g. “Table 3” or “Red”.",
    )

    def __init__(self, *args, classroom: Classroom, group: ClassGroup | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.classroom = classroom
        self.group = group
        if group is not None:
            self.prefix = f"group-{group.pk}"
            self.fields["name"].label = f"New name for {group.name}"
            self.fields["name"].help_text = ""
            self.initial.setdefault("name", group.name)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = self.classroom.groups.filter(name__iexact=name)
        if self.group is not None:
            taken = taken.exclude(pk=self.group.pk)
        if taken.exists():
            raise forms.ValidationError(
                f"This class already has a group called “{name}”: choose another name."
            )
        return name


class SplitForm(forms.Form):
    """Splitting the class's students at random into groups of a chosen size."""

    size = forms.IntegerField(
        label="Students per group",
        min_value=1,
        error_messages={"min_value": "A group needs at least one student."},
        help_text="Groups are as even as the class allows, none larger than this.",
    )
    replace = forms.BooleanField(
        label="Replace the current groups",
        required=False,
        help_text="Their names go; the posts stay.",
    )

    def __init__(self, *args, classroom: Classroom, students: int, groups: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.classroom = classroom
        self.students = students
        self.groups = groups
        if not groups:
            del self.fields["replace"]

    def clean_size(self) -> int:
        size = self.cleaned_data["size"]
        if self.students == 0:
            raise forms.ValidationError("The class has no students to split yet.")
        if size > self.students:
            raise forms.ValidationError(
                f"The class has {self.students} student{'s' if self.students != 1 else ''}: "
                f"choose a size of at most {self.students}."
            )
        return size

    def clean(self):
        cleaned = super().clean()
        if self.groups and not cleaned.get("replace"):
            self.add_error(
                "replace",
                f"The class has {self.groups} group{'s' if self.groups != 1 else ''} already: "
                "tick this box to replace them.",
            )
        return cleaned


class MembersForm(forms.Form):
    """Every student's group, one select each, saved at once."""

    def __init__(self, *args, classroom: Classroom, students: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.students = students
        # One list of choices for every select: a ModelChoiceField would ask
        # the database once per student, to draw it and again to check it.
        self.groups = {str(group.pk): group for group in classroom.groups.all()}
        choices = [("", "No group"), *((pk, group.name) for pk, group in self.groups.items())]
        for membership in students:
            self.fields[self.field_name(membership)] = forms.ChoiceField(
                choices=choices,
                required=False,
                label=membership.user.display_name,
                initial=str(membership.group_id or ""),
                error_messages={
                    "invalid_choice": "That group is not one of this class’s: "
                    "it may have just been deleted. Choose again."
                },
            )

    @staticmethod
    def field_name(membership: Membership) -> str:
        return f"student-{membership.pk}"

    def rows(self):
        """Each student with their select, for the table."""
        return [(membership, self[self.field_name(membership)]) for membership in self.students]

    def changes(self) -> dict[int, ClassGroup | None]:
        """{membership id: its new group}, for the students whose group changed."""
        changes = {}
        for membership in self.students:
            if self.add_prefix(self.field_name(membership)) not in self.data:
                continue  # joined after the page was drawn: left as they are
            group = self.groups.get(self.cleaned_data[self.field_name(membership)])
            if (group.pk if group else None) != membership.group_id:
                changes[membership.pk] = group
        return changes


# Changing groups ----------------------------------------------------------------


def split_at_random(classroom: Classroom, size: int) -> list[ClassGroup]:
    """
    Replace the class's groups with new ones, "Group 1" to "Group k", holding
    every student once: k = ceil(students / size) groups, whose sizes differ
    by one at most, so that none is larger than `size` and none is left
    with a lone student when an even split exists.
    """
    with transaction.atomic():
        # Two splits at once would otherwise both delete, then both create names.
        Classroom.objects.select_for_update().get(pk=classroom.pk)
        students = list(
            classroom.memberships.filter(role=Membership.Role.STUDENT).values_list("pk", flat=True)
        )
        shuffle(students)
        classroom.groups.all().delete()  # its members are left in no group (SET_NULL)
        count = math.ceil(len(students) / size)
        groups = ClassGroup.objects.bulk_create(
            ClassGroup(classroom=classroom, name=f"Group {number}")
            for number in range(1, count + 1)
        )
        for index, group in enumerate(groups):
            Membership.objects.filter(pk__in=students[index::count]).update(group=group)
    return groups


def move_students(classroom: Classroom, changes: dict[int, ClassGroup | None]) -> None:
    """Put each student in their new group: one update per group, whatever the class's size."""
    by_group: dict[ClassGroup | None, list[int]] = {}
    for membership_id, group in changes.items():
        by_group.setdefault(group, []).append(membership_id)
    with transaction.atomic():
        for group, membership_ids in by_group.items():
            classroom.memberships.filter(
                pk__in=membership_ids, role=Membership.Role.STUDENT
            ).update(group=group)


# The page ---------------------------------------------------------------------------


def _students(classroom: Classroom) -> list[Membership]:
    return list(
        classroom.memberships.filter(role=Membership.Role.STUDENT)
        .select_related("user", "group")
        .order_by("user__display_name", "pk")
    )


def _render_page(
    request: HttpRequest,
    classroom: Classroom,
    role: str,
    *,
    new_form: GroupNameForm | None = None,
    rename_form: GroupNameForm | None = None,
    members_form: MembersForm | None = None,
    split_form: SplitForm | None = None,
    status: int = 200,
) -> HttpResponse:
    students = _students(classroom)
    groups = list(classroom.groups.all())
    members: dict[int, list[Membership]] = {group.pk: [] for group in groups}
    for membership in students:
        if membership.group_id in members:
            members[membership.group_id].append(membership)
    instructs = role in (Membership.Role.INSTRUCTOR, STAFF)
    rename_forms = {
        group.pk: (
            rename_form
            if rename_form is not None and rename_form.group.pk == group.pk
            else GroupNameForm(classroom=classroom, group=group)
        )
        for group in groups
    }
    context = {
        "classroom": classroom,
        "instructs": instructs,
        "groups": [
            {"group": group, "members": members[group.pk], "rename_form": rename_forms[group.pk]}
            for group in groups
        ],
        "ungrouped": [membership for membership in students if membership.group_id is None],
        "students": students,
        "grouped_readings": list(
            classroom.readings.filter(in_groups=True).select_related("document")
        ),
        "new_form": new_form or GroupNameForm(classroom=classroom),
        "members_form": members_form or MembersForm(classroom=classroom, students=students),
        "split_form": split_form
        or SplitForm(classroom=classroom, students=len(students), groups=len(groups)),
    }
    return render(request, "annotate/groups.html", context, status=status)


def _back(classroom: Classroom) -> HttpResponse:
    return redirect(reverse("class_groups", args=[classroom.slug]))


def _group_or_none(classroom: Classroom, group_id: int) -> ClassGroup | None:
    # Another class's group is no group of this one: never found through this class.
    return classroom.groups.filter(pk=group_id).first()


GONE = "That group no longer exists in this class: it may have just been deleted."


@require_safe
@login_required
def groups_page(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom, role = get_classroom_for_staff(request, class_slug)
    return _render_page(request, classroom, role)


@require_POST
@login_required
def new_group(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    form = GroupNameForm(request.POST, classroom=classroom)
    if form.is_valid():
        name = form.cleaned_data["name"]
        try:
            with transaction.atomic():
                ClassGroup.objects.create(classroom=classroom, name=name)
        except IntegrityError:  # the same name, added a moment ago in another tab
            form.add_error("name", f"This class already has a group called “{name}”.")
        else:
            messages.success(request, f"Group “{name}” added. Now move students into it.")
            return _back(classroom)
    return _render_page(request, classroom, STAFF, new_form=form, status=400)


@require_POST
@login_required
def rename_group(request: HttpRequest, class_slug: str, group_id: int) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    group = _group_or_none(classroom, group_id)
    if group is None:
        messages.error(request, GONE)
        return _back(classroom)
    old_name = group.name
    form = GroupNameForm(request.POST, classroom=classroom, group=group)
    if form.is_valid():
        group.name = form.cleaned_data["name"]
        try:
            with transaction.atomic():
                group.save(update_fields=["name"])
        except IntegrityError:
            group.name = old_name
            form.add_error("name", "Another group took that name a moment ago.")
        else:
            messages.success(request, f"“{old_name}” is now called “{group.name}”.")
            return _back(classroom)
    group.name = old_name
    return _render_page(request, classroom, STAFF, rename_form=form, status=400)


@require_POST
@login_required
def delete_group(request: HttpRequest, class_slug: str, group_id: int) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    group = _group_or_none(classroom, group_id)
    if group is None:
        messages.error(request, GONE)
        return _back(classroom)
    members = group.memberships.count()
    group.delete()  # members are left in no group; their posts stay
    messages.success(
        request,
        f"Group “{group.name}” deleted."
        + (
            f" Its {members} student{'s are' if members != 1 else ' is'} in no group now."
            if members
            else ""
        ),
    )
    return _back(classroom)


@require_POST
@login_required
def move_members(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    form = MembersForm(request.POST, classroom=classroom, students=_students(classroom))
    if not form.is_valid():
        return _render_page(request, classroom, STAFF, members_form=form, status=400)
    changes = form.changes()
    move_students(classroom, changes)
    if changes:
        count = len(changes)
        messages.success(
            request,
            f"Saved: {count} student{'s' if count != 1 else ''} moved. "
            "They read their new group’s posts from now on.",
        )
    else:
        messages.info(request, "No student changed group.")
    return _back(classroom)


@require_POST
@login_required
def split_groups(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    form = SplitForm(
        request.POST,
        classroom=classroom,
        students=classroom.memberships.filter(role=Membership.Role.STUDENT).count(),
        groups=classroom.groups.count(),
    )
    if not form.is_valid():
        return _render_page(request, classroom, STAFF, split_form=form, status=400)
    groups = split_at_random(classroom, form.cleaned_data["size"])
    messages.success(
        request,
        f"The class is split into {len(groups)} group{'s' if len(groups) != 1 else ''} "
        "at random. Move anyone by hand below, and rename the groups if you like.",
    )
    return _back(classroom)
