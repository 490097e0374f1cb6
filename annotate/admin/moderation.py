"""
The moderation desk: the list of posts with its queues and filters,
decisions in bulk or in one click on a post's page (both through
annotate.lifecycle, so each writes history and reports to Akismet), each
post's story read-only, readers' reports, the moderation settings and
Akismet's state. Members of the moderators group can do all of it
without superuser rights; instructors, for their own classes' posts.

Nothing here talks to Akismet or the mail server: the admin queues the work
and background tasks do it.
"""

import json
from dataclasses import dataclass
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, Q, Value
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from .. import lifecycle, spam, tasks
from ..adminsite import ViewOnSiteForViewer
from ..lifecycle import DECISIONS
from ..models import (
    Document,
    Flag,
    HeldReason,
    ModerationSettings,
    Post,
    PostEvent,
    SpamCheck,
)
from ..scoping import (
    documents_in_reach,
    is_site_moderator,
    post_url_for,
    posts_in_reach,
    sees_personal_details,
)

FLAGGED = Q(flag_count__gt=0)
HELD = Q(status__in=Post.HELD_STATUSES)
NOT_DELETED = Q(deleted_at=None)
CHECK_ERRORS = Q(spam_check__last_error__gt="") | Q(
    held_reason__in=[HeldReason.CHECK_FAILED, HeldReason.CHECK_ABANDONED]
)
SPAM_FILTERING_OFF = "Spam filtering is off: AKISMET_API_KEY is not set."


@dataclass(frozen=True)
class Queue:
    label: str
    count: int
    url: str


# Each queue's condition, and the changelist query string that lists exactly those posts.
QUEUES = [
    ("pending", "Pending", Q(status=Post.Status.PENDING), "status__exact=pending"),
    ("spam", "Spam", Q(status=Post.Status.SPAM), "status__exact=spam"),
    ("flagged", "Flagged by readers", FLAGGED, "flagged=yes"),
    ("check_errors", "Spam-check errors", CHECK_ERRORS, "check_errors=yes"),
]


def moderation_queues(user) -> list[Queue]:
    """How many posts in `user`'s reach wait in each queue (one query), with their links."""
    counts = Post.objects.filter(posts_in_reach(user)).aggregate(
        **{name: Count("pk", filter=condition) for name, _, condition, _ in QUEUES}
    )
    changelist = reverse("admin:annotate_post_changelist")
    return [Queue(label, counts[name], f"{changelist}?{query}") for name, label, _, query in QUEUES]


def last_akismet_error(user) -> PostEvent | None:
    """
    The newest failed check or report among the posts `user` moderates. A
    SpamCheck keeps only its latest error and no time for it; the history
    row written with it has both.
    """
    kinds = [
        PostEvent.Kind.AKISMET_ERROR,
        PostEvent.Kind.AKISMET_GAVE_UP,
        PostEvent.Kind.SUBMIT_ERROR,
    ]
    events = PostEvent.objects.filter(
        kind__in=kinds, post__in=Post.objects.filter(posts_in_reach(user))
    ).select_related("post__author")
    return events.order_by("-at", "-id").first()


def count_posts(count: int) -> str:
    return "1 post" if count == 1 else f"{count} posts"


RECHECK = "Recheck with Akismet"


def decision_message(action: str, decided: int, unchanged: int = 0) -> str:
    decision = DECISIONS[action]
    message = f"{count_posts(decided)} {decision.done}."
    if unchanged:
        was = "was" if unchanged == 1 else "were"
        message += f" {unchanged} of them {was} {decision.status.label.lower()} already."
    return message


def recheck_message(queued: int, skipped: int) -> tuple[str, int]:
    if not spam.is_enabled():
        return f"{SPAM_FILTERING_OFF} Nothing was rechecked.", messages.WARNING
    if not queued:
        return "Nothing was rechecked: no spam-check record to send.", messages.WARNING
    message = (
        f"Akismet will recheck {count_posts(queued)}. Its verdict is recorded in the "
        "history and never overrides a moderator’s decision."
    )
    if skipped:
        message += f" Skipped {count_posts(skipped)} without a spam-check record."
    return message, messages.SUCCESS


class FlaggedFilter(admin.SimpleListFilter):
    title = "flagged by readers"
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", "Flagged"), ("no", "Not flagged")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(FLAGGED)
        if self.value() == "no":
            return queryset.exclude(FLAGGED)
        return queryset


class CheckErrorFilter(admin.SimpleListFilter):
    title = "spam check"
    parameter_name = "check_errors"

    def lookups(self, request, model_admin):
        return [("yes", "Check errors")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(CHECK_ERRORS)
        return queryset


class HeldFilter(admin.SimpleListFilter):
    """What waits for a moderator, whatever held it: the class dashboard's "held" counts."""

    title = "held for a moderator"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", "Held (pending or spam)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(HELD)
        return queryset


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted by its author"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Not deleted"), ("yes", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(NOT_DELETED)
        if self.value() == "yes":
            return queryset.exclude(NOT_DELETED)
        return queryset


class ReadOnlyInline:
    """Part of a post's story: shown on its page, never edited there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PostEventInline(ReadOnlyInline, admin.TabularInline):
    model = PostEvent
    verbose_name = "history"
    verbose_name_plural = "history"
    fields = ["at", "kind", "actor_name", "detail"]
    readonly_fields = fields
    ordering = ["at", "id"]

    @admin.display(description="by")
    def actor_name(self, event: PostEvent) -> str:
        return event.actor.display_name if event.actor else "the site"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class FlagInline(ReadOnlyInline, admin.TabularInline):
    model = Flag
    verbose_name = "report by a reader"
    verbose_name_plural = "reports by readers"
    fields = ["reporter_name", "reason", "note", "created_at", "resolved_at"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    @admin.display(description="reporter")
    def reporter_name(self, flag: Flag) -> str:
        return flag.reporter.display_name

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reporter")


# Who wrote a post, as Akismet was told: for spam work, not for teaching (see scoping).
PERSONAL_PAYLOAD_FIELDS = (*SpamCheck.PRIVATE_FIELDS, "comment_author_email")
HIDDEN_FROM_INSTRUCTORS = "(not shown to instructors)"


class SpamCheckInline(ReadOnlyInline, admin.StackedInline):
    model = SpamCheck
    verbose_name = "spam check"
    verbose_name_plural = "spam check"
    fields = [
        "payload_as_sent", "attempts", "last_error", "next_attempt_at", "checked_at",
        "final_at", "erased_at", "submission", "submission_attempts", "submission_next_at",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        # Whether this viewer may read the personal fields travels with the row.
        shown = Value(sees_personal_details(request.user), output_field=BooleanField())
        return super().get_queryset(request).annotate(shows_personal_details=shown)

    @admin.display(description="payload (what Akismet sees)")
    def payload_as_sent(self, spam_check: SpamCheck) -> str:
        payload = dict(spam_check.payload)
        if not getattr(spam_check, "shows_personal_details", False):
            for name in PERSONAL_PAYLOAD_FIELDS:
                if payload.get(name):
                    payload[name] = HIDDEN_FROM_INSTRUCTORS
        text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="payload">{}</pre>', text)


@admin.register(Post)
class PostAdmin(ViewOnSiteForViewer, admin.ModelAdmin):
    list_display = [
        "post", "status", "held_reason", "verdict", "flags", "excerpt", "quote",
        "document", "classroom", "author_name", "posted",
    ]  # fmt: skip
    list_filter = [
        "status",
        "spam_verdict",
        FlaggedFilter,
        HeldFilter,
        CheckErrorFilter,
        DeletedFilter,
        # Only the classes and texts present in the moderator's own posts.
        ("classroom", admin.RelatedOnlyFieldListFilter),
        ("document", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["author", "document", "classroom"]
    search_fields = ["body", "exact", "author__display_name"]
    ordering = ["-created_at", "-id"]
    actions = ["approve", "mark_spam", "mark_not_spam", "remove", "recheck"]
    moderation_fields = [
        "status", "held_reason", "spam_verdict", "flag_count", "moderator_name", "moderated_at",
    ]  # fmt: skip
    post_fields = [
        "kind", "text", "author_name", "parent", "quoted_passage", "body",
        "created_at", "edited_at", "deleted_at",
    ]  # fmt: skip
    anchor_fields = ["revision", "prefix", "suffix", "start", "end"]
    fieldsets = [
        ("Moderation", {"fields": moderation_fields}),
        ("Post", {"fields": post_fields}),
        ("Anchor", {"classes": ["collapse"], "fields": anchor_fields}),
    ]
    # Nothing is edited in place: decisions go through the buttons and actions.
    readonly_fields = [*moderation_fields, *post_fields, *anchor_fields]
    inlines = [PostEventInline, FlagInline, SpamCheckInline]

    @admin.display(description="post", ordering="pk")
    def post(self, post: Post) -> str:
        return f"{post.kind} #{post.pk}"

    @admin.display(description="posted", ordering="created_at")
    def posted(self, post: Post) -> str:
        return timezone.localtime(post.created_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="Akismet", ordering="spam_verdict")
    def verdict(self, post: Post) -> str | None:
        return post.get_spam_verdict_display() or None

    @admin.display(description="flags", ordering="flag_count")
    def flags(self, post: Post) -> int:
        return post.flag_count

    @admin.display(description="excerpt")
    def excerpt(self, post: Post) -> str:
        return Truncator(post.body).chars(80)

    @admin.display(description="quoted passage")
    def quote(self, post: Post) -> str:
        return f"“{Truncator(post.exact).chars(60)}”" if post.exact else ""

    @admin.display(description="quoted passage")
    def quoted_passage(self, post: Post) -> str:
        return post.exact

    @admin.display(description="document")
    def text(self, post: Post) -> str:
        """The text, linked to its admin page when the viewer reaches it (see get_object)."""
        if not getattr(post, "text_in_reach", False):
            return post.document.title
        url = reverse("admin:annotate_document_change", args=[post.document_id])
        return format_html('<a href="{}">{}</a>', url, post.document.title)

    # People by the name they show, not as links to the users' admin, which
    # moderators may not open.
    @admin.display(description="author", ordering="author__display_name")
    def author_name(self, post: Post) -> str:
        return post.author_name

    @admin.display(description="moderated by")
    def moderator_name(self, post: Post) -> str | None:
        return post.moderated_by.display_name if post.moderated_by else None

    def get_queryset(self, request):
        return super().get_queryset(request).filter(posts_in_reach(request.user))

    def get_search_fields(self, request):
        # Searching by address would tell who has which one.
        if sees_personal_details(request.user):
            return [*self.search_fields, "author__email"]
        return self.search_fields

    def get_object(self, request, object_id, from_field=None):
        post = super().get_object(request, object_id, from_field)
        if post is not None:
            # A public post on a text made class-only since, or a class post whose
            # reading was removed: its text is no longer within this viewer's reach.
            post.text_in_reach = (
                Document.objects.filter(documents_in_reach(request.user))
                .filter(pk=post.document_id)
                .exists()
            )
        return post

    def site_url_for(self, request, post: Post) -> str | None:
        return post_url_for(request.user, post)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    # Decisions in bulk

    def _decide_all(self, request, queryset, action: str) -> None:
        decided = unchanged = 0
        for post in queryset:
            unchanged += post.status == DECISIONS[action].status
            lifecycle.decide(post, action, by=request.user)
            decided += 1
        self.message_user(request, decision_message(action, decided, unchanged), messages.SUCCESS)

    @admin.action(permissions=["change"], description="Approve the selected posts")
    def approve(self, request, queryset) -> None:
        self._decide_all(request, queryset, "approve")

    @admin.action(permissions=["change"], description="Mark the selected posts as spam")
    def mark_spam(self, request, queryset) -> None:
        self._decide_all(request, queryset, "spam")

    @admin.action(permissions=["change"], description="Mark the selected posts as not spam")
    def mark_not_spam(self, request, queryset) -> None:
        self._decide_all(request, queryset, "not_spam")

    @admin.action(permissions=["change"], description="Remove the selected posts")
    def remove(self, request, queryset) -> None:
        self._decide_all(request, queryset, "remove")

    @admin.action(permissions=["change"], description="Recheck the selected posts with Akismet")
    def recheck(self, request, queryset) -> None:
        queued = skipped = 0
        for post in queryset:
            if lifecycle.recheck(post, by=request.user):
                queued += 1
            else:
                skipped += 1
        self.message_user(request, *recheck_message(queued, skipped))

    # One-click decisions on a post's page, and the Akismet status page

    def get_urls(self):
        return [
            path(
                "akismet-status/",
                self.admin_site.admin_view(self.akismet_status_view),
                name="annotate_post_akismet_status",
            ),
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(require_POST(self.decide_view)),
                name="annotate_post_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Apply the decision of the button pressed on a post's page, then show the page again."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        post = self.get_object(request, unquote(object_id))
        if post is None:
            raise Http404("No such post.")
        action = request.POST.get("decision", "")
        if action == "recheck":
            queued = lifecycle.recheck(post, by=request.user)
            self.message_user(request, *recheck_message(int(queued), int(not queued)))
        elif action in DECISIONS:
            lifecycle.decide(post, action, by=request.user)
            message = f"{post.kind.capitalize()} #{post.pk} {DECISIONS[action].done}."
            self.message_user(request, message, messages.SUCCESS)
        else:
            return HttpResponseBadRequest("Unknown decision.")
        return redirect("admin:annotate_post_change", post.pk)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Posts", **(extra_context or {})})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context |= {
            "decisions": [(action, decision.label) for action, decision in DECISIONS.items()],
            "can_recheck": spam.is_enabled() and SpamCheck.objects.filter(post=obj).exists(),
            "recheck_label": RECHECK,
            # The page is a record; the decision buttons are the way to change a post.
            "show_save": False,
            "show_save_and_continue": False,
        }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def akismet_status_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            tasks.check_akismet_status.enqueue()
            self.message_user(request, "Akismet is being asked again; reload in a moment.")
            return redirect("admin:annotate_post_akismet_status")
        status, checked_at = akismet_status()
        changelist = reverse("admin:annotate_post_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Akismet status",
            "opts": self.opts,
            "status": status,
            "checked_at": checked_at,
            "spam_filtering_off": SPAM_FILTERING_OFF,
            "last_error": last_akismet_error(request.user),
            "posts_with_check_errors": Post.objects.filter(posts_in_reach(request.user))
            .filter(CHECK_ERRORS)
            .count(),
            "check_errors_url": f"{changelist}?check_errors=yes",
        }
        return TemplateResponse(request, "admin/annotate/post/akismet_status.html", context)


# How long the status page trusts what Akismet said about the key and usage.
AKISMET_STATUS_MAX_AGE = timedelta(minutes=10)


def akismet_status() -> tuple[dict | None, object]:
    """
    What Akismet last said about the key and usage, and when; None while it
    is being asked. The page never waits on Akismet: an answer missing, old,
    or given for other settings (another key or site URL) is asked for in
    the background (at once, on a laptop's immediate task backend).
    """
    if not spam.is_enabled():
        return {"enabled": False}, None
    row = ModerationSettings.load()
    asked_for = spam.settings_fingerprint()
    fresh = (
        row.akismet_checked_at is not None
        and timezone.now() - row.akismet_checked_at < AKISMET_STATUS_MAX_AGE
        and row.akismet_status.get("settings") == asked_for
    )
    if not fresh:
        # Asked at most once a minute, however often the page is reloaded meanwhile.
        if cache.add("annotate:akismet-status-asked", True, timeout=60):
            tasks.check_akismet_status.enqueue()
            row.refresh_from_db(fields=["akismet_status", "akismet_checked_at"])
        if row.akismet_status.get("settings") != asked_for:
            return None, None
    return row.akismet_status, row.akismet_checked_at


class ResolvedFilter(admin.SimpleListFilter):
    title = "resolved"
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", "Unresolved"), ("yes", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resolved_at=None)
        if self.value() == "yes":
            return queryset.exclude(resolved_at=None)
        return queryset


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    """Readers' reports. They are resolved by deciding on the post."""

    list_display = ["post_link", "reporter_name", "reason", "note", "created_at", "resolved_at"]
    list_display_links = None
    list_filter = [ResolvedFilter, "reason"]
    list_select_related = ["post__author", "reporter"]
    search_fields = ["note", "reporter__display_name"]
    ordering = ["-created_at", "-id"]
    fields = ["post", "reporter_name", "reason", "note", "created_at", "resolved_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        reach = posts_in_reach(request.user)
        return super().get_queryset(request).filter(post__in=Post.objects.filter(reach))

    def get_search_fields(self, request):
        if sees_personal_details(request.user):
            return [*self.search_fields, "reporter__email"]
        return self.search_fields

    # By name: a link to the users' admin would refuse everyone but superusers.
    @admin.display(description="reporter", ordering="reporter__display_name")
    def reporter_name(self, flag: Flag) -> str:
        return flag.reporter.display_name

    @admin.display(description="post", ordering="post")
    def post_link(self, flag: Flag) -> str:
        url = reverse("admin:annotate_post_change", args=[flag.post_id])
        return format_html('<a href="{}">{}</a>', url, flag.post)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(ModerationSettings)
class ModerationSettingsAdmin(admin.ModelAdmin):
    """One row of settings: the list goes straight to it."""

    # Site-wide rules: for superusers and site moderators, not for instructors.
    def has_view_permission(self, request, obj=None) -> bool:
        return is_site_moderator(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_site_moderator(request.user) and super().has_change_permission(request, obj)

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect("admin:annotate_moderationsettings_change", ModerationSettings.load().pk)

    def has_add_permission(self, request) -> bool:
        # ModerationSettings.load() makes the one row when it is first needed.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
