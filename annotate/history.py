"""Earlier revisions of a text: reading one with its annotations where they were, and diffs."""

import copy
import difflib
import re
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .discussion import build_discussion
from .models import AnchorPlacement, Document, Revision
from .spaces import Space, get_space_for_reader

TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def past_discussion(request: HttpRequest, space: Space, revision: Revision):
    """
    The discussion as it read on `revision`: its text, and each annotation at
    the place it had then. Annotations written later are left out.
    """
    then = copy.copy(space.document)
    then.current_revision = revision
    posts = list(space.posts_for(request.user).select_related("author"))
    placements = {
        placement.post_id: placement
        for placement in AnchorPlacement.objects.filter(
            revision=revision, post__in=[post.pk for post in posts if post.is_annotation]
        )
    }
    shown = []
    for post in posts:
        if post.is_annotation:
            placement = placements.get(post.pk)
            if placement is None:
                continue
            post.revision_id, post.start, post.end, post.exact = (
                revision.pk,
                placement.start,
                placement.end,
                placement.exact,
            )
        shown.append(post)
    kept = {post.pk for post in shown}
    # Replies whose annotation was not there yet go too.
    shown = [post for post in shown if post.parent_id is None or post.parent_id in kept]
    return then, build_discussion(then, request.user, shown, classroom=space.classroom)


def get_revision(document: Document, number: int) -> Revision:
    revision = Revision.objects.filter(document=document, number=number).first()
    if revision is None:
        raise Http404(f"This text has no revision {number}.")
    return revision


def render_past_revision(request: HttpRequest, space: Space, number: int) -> HttpResponse:
    revision = get_revision(space.document, number)
    then, discussion = past_discussion(request, space, revision)
    context = {
        "document": then,
        "space": space,
        "discussion": discussion,
        "past_revision": revision,
        "latest_number": space.document.current_revision.number,
        "form": None,
        "hiding_classmates": space.hides_classmates_from(request.user),
    }
    return render(request, "annotate/document.html", context)


@dataclass
class Chunk:
    kind: str  # "same", "added" or "removed"
    text: str


def diff(old: str, new: str) -> list[Chunk]:
    """Word-level differences between two texts, in reading order."""
    old_tokens, new_tokens = TOKEN.findall(old), TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    chunks: list[Chunk] = []
    for operation, old_from, old_to, new_from, new_to in matcher.get_opcodes():
        if operation == "equal":
            chunks.append(Chunk("same", "".join(old_tokens[old_from:old_to])))
            continue
        if old_to > old_from:
            chunks.append(Chunk("removed", "".join(old_tokens[old_from:old_to])))
        if new_to > new_from:
            chunks.append(Chunk("added", "".join(new_tokens[new_from:new_to])))
    return chunks


@require_safe
def revision_diff(
    request: HttpRequest, slug: str, number: int, class_slug: str | None = None
) -> HttpResponse:
    """What revision `number` changed from the one before it."""
    space = get_space_for_reader(request, slug, class_slug)
    document: Document = space.document
    revision = get_revision(document, number)
    previous = Revision.objects.filter(document=document, number__lt=number).order_by("-number")
    previous = previous.first()
    if previous is None:
        raise Http404("The first version of a text has nothing to compare with.")
    context = {
        "space": space,
        "document": document,
        "revision": revision,
        "previous": previous,
        "chunks": diff(previous.text, revision.text),
        "revisions": list(document.revisions.order_by("-number")),
    }
    return render(request, "annotate/revision_diff.html", context)
