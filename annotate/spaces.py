"""
Who may read which discussion.

A discussion is a text's public discussion, or one class's discussion of a
reading: a Space. Views never query a private discussion without going
through `get_space_for_reader`, which returns the space or raises Http404.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse

from .models import Classroom, Document, Membership, Post, Reading, discussion_url

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

    @property
    def create_url(self) -> str:
        if self.classroom is None:
            return reverse("create_post", args=[self.document.slug])
        return reverse("class_create_post", args=[self.classroom.slug, self.document.slug])

    @property
    def jsonld_url(self) -> str:
        if self.classroom is None:
            return reverse("annotations_jsonld", args=[self.document.slug])
        return reverse("class_annotations_jsonld", args=[self.classroom.slug, self.document.slug])

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
            instructors = self.classroom.memberships.filter(role=Membership.Role.INSTRUCTOR).values(
                "user_id"
            )
            posts = posts.filter(Q(author=user) | Q(author__in=instructors))
        return posts

    def hides_classmates_from(self, user) -> bool:
        return bool(
            self.reading
            and self.reading.hide_until_posted
            and self.role == Membership.Role.STUDENT
            and not self.posts().filter(author=user, deleted_at=None).exists()
        )


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


def get_space_for_reader(request: HttpRequest, slug: str, class_slug: str | None = None) -> Space:
    document = get_object_or_404(Document.objects.with_text(), slug=slug)
    if class_slug is None:
        if not document.is_public and not request.user.is_superuser:
            raise Http404("This text is only open to the classes reading it.")
        return Space(document)
    classroom = get_object_or_404(Classroom, slug=class_slug)
    reading = get_object_or_404(Reading, classroom=classroom, document=document)
    role = role_in(request.user, classroom)
    if role is None:
        raise Http404("This reading is only open to the members of its class.")
    return Space(document, classroom, reading, role)


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
