"""
Operations on posts that span models or reach the outside world: publishing
a new post through the spam check, moderators' decisions, readers' reports.
Views and the admin call these; each says in one place everything that happens.
"""

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from . import spam, tasks
from .models import Flag, HeldReason, ModerationSettings, Post, PostEvent, SpamCheck
from .moderation import rule_outcome
from .notifications import notify_reply
from .revisions import record_placement


@transaction.atomic
def publish_new_post(request: HttpRequest, post: Post, *, honeypot: str = "") -> Post:
    """
    Save a new post with the snapshot Akismet will see, then check it.

    The post and its snapshot are committed before any network call, so no
    post is lost whatever Akismet does; the check runs as a background task.
    """
    post.status = Post.Status.PENDING
    post.held_reason = HeldReason.CHECKING
    if post.is_annotation:
        post.original_exact = post.exact
    post.save()
    if post.is_annotation:
        record_placement(post)
    post.record(PostEvent.Kind.CREATED, actor=post.author)
    payload = spam.build_payload(request, post)
    spam_check = SpamCheck.objects.create(post=post, payload=payload)
    if honeypot:
        # Only bots fill the hidden field; they are not told anything.
        post.mark_spam_by_rule("Filled in the hidden honeypot field.")
        spam_check.final_at = timezone.now()
        spam_check.save(update_fields=["final_at"])
    elif spam.is_enabled():
        # Due for the sweep too, in case the task never finishes (a worker
        # killed mid-check, a crash): the post would otherwise wait forever.
        spam_check.next_attempt_at = timezone.now() + tasks.CHECK_GRACE
        spam_check.save(update_fields=["next_attempt_at"])
        tasks.enqueue(tasks.check_post, post.pk)
    else:
        tasks.apply_rules(post, payload)
        spam_check.final_at = timezone.now()
        spam_check.save(update_fields=["final_at"])
    tasks.sweep_soon()
    return post


@transaction.atomic
def edit_post(post: Post, body: str, body_html: str) -> None:
    """
    Save an author's edit and judge the new words as a new post's are
    judged, whatever was decided about the old ones: a moderator approved
    the text they read, not this one. A published post waits for the spam
    check and the rules again; a held post stays held for its moderator,
    unless its new words are plainly spam. Spam stays spam.
    """
    post.edit(body, body_html)
    spam_check = SpamCheck.objects.filter(post=post).first()
    payload = spam_check.payload if spam_check else spam.build_payload(None, post)
    payload["comment_content"] = body
    if spam_check is None:
        spam_check = SpamCheck.objects.create(post=post, payload=payload)
    else:
        spam_check.save(update_fields=["payload"])
    if post.status == Post.Status.PUBLISHED:
        if spam.is_enabled():
            post.hold(HeldReason.CHECKING, detail="After an edit: waiting for the spam check.")
            spam_check.next_attempt_at = timezone.now() + tasks.CHECK_GRACE
            spam_check.save(update_fields=["next_attempt_at"])
            tasks.enqueue(tasks.check_post, post.pk, "edit")
        else:
            tasks.apply_rules(post, payload)
    elif post.status == Post.Status.PENDING and not tasks.held_for_check(post):
        rules = ModerationSettings.load()
        outcome = rule_outcome(post, payload, rules, trusted=spam.is_trusted(post.author))
        if outcome.status == Post.Status.SPAM:
            post.mark_spam_by_rule(f"After an edit: {outcome.detail}")


MODERATOR_ACTIONS = {
    "approve": (Post.approve, None),
    "spam": (Post.mark_spam, True),
    "not_spam": (Post.mark_not_spam, False),
    "remove": (Post.remove, None),
}


@transaction.atomic
def moderate(post: Post, action: str, *, by) -> None:
    """A moderator's decision; spam and not-spam are reported to Akismet."""
    verb, report_as_spam = MODERATOR_ACTIONS[action]
    first_time = post.first_published_at is None
    verb(post, by=by)
    if post.status == Post.Status.PUBLISHED and first_time:
        notify_reply(post)
    SpamCheck.objects.filter(post=post, final_at=None).update(final_at=timezone.now())
    # The sweep never checks a decided post again; say so rather than show a retry.
    SpamCheck.objects.filter(post=post).exclude(next_attempt_at=None).update(next_attempt_at=None)
    if report_as_spam is not None:
        tasks.report_to_akismet(post, as_spam=report_as_spam)


@transaction.atomic
def recheck(post: Post, *, by) -> bool:
    """Queue a fresh Akismet check. Its verdict is recorded, never applied over a moderator."""
    if not spam.is_enabled() or not SpamCheck.objects.filter(post=post).exists():
        return False
    post.record(PostEvent.Kind.RECHECK, actor=by)
    tasks.enqueue(tasks.check_post, post.pk, "recheck_queue")
    return True


@transaction.atomic
def flag_post(post: Post, *, by, reason: str, note: str = "") -> bool:
    """
    Record a reader's report. Returns False when they had reported it already.
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
        post.hold(HeldReason.FLAGS, detail=f"Reported by {post.flag_count} readers.")
        tasks.notify_moderators(post, f"Reported by {post.flag_count} readers.")
    return True
