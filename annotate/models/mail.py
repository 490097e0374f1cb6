"""The outbox, and the items waiting for a moderator's daily digest."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .posts import Post


class OutboundEmail(models.Model):
    """
    An email waiting to be sent, or sent. Mail goes out from background tasks;
    a message whose sending fails stays here and is tried again.

    An email about a class's posts names the class: it goes out only if its
    recipient is still in the class (and still teaches it, for instructors'
    mail) when it is sent, not merely when it was queued.
    """

    to = models.JSONField(default=list)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    classroom = models.ForeignKey(
        "Classroom", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    for_instructors = models.BooleanField(
        default=False, help_text="Only for the class's instructors (held and reported posts)."
    )
    subject = models.CharField(max_length=300)
    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    erase_body_when_sent = models.BooleanField(
        default=False, help_text="Account email: its links sign people in, so none are kept."
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    withheld_at = models.DateTimeField(
        null=True, blank=True, help_text="Not sent: the recipient may no longer read it."
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="Being sent by a worker until then."
    )
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.subject


class DigestItem(models.Model):
    """A held or reported post waiting for a moderator's daily digest email."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_items"
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    why = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.why} (post #{self.post_id})"
