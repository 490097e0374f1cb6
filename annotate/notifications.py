"""
Everything the site emails, and the outbox it goes through.

Nothing is sent inside a request: an email is stored as an OutboundEmail and
sent by a background task; when the mail server fails, the email stays in the
outbox with its error and is tried again (tasks.send_email, and the
sweep in tasks.run_maintenance).
"""

import logging
from datetime import timedelta

from django.core.signing import dumps
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from . import tasks
from .background import enqueue
from .models import (
    MODERATORS_GROUP,
    TEACHING_ROLES,
    DigestItem,
    Membership,
    OutboundEmail,
    Post,
    User,
)
from .site import absolute
from .spaces import space_of

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "annotate.unsubscribe"
DIGEST_INTERVAL = timedelta(days=1)


def queue_email(
    recipient: User | None,
    subject: str,
    body: str,
    *,
    to: str = "",
    classroom_id: int | None = None,
    for_instructors: bool = False,
    headers: dict | None = None,
    erase_body_when_sent: bool = False,
) -> OutboundEmail | None:
    """
    Put an email in the outbox for one person (`recipient`, or the bare
    address `to` for someone without an account yet) and queue its sending.
    An email about a class's posts names the class (`classroom_id`).
    """
    address = to or (recipient.email if recipient else "")
    # People an LMS sent without an address have one in the reserved .invalid domain.
    if not address or address.endswith(".invalid"):
        return None
    email = OutboundEmail.objects.create(
        to=[address],
        recipient=recipient,
        classroom_id=classroom_id,
        for_instructors=for_instructors,
        subject=subject,
        body=body,
        headers=headers or {},
        erase_body_when_sent=erase_body_when_sent,
        next_attempt_at=timezone.now(),
    )
    enqueue(tasks.send_email, email.pk)
    return email


def may_still_receive(email: OutboundEmail) -> bool:
    """
    Whether the recipient may still read what the email says: an active
    account, and, for an email about a class, still in the class (and still
    on its teaching staff, for held and reported posts). Asked when the email
    is sent.
    """
    recipient = email.recipient
    if recipient is None:
        return email.classroom_id is None
    if not recipient.is_active:
        return False
    if email.classroom_id is None or recipient.is_superuser:
        return True
    memberships = Membership.objects.filter(classroom_id=email.classroom_id, user=recipient)
    if email.for_instructors:
        memberships = memberships.filter(role__in=TEACHING_ROLES)
    return memberships.exists()


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
    # Only a reply they can read where it is: in a class, a reply from
    # another group (the author has moved since) is kept from them, like a
    # reply under a thread they cannot see.
    if reply.classroom_id is not None and space_of(reply, author) is None:
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
        author,
        f"[annotate] {reply.author_name} replied to you on {parent.document.title}",
        body,
        classroom_id=reply.classroom_id,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


# Moderators ------------------------------------------------------------------


def moderators_of(post: Post):
    """
    Who looks after `post`: its class's teaching staff (instructors and
    teaching assistants), or for a public text the superusers and the
    moderators who teach no class.
    """
    people = User.objects.filter(is_active=True)
    if post.classroom_id:
        return people.filter(
            memberships__classroom_id=post.classroom_id,
            memberships__role__in=TEACHING_ROLES,
        ).distinct()
    # As scoping.is_site_moderator has it: teachers and class staff never
    # moderate the public discussions, even with no class left.
    teachers = Membership.objects.filter(role__in=TEACHING_ROLES).values("user_id")
    site_moderators = Q(
        groups__name=MODERATORS_GROUP, is_staff=True, is_teacher=False, is_class_staff=False
    ) & ~Q(pk__in=teachers)
    return people.filter(Q(is_superuser=True) | site_moderators).distinct()


def admin_url(post: Post) -> str:
    return absolute(reverse("admin:annotate_post_change", args=[post.pk]))


def notify_moderators(post: Post, why: str) -> None:
    """One email per held or reported post, or a line in tomorrow's digest, as each prefers."""
    recipients = list(moderators_of(post))
    DigestItem.objects.bulk_create(
        DigestItem(recipient=person, post=post, why=why)
        for person in recipients
        if person.moderation_digest
    )
    excerpt = post.body if len(post.body) <= 500 else post.body[:500] + "…"
    where = f" in {post.classroom}" if post.classroom_id else ""
    body = (
        f"A {post.kind} by {post.author_name} on “{post.document.title}”{where} "
        f"is waiting for a moderator.\n\nWhy: {why}\n\n{excerpt}\n\n"
        f"Review it: {admin_url(post)}\n"
    )
    # One email each, so that no moderator sees the others' addresses.
    for person in recipients:
        if not person.moderation_digest:
            queue_email(
                person,
                f"[annotate] Held for moderation: {post.document.title}",
                body,
                classroom_id=post.classroom_id,
                for_instructors=True,
            )


def send_digests() -> int:
    """
    Each digest reader's waiting items in one email, once the oldest has
    waited a day: so at most one email a day, and none on quiet days. Items
    of a class the reader no longer teaches are dropped, not sent.
    """
    now = timezone.now()
    sent = 0
    due = DigestItem.objects.filter(sent_at=None, created_at__lte=now - DIGEST_INTERVAL)
    for person in User.objects.filter(pk__in=due.values("recipient_id")):
        with transaction.atomic():
            # One sweep at a time takes a person's digest: a sweep running
            # beside this one that holds the person sends it whole. (Locking
            # the items alone would let two sweeps each send a part.)
            claimed = User.objects.select_for_update(skip_locked=True).filter(pk=person.pk)
            if not list(claimed.values_list("pk", flat=True)):
                continue
            items = list(
                person.digest_items.filter(sent_at=None).select_related(
                    "post__document", "post__author"
                )
            )
            if not items:
                continue
            DigestItem.objects.filter(pk__in=[item.pk for item in items]).update(sent_at=now)
            taught = set(taught_classroom_ids(person))
            items = [
                item
                for item in items
                if item.post.classroom_id is None or item.post.classroom_id in taught
            ]
            if not items or not person.is_active:
                continue
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
            queue_email(person, f"[annotate] Daily moderation digest ({len(items)})", body)
            User.objects.filter(pk=person.pk).update(digest_sent_at=now)
            sent += 1
    return sent


def taught_classroom_ids(person: User):
    if person.is_superuser:
        return Membership.objects.values_list("classroom_id", flat=True).distinct()
    return Membership.objects.filter(user=person, role__in=TEACHING_ROLES).values_list(
        "classroom_id", flat=True
    )


# Teachers --------------------------------------------------------------------


def send_teacher_invitation(invitation) -> None:
    """The invitation's link, to the address it was made for."""
    link = absolute(invitation.get_absolute_url())
    inviter = (
        f"{invitation.invited_by.display_name} invites you"
        if invitation.invited_by
        else ("You are invited")
    )
    body = (
        f"{inviter} to teach on annotate, where classes read texts together and "
        f"discuss them passage by passage.\n\n"
        f"Accept the invitation (sign in, or create an account, when asked):\n{link}\n\n"
        f"As a teacher you create classes, assign readings and moderate your own classes' "
        f"discussions. The link works once and expires on "
        f"{timezone.localtime(invitation.expires_at):%-d %B %Y}.\n"
    )
    queue_email(
        None,
        "[annotate] You are invited to teach",
        body,
        to=invitation.email,
        # The link makes whoever holds it a teacher: it is not kept once sent.
        erase_body_when_sent=True,
    )


# Class invitations -----------------------------------------------------------

CLASS_INVITATION_ROLES = {
    Membership.Role.STUDENT: (
        "as a student",
        "You will read the class's texts and discuss them with your classmates.",
    ),
    Membership.Role.ASSISTANT: (
        "as a teaching assistant",
        "You will moderate the class's discussions and follow its activity; its "
        "instructors keep its settings, readings and members.",
    ),
    Membership.Role.INSTRUCTOR: (
        "as a co-instructor",
        "You will run the class with its other instructors: its readings, members and discussions.",
    ),
}


def send_class_invitation(classroom, address: str, role: str, link: str, *, by: User) -> None:
    """
    An invitation to join `classroom` as `role`, to an address that may have
    no account yet, carrying the link that admits its holder in that role.
    """
    as_role, what_follows = CLASS_INVITATION_ROLES[role]
    body = (
        f"{by.display_name} invites you to join “{classroom}” on annotate {as_role}. "
        f"Classes there read texts together and discuss them passage by passage.\n\n"
        f"Join (sign in, or create an account, when asked):\n{absolute(link)}\n\n"
        f"{what_follows}\n\n"
        f"If you did not expect this email, ignore it: nothing happens until the link "
        f"is opened.\n"
    )
    queue_email(
        None,
        f"[annotate] Join {classroom.name} {as_role}",
        body,
        to=address,
        # No classroom_id: the address has no membership yet, and an email about a
        # class goes only to its members (may_still_receive). The link admits
        # whoever holds it, so it is not kept once sent.
        erase_body_when_sent=True,
    )


# Reminders -------------------------------------------------------------------


def remind_to_post(reading, students, *, by: User) -> int:
    """
    Remind each of `students` that `reading` waits for their notes (the
    teaching staff's button: annotate/instructor.remind). Returns how many
    emails went into the outbox (an account without an address gets none).
    """
    classroom = reading.classroom
    title = reading.document.title
    link = absolute(reading.get_absolute_url())
    due = ""
    if reading.due_at:
        local = timezone.localtime(reading.due_at, classroom.zone)
        due = f" It is due {local:%a %-d %b, %H:%M} ({classroom.zone_name} time)."
    emailed = 0
    for student in students:
        body = (
            f"Hello {student.display_name},\n\n"
            f"{by.display_name} reminds you that “{title}” in {classroom} waits for your "
            f"notes: you have not posted on it yet.{due}\n\n"
            f"Read it and post: {link}\n\n"
            f"--\nYou get this email because you are a student of {classroom} on annotate.\n"
        )
        subject = f"[annotate] A reminder: “{title}” in {classroom.name}"
        if queue_email(student, subject, body, classroom_id=classroom.pk):
            emailed += 1
    return emailed
