"""
Everything the site emails, and the outbox it goes through.

Nothing is sent inside a request: an email is stored as an OutboundEmail and
sent by a background task; when the mail server fails, the email stays in the
outbox with its error and is tried again (see tasks.run_maintenance).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.signing import dumps
from django.db.models import Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from . import spam
from .background import backoff, enqueue
from .models import DigestItem, Membership, OutboundEmail, Post, User

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "annotate.unsubscribe"
DIGEST_INTERVAL = timedelta(days=1)


def absolute(path: str) -> str:
    return (settings.SITE_URL or spam.site_url()).rstrip("/") + path


def queue_email(
    to: list[str], subject: str, body: str, *, headers: dict | None = None
) -> OutboundEmail | None:
    if not to:
        return None
    email = OutboundEmail.objects.create(
        to=to, subject=subject, body=body, headers=headers or {}, next_attempt_at=timezone.now()
    )
    enqueue(send_email, email.pk)
    return email


@task
def send_email(email_id: int) -> str:
    email = OutboundEmail.objects.filter(pk=email_id, sent_at=None).first()
    if email is None:
        return "already sent"
    try:
        EmailMessage(
            subject=email.subject, body=email.body, to=email.to, headers=email.headers
        ).send()
    except Exception as error:  # any failure of the mail server: keep it and retry
        email.attempts += 1
        email.last_error = f"{type(error).__name__}: {error}"
        email.next_attempt_at = timezone.now() + backoff(email.attempts)
        email.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        logger.warning("Email %s not sent (attempt %s): %s", email.pk, email.attempts, error)
        enqueue(send_email, email.pk, run_after=email.next_attempt_at)
        return "will retry"
    email.sent_at = timezone.now()
    email.attempts += 1
    email.next_attempt_at = None
    email.save(update_fields=["sent_at", "attempts", "next_attempt_at"])
    return "sent"


# Replies ---------------------------------------------------------------------


def unsubscribe_token(user: User) -> str:
    return dumps(user.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(user: User) -> str:
    return absolute(reverse("unsubscribe", args=[unsubscribe_token(user)]))


def notify_reply(reply: Post) -> None:
    """Tell a post's author that someone replied, unless they said not to."""
    if not reply.parent_id:
        return
    parent = Post.objects.select_related("author", "document").get(pk=reply.parent_id)
    author = parent.author
    if (
        author is None
        or not author.is_active
        or not author.email_on_reply
        or author.pk == reply.author_id
        or parent.is_deleted
    ):
        return
    unsubscribe = unsubscribe_url(author)
    excerpt = reply.body if len(reply.body) <= 800 else reply.body[:800] + "…"
    body = (
        f"{reply.author_name} replied to your post on “{parent.document.title}”:\n\n"
        f"{excerpt}\n\nRead and reply: {absolute(reply.get_absolute_url())}\n\n"
        f"--\nYou get this email because someone replied to you on annotate.\n"
        f"Stop these emails with one click: {unsubscribe}\n"
    )
    queue_email(
        [author.email],
        f"[annotate] {reply.author_name} replied to you on {parent.document.title}",
        body,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


# Moderators ------------------------------------------------------------------


def moderators_of(post: Post):
    """
    Who looks after `post`: its class's instructors, or for a public text the
    superusers and the moderators who teach no class.
    """
    people = User.objects.filter(is_active=True)
    if post.classroom_id:
        return people.filter(
            memberships__classroom_id=post.classroom_id,
            memberships__role=Membership.Role.INSTRUCTOR,
        ).distinct()
    teachers = Membership.objects.filter(role=Membership.Role.INSTRUCTOR).values("user_id")
    return people.filter(
        Q(is_superuser=True) | (Q(groups__name="Moderators") & ~Q(pk__in=teachers))
    ).distinct()


def admin_url(post: Post) -> str:
    return absolute(reverse("admin:annotate_post_change", args=[post.pk]))


def notify_moderators(post: Post, why: str) -> None:
    """One email per held or reported post, or a line in tomorrow's digest, as each prefers."""
    recipients = list(moderators_of(post))
    now_list = [person.email for person in recipients if not person.moderation_digest]
    DigestItem.objects.bulk_create(
        DigestItem(recipient=person, post=post, why=why)
        for person in recipients
        if person.moderation_digest
    )
    if not now_list:
        return
    excerpt = post.body if len(post.body) <= 500 else post.body[:500] + "…"
    where = f" in {post.classroom}" if post.classroom_id else ""
    body = (
        f"A {spam.comment_type(post)} by {post.author_name} on “{post.document.title}”{where} "
        f"is waiting for a moderator.\n\nWhy: {why}\n\n{excerpt}\n\n"
        f"Review it: {admin_url(post)}\n"
    )
    queue_email(now_list, f"[annotate] Held for moderation: {post.document.title}", body)


def send_digests() -> int:
    """
    Each digest reader's waiting items in one email, once the oldest has
    waited a day: so at most one email a day, and none on quiet days.
    """
    now = timezone.now()
    sent = 0
    due = DigestItem.objects.filter(sent_at=None, created_at__lte=now - DIGEST_INTERVAL)
    for person in User.objects.filter(pk__in=due.values("recipient_id")):
        items = list(
            person.digest_items.filter(sent_at=None).select_related(
                "post__document", "post__author"
            )
        )
        lines = [
            f"- {item.post.kind} by {item.post.author_name} on “{item.post.document.title}”: "
            f"{item.why}\n  {admin_url(item.post)}"
            for item in items
        ]
        body = (
            f"{len(items)} post{'s' if len(items) != 1 else ''} waited for a moderator since "
            f"your last digest:\n\n" + "\n".join(lines) + "\n\nYou chose one daily email; "
            f"change it in your preferences: {absolute(reverse('preferences'))}\n"
        )
        queue_email([person.email], f"[annotate] Daily moderation digest ({len(items)})", body)
        DigestItem.objects.filter(pk__in=[item.pk for item in items]).update(sent_at=now)
        User.objects.filter(pk=person.pk).update(digest_sent_at=now)
        sent += 1
    return sent
