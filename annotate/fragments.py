"""
What a change made through fetch gets back: the parts of the reading page
that the change touched, rendered by the page's own partials, not the page.

The answer is a run of HTML elements, which static/js/site.js puts in place
(`applyChanges`) in order:

- an element with an `id` replaces the page's element with that id;
- `<template data-remove="ID">` removes the page's element with that id;
- `<template data-after="ID">` (or `data-before`, or `data-into` for the last
  child of ID) holds one element with an id: it replaces the page's element
  with that id, or, when the page has none yet, goes there.

Counts are elements with ids like any other part. A change that reaches
beyond its thread (see `_may_show_or_hide_classmates`) gets the whole
discussion instead, which is the element `#discussion-root`: the same
protocol, one part. Others' changes arriving in an open page can use it too.
"""

from collections.abc import Iterable

from django.http import HttpRequest
from django.template.loader import get_template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .discussion import Discussion, ParagraphView, Thread, build_discussion, is_highlighted
from .forms import PostForm
from .models import Membership, Post
from .spaces import Space, unlocking_posts

PARTIALS = "annotate/document.html#"


def changed_parts(
    request: HttpRequest, space: Space, post: Post, *, created: bool = False
) -> str | None:
    """
    The parts of the page that `post`'s author sees changed now that they
    created, edited or deleted it, or None when the whole discussion changed.

    The discussion is built whole (one query), as the counts depend on every
    post; only the parts that changed are rendered.
    """
    user = request.user
    if _may_show_or_hide_classmates(space, user, post):
        return None
    document = space.document
    posts = list(space.posts_for(user).select_related("author"))
    discussion = build_discussion(
        document, user, posts, classroom=space.classroom, may_pick=space.may_pick
    )
    root = _root_of(post, {shown.pk: shown for shown in posts})
    if root is None:  # under a post the reader cannot read: not on the page at all
        return None
    parts = _Parts(request, space, discussion)
    thread = discussion.threads.get(root.pk)
    new_thread = created and post.pk == root.pk
    # An edit changes no count, unless it left the post unshown even to its
    # author (a rule removed it, say).
    counted_again = created or post.is_deleted or post.pk not in discussion.root_of
    if not root.is_annotation:
        parts.comment_thread(root.pk, new=new_thread)
    elif not is_highlighted(root, document.text, document.current_revision_id):
        parts.orphan_thread(root.pk)
    elif thread is not None and not new_thread:
        parts.thread(thread)
        if counted_again:
            # The thread's note count is part of its highlights' descriptions.
            parts.paragraphs(discussion.paragraphs_under(root))
    else:
        # A new highlight, or one gone with its thread: its passage changes,
        # threads and all, and so does the count of annotated passages.
        views = discussion.paragraphs_under(root)
        if not views:  # a passage of nothing but the space between paragraphs
            return None
        home, *others = views
        parts.passage(home)
        parts.paragraphs(others)
        parts.annotation_count()
    return parts.html()


def _may_show_or_hide_classmates(space: Space, user, post: Post) -> bool:
    """
    Whether changing `post` may have changed whose posts the page shows: on
    a hide-until-posted reading a student's first post reveals their
    classmates' posts, and deleting (or a re-check holding) their only one
    hides them again. That is a change to the whole discussion, not to a
    thread, so it gets the whole discussion back. It may be so only when the
    student has no other post that unlocks the reading (one query, on such
    readings alone).
    """
    if not (
        space.reading and space.reading.hide_until_posted and space.role == Membership.Role.STUDENT
    ):
        return False
    return not (
        unlocking_posts(user)
        .filter(document=space.document, classroom=space.classroom)
        .exclude(pk=post.pk)
        .exists()
    )


def _root_of(post: Post, readable: dict[int, Post]) -> Post | None:
    """The first post of `post`'s thread, from the posts the reader may read, or None."""
    current = readable.get(post.pk, post)
    while current.parent_id is not None:
        current = readable.get(current.parent_id)
        if current is None:
            return None
    return current


class _Parts:
    """The answer, part by part, in the order the page applies them."""

    def __init__(self, request: HttpRequest, space: Space, discussion: Discussion) -> None:
        self.request = request
        self.discussion = discussion
        self.context = {
            "document": space.document,
            "space": space,
            "discussion": discussion,
            "current_post": None,
            "current_root": None,
            # What the partials' forms take their field names and limits from.
            "form": PostForm(),
        }
        self.rendered: list[str] = []
        self.described: list[ParagraphView] = []

    def render(self, partial: str, **context) -> SafeString:
        template = get_template(PARTIALS + partial)
        return mark_safe(template.render({**self.context, **context}, self.request).strip())

    def add(self, html: str) -> None:
        self.rendered.append(html)

    def remove(self, element_id: str) -> None:
        self.add(format_html('<template data-remove="{}"></template>', element_id))

    def place(self, html: SafeString, where: str, target: str) -> None:
        """`html` in place of its id's element, or put `where` ("after", ...) `target`."""
        self.add(format_html('<template data-{}="{}">{}</template>', where, target, html))

    def html(self) -> str:
        self.highlight_descriptions()
        return "\n".join(self.rendered)

    def thread(self, thread: Thread) -> None:
        self.add(self.render("annotation_thread", thread=thread))

    def orphan_thread(self, root_id: int) -> None:
        thread = self.discussion.threads.get(root_id)
        if thread is not None:
            self.add(self.render("annotation_thread", thread=thread))
        elif self.discussion.orphans:
            self.remove(f"thread-{root_id}")
        else:
            self.remove("orphans")

    def passage(self, view: ParagraphView) -> None:
        self.add(self.render("passage", view=view))
        self.described.append(view)

    def paragraphs(self, views: Iterable[ParagraphView]) -> None:
        for view in views:
            self.add(self.render("paragraph", view=view))
            self.described.append(view)

    def highlight_descriptions(self) -> None:
        """
        The hidden descriptions (`aria-describedby`) of the highlights in the
        paragraphs sent, which the page may not have yet. One that no
        highlight uses any more can stay: it is hidden, and nothing points to it.
        """
        views = self.described
        counts = sorted(
            {int(run.note_count) for view in views for run in view.runs if run.post_ids}
        )
        for count in counts:
            span = self.render("highlight_description", count=count)
            self.place(span, "into", "highlight-descriptions")

    def annotation_count(self) -> None:
        if self.discussion.annotation_count:
            self.place(self.render("annotation_count"), "after", "document-title")
        else:
            self.remove("annotation-count")

    def comment_thread(self, root_id: int, *, new: bool) -> None:
        threads = self.discussion.comment_threads
        thread = self.discussion.threads.get(root_id)
        if thread is None:
            if not threads:  # the last one went: the section says nobody has commented
                self.add(self.render("comments"))
                return
            self.remove(f"thread-{root_id}")
        elif new and len(threads) == 1:  # the first one: the section had no list yet
            self.add(self.render("comments"))
            return
        else:
            html = self.render("comment_thread", thread=thread)
            index = next(number for number, shown in enumerate(threads) if shown is thread)
            if index:
                self.place(html, "after", f"thread-{threads[index - 1].first.id}")
            elif len(threads) > 1:
                self.place(html, "before", f"thread-{threads[1].first.id}")
            else:
                self.place(html, "into", "comment-list")
        self.add(self.render("comment_count"))
