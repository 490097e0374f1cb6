"""Posts and their moderation: history, spam checks, readers' reports and the site's rules."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

from .texts import Document, Revision, discussion_url

if TYPE_CHECKING:
    from .classes import Classroom


class HeldReason(models.TextChoices):
    CHECKING = "checking", "Waiting for the spam check"
    CHECK_FAILED = "check_failed", "Spam check failed; retrying"
    CHECK_ABANDONED = "check_abandoned", "Spam check gave up; needs a moderator"
    LINKS = "links", "Too many links"
    KEYWORD = "keyword", "Moderation keyword"
    FIRST_POST = "first_post", "First post of a new reader"
    PREMODERATED = "premoderated", "Text is pre-moderated"
    FLAGS = "flags", "Reported by readers"


class Verdict(models.TextChoices):
    HAM = "ham", "Not spam"
    SPAM = "spam", "Spam"
    DISCARD = "discard", "Blatant spam (discard)"


class PostQuerySet(models.QuerySet):
    def for_document(self, document: Document, classroom: "Classroom | None" = None):
        """One discussion: a text's public posts, or one class's posts on it."""
        return self.filter(document=document, classroom=classroom)

    def visible_to(self, user):
        """
        What `user` may read: published posts, plus their own posts that are
        held (pending or spam), which they see labelled "awaiting moderation".
        Removed posts are seen by nobody here; moderators use the admin.
        """
        visible = models.Q(status=Post.Status.PUBLISHED)
        if user is not None and user.is_authenticated:
            visible |= models.Q(author=user, status__in=Post.HELD_STATUSES)
        return self.filter(visible)


class Post(models.Model):
    """
    An annotation, a reply or a page comment.

    An annotation is a top-level post with an anchor: W3C Web Annotation
    TextQuoteSelector (exact, prefix, suffix) and TextPositionSelector (start,
    end, in code points of the revision's text). A page comment is a
    top-level post without one; a reply has a parent and no anchor of its own.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PUBLISHED = "published", "Published"
        SPAM = "spam", "Spam"
        REMOVED = "removed", "Removed"

    HELD_STATUSES = (Status.PENDING, Status.SPAM)

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="posts")
    classroom = models.ForeignKey(
        "Classroom",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="posts",
        help_text="The class whose discussion this post belongs to; empty for public texts.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="posts"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, null=True, blank=True, related_name="posts"
    )
    exact = models.TextField(blank=True)
    prefix = models.CharField(max_length=32, blank=True)
    suffix = models.CharField(max_length=32, blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    original_exact = models.TextField(
        blank=True, help_text="The words quoted when the annotation was written."
    )
    quote_changed = models.BooleanField(
        default=False, help_text="A revision of the text changed the quoted words."
    )
    orphaned_at = models.DateTimeField(
        null=True, blank=True, help_text="When a revision of the text removed the passage."
    )
    endorsed_at = models.DateTimeField(
        null=True, blank=True, help_text="When one of the class's instructors made it their pick."
    )
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The instructor whose pick it is.",
    )

    body = models.TextField(help_text="Markdown, exactly as written.")
    body_html = models.TextField(editable=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PUBLISHED, db_index=True
    )
    held_reason = models.CharField(
        max_length=20, choices=HeldReason.choices, blank=True, help_text="Why a post is pending."
    )
    spam_verdict = models.CharField(
        "Akismet verdict", max_length=10, choices=Verdict.choices, blank=True
    )
    flag_count = models.PositiveIntegerField(
        default=0, help_text="Reports by readers not yet reviewed by a moderator."
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    moderated_at = models.DateTimeField(
        null=True, blank=True, help_text="When a moderator last decided; checks never override it."
    )

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    first_published_at = models.DateTimeField(
        null=True, blank=True, help_text="When others could first read it (replies notify then)."
    )
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["document", "status", "created_at"]),
            # A student's posts on one class reading, as their score reads them
            # (scores.compute): as quick in a class of 120,000 posts as of 100.
            models.Index(fields=["author", "classroom", "document"], name="post_author_reading"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__isnull=True, end__isnull=True)
                | models.Q(start__isnull=False, end__gt=models.F("start")),
                name="anchor_is_a_nonempty_span",
            ),
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True) | models.Q(start__isnull=True),
                name="replies_have_no_anchor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} by {self.author_name}"

    def get_absolute_url(self) -> str:
        document_url = discussion_url(self.document, self.classroom)
        return f"{document_url}?post={self.pk}#post-{self.pk}"

    @property
    def is_annotation(self) -> bool:
        return self.start is not None

    @staticmethod
    def kind_of(parent_id: int | None, start: int | None) -> str:
        """A post's kind from its parent and its anchor: reply, annotation or comment."""
        if parent_id:
            return "reply"
        return "annotation" if start is not None else "comment"

    @property
    def kind(self) -> str:
        return Post.kind_of(self.parent_id, self.start)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_held(self) -> bool:
        return self.status in self.HELD_STATUSES

    @property
    def author_name(self) -> str:
        return self.author.display_name if self.author else "a former member"

    def edit(self, body: str, body_html: str) -> None:
        """
        The author's new words. A moderator's earlier decision covered the
        words they read, not these: it no longer shields the post from the
        rules or from Akismet (the history keeps who decided what).
        """
        self.body = body
        self.body_html = body_html
        self.edited_at = timezone.now()
        self.moderated_at = None
        self.save(update_fields=["body", "body_html", "edited_at", "moderated_at"])
        self.record(PostEvent.Kind.EDITED, actor=self.author)

    def delete_by_author(self) -> None:
        """Keep the row so replies still read as a thread; the words are gone."""
        self.body = ""
        self.body_html = ""
        self.deleted_at = timezone.now()
        self.save(update_fields=["body", "body_html", "deleted_at"])
        self.record(PostEvent.Kind.DELETED, actor=self.author)

    # Moderation. Every change of status is a verb that saves only what it
    # changes and writes a history row, so a post's story can be read back.
    # annotate.lifecycle says when each is called.

    def submit(self) -> None:
        """Save a new post, held until the spam check and the rules have judged it."""
        self.status = Post.Status.PENDING
        self.held_reason = HeldReason.CHECKING
        if self.is_annotation:
            self.original_exact = self.exact
        self.save()
        self.record(PostEvent.Kind.CREATED, actor=self.author)

    def record(self, kind: str, *, actor=None, detail: str = "") -> "PostEvent":
        return PostEvent.objects.create(post=self, kind=kind, actor=actor, detail=detail)

    @property
    def moderated(self) -> bool:
        return self.moderated_at is not None

    @property
    def waiting_for_check(self) -> bool:
        """Held only until Akismet answers (or a retry of the check does)."""
        return self.status == Post.Status.PENDING and self.held_reason in {
            HeldReason.CHECKING,
            HeldReason.CHECK_FAILED,
        }

    def hold(self, reason: str, *, detail: str = "") -> None:
        self.status = Post.Status.PENDING
        self.held_reason = reason
        self.save(update_fields=["status", "held_reason"])
        self.record(PostEvent.Kind.HELD, detail=detail or HeldReason(reason).label)

    def publish(self, *, detail: str = "") -> None:
        self.status = Post.Status.PUBLISHED
        self.held_reason = ""
        self.first_published_at = self.first_published_at or timezone.now()
        self.save(update_fields=["status", "held_reason", "first_published_at"])
        self.record(PostEvent.Kind.PUBLISHED, detail=detail)

    def mark_spam_by_rule(self, detail: str) -> None:
        self.status = Post.Status.SPAM
        self.held_reason = ""
        self.save(update_fields=["status", "held_reason"])
        self.record(PostEvent.Kind.RULE_SPAM, detail=detail)

    def record_verdict(self, verdict: str) -> None:
        """Akismet's answer: recorded always; spam and discard also hide the post."""
        self.spam_verdict = verdict
        fields = ["spam_verdict"]
        if verdict != Verdict.HAM and not self.moderated:
            self.status = Post.Status.SPAM
            self.held_reason = ""
            fields += ["status", "held_reason"]
        self.save(update_fields=fields)
        self.record(
            {
                Verdict.HAM: PostEvent.Kind.AKISMET_HAM,
                Verdict.SPAM: PostEvent.Kind.AKISMET_SPAM,
                Verdict.DISCARD: PostEvent.Kind.AKISMET_DISCARD,
            }[verdict]
        )

    def note_check_failing(self, reason: str, detail: str) -> None:
        """A spam check that failed (`CHECK_FAILED`) or was given up (`CHECK_ABANDONED`)."""
        kind = (
            PostEvent.Kind.AKISMET_GAVE_UP
            if reason == HeldReason.CHECK_ABANDONED
            else PostEvent.Kind.AKISMET_ERROR
        )
        if self.held_reason != reason:
            self.held_reason = reason
            self.save(update_fields=["held_reason"])
        self.record(kind, detail=detail)

    def _decide(self, status: str, by, kind: str, detail: str = "") -> None:
        self.status = status
        self.held_reason = ""
        self.moderated_by = by
        self.moderated_at = timezone.now()
        fields = ["status", "held_reason", "moderated_by", "moderated_at"]
        if status == Post.Status.PUBLISHED and self.first_published_at is None:
            self.first_published_at = self.moderated_at
            fields.append("first_published_at")
        if status != Post.Status.SPAM and self.flag_count:
            self.flags.filter(resolved_at=None).update(resolved_at=self.moderated_at)
            self.flag_count = 0
            fields.append("flag_count")
        self.save(update_fields=fields)
        self.record(kind, actor=by, detail=detail)

    def approve(self, *, by) -> None:
        self._decide(Post.Status.PUBLISHED, by, PostEvent.Kind.APPROVED)

    def mark_spam(self, *, by) -> None:
        self._decide(Post.Status.SPAM, by, PostEvent.Kind.MARKED_SPAM)

    def mark_not_spam(self, *, by) -> None:
        self._decide(Post.Status.PUBLISHED, by, PostEvent.Kind.MARKED_HAM)

    def remove(self, *, by) -> None:
        self._decide(Post.Status.REMOVED, by, PostEvent.Kind.REMOVED)

    # An instructor's pick: a mark on a published post, not a change of status.

    @property
    def is_endorsed(self) -> bool:
        return self.endorsed_at is not None

    def endorse(self, *, by) -> None:
        """Make the post `by`'s pick (an instructor of its class: the view checks)."""
        self.endorsed_at = timezone.now()
        self.endorsed_by = by
        self.save(update_fields=["endorsed_at", "endorsed_by"])
        self.record(PostEvent.Kind.ENDORSED, actor=by)

    def unendorse(self, *, by) -> None:
        self.endorsed_at = None
        self.endorsed_by = None
        self.save(update_fields=["endorsed_at", "endorsed_by"])
        self.record(PostEvent.Kind.UNENDORSED, actor=by)


class SpamCheck(models.Model):
    """
    What was (or will be) sent to Akismet about a post, and how checking went.

    The payload is saved with the post, before any network call, so a post is
    never lost to a failing check, and so that reporting a mistake to Akismet
    later sends exactly what the check saw.
    """

    post = models.OneToOneField(
        Post, on_delete=models.CASCADE, primary_key=True, related_name="spam_check"
    )
    payload = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    final_at = models.DateTimeField(
        null=True, blank=True, help_text="When the verdict became final (privacy countdown)."
    )
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When IP address, user agent and referrer were erased."
    )
    submission = models.CharField(
        max_length=4,
        choices=[("spam", "submit-spam"), ("ham", "submit-ham")],
        blank=True,
        help_text="A report to Akismet still to be sent.",
    )
    submission_attempts = models.PositiveIntegerField(default=0)
    submission_next_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Claims: a worker or sweep sets one before it calls Akismet, so that any
    # number of them running at once send each check and each report once.
    # A worker that dies holding a claim lets it lapse at the time set.
    check_claimed_until = models.DateTimeField(null=True, blank=True)
    submission_claimed_until = models.DateTimeField(null=True, blank=True)

    PRIVATE_FIELDS = ("user_ip", "user_agent", "referrer")

    def __str__(self) -> str:
        return f"spam check of post #{self.post_id}"


class PostEvent(models.Model):
    """One line of a post's moderation history."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited by author"
        DELETED = "deleted", "Deleted by author"
        HELD = "held", "Held for moderation"
        PUBLISHED = "published", "Published"
        RULE_SPAM = "rule_spam", "Marked spam by a rule"
        AKISMET_HAM = "akismet_ham", "Akismet: not spam"
        AKISMET_SPAM = "akismet_spam", "Akismet: spam"
        AKISMET_DISCARD = "akismet_discard", "Akismet: blatant spam (discard)"
        AKISMET_ERROR = "akismet_error", "Akismet check failed"
        AKISMET_GAVE_UP = "akismet_gave_up", "Akismet checks given up"
        RECHECK = "recheck", "Recheck requested"
        APPROVED = "approved", "Approved by a moderator"
        MARKED_SPAM = "marked_spam", "Marked spam by a moderator"
        MARKED_HAM = "marked_ham", "Marked not spam by a moderator"
        REMOVED = "removed", "Removed by a moderator"
        SUBMITTED_SPAM = "submitted_spam", "Reported to Akismet as spam"
        SUBMITTED_HAM = "submitted_ham", "Reported to Akismet as not spam"
        SUBMIT_ERROR = "submit_error", "Report to Akismet failed"
        ENDORSED = "endorsed", "Made an instructor’s pick"
        UNENDORSED = "unendorsed", "No longer an instructor’s pick"
        FLAGGED = "flagged", "Reported by a reader"
        ERASED = "erased", "Personal data erased from the spam-check record"
        QUOTE_CHANGED = "quote_changed", "A revision changed the quoted words"
        ORPHANED = "orphaned", "A revision removed the quoted passage"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M})"


class Flag(models.Model):
    """A reader's report that a post breaks the rules."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or advertising"
        ABUSE = "abuse", "Abusive or hateful"
        OFF_TOPIC = "off_topic", "Off topic"
        OTHER = "other", "Something else"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "reporter"], name="one_flag_per_reader")
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on post #{self.post_id}"


class ModerationSettings(models.Model):
    """The site's moderation rules, edited in the admin (one row)."""

    link_limit = models.PositiveIntegerField(
        default=2, help_text="Hold a post with this many links or more (0: never)."
    )
    moderation_keys = models.TextField(
        blank=True,
        help_text="One word, phrase or IP address a line. A post whose content, author name, "
        "email or IP contains one is held for moderation.",
    )
    disallowed_keys = models.TextField(
        blank=True,
        help_text="One word, phrase or IP address a line. A post that contains one is "
        "marked as spam.",
    )
    hold_first_post = models.BooleanField(
        default=False, help_text="Hold a reader's posts until one of them has been approved."
    )
    flood_seconds = models.PositiveIntegerField(
        default=15, help_text="A reader may post at most once in this many seconds (0: no limit)."
    )
    flag_threshold = models.PositiveIntegerField(
        default=3, help_text="Hide a post for review once this many readers have reported it."
    )
    spam_retention_days = models.PositiveIntegerField(
        default=15, help_text="Delete spam automatically after this many days."
    )
    privacy_retention_days = models.PositiveIntegerField(
        default=15,
        help_text="Erase IP address, user agent and referrer this many days after the "
        "spam verdict is final.",
    )
    # What Akismet said when last asked about the key and usage (the admin's
    # Akismet page shows it; a background task asks).
    akismet_status = models.JSONField(default=dict, blank=True, editable=False)
    akismet_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "moderation settings"
        verbose_name_plural = "moderation settings"

    def __str__(self) -> str:
        return "Moderation settings"

    @classmethod
    def load(cls) -> "ModerationSettings":
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row
