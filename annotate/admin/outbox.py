"""The outbox in the admin: every email the site sends, for superusers only."""

from django.contrib import admin, messages
from django.utils import timezone

from .. import tasks
from ..models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """Mail the site sends, for superusers only: it is addressed to people by email."""

    list_display = ["subject", "recipients", "created_at", "sent_at", "attempts", "last_error"]
    ordering = ["-created_at", "-id"]
    fields = [
        "to", "subject", "body", "created_at", "sent_at", "attempts", "next_attempt_at",
        "last_error",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["retry_now"]

    @admin.display(description="to")
    def recipients(self, email: OutboundEmail) -> str:
        return ", ".join(email.to)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Retry sending the selected emails now")
    def retry_now(self, request, queryset) -> None:
        """Queue the selected unsent emails to go out now; the outbox shows how it went."""
        unsent = queryset.filter(sent_at=None, withheld_at=None)
        ids = list(unsent.values_list("pk", flat=True))
        unsent.update(next_attempt_at=timezone.now())
        for email_id in ids:
            tasks.enqueue(tasks.send_email, email_id)
        skipped = queryset.count() - len(ids)
        message = (
            f"Queued {len(ids)} of {len(ids) + skipped} to send now; reload to see how it went."
        )
        if skipped:
            message += f" {skipped} had been sent or withheld already."
        self.message_user(request, message, messages.SUCCESS)
