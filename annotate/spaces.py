"""
Who may read which discussion.

A discussion is a text's public discussion, or one class's discussion of a
reading: a Space. Views never query a private discussion without going
through `get_space_for_reader`, which returns the space or raises Http404.

Two settings of a reading narrow what a student reads, and both hold
together: hide-until-posted (only their own posts and the teaching staff's,
until they have posted) and "discussed in groups" (only their own group's
posts and the teaching staff's; a student in no group reads only their own
and the staff's). A student's group is their membership's group now, so
moving a student moves their posts with them. Every way a post is reached
(the page, its fragments, the JSON-LD, permalinks, report pages, reply
emails, the class page's counts) asks `Space.posts_for`, `space_of` or
`class_posts_for`, which agree.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils.functional import cached_property

from .discussion import THREAD_DEPTH
from .models import (
    TEACHING_ROLES,
    ClassGroup,
    Classroom,
    Document,
    Membership,
    Post,
    Reading,
    discussion_url,
    revision_diff_url,
    text_url,
)

STAFF = "staff"
"""The role of a superuser in any class: they see everything."""

SHOWS = {"questions": "questions only", "unanswered": "unanswered questions only"}
"""What the teaching staff may narrow a reading's threads to (`?show=`)."""


@dataclass
class Space:
    document: Document
    classroom: Classroom | None = None
    reading: Reading | None = None
    role: str | None = None
    """The reader's role in the class: student, assistant, instructor or staff."""
    group: ClassGroup | None = None
    """A student's own group, as the page names it (posts_for asks the database itself)."""
    shown_group: ClassGroup | None = None
    """For the teaching staff on a reading discussed in groups: the one group they look at."""
    shown_student: Membership | None = None
    """For the teaching staff on a class's reading: the one student whose threads they look at."""
    show: str = ""
    """For the teaching staff: "questions" or "unanswered" (SHOWS), or every thread."""

    @property
    def url(self) -> str:
        return discussion_url(self.document, self.classroom)

    def revision_url(self, number: int) -> str:
        return discussion_url(self.document, self.classroom, revision=number)

    def diff_url(self, number: int) -> str:
        return revision_diff_url(self.document, self.classroom, number)

    @property
    def create_url(self) -> str:
        url = text_url("create_post", self.document, self.classroom)
        # What a post sent from a page filtered by group gets back is filtered the same way.
        return f"{url}?group={self.shown_group.pk}" if self.shown_group else url

    @property
    def in_groups(self) -> bool:
        return bool(self.reading and self.reading.in_groups)

    @property
    def teaches(self) -> bool:
        return self.role in (*TEACHING_ROLES, STAFF)

    @property
    def may_pick(self) -> bool:
        """Whether the reader may mark posts as their pick: instructors (and superusers)."""
        return self.classroom is not None and self.role in (Membership.Role.INSTRUCTOR, STAFF)

    @property
    def filters_threads(self) -> bool:
        """Whether the staff asked for some threads only (one student's, or questions)."""
        return self.shown_student is not None or bool(self.show)

    @property
    def jsonld_url(self) -> str:
        return text_url("annotations_jsonld", self.document, self.classroom)

    def posts(self):
        return Post.objects.for_document(self.document, self.classroom)

    def posts_for(self, user):
        """
        The posts `user` may read here, with hide-until-posted applied: a
        student who has not posted on such a reading sees only their own posts
        and the teaching staff's. On a reading discussed in groups, a student
        sees their own group's posts too (once they have posted, if hidden
        until then); the staff see everyone's, or one group's as that group
        sees them (`shown_group`).
        """
        posts = self.posts().visible_to(user)
        if self.hides_classmates_from(user):
            posts = posts.filter(Q(author=user) | Q(author__in=_instructors(self.classroom)))
        elif self.in_groups and self.role == Membership.Role.STUDENT:
            posts = posts.filter(
                Q(author=user)
                | Q(author__in=_instructors(self.classroom))
                | Q(author__in=_group_mates(user, self.classroom))
            )
        elif self.in_groups and self.shown_group is not None and self.teaches:
            posts = posts.filter(
                Q(author__in=_instructors(self.classroom))
                | Q(author__in=self.shown_group.memberships.values("user_id"))
            )
        return posts

    @property
    def narrows(self) -> bool:
        """Whether some of the class's readable posts may be kept from this reader here."""
        if self.reading is None:
            return False
        if self.role == Membership.Role.STUDENT:
            return self.reading.hide_until_posted or self.in_groups
        return self.shown_group is not None

    @cached_property
    def groups(self) -> list[ClassGroup]:
        """The class's groups, for the staff's filter on a reading discussed in groups."""
        if not (self.in_groups and self.teaches):
            return []
        return list(self.classroom.groups.all())

    @cached_property
    def ungrouped_students(self) -> int:
        """How many students read only their own posts and the staff's here, having no group."""
        if not (self.in_groups and self.teaches):
            return 0
        return self.classroom.memberships.filter(role=Membership.Role.STUDENT, group=None).count()

    def hides_classmates_from(self, user) -> bool:
        return bool(
            self.reading
            and self.reading.hide_until_posted
            and self.role == Membership.Role.STUDENT
            and not unlocking_posts(user)
            .filter(document=self.document, classroom=self.classroom)
            .exists()
        )


def _instructors(classroom: Classroom):
    """The class's teaching staff, whose posts every student reads."""
    return classroom.memberships.filter(role__in=TEACHING_ROLES).values("user_id")


def _group_mates(user, classroom: Classroom):
    """
    The members of `user`'s group in the class (themselves included): none
    when they have no group. A subquery, so that it costs the page nothing
    and follows the group they are in now.
    """
    return Membership.objects.filter(
        group__classroom=classroom, group__memberships__user=user
    ).values("user_id")


def unlocking_posts(user):
    """
    The posts of `user` that show they have taken part, and so unlock their
    classmates' posts on a hide-until-posted reading: posts that others can
    read, or will once a moderator approves them. A post marked spam, removed
    or deleted does not count, nor a reply under one that nobody else will see
    (a reply to one's own spam, say).
    """
    unlocks = Q(
        author=user, deleted_at=None, status__in=[Post.Status.PUBLISHED, Post.Status.PENDING]
    )
    above = ""
    for _ in range(THREAD_DEPTH):
        above += "parent__"
        # A deleted post still stands above its replies; a held one may yet be approved.
        readable_by_others = Q(**{f"{above}status": Post.Status.PUBLISHED}) | Q(
            **{f"{above}status": Post.Status.PENDING, f"{above}deleted_at": None}
        )
        unlocks &= Q(**{f"{above}isnull": True}) | readable_by_others
    return Post.objects.filter(unlocks)


def class_posts_for(classroom: Classroom, user, role: str | None):
    """
    The posts of all the class's readings that `user` may read, each reading
    as its page has it: `Space.posts_for` for every reading in one query.
    """
    posts = Post.objects.filter(classroom=classroom).visible_to(user)
    if role == Membership.Role.STUDENT:
        unlocked = unlocking_posts(user).filter(classroom=classroom).values("document_id")
        hiding = (
            Reading.objects.filter(classroom=classroom, hide_until_posted=True)
            .exclude(document__in=unlocked)
            .values("document_id")
        )
        posts = posts.filter(
            ~Q(document__in=hiding) | Q(author=user) | Q(author__in=_instructors(classroom))
        )
        grouped = Reading.objects.filter(classroom=classroom, in_groups=True).values("document_id")
        posts = posts.filter(
            ~Q(document__in=grouped)
            | Q(author=user)
            | Q(author__in=_instructors(classroom))
            | Q(author__in=_group_mates(user, classroom))
        )
    return posts


def on_the_page(parents: dict[int, int | None]) -> set[int]:
    """
    Of readable posts, given as {id: parent id}, those that their discussion
    page shows (as `build_discussion` does): a reply only when every post
    above it is readable too. Deleted posts are among them, as placeholders.
    """
    shown: dict[int, bool] = {}
    for start in parents:
        chain: list[int] = []
        current = start
        while current is not None and current not in shown and current in parents:
            if current in chain:  # a loop of parents reaches no thread
                break
            chain.append(current)
            current = parents[current]
        result = current is None or shown.get(current, False)
        for pk in chain:
            shown[pk] = result
    return {pk for pk, is_shown in shown.items() if is_shown}


def role_in(user, classroom: Classroom) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return STAFF
    return (
        Membership.objects.filter(classroom=classroom, user=user)
        .values_list("role", flat=True)
        .first()
    )


def membership_in(user, classroom: Classroom) -> tuple[str | None, ClassGroup | None]:
    """The reader's role in the class and their group, in the one query `role_in` costs."""
    if not user.is_authenticated:
        return None, None
    if user.is_superuser:
        return STAFF, None
    membership = (
        Membership.objects.filter(classroom=classroom, user=user).select_related("group").first()
    )
    if membership is None:
        return None, None
    return membership.role, membership.group


def shown_group_of(request: HttpRequest, space: Space) -> ClassGroup | None:
    """
    The group the teaching staff asked to look at (`?group=<id>`), on a
    reading discussed in groups; None for everyone's posts, or for a group
    that is not this class's (a stale link: the page says so).
    """
    if not (space.in_groups and space.teaches):
        return None
    wanted = request.GET.get("group", "")
    # Python refuses int() of an overlong number: no group id has 19 digits.
    if not (wanted.isascii() and wanted.isdigit() and len(wanted) < 19):
        return None
    return next((group for group in space.groups if group.pk == int(wanted)), None)


def shown_student_of(request: HttpRequest, space: Space) -> Membership | None:
    """
    The student the teaching staff asked to look at (`?student=<membership
    id>`), one of this class's; None for everyone, or for someone not a
    student of the class (the page says so).
    """
    wanted = request.GET.get("student", "")
    if not (wanted.isascii() and wanted.isdigit() and len(wanted) < 19):
        return None
    return (
        Membership.objects.filter(
            classroom=space.classroom, role=Membership.Role.STUDENT, pk=int(wanted)
        )
        .select_related("user")
        .first()
    )


NO_SUCH_TEXT = "This text doesn't exist, or it belongs to a class you're not in."
NO_SUCH_CLASS = "This class doesn't exist, or you're not one of its members."


def get_space_for_reader(request: HttpRequest, slug: str, class_slug: str | None = None) -> Space:
    # Outsiders get the same answer whether or not the text or class exists:
    # a class's name and readings are its members' business.
    if class_slug is None:
        document = Document.objects.with_text().filter(slug=slug).first()
        if document is None or not (document.is_public or request.user.is_superuser):
            raise Http404(NO_SUCH_TEXT)
        return Space(document)
    classroom = Classroom.objects.filter(slug=class_slug).first()
    role, group = membership_in(request.user, classroom) if classroom else (None, None)
    if role is None:
        raise Http404(NO_SUCH_CLASS)
    reading = (
        Reading.objects.filter(classroom=classroom, document__slug=slug)
        .select_related("document__current_revision")
        .first()
    )
    if reading is None:
        raise Http404(f"{classroom} has no such reading. Its class page lists them all.")
    space = Space(reading.document, classroom, reading, role, group)
    space.shown_group = shown_group_of(request, space)
    if space.teaches:
        space.shown_student = shown_student_of(request, space)
        space.show = request.GET.get("show", "") if request.GET.get("show") in SHOWS else ""
    return space


def space_of(post: Post, user) -> Space | None:
    """
    The space a post belongs to, if `user` may read the post there: a
    classmate's post that hide-until-posted or another group keeps from them
    counts as unreadable, so its permalink and report page do not show it
    either; so does a post (a teacher's reply, say) in a thread whose first
    post is kept from them, as the page leaves the whole thread out.
    """
    if post.classroom_id is None:
        if post.document.is_public or user.is_superuser:
            return Space(post.document)
        return None
    role, group = membership_in(user, post.classroom)
    if role is None:
        return None
    reading = Reading.objects.filter(classroom=post.classroom, document=post.document).first()
    space = Space(post.document, post.classroom, reading, role, group)
    # One's own post stays one's own to edit or delete, even in a thread
    # now out of sight (a student moved from the group that started it).
    if space.narrows and post.author_id != user.pk and not _on_the_page_for(post, space, user):
        return None
    return space


def _on_the_page_for(post: Post, space: Space, user) -> bool:
    """Whether `post` and every post above it are among what `user` reads here (two queries)."""
    above = [f"{'parent__' * level}parent_id" for level in range(THREAD_DEPTH)]
    chain = [post.pk, post.parent_id]
    if post.parent_id is not None:
        chain += Post.objects.filter(pk=post.parent_id).values_list(*above).first() or ()
    chain = [pk for pk in chain if pk is not None]
    return space.posts_for(user).filter(pk__in=chain).count() == len(chain)


def readable_documents(user):
    """Public texts, and the texts of the reader's classes."""
    documents = Document.objects.exclude(current_revision=None)
    if user.is_authenticated and user.is_superuser:
        return documents
    if user.is_authenticated:
        return documents.filter(Q(is_public=True) | Q(readings__classroom__members=user)).distinct()
    return documents.filter(is_public=True)
