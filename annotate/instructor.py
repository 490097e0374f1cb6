"""
The teaching staff's view of a class's reading: its threads narrowed to one
student's or to questions, who has and has not posted yet, a once-a-day
reminder to those who have not, and an instructor's pick on a post.

The filters are read from the page's address by `spaces.get_space_for_reader`
(`?student=`, `?show=`, with `?group=`); what they keep is decided here.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import notifications, scores
from .classes import TAKING_PART, asks_something
from .models import ClassGroup, Membership, Post, Reading, User
from .spaces import Space, get_space_for_reader, space_of

REMIND_EVERY = timedelta(days=1)
"""Students are reminded about one reading at most this often."""


# Narrowing the threads ---------------------------------------------------------


def narrow_threads(posts, space: Space) -> list[Post]:
    """
    Of the posts a member of the teaching staff may read, those in the threads
    they asked for: threads the shown student wrote in, and/or threads whose
    first post asks something (`classes.asks_something`, the class page's
    rule), only those no published reply answers yet for "unanswered".
    """
    posts = list(posts.annotate(asks=asks_something()))
    root_of: dict[int, int] = {}
    parents = {post.pk: post.parent_id for post in posts}

    def root(pk: int) -> int:
        seen = []
        while parents.get(pk) is not None and pk not in root_of and len(seen) < 50:
            seen.append(pk)
            pk = parents[pk]
        top = root_of.get(pk, pk)
        for each in seen:
            root_of[each] = top
        return top

    roots = {post.pk: post for post in posts if post.parent_id is None}
    wanted = set(roots)
    if space.shown_student is not None:
        student_id = space.shown_student.user_id
        wanted &= {
            root(post.pk) for post in posts if post.author_id == student_id and not post.is_deleted
        }
    if space.show:
        wanted &= {
            pk
            for pk, post in roots.items()
            if post.asks and post.status == Post.Status.PUBLISHED and not post.is_deleted
        }
    if space.show == "unanswered":
        answered = {
            post.parent_id
            for post in posts
            if post.parent_id and post.status == Post.Status.PUBLISHED and not post.is_deleted
        }
        wanted -= answered
    return [post for post in posts if root(post.pk) in wanted]


# Who has and has not posted ----------------------------------------------------


@dataclass
class StudentRow:
    membership: Membership
    posts: int

    @property
    def name(self) -> str:
        return self.membership.user.display_name


@dataclass
class GroupRoll:
    name: str
    posted: list[StudentRow] = field(default_factory=list)
    waiting: list[StudentRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.posted) + len(self.waiting)


@dataclass
class Roll:
    """The reading's students, those who have posted (and how much) and those who have not."""

    students: list[StudentRow]
    groups: list[GroupRoll]
    """On a reading discussed in groups: the same, group by group (no group last)."""
    reminded_at: datetime | None
    next_reminder_at: datetime | None
    """When the next reminder may go: None when one may go now."""

    @property
    def posted(self) -> list[StudentRow]:
        return [row for row in self.students if row.posts]

    @property
    def waiting(self) -> list[StudentRow]:
        return [row for row in self.students if not row.posts]


def _posting(reading: Reading):
    """The reading's posts that count as having taken part (any status a classmate may yet read)."""
    return Post.objects.filter(
        document_id=reading.document_id,
        classroom_id=reading.classroom_id,
        status__in=TAKING_PART,
        deleted_at=None,
    ).exclude(author=None)


def roll_of(space: Space) -> Roll:
    """Who has and has not posted on the space's reading: two queries, whatever the class's size."""
    reading = space.reading
    counts = dict(
        _posting(reading).values("author_id").annotate(n=Count("pk")).values_list("author_id", "n")
    )
    memberships = (
        space.classroom.memberships.filter(role=Membership.Role.STUDENT)
        .select_related("user", "group")
        .order_by("user__display_name", "pk")
    )
    students = [StudentRow(m, counts.get(m.user_id, 0)) for m in memberships]
    groups: list[GroupRoll] = []
    if space.in_groups:
        by_group: dict[int | None, GroupRoll] = {}
        for row in students:
            group: ClassGroup | None = row.membership.group
            key = group.pk if group else None
            if key not in by_group:
                by_group[key] = GroupRoll(group.name if group else "No group")
            (by_group[key].posted if row.posts else by_group[key].waiting).append(row)
        groups = sorted(by_group.values(), key=lambda g: (g.name == "No group", g.name.lower()))
    next_at = reading.reminded_at + REMIND_EVERY if reading.reminded_at else None
    if next_at and next_at <= timezone.now():
        next_at = None
    return Roll(students, groups, reading.reminded_at, next_at)


def staff_view(space: Space) -> Roll | None:
    """What the reading page adds for the teaching staff of a class's reading."""
    if not (space.teaches and space.reading):
        return None
    return roll_of(space)


def not_yet_posted(reading: Reading):
    """The reading's students (active accounts) without a published or pending post on it."""
    return (
        User.objects.filter(
            memberships__classroom_id=reading.classroom_id,
            memberships__role=Membership.Role.STUDENT,
            is_active=True,
        )
        .exclude(pk__in=_posting(reading).values("author_id"))
        .order_by("pk")
    )


# Reminding those who have not posted ---------------------------------------------


@require_POST
@login_required
def remind(request: HttpRequest, class_slug: str, slug: str) -> HttpResponse:
    """Email the students who have not posted on a reading yet: once a day at most."""
    space = get_space_for_reader(request, slug, class_slug)
    if not space.teaches:
        raise PermissionDenied("Only the class’s teaching staff can remind its students.")
    # The row lock makes a second click (or a second member of the staff)
    # wait for the first, then see its reminded_at: one email per day each.
    with transaction.atomic():
        reading = Reading.objects.select_for_update().get(pk=space.reading.pk)
        now = timezone.now()
        if reading.reminded_at and now - reading.reminded_at < REMIND_EVERY:
            messages.info(
                request,
                "The students who had not posted were reminded less than a day ago: "
                "you can remind them again a day after that.",
            )
            return redirect(space.url)
        students = list(not_yet_posted(reading))
        if not students:
            messages.info(request, "Every student has posted on this reading: nobody to remind.")
            return redirect(space.url)
        emailed = notifications.remind_to_post(reading, students, by=request.user)
        reading.reminded_at = now
        reading.save(update_fields=["reminded_at"])
    messages.success(
        request,
        f"Reminded {emailed} student{'' if emailed == 1 else 's'} who had not posted yet.",
    )
    return redirect(space.url)


# An instructor's pick ----------------------------------------------------------


def get_post_to_pick(request: HttpRequest, pk: int) -> Post:
    """A class's post that the reader may mark as their pick, or 404 / 403."""
    post = (
        Post.objects.visible_to(request.user)
        .exclude(classroom=None)
        .select_related("document", "classroom")
        .filter(pk=pk)
        .first()
    )
    space = space_of(post, request.user) if post else None
    if post is None or space is None or post.is_deleted:
        raise Http404("No post here.")
    if not space.may_pick:
        raise PermissionDenied("Only the class’s instructors can mark a post as their pick.")
    return post


@require_POST
@login_required
def pick_post(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a published post as an instructor's pick (`pick=1`) or take the mark off (`pick=0`)."""
    post = get_post_to_pick(request, pk)
    if post.status != Post.Status.PUBLISHED:
        messages.error(request, "Only a published post can be an instructor’s pick.")
        return redirect(post.get_absolute_url())
    wanted = request.POST.get("pick") != "0"
    if wanted and not post.is_endorsed:
        post.endorse(by=request.user)
        messages.success(request, "Marked as an instructor’s pick: the class sees the mark.")
    elif not wanted and post.is_endorsed:
        post.unendorse(by=request.user)
        messages.success(request, "No longer an instructor’s pick.")
    else:
        return redirect(post.get_absolute_url())
    # A pick can count in the rubric's engagement points.
    scores.post_changed(post)
    return redirect(post.get_absolute_url())
