"""
What tests are built from: people, texts, classes and posts as the site stores
them, and the reading page's form as a browser sends it.

Every test file takes its set-up from here (or from the fixtures in
conftest.py, which call these), so that a change to how the site stores a post
or what its form sends is made once.
"""

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate.anchoring import anchor_at
from annotate.models import (
    MODERATORS_GROUP,
    Classroom,
    Document,
    Membership,
    Post,
    Reading,
    SpamCheck,
    User,
)
from annotate.rendering import render_markdown

PASSWORD = "correct horse 42"  # every user's, so that browser tests can sign in
MODERATORS = MODERATORS_GROUP  # the group its migration creates
SAMPLE_TEXT = "First paragraph, with some words.\n\nSecond paragraph follows here."


# People


def make_user(display_name: str, email: str, *, password: str = PASSWORD, **fields) -> User:
    """Someone who has signed up and confirmed their address."""
    user = User.objects.create_user(
        email=email, password=password, display_name=display_name, **fields
    )
    user.emailaddress_set.create(email=email, verified=True, primary=True)
    return user


def make_moderator(
    display_name: str = "Mo Moderator", email: str = "mo@example.com", **fields
) -> User:
    """
    Staff in the Moderators group, as docs/teaching.md sets up a site moderator
    or an instructor. Browser tests empty the database, group included: then
    it comes back without its permissions.
    """
    user = make_user(display_name, email, is_staff=True, **fields)
    user.groups.add(Group.objects.get_or_create(name=MODERATORS)[0])
    return user


# Texts and classes


def make_document(
    text: str = SAMPLE_TEXT, *, slug: str = "sample", title: str = "Sample text", **fields
) -> Document:
    """A text whose first revision is `text` (none if empty), loaded as the reading page loads."""
    document = Document.objects.create(slug=slug, title=title, **fields)
    if text:
        document.revise(text)
    return Document.objects.with_text().get(pk=document.pk)


def make_class(
    name: str = "Modern History",
    slug: str = "history",
    *,
    instructor: User | None = None,
    students: Iterable[User] = (),
    readings: Iterable[Document] = (),
    **fields,
) -> Classroom:
    """
    A class with its instructor, its students (in that order) and the texts it
    reads; a reading with a due date or instructions is made by the test itself.
    """
    classroom = Classroom.objects.create(name=name, slug=slug, **fields)
    if instructor is not None:
        Membership.objects.create(
            classroom=classroom, user=instructor, role=Membership.Role.INSTRUCTOR
        )
    for student in students:
        Membership.objects.create(classroom=classroom, user=student)
    for document in readings:
        Reading.objects.create(classroom=classroom, document=document)
    return classroom


# Posts, stored directly


def make_post(
    document: Document,
    author: User | None,
    body: str = "Stored directly.",
    *,
    classroom: Classroom | None = None,
    passage: str = "",
    context: bool = False,
    parent: Post | None = None,
    minutes_ago: float = 0,
    sender: dict | None = None,
    **fields,
) -> Post:
    """
    A post written straight to the database, for states the site's forms
    cannot reach and for set-up that need not go through them. Other fields
    (status, held_reason, depth, body_html...) are stored as given.

    `passage` anchors it on the first occurrence of those words in the current
    revision, with the words around them too if `context` (as the form sends
    them). A `parent` makes it a reply, one level deeper. `sender` (user_ip,
    user_agent, referrer) stores the spam-check snapshot that the site keeps
    of who sent each new post.
    """
    if passage:
        start = document.text.index(passage)
        anchor = anchor_at(document.text, start, start + len(passage))
        around = {"prefix": anchor.prefix, "suffix": anchor.suffix} if context else {}
        fields = {
            "revision": document.current_revision,
            "exact": passage,
            "start": start,
            "end": start + len(passage),
            **around,
            **fields,
        }
    fields.setdefault("depth", parent.depth + 1 if parent else 0)
    fields.setdefault("body_html", render_markdown(body))
    fields.setdefault("created_at", timezone.now() - timedelta(minutes=minutes_ago))
    post = Post.objects.create(
        document=document, classroom=classroom, author=author, parent=parent, body=body, **fields
    )
    if sender is not None:
        SpamCheck.objects.create(
            post=post,
            payload={
                **sender,
                "comment_type": "annotation" if post.is_annotation else "comment",
                "comment_author": author.display_name,
                "comment_author_email": author.email,
                "comment_content": body,
            },
        )
    return post


# Posts, through the reading page's form


def posts_url(document: Document, classroom: Classroom | None = None) -> str:
    """Where the reading page's form posts: on the public text, or on its page in `classroom`."""
    if classroom is not None:
        return reverse("class_create_post", args=[classroom.slug, document.slug])
    return reverse("create_post", args=[document.slug])


def selection(document: Document, words: str, *, context: bool = True) -> dict:
    """
    The hidden fields the annotation form sends for the first occurrence of
    `words` in the current revision; without `context`, only their position
    and the quote, as a script might send them.
    """
    start = document.text.index(words)
    anchor = anchor_at(document.text, start, start + len(words))
    fields = {
        "revision": document.current_revision_id,
        "start": anchor.start,
        "end": anchor.end,
        "exact": anchor.exact,
    }
    if context:
        fields |= {"prefix": anchor.prefix, "suffix": anchor.suffix}
    return fields


def post_comment(
    client: Client,
    document: Document,
    body: str = "A thought.",
    *,
    classroom: Classroom | None = None,
    parent: Post | None = None,
    headers: dict | None = None,
    meta: dict | None = None,
    **fields,
) -> HttpResponse:
    """
    A page comment, or a reply to `parent`, sent as the reading page's form
    sends it, with any other form `fields` (the honeypot, say). `headers` are
    the browser's (User-Agent, or the fetch header); `meta` sets request.META
    (REMOTE_ADDR).
    """
    data = {"body": body, "parent": parent.pk if parent else "", **fields}
    url = posts_url(document, classroom)
    return client.post(url, data, headers=headers or {}, **(meta or {}))


def annotate(
    client: Client,
    document: Document,
    words: str,
    body: str = "A note on this.",
    *,
    classroom: Classroom | None = None,
    headers: dict | None = None,
    meta: dict | None = None,
    **fields,
) -> HttpResponse:
    """An annotation on the first occurrence of `words`, sent as a reader's selection sends it."""
    data = {"body": body, **selection(document, words), **fields}
    url = posts_url(document, classroom)
    return client.post(url, data, headers=headers or {}, **(meta or {}))


def saved_post(response: HttpResponse) -> Post:
    """The post a form has just saved: the site answers by redirecting to it (`?post=<pk>`)."""
    assert response.status_code == 302, response.content.decode()
    [pk] = parse_qs(urlsplit(response["Location"]).query)["post"]
    return Post.objects.get(pk=pk)
