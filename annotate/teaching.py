"""
The teacher's side of the site: becoming a teacher (by invitation, or by a
school address at one of TEACHER_EMAIL_DOMAINS), the "Teaching" home that
lists the classes a teacher runs, starting a class, and the join link's QR
code for a projector.
"""

import io

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import notifications
from .accounts import has_verified_email
from .forms import ClassroomForm
from .models import TEACHING_ROLES, Membership, TeacherInvitation, User
from .slugs import unique_class_slug

INVITATION_SESSION_KEY = "annotate:teacher_invitation"


def invite_teacher(email: str, *, by: User | None = None) -> TeacherInvitation:
    """A new invitation for `email`, sent through the outbox."""
    invitation = TeacherInvitation.objects.create(email=email, invited_by=by)
    notifications.send_teacher_invitation(invitation)
    return invitation


def has_open_invitation(request: HttpRequest) -> bool:
    """Whether this visitor came through a teacher invitation that still works."""
    token = request.session.get(INVITATION_SESSION_KEY)
    invitation = TeacherInvitation.objects.filter(token=token).first() if token else None
    return invitation is not None and invitation.why_closed() is None


def may_become_teacher(user: User) -> bool:
    """Whether `user` may make themselves a teacher: a verified address at a teachers' domain."""
    domains = settings.TEACHER_EMAIL_DOMAINS
    if not domains or user.is_teacher:
        return False
    domain = user.email.rsplit("@", 1)[-1].lower()
    return domain in domains and has_verified_email(user)


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = (
        TeacherInvitation.objects.filter(token=token).first() if "\x00" not in token else None
    )
    if invitation is None:
        problem = (
            "This teacher invitation link is not valid. Check that the whole address was "
            "copied, or ask the site's administrator for a new one."
        )
        return render(request, "annotate/teacher_invitation.html", {"problem": problem}, status=404)
    problem = invitation.why_closed()
    if problem is None and request.user.is_authenticated and request.user.is_teacher:
        messages.info(request, "You are a teacher already.")
        return redirect("teaching")
    if problem is None and not request.user.is_authenticated:
        # Lets the invited teacher create an account on an invite-only site.
        request.session[INVITATION_SESSION_KEY] = token
    if request.method == "POST" and problem is None and request.user.is_authenticated:
        problem = invitation.accept(request.user)
        if problem is None:
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(request, "Welcome: you are a teacher now. Start with a class.")
            return redirect("teaching")
    context = {"invitation": invitation, "problem": problem, "next": request.path}
    return render(
        request, "annotate/teacher_invitation.html", context, status=410 if problem else 200
    )


@require_safe
@login_required
def teaching(request: HttpRequest) -> HttpResponse:
    """
    A teacher's home: the classes they teach or assist, with their role in
    each, and (for teachers) where to start a new one.
    """
    taught = (
        Membership.objects.filter(user=request.user, role__in=TEACHING_ROLES)
        .select_related("classroom")
        .order_by("classroom__name", "classroom__pk")
    )
    context = {
        "memberships": list(taught),
        "may_become_teacher": may_become_teacher(request.user),
    }
    return render(request, "annotate/teaching.html", context)


@require_POST
@login_required
def become_teacher(request: HttpRequest) -> HttpResponse:
    if not may_become_teacher(request.user):
        messages.error(
            request,
            "Only a confirmed address at one of this site's schools can make itself a "
            "teacher. Ask the site's administrator for a teacher invitation.",
        )
        return redirect("teaching")
    request.user.become_teacher()
    messages.success(request, "Welcome: you are a teacher now. Start with a class.")
    return redirect("teaching")


@require_http_methods(["GET", "POST"])
@login_required
def new_class(request: HttpRequest) -> HttpResponse:
    if not request.user.is_teacher:
        raise PermissionDenied("Only teachers start classes. See the Teaching page to become one.")
    form = ClassroomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            classroom = form.save(commit=False)
            classroom.slug = unique_class_slug(classroom.name)
            classroom.save()
            Membership.objects.create(
                classroom=classroom, user=request.user, role=Membership.Role.INSTRUCTOR
            )
        messages.success(
            request,
            f"{classroom.name} is ready. Share its join link with your students, and add "
            "its readings.",
        )
        return redirect(classroom)
    status = 400 if form.errors else 200
    return render(request, "annotate/new_class.html", {"form": form}, status=status)


def qr_code(url: str, title: str) -> SafeString:
    """
    `url` as a QR code, in SVG to put in the page (no image request, no inline
    style: the strict CSP holds). Sized by CSS through its viewBox.
    """
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", border=2, xmldecl=False, omitsize=True, title=title, svgclass="qr"
    )
    return mark_safe(out.getvalue().decode())
