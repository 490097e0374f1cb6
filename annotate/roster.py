"""
A class's roster on the site: who is in it and in what role, changing a
role, removing someone, inviting people by email, and the two staff links
that make whoever opens them a co-instructor or a teaching assistant.

Only instructors (and superusers) change the roster. Teaching assistants
see it, read-only: they moderate the class and need to know who is in it,
but who is in it is the instructors' decision. Nobody's email address is
shown here but a superuser's view: instructors teach their students, they do
not look them up (scoping.sees_personal_details). The addresses an instructor
types to invite are theirs already, and the messages repeat them.
"""

import re
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import notifications
from .accounts import STAFF_SESSION_KEY, classes_with_staff_token
from .classes import get_classroom_for_instructor, get_classroom_for_staff
from .lti.sync import course_of
from .models import TEACHING_ROLES, Classroom, Membership, User, new_join_token
from .scoping import sees_personal_details
from .spaces import STAFF

MAX_INVITATIONS = 200
"""Addresses one submission may invite: a class or two, not a mailing list."""

ROLE_ORDER = [Membership.Role.INSTRUCTOR, Membership.Role.ASSISTANT, Membership.Role.STUDENT]

A_ROLE = {
    Membership.Role.STUDENT: "a student",
    Membership.Role.ASSISTANT: "a teaching assistant",
    Membership.Role.INSTRUCTOR: "an instructor",
}

GONE = "That person is no longer a member of this class: someone may have just removed them."


# Forms ------------------------------------------------------------------------


class RoleForm(forms.Form):
    """One member's role, one form per row of the roster."""

    role = forms.ChoiceField(
        choices=[(role.value, role.label) for role in ROLE_ORDER],
        error_messages={
            "required": "choose a role for them.",
            "invalid_choice": "choose student, teaching assistant or instructor.",
        },
    )

    def __init__(self, *args, membership: Membership | None = None, **kwargs):
        if membership is not None:
            # Ids unique on the page; the label names the member for screen readers.
            kwargs.setdefault("auto_id", f"member-{membership.pk}-%s")
            kwargs.setdefault("initial", {"role": membership.role})
        super().__init__(*args, **kwargs)
        if membership is not None:
            self.fields["role"].label = f"Role of {membership.user.display_name}"


ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


class InvitationForm(forms.Form):
    """Addresses to invite, pasted from anywhere, and the role they are invited as."""

    addresses = forms.CharField(
        label="Email addresses",
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
        help_text=f"Separated by commas, spaces or new lines; at most {MAX_INVITATIONS} at a time.",
        error_messages={"required": "Paste or type at least one email address."},
    )
    role = forms.ChoiceField(
        label="Invite them as",
        choices=[
            (Membership.Role.STUDENT.value, "Students"),
            (Membership.Role.ASSISTANT.value, "Teaching assistants"),
            (Membership.Role.INSTRUCTOR.value, "Co-instructors"),
        ],
        initial=Membership.Role.STUDENT.value,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what to invite them as.",
            "invalid_choice": "Choose students, teaching assistants or co-instructors.",
        },
    )

    def clean_addresses(self) -> list[str]:
        """
        The well-formed addresses, once each whatever their case; the others
        are kept in `self.malformed` so that the view sends what it can and
        gives the rest back to be corrected.
        """
        seen: dict[str, str] = {}
        self.malformed: list[str] = []
        for word in ADDRESS_SEPARATORS.split(self.cleaned_data["addresses"]):
            # "Ada <ada@school.edu>", as mail programs copy addresses.
            address = word.strip().strip("<>").rstrip(".")
            if not address:
                continue
            try:
                validate_email(address)
            except ValidationError:
                if word not in self.malformed:
                    self.malformed.append(word)
                continue
            seen.setdefault(address.lower(), address)
        if len(seen) + len(self.malformed) > MAX_INVITATIONS:
            raise ValidationError(
                f"That is {len(seen) + len(self.malformed)} addresses: invite at most "
                f"{MAX_INVITATIONS} at a time. Nothing was sent; split the list and send "
                "each part."
            )
        if not seen and self.malformed:
            raise ValidationError(not_addresses(self.malformed))
        return list(seen.values())


def not_addresses(words: list[str]) -> str:
    quoted = ", ".join(f"“{word}”" for word in words)
    verb = "is not an email address" if len(words) == 1 else "are not email addresses"
    return f"Not sent: {quoted} {verb}. Correct them and send again."


# Changing the roster ---------------------------------------------------------------


def _lock(classroom: Classroom) -> None:
    # Changes to one class's roster queue on its row: two instructors
    # demoting each other at once would otherwise leave the class with none.
    Classroom.objects.select_for_update().get(pk=classroom.pk)


def _last_instructor(classroom: Classroom, membership: Membership) -> str | None:
    if membership.role != Membership.Role.INSTRUCTOR:
        return None
    others = classroom.memberships.filter(role=Membership.Role.INSTRUCTOR).exclude(pk=membership.pk)
    if others.exists():
        return None
    return (
        f"{membership.user.display_name} is the class’s only instructor: make someone else "
        "an instructor first, so that the class always has one. Nothing was changed."
    )


@transaction.atomic
def change_role(
    classroom: Classroom, membership_id: int, role: str
) -> tuple[Membership | None, str | None]:
    """
    Give a member a new role. Returns the membership (None if it is gone)
    and why the change was refused, in words for the instructor, or None.
    A member who joins the teaching staff gets what moderating needs.
    """
    _lock(classroom)
    membership = classroom.memberships.select_related("user").filter(pk=membership_id).first()
    if membership is None:
        return None, GONE
    if role != Membership.Role.INSTRUCTOR and (problem := _last_instructor(classroom, membership)):
        return membership, problem
    membership.role = role
    if role != Membership.Role.STUDENT:
        membership.group = None  # groups are for students; staff read every group
    membership.save(update_fields=["role", "group"])
    if role in TEACHING_ROLES:
        membership.user.join_class_staff()
    return membership, None


@transaction.atomic
def remove_member(classroom: Classroom, membership_id: int) -> tuple[Membership | None, str | None]:
    """Take someone out of the class. Their posts stay, with their name, in its discussions."""
    _lock(classroom)
    membership = classroom.memberships.select_related("user").filter(pk=membership_id).first()
    if membership is None:
        return None, GONE
    if problem := _last_instructor(classroom, membership):
        return membership, problem
    membership.delete()
    return membership, None


@transaction.atomic
def join_staff(classroom: Classroom, user: User, role: str) -> None:
    """Make `user` a member in `role`, or raise a student to it, with what moderating needs."""
    _lock(classroom)
    membership, created = Membership.objects.get_or_create(
        classroom=classroom, user=user, defaults={"role": role}
    )
    if not created:
        membership.role = role
        membership.group = None
        membership.save(update_fields=["role", "group"])
    user.join_class_staff()


def regenerate_staff_tokens(classroom: Classroom) -> None:
    classroom.instructor_token = new_join_token()
    classroom.assistant_token = new_join_token()
    classroom.save(update_fields=["instructor_token", "assistant_token"])


@dataclass
class Invited:
    sent: list[str]
    members: list[str]
    """Addresses of people in the class already: not invited."""


# All or none: the instructor is told what was sent, so nothing is sent unless all of it is.
@transaction.atomic
def invite(classroom: Classroom, addresses: list[str], role: str, *, by: User) -> Invited:
    """Email each address the link that admits it in `role`, but to people in the class already."""
    lowered = [address.lower() for address in addresses]
    in_class = set(
        User.objects.annotate(address=Lower("email"))
        .filter(address__in=lowered, memberships__classroom=classroom)
        .values_list("address", flat=True)
    )
    link = invitation_link(classroom, role)
    result = Invited(sent=[], members=[])
    for address in addresses:
        if address.lower() in in_class:
            result.members.append(address)
        else:
            notifications.send_class_invitation(classroom, address, role, link, by=by)
            result.sent.append(address)
    return result


def invitation_link(classroom: Classroom, role: str) -> str:
    """The path that admits its holder to the class in `role`."""
    if role == Membership.Role.INSTRUCTOR:
        return reverse("join_staff", args=[classroom.instructor_token])
    if role == Membership.Role.ASSISTANT:
        return reverse("join_staff", args=[classroom.assistant_token])
    return classroom.get_join_url()


# Pages --------------------------------------------------------------------------------


def _roster_rows(classroom: Classroom, instructs: bool) -> list[dict]:
    memberships = sorted(
        classroom.memberships.select_related("user"),
        key=lambda membership: (
            ROLE_ORDER.index(membership.role),
            membership.user.display_name.lower(),
            membership.pk,
        ),
    )
    return [
        {
            "membership": membership,
            "role_form": RoleForm(membership=membership) if instructs else None,
        }
        for membership in memberships
    ]


def _render_roster(
    request: HttpRequest,
    classroom: Classroom,
    role: str,
    *,
    invitation_form: InvitationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    instructs = role in (Membership.Role.INSTRUCTOR, STAFF)
    rows = _roster_rows(classroom, instructs)
    counts = {value: 0 for value in ROLE_ORDER}
    for row in rows:
        counts[row["membership"].role] += 1
    context = {
        "classroom": classroom,
        "instructs": instructs,
        "rows": rows,
        "instructors": counts[Membership.Role.INSTRUCTOR],
        "assistants": counts[Membership.Role.ASSISTANT],
        "students": counts[Membership.Role.STUDENT],
        "show_emails": sees_personal_details(request.user),
        "invitation_form": invitation_form or InvitationForm(),
        "join_link_problem": classroom.why_link_is_closed(),
        "lms_course": course_of(classroom),
    }
    return render(request, "annotate/roster.html", context, status=status)


def _back(classroom: Classroom) -> HttpResponse:
    return redirect(reverse("roster", args=[classroom.slug]))


@require_safe
@login_required
def roster(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom, role = get_classroom_for_staff(request, class_slug)
    return _render_roster(request, classroom, role)


@require_POST
@login_required
def invite_members(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _render_roster(request, classroom, STAFF, invitation_form=form, status=400)
    role = form.cleaned_data["role"]
    if role == Membership.Role.STUDENT and classroom.why_link_is_closed():
        form.add_error(
            None,
            "The class’s join link admits nobody now (it has expired, or the class is full), "
            "so students could not use their invitation. Nothing was sent: make a new join "
            "link or make room in the class’s settings, then send again.",
        )
        return _render_roster(request, classroom, STAFF, invitation_form=form, status=400)
    invited = invite(classroom, form.cleaned_data["addresses"], role, by=request.user)
    if invited.sent:
        count = len(invited.sent)
        messages.success(
            request,
            f"{count} invitation{'s' if count != 1 else ''} to join as "
            f"{dict(form.fields['role'].choices)[role].lower()} sent: {', '.join(invited.sent)}.",
        )
    if invited.members:
        messages.info(
            request,
            f"Not invited, already in the class: {', '.join(invited.members)}. "
            "Change a member’s role in the list instead.",
        )
    if form.malformed:
        # What could be sent is sent; the rest stays in the box to be corrected.
        retry = InvitationForm({"addresses": "\n".join(form.malformed), "role": role})
        retry.is_valid()  # names the malformed ones against the box
        return _render_roster(request, classroom, STAFF, invitation_form=retry, status=400)
    return _back(classroom)


@require_POST
@login_required
def change_member_role(request: HttpRequest, class_slug: str, membership_id: int) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was changed: " + " ".join(form.errors["role"]))
        return _back(classroom)
    membership, problem = change_role(classroom, membership_id, form.cleaned_data["role"])
    if problem:
        messages.error(request, problem)
        return _back(classroom)
    name = membership.user.display_name
    messages.success(request, f"{name} is now {A_ROLE[membership.role]} of {classroom.name}.")
    if membership.user == request.user and membership.role != Membership.Role.INSTRUCTOR:
        return redirect(classroom)  # no longer theirs to change
    return _back(classroom)


@require_POST
@login_required
def remove_from_class(request: HttpRequest, class_slug: str, membership_id: int) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    membership, problem = remove_member(classroom, membership_id)
    if problem:
        messages.error(request, problem)
        return _back(classroom)
    if membership.user == request.user:
        messages.success(request, f"You are no longer a member of {classroom.name}.")
        return redirect("my_classes")
    messages.success(
        request,
        f"{membership.user.display_name} is no longer a member of {classroom.name}. "
        "Their posts stay in its discussions.",
    )
    return _back(classroom)


@require_POST
@login_required
def regenerate_staff_links(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    regenerate_staff_tokens(classroom)
    messages.success(
        request,
        "New co-instructor and teaching assistant links are ready; the old ones no longer "
        "work. Nobody who joined with them loses their place.",
    )
    return redirect(classroom)


STAFF_ROLE_WORDS = {
    Membership.Role.INSTRUCTOR: (
        "co-instructor",
        "As a co-instructor you run the class with its other instructors: its readings, "
        "members and settings, and the moderation of its discussions.",
    ),
    Membership.Role.ASSISTANT: (
        "teaching assistant",
        "As a teaching assistant you moderate the class’s discussions and follow its "
        "activity on its dashboard; its instructors keep its settings, readings and members.",
    ),
}


@require_http_methods(["GET", "POST"])
def join_as_staff(request: HttpRequest, token: str) -> HttpResponse:
    """A co-instructor's or teaching assistant's link: sign in, then accept."""
    # PostgreSQL refuses a NUL in a query: such a token matches no class anyway.
    classroom = classes_with_staff_token(token).first() if "\x00" not in token else None
    if classroom is None:
        problem = (
            "This staff link is not valid: it may have been replaced by a new one. Ask the "
            "class’s instructor for the current link."
        )
        return render(request, "annotate/staff_join.html", {"problem": problem}, status=404)
    role = (
        Membership.Role.INSTRUCTOR
        if token == classroom.instructor_token
        else Membership.Role.ASSISTANT
    )
    role_name, role_help = STAFF_ROLE_WORDS[role]
    context = {
        "classroom": classroom,
        "role_name": role_name,
        "role_help": role_help,
        "next": request.path,
    }
    if not request.user.is_authenticated:
        # Lets a newcomer create an account on an invite-only site.
        request.session[STAFF_SESSION_KEY] = token
        return render(request, "annotate/staff_join.html", context)
    current = (
        Membership.objects.filter(classroom=classroom, user=request.user)
        .values_list("role", flat=True)
        .first()
    )
    if current == Membership.Role.INSTRUCTOR or current == role:
        request.session.pop(STAFF_SESSION_KEY, None)
        messages.info(request, f"You are {A_ROLE[current]} of {classroom.name} already.")
        return redirect(classroom)
    if request.method == "POST":
        join_staff(classroom, request.user, role)
        request.session.pop(STAFF_SESSION_KEY, None)
        messages.success(request, f"Welcome to {classroom.name}, as its {role_name}.")
        return redirect(classroom)
    context["current"] = A_ROLE[current] if current else None
    return render(request, "annotate/staff_join.html", context)
