"""
Background work: spam checks, reports to Akismet, email, and upkeep.

Tasks run through django.tasks: right after the request on a laptop
(ImmediateBackend), in `manage.py db_worker` on a server. A task that fails
for an outside reason (Akismet, the mail server) records why and leaves its
work due again; the `run_maintenance` sweep (after posts, and from cron on a
server) takes up whatever is due, so nothing depends on one task surviving.
"""

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from . import spam
from .background import backoff, enqueue
from .models import (
    HeldReason,
    ModerationSettings,
    OutboundEmail,
    Post,
    PostEvent,
    SpamCheck,
    Verdict,
)
from .moderation import rule_outcome
from .notifications import notify_moderators, notify_reply, send_digests, send_email

logger = logging.getLogger(__name__)

# How long a new post's first check may take before the sweep takes it up.
CHECK_GRACE = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(days=15)
SWEEP_BATCH = 200


# Spam checks ---------------------------------------------------------------


def held_for_check(post: Post) -> bool:
    return post.status == Post.Status.PENDING and post.held_reason in {
        HeldReason.CHECKING,
        HeldReason.CHECK_FAILED,
    }


@task
def check_post(post_id: int, recheck_reason: str = "") -> str:
    """Ask Akismet about a post and apply the answer (never over a moderator)."""
    spam_check = SpamCheck.objects.select_related("post").filter(post_id=post_id).first()
    if spam_check is None:
        return "gone"
    post = spam_check.post
    if recheck_reason == "cron_retry" and not (
        held_for_check(post)
        and spam_check.next_attempt_at
        and spam_check.next_attempt_at <= timezone.now()
    ):
        return "not due"
    if not recheck_reason and not held_for_check(post):
        return "already checked"
    try:
        result = spam.check(spam_check.payload, recheck_reason=recheck_reason)
    except spam.SpamCheckError as error:
        return _check_failed(post_id, str(error))
    return _apply_verdict(post_id, result.verdict)


def _apply_verdict(post_id: int, verdict: str) -> str:
    with transaction.atomic():
        post = (
            Post.objects.select_for_update(of=("self",))
            .select_related("document", "author")
            .get(pk=post_id)
        )
        spam_check = SpamCheck.objects.select_for_update().get(post_id=post_id)
        now = timezone.now()
        spam_check.attempts += 1
        spam_check.checked_at = now
        spam_check.last_error = ""
        spam_check.next_attempt_at = None
        spam_check.final_at = spam_check.final_at or now
        spam_check.save()
        post.spam_verdict = verdict
        post.save(update_fields=["spam_verdict"])
        post.record(
            {
                Verdict.HAM: PostEvent.Kind.AKISMET_HAM,
                Verdict.SPAM: PostEvent.Kind.AKISMET_SPAM,
                Verdict.DISCARD: PostEvent.Kind.AKISMET_DISCARD,
            }[verdict]
        )
        if post.moderated:
            return "recorded; a moderator already decided"
        if verdict in (Verdict.SPAM, Verdict.DISCARD):
            if post.status != Post.Status.SPAM:
                post.status = Post.Status.SPAM
                post.held_reason = ""
                post.save(update_fields=["status", "held_reason"])
            return verdict
        if held_for_check(post):
            apply_rules(post, spam_check.payload)
        return post.status


def apply_rules(post: Post, payload: dict) -> None:
    """Publish, hold or mark spam by the moderation rules; tell moderators of a hold."""
    rules = ModerationSettings.load()
    outcome = rule_outcome(post, payload, rules, trusted=spam.is_trusted(post.author))
    if outcome.status == Post.Status.SPAM:
        post.mark_spam_by_rule(outcome.detail)
    elif outcome.status == Post.Status.PENDING:
        post.hold(outcome.held_reason, detail=outcome.detail)
        notify_moderators(post, outcome.detail)
    else:
        post.publish(detail="Passed the spam check and the moderation rules.")
        notify_reply(post)


def _check_failed(post_id: int, error: str) -> str:
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post_id)
        spam_check = SpamCheck.objects.select_for_update().get(post_id=post_id)
        now = timezone.now()
        spam_check.attempts += 1
        spam_check.last_error = error
        if not held_for_check(post) or post.moderated:
            spam_check.next_attempt_at = None
            spam_check.save()
            post.record(PostEvent.Kind.AKISMET_ERROR, detail=error)
            return "error recorded"
        if now - post.created_at >= GIVE_UP_AFTER:
            spam_check.next_attempt_at = None
            spam_check.save()
            post.held_reason = HeldReason.CHECK_ABANDONED
            post.save(update_fields=["held_reason"])
            post.record(
                PostEvent.Kind.AKISMET_GAVE_UP,
                detail=f"No verdict after {spam_check.attempts} attempts; last error: {error}",
            )
            notify_moderators(post, "Akismet could not check this post; it needs a moderator.")
            return "gave up"
        spam_check.next_attempt_at = now + backoff(spam_check.attempts)
        spam_check.save()
        if post.held_reason != HeldReason.CHECK_FAILED:
            post.held_reason = HeldReason.CHECK_FAILED
            post.save(update_fields=["held_reason"])
        post.record(
            PostEvent.Kind.AKISMET_ERROR,
            detail=f"{error} Next attempt at {spam_check.next_attempt_at:%Y-%m-%d %H:%M} UTC.",
        )
        enqueue(check_post, post_id, "cron_retry", run_after=spam_check.next_attempt_at)
        return "will retry"


# Reports to Akismet ------------------------------------------------------------


def report_to_akismet(post: Post, *, as_spam: bool) -> None:
    """Queue submit-spam or submit-ham with the snapshot the check saw."""
    if not spam.is_enabled():
        return
    updated = SpamCheck.objects.filter(post=post).update(
        submission="spam" if as_spam else "ham",
        submission_attempts=0,
        submission_next_at=timezone.now(),
    )
    if updated:
        enqueue(submit_report, post.pk)


@task
def submit_report(post_id: int) -> str:
    spam_check = SpamCheck.objects.select_related("post").filter(post_id=post_id).first()
    if spam_check is None or not spam_check.submission:
        return "nothing to send"
    as_spam = spam_check.submission == "spam"
    try:
        spam.submit(spam_check.payload, as_spam=as_spam)
    except spam.SpamCheckError as error:
        attempts = spam_check.submission_attempts + 1
        next_at = timezone.now() + backoff(attempts)
        SpamCheck.objects.filter(pk=spam_check.pk).update(
            submission_attempts=attempts, submission_next_at=next_at
        )
        spam_check.post.record(
            PostEvent.Kind.SUBMIT_ERROR,
            detail=f"submit-{spam_check.submission}: {error} Next attempt at {next_at:%H:%M} UTC.",
        )
        enqueue(submit_report, post_id, run_after=next_at)
        return "will retry"
    SpamCheck.objects.filter(pk=spam_check.pk, submission=spam_check.submission).update(
        submission="", submission_next_at=None
    )
    spam_check.post.record(
        PostEvent.Kind.SUBMITTED_SPAM if as_spam else PostEvent.Kind.SUBMITTED_HAM
    )
    return "sent"


# Upkeep ------------------------------------------------------------------------


@task
def run_maintenance() -> dict:
    """Take up due retries, delete old spam and erase expired personal data."""
    now = timezone.now()
    rules = ModerationSettings.load()
    due_checks = list(
        SpamCheck.objects.filter(
            next_attempt_at__lte=now,
            post__status=Post.Status.PENDING,
            post__moderated_at=None,
        ).values_list("post_id", flat=True)[:SWEEP_BATCH]
    )
    for post_id in due_checks:
        check_post.call(post_id, "cron_retry")
    due_reports = list(
        SpamCheck.objects.exclude(submission="")
        .filter(submission_next_at__lte=now)
        .values_list("post_id", flat=True)[:SWEEP_BATCH]
    )
    for post_id in due_reports:
        submit_report.call(post_id)
    due_emails = list(
        OutboundEmail.objects.filter(sent_at=None, next_attempt_at__lte=now).values_list(
            "pk", flat=True
        )[:SWEEP_BATCH]
    )
    for email_id in due_emails:
        send_email.call(email_id)

    deleted = delete_old_spam(now - timedelta(days=rules.spam_retention_days))
    digests = send_digests()
    erased = erase_private_data(now - timedelta(days=rules.privacy_retention_days))
    return {
        "checks": len(due_checks),
        "reports": len(due_reports),
        "emails": len(due_emails),
        "spam_deleted": deleted,
        "digests": digests,
        "erased": erased,
    }


def delete_old_spam(cutoff) -> int:
    """
    Delete spam created (and, if a moderator judged it, judged) before
    `cutoff`; return how many posts went. A spam post with other posts
    beneath it that are not going too is kept: deleting it would take them
    with it, and a reader's reply is not spam because its parent was.
    """
    expired = (
        Post.objects.filter(status=Post.Status.SPAM, created_at__lt=cutoff)
        .filter(Q(moderated_at=None) | Q(moderated_at__lt=cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    deleted = 0
    after = 0
    while batch := list(expired.filter(pk__gt=after)[:SWEEP_BATCH]):
        after = batch[-1]
        doomed = set(batch)
        # A reply that stays keeps its parent, and so on up the thread.
        while kept := set(
            Post.objects.filter(parent_id__in=doomed)
            .exclude(pk__in=doomed)
            .values_list("parent_id", flat=True)
        ):
            doomed -= kept
        if doomed:
            _, counts = Post.objects.filter(pk__in=doomed).delete()
            deleted += counts.get(Post._meta.label, 0)
    return deleted


def erase_private_data(cutoff) -> int:
    erased = 0
    expired = SpamCheck.objects.filter(erased_at=None, final_at__lt=cutoff).select_related("post")
    for spam_check in expired[:SWEEP_BATCH]:
        for field in SpamCheck.PRIVATE_FIELDS:
            spam_check.payload[field] = ""
        spam_check.erased_at = timezone.now()
        spam_check.save(update_fields=["payload", "erased_at"])
        spam_check.post.record(PostEvent.Kind.ERASED, detail="IP address, user agent, referrer.")
        erased += 1
    return erased


def sweep_soon() -> None:
    """Run the upkeep sweep at most once a minute, riding on ordinary traffic."""
    if cache.add("annotate:maintenance", True, timeout=60):
        enqueue(run_maintenance)
