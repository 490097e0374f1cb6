"""
The discussion around one document, built from one query.

Every visible post of the document is fetched at once and arranged here into
highlighted paragraphs, annotation threads and page-comment threads, so the
page renders with the same number of queries for 10 posts or 10,000.
"""

from dataclasses import dataclass, field

from .anchoring import Paragraph, segment
from .models import Document, Post

THREAD_DEPTH = 5
"""Deepest reply level, as WordPress's default "nested comments 5 levels deep"."""

COLLAPSE_REPLIES_AFTER = 5
"""Threads with more replies than this show the rest behind a "show more" control."""


@dataclass
class Row:
    """A post in a thread, in reading order, with what the list markup needs."""

    post: Post
    level: int
    opens_list: bool = False
    closes: range = range(0)


@dataclass
class Thread:
    root: Post
    replies: list[Row]
    reply_count: int

    @property
    def collapsed(self) -> bool:
        return self.reply_count > COLLAPSE_REPLIES_AFTER

    @property
    def note_count(self) -> int:
        """Posts a reader can read in the thread: a deleted first post is only a placeholder."""
        return self.reply_count + (not self.root.is_deleted)

    @property
    def reply_ids(self) -> set[int]:
        return {row.post.pk for row in self.replies}


@dataclass
class ParagraphView:
    paragraph: Paragraph
    threads: list[Thread] = field(default_factory=list)


@dataclass
class Discussion:
    paragraphs: list[ParagraphView]
    comment_threads: list[Thread]
    comment_count: int
    annotation_count: int
    orphans: list[Thread]
    note_counts: dict[int, int]
    """For each annotation id, how many visible posts its thread holds."""
    highlight_counts: list[int]
    """The distinct note counts of highlighted segments, for their descriptions."""
    posts_by_id: dict[int, Post]
    """Every post that can be replied to, by id."""
    root_of: dict[int, int]
    """For every post, the id of its thread's first post."""


def build_discussion(document: Document, user, posts=None, *, classroom=None) -> Discussion:
    if posts is None:
        posts = list(
            Post.objects.for_document(document, classroom).visible_to(user).select_related("author")
        )
    children: dict[int | None, list[Post]] = {}
    for post in posts:
        children.setdefault(post.parent_id, []).append(post)

    text = document.text
    revision_id = document.current_revision_id
    highlights = []
    annotation_threads: dict[int, Thread] = {}
    orphans = []
    comment_threads = []
    for root in children.get(None, []):
        thread = _thread(root, children)
        if thread is None:
            continue
        if root.is_annotation:
            if root.revision_id == revision_id and text[root.start : root.end] == root.exact:
                highlights.append((root.pk, root.start, root.end))
                annotation_threads[root.pk] = thread
            else:
                orphans.append(thread)
        else:
            comment_threads.append(thread)

    note_counts = {pk: thread.note_count for pk, thread in annotation_threads.items()}
    paragraphs = []
    highlight_counts = set()
    for paragraph in segment(text, highlights):
        for run in paragraph.segments:
            if run.post_ids:
                run.note_count = sum(note_counts[pk] for pk in run.post_ids)
                highlight_counts.add(run.note_count)
        view = ParagraphView(paragraph)
        view.threads = [annotation_threads[pk] for pk in paragraph.post_ids]
        paragraphs.append(view)

    all_threads = [*annotation_threads.values(), *orphans, *comment_threads]

    return Discussion(
        paragraphs=paragraphs,
        comment_threads=comment_threads,
        # As WordPress counts: approved comments only, not the reader's own held ones.
        comment_count=sum(
            1
            for thread in comment_threads
            for row in [Row(thread.root, 0), *thread.replies]
            if row.post.status == Post.Status.PUBLISHED and not row.post.is_deleted
        ),
        annotation_count=len(annotation_threads),
        orphans=orphans,
        note_counts=note_counts,
        highlight_counts=sorted(highlight_counts),
        posts_by_id={
            row.post.pk: row.post
            for thread in all_threads
            for row in [Row(thread.root, 0), *thread.replies]
            if not row.post.is_deleted
        },
        root_of={
            row.post.pk: thread.root.pk
            for thread in all_threads
            for row in [Row(thread.root, 0), *thread.replies]
        },
    )


def _thread(root: Post, children: dict[int | None, list[Post]]) -> Thread | None:
    """
    Flatten a thread depth-first into rows that a single template loop can
    turn into nested lists. Deleted posts stay only as placeholders above
    replies; a deleted post with none is left out.
    """
    rows: list[Row] = []

    def visit(post: Post, level: int) -> bool:
        row = Row(post, level)
        rows.append(row)
        kept_children = [child for child in children.get(post.pk, []) if visit(child, level + 1)]
        if post.is_deleted and not kept_children:
            rows.pop()  # nothing was appended after it: its subtree is empty
            return False
        if kept_children and level > 0:
            row.opens_list = True
            last = rows[-1]
            last.closes = range(len(last.closes) + 1)
        return True

    if not visit(root, 0):
        return None
    replies = rows[1:]
    reply_count = sum(1 for row in replies if not row.post.is_deleted)
    return Thread(root=root, replies=replies, reply_count=reply_count)
