"""
Who may read which discussion.

A discussion is a text's public discussion, or one class's discussion of a
reading: a Space. Views never query a private discussion without going
through `get_space_for_reader`, which returns the space or raises Http404.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404, HttpRequest

from .discussion import THREAD_DEPTH
from .models import (
    TEACHING_ROLES,
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


@dataclass
class Space:
    document: Document
    classroom: Classroom | None = None
    reading: Reading | None = None
    role: str | None = None
    """The reader's role in the class: student, instructor or staff."""

    @property
    def url(self) -> str:
        return discussion_url(self.document, self.classroom)

    def revision_url(self, number: int) -> str:
        return discussion_url(self.document, self.classroom, revision=number)

    def diff_url(self, number: int) -> str:
        return revision_diff_url(self.document, self.classroom, number)

    @property
    def create_url(self) -> str:
        return text_url("create_post", self.document, self.classroom)

    @property
    def jsonld_url(self) -> str:
        return text_url("annotations_jsonld", self.document, self.classroom)

    def posts(self):
        return Post.objects.for_document(self.document, self.classroom)

    def posts_for(self, user):
        """
        The posts `user` may read here, with hide-until-posted applied: a
        student who has not posted on such a reading sees only their own posts
        and the instructors'.
        """
        posts = self.posts().visible_to(user)
        if self.hides_classmates_from(user):
            posts = posts.filter(Q(author=user) | Q(author__in=_instructors(self.classroom)))
        return posts

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
    role = role_in(request.user, classroom) if classroom else None
    if role is None:
        raise Http404(NO_SUCH_CLASS)
    reading = (
        Reading.objects.filter(classroom=classroom, document__slug=slug)
        .select_related("document__current_revision")
        .first()
    )
    if reading is None:
        raise Http404(f"{classroom} has no such reading. Its class page lists them all.")
    return Space(reading.document, classroom, reading, role)


def space_of(post: Post, user) -> Space | None:
    """
    The space a post belongs to, if `user` may read the post there: a
    classmate's post that hide-until-posted keeps from them counts as unreadable,
    so its permalink and report page do not show it either.
    """
    if post.classroom_id is None:
        if post.document.is_public or user.is_superuser:
            return Space(post.document)
        return None
    role = role_in(user, post.classroom)
    if role is None:
        return None
    reading = Reading.objects.filter(classroom=post.classroom, document=post.document).first()
    space = Space(post.document, post.classroom, reading, role)
    if space.hides_classmates_from(user) and not space.posts_for(user).filter(pk=post.pk).exists():
        return None
    return space


def readable_documents(user):
    """Public texts, and the texts of the reader's classes."""
    documents = Document.objects.exclude(current_revision=None)
    if user.is_authenticated and user.is_superuser:
        return documents
    if user.is_authenticated:
        return documents.filter(Q(is_public=True) | Q(readings__classroom__members=user)).distinct()
    return documents.filter(is_public=True)
