"""
A post's life, event by event: what happens to a post when it is written,
edited, judged by the rules, answered by Akismet, decided by a moderator,
reported by readers or deleted by its author.

Each event is one function here, and each shows every effect: the model verb
that changes the post and writes its history row, the emails that follow,
the report to Akismet. Views, the admin and the background tasks call these;
nothing else changes a post's status. Tasks (tasks.py) do the talking to
Akismet and the mail server, the locking and the retries, and come back here
to decide.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.utils import timezone

from . import notifications, revisions, scores, spam, tasks
from .anchoring import AnchorError, validate_anchor
from .background import backoff, enqueue
from .discussion import THREAD_DEPTH
from .models import (
    Document,
    Flag,
    HeldReason,
    ModerationSettings,
    Post,
    PostEvent,
    SpamCheck,
    Verdict,
)
from .moderation import Outcome, closed_message, rule_outcome, seconds_until_allowed
from .rendering import render_markdown

if TYPE_CHECKING:
    from .spaces import Space

# How long a new post's first check may take before the sweep takes it up.
CHECK_GRACE = timedelta(minutes=1)
# After this long without a verdict, a post waits for a moderator instead.
GIVE_UP_AFTER = timedelta(days=15)


@dataclass(frozen=True)
class Decision:
    """One of the decisions a moderator can take on a post."""

    label: str  # its button on the post's page
    done: str  # as in "3 posts <done>."
    status: Post.Status  # the status it leaves a post in
    verb: Callable[..., None]  # the Post verb that makes it
    tell_akismet: bool | None  # report as spam (True) or not spam (False); None: say nothing


DECISIONS = {
    "approve": Decision(
        "Approve", "approved and published", Post.Status.PUBLISHED, Post.approve, None
    ),
    "spam": Decision("Mark as spam", "marked as spam", Post.Status.SPAM, Post.mark_spam, True),
    "not_spam": Decision(
        "Not spam",
        "marked as not spam and published",
        Post.Status.PUBLISHED,
        Post.mark_not_spam,
        False,
    ),
    "remove": Decision("Remove", "removed", Post.Status.REMOVED, Post.remove, None),
}


# Writing -------------------------------------------------------------------------


class Refused(Exception):
    """Why a post cannot be made, in words for its author, and the HTTP status that says so."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = status


def check_may_post(
    user, document: Document, rules: ModerationSettings, classroom_id: int | None = None
) -> None:
    """Refuse a post on a closed discussion, or one that comes too soon after the last."""
    if message := closed_message(document):
        raise Refused(message, 403)
    trusted = spam.is_trusted(user, classroom_id)
    if wait := seconds_until_allowed(user, rules, trusted=trusted):
        raise Refused(
            f"You are posting too quickly. Wait {wait} second{pluralize(wait)} and post again; "
            "your text is kept in the box.",
            429,
        )


def draft(
    space: "Space", author, *, body: str, parent_id: int | None = None, selection: dict | None
) -> Post:
    """
    A new post as `author` wrote it in `space`, not saved yet: a reply to
    `parent_id`, an annotation of `selection` (revision, exact, start, end,
    prefix, suffix: the W3C selectors as the browser measured them), or a
    page comment. Refused when what it answers or quotes is no longer there.
    """
    parent = None
    if parent_id:
        parent = space.posts_for(author).filter(pk=parent_id).first()
        if parent is None or parent.is_deleted:
            raise Refused("The post you are replying to is no longer there.")
        # Past the deepest level, a reply joins its parent's level instead.
        while parent.depth >= THREAD_DEPTH - 1:
            parent = parent.parent
        if not _thread_is_readable(parent, author):
            raise Refused("The thread you are replying to is no longer there.")
    post = Post(
        document=space.document,
        classroom=space.classroom,
        author=author,
        parent=parent,
        depth=parent.depth + 1 if parent else 0,
        body=body,
        body_html=render_markdown(body),
    )
    if selection is not None:
        _anchor(post, selection)
    return post


def _anchor(post: Post, selection: dict) -> None:
    revision = post.document.current_revision
    if revision is None:
        raise Refused("This text has no words to annotate yet.")
    if selection["revision"] and selection["revision"] != revision.pk:
        raise Refused(
            "The text has changed since you loaded the page. Reload it and select the "
            "passage again; your note is kept in the box."
        )
    try:
        anchor = validate_anchor(
            revision.text,
            exact=selection["exact"],
            start=selection["start"],
            end=selection["end"],
            prefix=selection["prefix"],
            suffix=selection["suffix"],
        )
    except AnchorError as error:
        raise Refused(str(error)) from error
    post.revision = revision
    post.exact, post.prefix, post.suffix = anchor.exact, anchor.prefix, anchor.suffix
    post.start, post.end = anchor.start, anchor.end


def _thread_is_readable(post: Post, user) -> bool:
    """Whether `post` and every post above it can be read by `user` (at most a few queries)."""
    readable = Post.objects.visible_to(user).filter(deleted_at=None)
    while post is not None:
        if not readable.filter(pk=post.pk).exists():
            return False
        post = post.parent
    return True


@transaction.atomic
def create(
    request: HttpRequest, post: Post, *, honeypot: bool = False, rules: ModerationSettings
) -> Post:
    """
    A new post: saved with the snapshot Akismet will see, then judged.

    The post and its snapshot are committed before any network call, so no
    post is lost whatever Akismet does; the check runs as a background task
    (and is due for the sweep too, in case that task never finishes).
    """
    post.submit()
    if post.is_annotation:
        revisions.record_placement(post)
    payload = spam.build_payload(request, post)
    if honeypot:
        # Only bots fill the hidden field; they are not told anything.
        SpamCheck.objects.create(post=post, payload=payload, final_at=timezone.now())
        post.mark_spam_by_rule("Filled in the hidden honeypot field.")
    elif spam.is_enabled():
        SpamCheck.objects.create(
            post=post, payload=payload, next_attempt_at=timezone.now() + CHECK_GRACE
        )
        enqueue(tasks.check_post, post.pk)
    else:
        SpamCheck.objects.create(post=post, payload=payload, final_at=timezone.now())
        follow_rules(post, payload, rules)
    scores.post_changed(post)
    tasks.sweep_soon()
    return post


@transaction.atomic
def edit(post: Post, body: str) -> None:
    """
    An author's new words, judged as a new post's are, whatever was decided
    about the old ones: a moderator approved the text they read, not this
    one. A published post waits for the spam check and the rules again; a
    held post stays held for its moderator, unless its new words are plainly
    spam. Spam stays spam.
    """
    post.edit(body, render_markdown(body))
    spam_check = SpamCheck.objects.filter(post=post).first()
    if spam_check is None:  # a post from before spam checks were kept
        spam_check = SpamCheck(post=post, payload=spam.build_payload(None, post))
    spam_check.payload["comment_content"] = body
    recheck = post.status == Post.Status.PUBLISHED and spam.is_enabled()
    if recheck:
        spam_check.next_attempt_at = timezone.now() + CHECK_GRACE
    # One write; an existing row only in the fields an edit changes, so that
    # a check finishing meanwhile keeps its own counts.
    spam_check.save(
        update_fields=None if spam_check._state.adding else ["payload", "next_attempt_at"]
    )
    if recheck:
        post.hold(HeldReason.CHECKING, detail="After an edit: waiting for the spam check.")
        enqueue(tasks.check_post, post.pk, "edit")
    elif post.status == Post.Status.PUBLISHED:
        follow_rules(post, spam_check.payload)
    elif post.status == Post.Status.PENDING and not post.waiting_for_check:
        outcome = judge(post, spam_check.payload)
        if outcome.status == Post.Status.SPAM:
            apply(post, outcome, after="After an edit: ")
    scores.post_changed(post)


@transaction.atomic
def delete(post: Post) -> None:
    """The author takes their words back; the row stays so that replies still read as a thread."""
    post.delete_by_author()
    scores.post_changed(post)


# Judging ---------------------------------------------------------------------------


def judge(post: Post, payload: dict, rules: ModerationSettings | None = None) -> Outcome:
    """What the moderation rules make of a post (see moderation.rule_outcome)."""
    rules = rules or ModerationSettings.load()
    return rule_outcome(
        post, payload, rules, trusted=spam.is_trusted(post.author, post.classroom_id)
    )


def follow_rules(post: Post, payload: dict, rules: ModerationSettings | None = None) -> None:
    """The rules' outcome for a post that passed (or skipped) the spam check."""
    apply(post, judge(post, payload, rules))


def apply(post: Post, outcome: Outcome, *, after: str = "") -> None:
    """
    Make a rule's outcome the post's status: spam, held (its moderators are
    told), or published (the parent's author is told of a first reply).
    """
    if outcome.status == Post.Status.SPAM:
        post.mark_spam_by_rule(after + outcome.detail)
    elif outcome.status == Post.Status.PENDING:
        post.hold(outcome.held_reason, detail=after + outcome.detail)
        notifications.notify_moderators(post, outcome.detail)
    else:
        first_time = post.first_published_at is None
        post.publish(detail="Passed the spam check and the moderation rules.")
        if first_time:  # an edit published again is not news to the parent's author
            notifications.notify_reply(post)
    scores.post_changed(post)


def akismet_answered(post: Post, verdict: str, payload: dict) -> str:
    """
    Akismet's verdict, on a post the caller has locked. Always recorded; it
    hides spam, and lets a post that waited for it go on to the rules. A
    moderator's decision stands over any verdict.
    """
    was_waiting = post.waiting_for_check
    post.record_verdict(verdict)
    if post.moderated:
        return "recorded; a moderator already decided"
    if verdict != Verdict.HAM:
        return verdict
    if was_waiting:
        follow_rules(post, payload)
    return post.status


def akismet_unreachable(post: Post, error: str, *, attempts: int) -> datetime | None:
    """
    A spam check that got no verdict, on a post the caller has locked.
    Returns when to try again, or None: the post no longer waits for the
    check, or has waited so long that a moderator takes over.
    """
    if not post.waiting_for_check or post.moderated:
        post.record(PostEvent.Kind.AKISMET_ERROR, detail=error)
        return None
    now = timezone.now()
    if now - post.created_at >= GIVE_UP_AFTER:
        post.note_check_failing(
            HeldReason.CHECK_ABANDONED,
            f"No verdict after {attempts} attempts; last error: {error}",
        )
        notifications.notify_moderators(
            post, "Akismet could not check this post; it needs a moderator."
        )
        return None
    retry_at = now + backoff(attempts)
    post.note_check_failing(
        HeldReason.CHECK_FAILED, f"{error} Next attempt at {retry_at:%Y-%m-%d %H:%M} UTC."
    )
    return retry_at


# Moderators and readers -------------------------------------------------------------


@transaction.atomic
def decide(post: Post, decision: str, *, by) -> None:
    """
    A moderator's decision. The post's checks are over: none is retried, and
    the privacy countdown starts. Spam and not-spam are reported to Akismet.
    """
    chosen = DECISIONS[decision]
    first_time = post.first_published_at is None
    chosen.verb(post, by=by)
    if post.status == Post.Status.PUBLISHED and first_time:
        notifications.notify_reply(post)
    SpamCheck.objects.filter(post=post).update(
        final_at=Coalesce("final_at", Value(timezone.now())), next_attempt_at=None
    )
    if chosen.tell_akismet is not None:
        tasks.report_to_akismet(post, as_spam=chosen.tell_akismet)
    scores.post_changed(post)


@transaction.atomic
def recheck(post: Post, *, by) -> bool:
    """Queue a fresh Akismet check. Its verdict is recorded, never applied over a moderator."""
    if not spam.is_enabled() or not SpamCheck.objects.filter(post=post).exists():
        return False
    post.record(PostEvent.Kind.RECHECK, actor=by)
    enqueue(tasks.check_post, post.pk, "recheck_queue")
    return True


@transaction.atomic
def report(post: Post, *, by, reason: str, note: str = "") -> bool:
    """
    A reader's report. Returns False when they had reported it already.
    Enough reports hide a published post until a moderator looks at it.
    """
    flag, created = Flag.objects.get_or_create(
        post=post, reporter=by, defaults={"reason": reason, "note": note}
    )
    if not created:
        return False
    Post.objects.filter(pk=post.pk).update(flag_count=F("flag_count") + 1)
    post.refresh_from_db(fields=["flag_count", "status"])
    post.record(PostEvent.Kind.FLAGGED, actor=by, detail=flag.get_reason_display())
    threshold = ModerationSettings.load().flag_threshold
    if post.status == Post.Status.PUBLISHED and threshold and post.flag_count >= threshold:
        why = f"Reported by {post.flag_count} readers."
        post.hold(HeldReason.FLAGS, detail=why)
        notifications.notify_moderators(post, why)
        scores.post_changed(post)
    return True
