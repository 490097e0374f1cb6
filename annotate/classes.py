"""Class pages: my classes, a class and its readings, joining, my activity, preferences."""

from collections import Counter
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import scores
from .accounts import JOIN_SESSION_KEY, has_verified_email
from .forms import ClassSettingsForm, DeleteClassForm, PreferencesForm
from .models import TEACHING_ROLES, Classroom, Membership, Post, User
from .notifications import UNSUBSCRIBE_SALT
from .site import absolute
from .spaces import NO_SUCH_CLASS, STAFF, class_posts_for, membership_in, on_the_page, role_in
from .teaching import qr_code


def get_classroom_for_member(request: HttpRequest, class_slug: str) -> tuple[Classroom, str]:
    """The class and the reader's role in it, or 404 for anyone outside it."""
    classroom = Classroom.objects.filter(slug=class_slug).first()
    role = role_in(request.user, classroom) if classroom else None
    if role is None:
        raise Http404(NO_SUCH_CLASS)
    return classroom, role


def get_classroom_for_staff(request: HttpRequest, class_slug: str) -> tuple[Classroom, str]:
    """
    The class and the reader's role, for its teaching staff (instructors,
    teaching assistants, superusers): what moderating and following the class
    needs. 404 for students and outsiders.
    """
    classroom, role = get_classroom_for_member(request, class_slug)
    if role not in (*TEACHING_ROLES, STAFF):
        raise Http404("Only the class's instructors and teaching assistants can see that.")
    return classroom, role


def get_classroom_for_instructor(request: HttpRequest, class_slug: str) -> Classroom:
    """
    The class, for its instructors and superusers: what changes the class
    (settings, readings, roster, groups, join links) needs. A teaching
    assistant gets a 403 that says why; students and outsiders a 404.
    """
    classroom, role = get_classroom_for_staff(request, class_slug)
    if role == Membership.Role.ASSISTANT:
        raise PermissionDenied(
            "Teaching assistants moderate and follow the class; only its instructors "
            "change its settings, readings and members."
        )
    return classroom


@require_safe
@login_required
def my_classes(request: HttpRequest) -> HttpResponse:
    memberships = list(
        request.user.memberships.select_related("classroom").annotate(
            reading_count=Count("classroom__readings")
        )
    )
    joined = {membership.classroom_id for membership in memberships}
    joinable = []
    if has_verified_email(request.user):
        joinable = [
            classroom
            for classroom in Classroom.objects.exclude(allowed_domains="").exclude(pk__in=joined)
            if classroom.admits_domain_of(request.user.email)
        ]
    context = {"memberships": memberships, "joinable": joinable}
    return render(request, "annotate/my_classes.html", context)


TAKING_PART = (Post.Status.PUBLISHED, Post.Status.PENDING)
"""A post in one of these states (and not deleted) counts as having posted."""


@dataclass
class ReadingCounts:
    posts: Counter
    """Published posts."""
    mine: Counter
    """The reader's own posts, published or awaiting moderation."""
    unanswered: Counter
    """First posts asking something that no published reply answers."""


def asks_something() -> ExpressionWrapper:
    """Whether a post asks something: the one definition of a question, a "?" in its words."""
    return ExpressionWrapper(Q(body__contains="?"), output_field=BooleanField())


def reading_counts(classroom: Classroom, user, role: str | None) -> ReadingCounts:
    """
    What each reading's page shows `user`, counted per text: the very posts
    the page shows them (hide-until-posted, and no reply under a post they
    cannot read), so that no number tells of a post they cannot see. One
    query, however many posts the class has.
    """
    rows = (
        class_posts_for(classroom, user, role)
        .order_by()  # counted, not listed: no sort
        .annotate(asks=asks_something())
        .values_list("pk", "parent_id", "document_id", "author_id", "status", "deleted_at", "asks")
    )
    # Plain tuples, read by position, and the reader's id read once: at a
    # school's scale this loop runs over every post of the class.
    readable = {row[0]: row for row in rows}
    me, published = user.pk, Post.Status.PUBLISHED
    counts = ReadingCounts(Counter(), Counter(), Counter())
    answered, questions = set(), []
    for pk in on_the_page({pk: row[1] for pk, row in readable.items()}):
        _, parent_id, document_id, author_id, status, deleted_at, asks = readable[pk]
        if deleted_at is not None:
            continue
        if status == published:
            counts.posts[document_id] += 1
            answered.add(parent_id)
            if parent_id is None and asks:
                questions.append((pk, document_id))
        if author_id == me:
            counts.mine[document_id] += 1
    for pk, document_id in questions:
        if pk not in answered:
            counts.unanswered[document_id] += 1
    return counts


def students_posted(classroom: Classroom) -> Counter:
    """
    How many of the class's students have taken part in each reading, by
    text, as the reading's roll counts them: one query.
    """
    students = classroom.memberships.filter(role=Membership.Role.STUDENT).values("user_id")
    return Counter(
        dict(
            Post.objects.filter(
                classroom=classroom,
                status__in=TAKING_PART,
                deleted_at=None,
                author__in=students,
            )
            .values("document_id")
            .annotate(n=Count("author_id", distinct=True))
            .values_list("document_id", "n")
        )
    )


@require_safe
def classroom(request: HttpRequest, class_slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    classroom, role = get_classroom_for_member(request, class_slug)
    readings = list(classroom.readings.select_related("document"))
    counts = reading_counts(classroom, request.user, role)
    teaches = role in (*TEACHING_ROLES, STAFF)
    student_count = classroom.memberships.filter(role=Membership.Role.STUDENT).count()
    posted = students_posted(classroom) if teaches else Counter()
    rows = [
        {
            "reading": reading,
            "posts": counts.posts[reading.document_id],
            "mine": counts.mine[reading.document_id],
            "unanswered": counts.unanswered[reading.document_id],
            "students_posted": posted[reading.document_id],
        }
        for reading in readings
    ]
    join_url = absolute(classroom.get_join_url(), request) if teaches else ""
    context = {
        "classroom": classroom,
        "rows": rows,
        "teaches": teaches,
        "instructs": role in (Membership.Role.INSTRUCTOR, STAFF),
        "join_url": join_url,
        "join_qr": qr_code(join_url, f"Join link of {classroom.name}") if teaches else "",
        "student_count": student_count,
        # A student's small group, which the readings discussed in groups are read with.
        "my_group": membership_in(request.user, classroom)[1]
        if role == Membership.Role.STUDENT
        else None,
    }
    return render(request, "annotate/classroom.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def class_settings(request: HttpRequest, class_slug: str) -> HttpResponse:
    """A class's name, term, zone, description and who may join: for its instructors."""
    classroom = get_classroom_for_instructor(request, class_slug)
    form = ClassSettingsForm(request.POST if request.method == "POST" else None, instance=classroom)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "The class’s settings are saved.")
        return redirect(classroom)
    context = {"form": form, "classroom": classroom}
    return render(
        request, "annotate/class_settings.html", context, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete_class(request: HttpRequest, class_slug: str) -> HttpResponse:
    """
    Deleting a class deletes its members' places and its discussions, never
    the texts: the teacher types the class's name first, and is shown what goes.
    """
    classroom = get_classroom_for_instructor(request, class_slug)
    form = DeleteClassForm(request.POST if request.method == "POST" else None, classroom=classroom)
    if request.method == "POST" and form.is_valid():
        name = str(classroom)
        classroom.delete()
        messages.success(request, f"{name} is deleted, with its discussions. Its texts are kept.")
        return redirect("teaching")
    context = {
        "form": form,
        "classroom": classroom,
        "members": classroom.memberships.count(),
        "posts": classroom.posts.count(),
    }
    return render(
        request, "annotate/delete_class.html", context, status=400 if form.errors else 200
    )


@require_safe
@login_required
def join_link(request: HttpRequest, class_slug: str) -> HttpResponse:
    """The join link large, with its QR code, to put on a projector."""
    classroom, _ = get_classroom_for_staff(request, class_slug)
    join_url = absolute(classroom.get_join_url(), request)
    context = {
        "classroom": classroom,
        "join_url": join_url,
        "join_qr": qr_code(join_url, f"Join link of {classroom.name}"),
    }
    return render(request, "annotate/join_link.html", context)


@require_POST
@login_required
def regenerate_join_link(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    classroom.regenerate_join_token()
    messages.success(request, "A new join link is ready; the old one no longer works.")
    return redirect(classroom)


def join(request: HttpRequest, token: str) -> HttpResponse:
    # PostgreSQL refuses a NUL in a query: such a token matches no class anyway.
    classroom = Classroom.objects.filter(join_token=token).first() if "\x00" not in token else None
    if classroom is None:
        return render(
            request,
            "annotate/join.html",
            {
                "problem": "This join link is not valid: it may have been replaced by a new one. "
                "Ask your instructor for the current link."
            },
            status=404,
        )
    problem = classroom.why_link_is_closed()
    if not request.user.is_authenticated:
        if not problem:
            # Lets a newcomer create an account on an invite-only site.
            request.session[JOIN_SESSION_KEY] = token
        context = {"classroom": classroom, "problem": problem, "next": request.path}
        return render(request, "annotate/join.html", context, status=403 if problem else 200)
    if role_in(request.user, classroom) not in (None, STAFF):
        messages.info(request, f"You are already a member of {classroom}.")
        return redirect(classroom)
    if request.method == "POST" and not problem:
        # Checked again as the class admits them: someone may have taken the last place.
        problem = classroom.admit(request.user, by_link=True)
        if not problem:
            request.session.pop(JOIN_SESSION_KEY, None)
            messages.success(request, f"Welcome to {classroom}.")
            return redirect(classroom)
    context = {"classroom": classroom, "problem": problem}
    return render(request, "annotate/join.html", context, status=403 if problem else 200)


@require_POST
@login_required
def join_by_domain(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom = Classroom.objects.filter(slug=class_slug).first()
    if classroom is None or not (
        has_verified_email(request.user) and classroom.admits_domain_of(request.user.email)
    ):
        raise Http404(
            "This class doesn't exist, or it doesn't admit your address: "
            "ask your instructor for its join link."
        )
    if problem := classroom.admit(request.user, by_link=False):
        context = {"classroom": classroom, "problem": problem}
        return render(request, "annotate/join.html", context, status=403)
    messages.success(request, f"Welcome to {classroom}.")
    return redirect(classroom)


STATUS_LABELS = {
    Post.Status.PUBLISHED: "published",
    Post.Status.PENDING: "awaiting moderation",
    Post.Status.SPAM: "awaiting moderation",
    Post.Status.REMOVED: "removed by a moderator",
}


@require_safe
@login_required
def my_activity(request: HttpRequest) -> HttpResponse:
    posts = (
        Post.objects.filter(author=request.user, deleted_at=None)
        .select_related("document", "classroom")
        .order_by("-created_at", "-id")
    )
    page = Paginator(posts, 50).get_page(request.GET.get("page"))
    for post in page:
        post.status_label = STATUS_LABELS[post.status]
    # Scores only of the classes whose teachers show them (never their private comments).
    shown = request.user.memberships.filter(
        role=Membership.Role.STUDENT, classroom__rubric__visible_to_students=True
    ).select_related("classroom__rubric")
    score_classes = [
        {
            "classroom": membership.classroom,
            "rule": scores.describe(membership.classroom.rubric),
            "rows": scores.student_scores(
                membership.classroom,
                request.user,
                list(
                    membership.classroom.readings.select_related(
                        "classroom", "document__current_revision"
                    )
                ),
            ),
        }
        for membership in shown
    ]
    context = {"page": page, "score_classes": score_classes}
    return render(request, "annotate/my_activity.html", context)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your preferences are saved.")
        return redirect("preferences")
    teaches = (
        request.user.is_staff or request.user.memberships.filter(role__in=TEACHING_ROLES).exists()
    )
    context = {"form": form, "teaches": teaches}
    return render(request, "annotate/preferences.html", context, status=400 if form.errors else 200)


# Mail programs that offer "Unsubscribe" (RFC 8058, List-Unsubscribe-Post)
# POST to the link without cookies: the signed token is the only credential.
# No HEAD: link checkers send it, and nobody asked them to unsubscribe anyone.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """
    From an email: no more reply notifications, no sign-in needed. Opening
    the link shows one button; only a POST (the button, or a mail program's
    one-click unsubscribe) changes anything, so that mail scanners that open
    every link unsubscribe nobody.
    """
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return render(request, "annotate/unsubscribed.html", {"invalid": True}, status=400)
    if request.method != "POST":
        return render(request, "annotate/unsubscribed.html", {"confirm": True})
    User.objects.filter(pk=user_id).update(email_on_reply=False)
    return render(request, "annotate/unsubscribed.html", {"done": True})
