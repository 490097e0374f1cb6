import hashlib
import re

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone


class UserManager(BaseUserManager):
    """People sign in with their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(
        max_length=50,
        help_text="Shown on everything you post. Your email address is never shown.",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    objects = UserManager()

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class DocumentQuerySet(models.QuerySet):
    def with_text(self):
        return self.select_related("current_revision")


class Document(models.Model):
    """A text that readers annotate and discuss; its words live in revisions."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    subtitle = models.CharField(max_length=200, blank=True)
    citation = models.CharField(max_length=500, blank=True)
    source = models.CharField(
        max_length=500, blank=True, help_text="Where the text comes from: a URL or a reference."
    )
    current_revision = models.ForeignKey(
        "Revision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("document", args=[self.slug])

    @property
    def text(self) -> str:
        return self.current_revision.text if self.current_revision else ""

    @transaction.atomic
    def revise(self, text: str, *, by=None, note: str = "") -> "Revision | None":
        """
        Make `text` the document's current text, recording a new revision.

        Returns the new revision, or None when the text is unchanged.
        """
        text = normalize_text(text)
        if self.current_revision and self.current_revision.digest == text_digest(text):
            return None
        last = self.revisions.order_by("-number").values_list("number", flat=True).first()
        revision = Revision.objects.create(
            document=self,
            number=(last or 0) + 1,
            text=text,
            digest=text_digest(text),
            created_by=by,
            note=note,
        )
        self.current_revision = revision
        self.save(update_fields=["current_revision", "updated_at"])
        return revision


def normalize_text(text: str) -> str:
    """
    One line ending (LF), no spaces at line ends, and exactly one blank line
    between paragraphs, so that offsets mean the same in the stored text, the
    rendered page and the browser that measures a selection.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


class Revision(models.Model):
    """One version of a document's text. Annotations anchor to a revision."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="unique_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.document} (revision {self.number})"


class PostQuerySet(models.QuerySet):
    def for_document(self, document: Document):
        return self.filter(document=document)

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

    def annotations(self):
        return self.filter(parent=None, start__isnull=False)

    def page_comments(self):
        return self.filter(parent=None, start__isnull=True)


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

    body = models.TextField(help_text="Markdown, exactly as written.")
    body_html = models.TextField(editable=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PUBLISHED, db_index=True
    )

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["document", "status", "created_at"])]
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
        document_url = reverse("document", args=[self.document.slug])
        return f"{document_url}?post={self.pk}#post-{self.pk}"

    @property
    def is_annotation(self) -> bool:
        return self.start is not None

    @property
    def kind(self) -> str:
        if self.parent_id:
            return "reply"
        return "annotation" if self.is_annotation else "comment"

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
        self.body = body
        self.body_html = body_html
        self.edited_at = timezone.now()
        self.save(update_fields=["body", "body_html", "edited_at"])

    def delete_by_author(self) -> None:
        """Keep the row so replies still read as a thread; the words are gone."""
        self.body = ""
        self.body_html = ""
        self.deleted_at = timezone.now()
        self.save(update_fields=["body", "body_html", "deleted_at"])
