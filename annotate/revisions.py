"""
Texts that change: a new revision moves every annotation to its passage in
the new text, or makes it an orphan that is kept, listed and never lost.

`revise_document` is what the admin and the seed loader call; the moving is
a background task (tasks.relocate_annotations) that records its progress on
the revision and calls `relocate_one` for each annotation.
"""

from django.db import transaction
from django.utils import timezone

from . import notifications, tasks
from .anchoring import anchor_at
from .background import enqueue
from .models import AnchorPlacement, Document, Post, PostEvent, Revision, discussion_url
from .relocation import relocate
from .site import absolute


@transaction.atomic
def revise_document(document: Document, text: str, *, by=None, note: str = "") -> Revision | None:
    """Record a new revision of the text (None when unchanged) and queue moving its annotations."""
    previous = document.current_revision
    revision = document.revise(text, by=by, note=note)
    if revision is None or previous is None:
        return revision
    total = annotations_to_move(document).count()
    if total:
        revision.relocation = Revision.Relocation.QUEUED
        revision.relocation_total = total
        revision.save(update_fields=["relocation", "relocation_total"])
        enqueue(tasks.relocate_annotations, revision.pk)
    return revision


def annotations_to_move(document: Document):
    return Post.objects.filter(
        document=document, start__isnull=False, orphaned_at=None, deleted_at=None
    ).exclude(revision_id=document.current_revision_id)


@transaction.atomic
def relocate_one(post: Post, revision: Revision) -> str:
    """Move one annotation into `revision`; returns what happened to it."""
    # Keep where it was, so the earlier revision still reads with it in place.
    AnchorPlacement.objects.get_or_create(
        post=post,
        revision_id=post.revision_id,
        defaults={"start": post.start, "end": post.end, "exact": post.exact},
    )
    found = relocate(post.exact, post.prefix, post.suffix, post.start, post.end, revision.text)
    if found is None:
        post.orphaned_at = timezone.now()
        post.save(update_fields=["orphaned_at"])
        post.record(
            PostEvent.Kind.ORPHANED,
            detail=f"Revision {revision.number} no longer has “{post.exact[:200]}”.",
        )
        tell_author_of_orphan(post, revision)
        return "orphaned"
    anchor = anchor_at(revision.text, *found)
    outcome = "unchanged" if found == (post.start, post.end) else "moved"
    if anchor.exact != post.exact:
        outcome = "changed"
        post.record(
            PostEvent.Kind.QUOTE_CHANGED,
            detail=f"Revision {revision.number}: “{post.exact[:200]}” is now "
            f"“{anchor.exact[:200]}”.",
        )
    post.revision = revision
    post.exact, post.prefix, post.suffix = anchor.exact, anchor.prefix, anchor.suffix
    post.start, post.end = anchor.start, anchor.end
    post.quote_changed = anchor.exact != (post.original_exact or anchor.exact)
    post.save(
        update_fields=["revision", "exact", "prefix", "suffix", "start", "end", "quote_changed"]
    )
    AnchorPlacement.objects.update_or_create(
        post=post,
        revision=revision,
        defaults={"start": anchor.start, "end": anchor.end, "exact": anchor.exact},
    )
    return outcome


def tell_author_of_orphan(post: Post, revision: Revision) -> None:
    author = post.author
    if author is None or not author.is_active:
        return
    document_url = absolute(post.get_absolute_url())
    earlier = discussion_url(post.document, post.classroom, revision=post.revision.number)
    body = (
        f"The text “{revision.document.title}” was revised, and the passage you annotated "
        f"is no longer in it:\n\n“{post.original_exact or post.exact}”\n\n"
        f"Your note and its replies are kept, listed under the text as a note on a passage "
        f"that has changed: {document_url}\n\n"
        f"The earlier version, with your note where it was: "
        f"{absolute(earlier)}\n"
    )
    notifications.queue_email(
        author,
        f"[annotate] The passage you annotated in {revision.document.title} changed",
        body,
        classroom_id=post.classroom_id,
    )


def record_placement(post: Post) -> None:
    """Where a new annotation sits in the revision it was made on."""
    AnchorPlacement.objects.create(
        post=post, revision_id=post.revision_id, start=post.start, end=post.end, exact=post.exact
    )
