"""
The discussion around one document, built from one query.

Every visible post of the document is fetched at once and arranged here into
highlighted paragraphs, annotation threads and page-comment threads, so the
page renders with the same number of queries for 10 posts or 10,000.

What the page prints for each post and each run of text (ids, names, times,
links, escaped text) is prepared here as ready-to-insert strings, once per
page: a template variable costs microseconds, a date or number filter ten
times more, and thousands of posts multiply both. bench/render.py measures it.
"""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from .anchoring import Paragraph, segment
from .models import Document, Post, discussion_url
from .moderation import why_held

THREAD_DEPTH = 5
"""Deepest reply level, as WordPress's default "nested comments 5 levels deep"."""

COLLAPSE_REPLIES_AFTER = 5
"""Threads with more replies than this show the rest behind a "show more" control."""


class _ReadByTemplates:
    """
    Django's template engine reads `row.id` by trying `row["id"]` first and
    falling back to the attribute on the TypeError it gets: thousands of rows
    pay for tens of thousands of exceptions. Reading attributes through `[]`
    took 15% off the page's rendering time at 1,000 posts.
    """

    __slots__ = ()
    __getitem__ = object.__getattribute__


_EMPTY = SafeString("")
"""An empty string that the template need not escape."""


@dataclass(slots=True)
class Row(_ReadByTemplates):
    """A post in a thread, in reading order, with what its markup needs."""

    post: Post
    level: int
    opens_list: bool = False
    closes: range = range(0)
    # What the post's markup prints, filled in by `_RowFormatter.fill`,
    # escaped where needed so that the template inserts them as they are.
    pk: int = 0
    id: str = ""
    classes: str = _EMPTY
    """Any of " is-held", " is-deleted" and " is-current", in that order."""
    deleted: bool = False
    held: bool = False
    edited: bool = False
    author: str = ""
    permalink: str = ""
    iso_time: str = ""
    """The time the post was written, as the `date:"c"` filter prints it, ..."""
    time: str = ""
    """... and as `date:"j F Y, H:i"` does."""
    body: str = ""
    # For a signed-in reader: their own post's links, or someone else's report link.
    own: bool = False
    held_note: str = ""
    """For the author of a held post: why it waits, in plain words."""
    edit_url: str = ""
    delete_url: str = ""
    report_url: str = ""
    picked: bool = False
    """An instructor's pick: every reader sees the mark."""
    pick_url: str = ""
    """For the class's instructors, on a published post: where to mark it, or take the mark off."""


@dataclass(slots=True)
class Thread(_ReadByTemplates):
    first: Row
    replies: list[Row]
    reply_count: int
    is_annotation: bool = False
    collapsed: bool = False
    """Whether the replies are many enough to hide behind a "show more" control."""
    note_count: int = 0
    """Posts a reader can read in the thread: a deleted first post is only a placeholder."""
    note_count_text: str = ""
    # For an annotation's thread, its quote as the summary prints it, and
    # whether (and from what) a revision of the text changed the words.
    quote: str = ""
    quote_changed: bool = False
    original_quote: str = ""

    @property
    def root(self) -> Post:
        return self.first.post


@dataclass(slots=True)
class Run(_ReadByTemplates):
    """A run of a paragraph's text as the page prints it; highlighted when it has post ids."""

    text: str
    start: str
    post_ids: tuple[int, ...]
    first_id: str = ""
    ids: str = ""
    """The ids of the annotations covering the run, space-separated."""
    note_count: str = ""


@dataclass(slots=True)
class ParagraphView(_ReadByTemplates):
    paragraph: Paragraph
    threads: list[Thread] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    start: str = ""


@dataclass
class Discussion(_ReadByTemplates):
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
    signed_in: bool = False
    """Whether the reader is signed in, and so gets reply and report links."""
    threads: dict[int, Thread] = field(default_factory=dict)
    """Every thread the page shows, by the id of its first post."""

    def paragraphs_under(self, root: Post) -> list[ParagraphView]:
        """The paragraphs that an annotation's passage touches, first the one its thread is in."""
        return [
            view
            for view in self.paragraphs
            if view.paragraph.start < root.end and root.start < view.paragraph.end
        ]


def build_discussion(
    document: Document,
    user,
    posts=None,
    *,
    classroom=None,
    current_post: int | None = None,
    may_pick: bool = False,
) -> Discussion:
    """
    The discussion of `document` as `user` reads it, from `posts` or from a
    query; `current_post`, the post the reader came to see, is marked current.
    `may_pick`: the reader is one of the class's instructors, who mark picks.
    """
    if posts is None:
        posts = list(
            Post.objects.for_document(document, classroom).visible_to(user).select_related("author")
        )
    children: dict[int | None, list[Post]] = {}
    for post in posts:
        children.setdefault(post.parent_id, []).append(post)

    text = document.text
    revision_id = document.current_revision_id
    signed_in = user is not None and user.is_authenticated
    formatter = _RowFormatter(
        discussion_url(document, classroom),
        current_post,
        user.pk if signed_in else None,
        may_pick=may_pick and signed_in,
    )
    highlights = []
    annotation_threads: dict[int, Thread] = {}
    orphans = []
    comment_threads = []
    comment_count = 0
    posts_by_id: dict[int, Post] = {}
    root_of: dict[int, int] = {}
    threads: dict[int, Thread] = {}
    for root in children.get(None, []):
        thread = _thread(root, children, formatter)
        if thread is None:
            continue
        root_id = root.id
        threads[root_id] = thread
        for row in (thread.first, *thread.replies):
            root_of[row.pk] = root_id
            if not row.deleted:
                posts_by_id[row.pk] = row.post
        if root.start is not None:  # an annotation
            _describe_quote(thread)
            if is_highlighted(root, text, revision_id):
                highlights.append((root_id, root.start, root.end))
                annotation_threads[root_id] = thread
            else:
                orphans.append(thread)
        else:
            comment_threads.append(thread)
            # As WordPress counts: approved comments only, not the reader's own held ones.
            comment_count += sum(
                1
                for row in (thread.first, *thread.replies)
                if row.post.status == Post.Status.PUBLISHED and not row.deleted
            )

    note_counts = {pk: thread.note_count for pk, thread in annotation_threads.items()}
    paragraphs = []
    highlight_counts = set()
    for paragraph in segment(text, highlights):
        view = ParagraphView(paragraph, start=SafeString(paragraph.start))
        for run in paragraph.segments:
            shown = Run(escape(run.text), SafeString(run.start), run.post_ids)
            if run.post_ids:
                run.note_count = sum(note_counts[pk] for pk in run.post_ids)
                highlight_counts.add(run.note_count)
                shown.first_id = SafeString(run.post_ids[0])
                shown.ids = SafeString(" ".join(map(str, run.post_ids)))
                shown.note_count = SafeString(run.note_count)
            view.runs.append(shown)
        view.threads = [annotation_threads[pk] for pk in paragraph.post_ids]
        paragraphs.append(view)

    return Discussion(
        paragraphs=paragraphs,
        comment_threads=comment_threads,
        comment_count=comment_count,
        annotation_count=len(annotation_threads),
        orphans=orphans,
        note_counts=note_counts,
        highlight_counts=sorted(highlight_counts),
        posts_by_id=posts_by_id,
        root_of=root_of,
        signed_in=signed_in,
        threads=threads,
    )


def is_highlighted(annotation: Post, text: str, revision_id: int | None) -> bool:
    """Whether an annotation's passage is still in the text (highlighted), or it is an orphan."""
    return (
        annotation.revision_id == revision_id
        and text[annotation.start : annotation.end] == annotation.exact
    )


def _thread(
    root: Post, children: dict[int | None, list[Post]], formatter: "_RowFormatter"
) -> Thread | None:
    """
    Flatten a thread depth-first into rows that a single template loop can
    turn into nested lists. Deleted posts stay only as placeholders above
    replies; a deleted post with none is left out.
    """
    rows: list[Row] = []

    def visit(post: Post, level: int) -> bool:
        row = Row(post, level)
        rows.append(row)
        kept_children = [child for child in children.get(post.id, []) if visit(child, level + 1)]
        if post.deleted_at is not None and not kept_children:
            rows.pop()  # nothing was appended after it: its subtree is empty
            return False
        if kept_children and level > 0:
            row.opens_list = True
            last = rows[-1]
            last.closes = range(len(last.closes) + 1)
        return True

    if not visit(root, 0):
        return None
    for row in rows:
        formatter.fill(row)
    replies = rows[1:]
    reply_count = sum(1 for row in replies if not row.deleted)
    note_count = reply_count + (not rows[0].deleted)
    return Thread(
        first=rows[0],
        replies=replies,
        reply_count=reply_count,
        is_annotation=root.start is not None,
        collapsed=reply_count > COLLAPSE_REPLIES_AFTER,
        note_count=note_count,
        note_count_text=SafeString(note_count),
    )


def _describe_quote(thread: Thread) -> None:
    """What the summary of an annotation's thread quotes, as `truncatechars` would cut it."""
    root = thread.root
    if root.orphaned_at:
        thread.quote = escape(_truncated(root.original_exact or root.exact, 80))
    else:
        thread.quote = escape(_truncated(root.exact, 80))
        if root.quote_changed:
            thread.quote_changed = True
            thread.original_quote = escape(_truncated(root.original_exact, 60))


def _truncated(text: str, length: int) -> str:
    """The `truncatechars` filter, without its walk through every character of a short text."""
    normalized = unicodedata.normalize("NFC", text)
    if len(normalized) <= length:
        return normalized
    return Truncator(text).chars(length)


class _RowFormatter:
    """
    What one page prints for each post, computed as the template's filters
    would. Numbers and times hold nothing to escape; names are escaped once
    per author.
    """

    def __init__(
        self, url: str, current_post: int | None, reader_id: int | None, *, may_pick: bool = False
    ) -> None:
        self.url = escape(url)
        self.current_post = current_post
        self.reader_id = reader_id
        if reader_id is not None:
            self.edit_url = _url_for_each_post("edit_post")
            self.delete_url = _url_for_each_post("delete_post")
            self.report_url = _url_for_each_post("flag_post")
        self.pick_url = _url_for_each_post("pick_post") if may_pick else None
        self.zone = timezone.get_current_timezone()
        self.months = {number: escape(str(name)) for number, name in MONTHS.items()}
        self.names: dict[int | None, str] = {}

    def fill(self, row: Row) -> None:
        post = row.post
        pk = row.pk = post.id
        row.id = post_id = SafeString(pk)
        row.deleted = deleted = post.deleted_at is not None
        row.held = held = post.status in Post.HELD_STATUSES
        if held or deleted or pk == self.current_post:
            row.classes = SafeString(
                (" is-held" if held else "")
                + (" is-deleted" if deleted else "")
                + (" is-current" if pk == self.current_post else "")
            )
        row.edited = post.edited_at is not None
        name = self.names.get(post.author_id)
        if name is None:
            name = self.names[post.author_id] = escape(post.author_name)
        row.author = name
        row.permalink = SafeString(f"{self.url}?post={post_id}#post-{post_id}")
        # As the template's date filter: in the current time zone, then formatted.
        moment = post.created_at
        if moment.utcoffset() is not None:
            moment = moment.astimezone(self.zone)
        row.iso_time = SafeString(moment.isoformat())
        row.time = SafeString(
            "%d %s %04d, %02d:%02d"  # noqa: UP031 (twice as fast as an f-string here)
            % (moment.day, self.months[moment.month], moment.year, moment.hour, moment.minute)
        )
        row.body = SafeString(post.body_html)
        row.picked = post.endorsed_at is not None
        if self.reader_id is None:
            return
        if self.pick_url is not None and post.status == Post.Status.PUBLISHED and not deleted:
            row.pick_url = self.pick_url(post_id)
        if post.author_id == self.reader_id:
            row.own = True
            if held:
                row.held_note = why_held(post)
            row.edit_url = self.edit_url(post_id)
            row.delete_url = self.delete_url(post_id)
        elif not held:
            row.report_url = self.report_url(post_id)


def _url_for_each_post(name: str) -> Callable[[str], str]:
    """
    `reverse(name, args=[pk])` for many posts at the price of one reverse():
    the URL is reversed once around a placeholder id, which each post's replaces.
    """
    placeholder = "9876543210"
    before, _, after = escape(reverse(name, args=[int(placeholder)])).partition(placeholder)
    return lambda post_id: SafeString(f"{before}{post_id}{after}")
