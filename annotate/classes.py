"""Class pages: my classes, a class and its readings, joining, my activity, preferences."""

from collections import Counter

from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .accounts import JOIN_SESSION_KEY
from .forms import PreferencesForm
from .models import Classroom, Membership, Post, User
from .notifications import UNSUBSCRIBE_SALT
from .spaces import STAFF, role_in


def has_verified_email(user) -> bool:
    """A school address admits its owner only once they have shown it is theirs."""
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def get_classroom_for_member(request: HttpRequest, class_slug: str) -> tuple[Classroom, str]:
    """The class and the reader's role in it, or 404 for anyone outside it."""
    classroom = get_object_or_404(Classroom, slug=class_slug)
    role = role_in(request.user, classroom)
    if role is None:
        raise Http404("This class is only open to its members.")
    return classroom, role


def get_classroom_for_instructor(request: HttpRequest, class_slug: str) -> Classroom:
    classroom, role = get_classroom_for_member(request, class_slug)
    if role not in (Membership.Role.INSTRUCTOR, STAFF):
        raise Http404("Only the class's instructors can do that.")
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


def _question_counts(posts) -> Counter:
    """Unanswered questions per text: first posts asking something that nobody answered."""
    questions = (
        posts.filter(parent=None, status=Post.Status.PUBLISHED, body__contains="?")
        .annotate(
            answers=Count(
                "replies",
                filter=Q(replies__status=Post.Status.PUBLISHED, replies__deleted_at=None),
            )
        )
        .filter(answers=0)
        .values_list("document_id", flat=True)
    )
    return Counter(questions)


@require_safe
def classroom(request: HttpRequest, class_slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    classroom, role = get_classroom_for_member(request, class_slug)
    readings = list(classroom.readings.select_related("document"))
    posts = Post.objects.filter(classroom=classroom, deleted_at=None)
    published = Counter(
        posts.filter(status=Post.Status.PUBLISHED).values_list("document_id", flat=True)
    )
    # The reader's posts as the reading page shows them: published or awaiting moderation.
    mine = Counter(
        posts.filter(author=request.user)
        .exclude(status=Post.Status.REMOVED)
        .values_list("document_id", flat=True)
    )
    questions = _question_counts(posts)
    rows = [
        {
            "reading": reading,
            "posts": published[reading.document_id],
            "mine": mine[reading.document_id],
            "unanswered": questions[reading.document_id],
        }
        for reading in readings
    ]
    teaches = role in (Membership.Role.INSTRUCTOR, STAFF)
    context = {
        "classroom": classroom,
        "rows": rows,
        "teaches": teaches,
        "join_url": request.build_absolute_uri(classroom.get_join_url()) if teaches else "",
        "student_count": classroom.memberships.filter(role=Membership.Role.STUDENT).count(),
    }
    return render(request, "annotate/classroom.html", context)


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
        Membership.objects.get_or_create(classroom=classroom, user=request.user)
        request.session.pop(JOIN_SESSION_KEY, None)
        messages.success(request, f"Welcome to {classroom}.")
        return redirect(classroom)
    context = {"classroom": classroom, "problem": problem}
    return render(request, "annotate/join.html", context, status=403 if problem else 200)


@require_POST
@login_required
def join_by_domain(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom = get_object_or_404(Classroom, slug=class_slug)
    if not (has_verified_email(request.user) and classroom.admits_domain_of(request.user.email)):
        raise Http404("This class admits its members by its join link.")
    Membership.objects.get_or_create(classroom=classroom, user=request.user)
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
    return render(request, "annotate/my_activity.html", {"page": page})


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your preferences are saved.")
        return redirect("preferences")
    teaches = (
        request.user.is_staff
        or request.user.memberships.filter(role=Membership.Role.INSTRUCTOR).exists()
    )
    context = {"form": form, "teaches": teaches}
    return render(request, "annotate/preferences.html", context, status=400 if form.errors else 200)


# Mail programs that offer "Unsubscribe" (RFC 8058, List-Unsubscribe-Post)
# POST to the link without cookies: the signed token is the only credential.
# No HEAD: link checkers send it, and nobody asked them to unsubscribe anyone.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One click from an email: no more reply notifications, no sign-in needed."""
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return render(request, "annotate/unsubscribed.html", {"invalid": True}, status=400)
    User.objects.filter(pk=user_id).update(email_on_reply=False)
    return render(request, "annotate/unsubscribed.html", {"invalid": False})
