"""Texts and their revisions, and where each annotation sat in each revision."""

import hashlib
import re
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

if TYPE_CHECKING:
    from .classes import Classroom


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
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents_owned",
        help_text="The teacher whose text this is. Empty: the site’s own text, which "
        "superusers look after.",
    )
    is_public = models.BooleanField(
        "public",
        default=True,
        help_text="Anyone can read a public text and join its public discussion. Untick it "
        "for a text that only the classes reading it can see.",
    )
    premoderated = models.BooleanField(
        default=False, help_text="Hold every new post on this text for a moderator."
    )
    discussion_closes_at = models.DateTimeField(
        null=True, blank=True, help_text="After this time nobody can post on this text."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return discussion_url(self)

    @property
    def discussion_closed(self) -> bool:
        return self.discussion_closes_at is not None and self.discussion_closes_at <= timezone.now()

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


def text_url(name: str, document: Document, classroom: "Classroom | str | None", *args) -> str:
    """
    The address of one of a text's pages (urls.TEXT_PAGES names them): its
    public one, or the one in `classroom` (the class or its slug).
    """
    class_slug = getattr(classroom, "slug", classroom)
    if class_slug:
        return reverse(f"class_{name}", args=[class_slug, document.slug, *args])
    return reverse(name, args=[document.slug, *args])


def discussion_url(
    document: Document, classroom: "Classroom | str | None" = None, *, revision: int | None = None
) -> str:
    """Where `document` is read and discussed; at an earlier `revision` if given."""
    url = text_url("document", document, classroom)
    return f"{url}?revision={revision}" if revision else url


def revision_diff_url(
    document: "Document", classroom: "Classroom | str | None", number: int
) -> str:
    """What revision `number` of `document` changed."""
    return text_url("revision_diff", document, classroom, number)


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

    # Moving the annotations of the previous revision into this one: progress and outcome.
    class Relocation(models.TextChoices):
        NONE = "", "Nothing to move"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Moving annotations"
        DONE = "done", "Done"

    relocation = models.CharField(max_length=10, choices=Relocation.choices, blank=True)
    relocation_total = models.PositiveIntegerField(default=0)
    relocation_done = models.PositiveIntegerField(default=0)
    moved = models.PositiveIntegerField(default=0, help_text="Annotations whose passage moved.")
    changed = models.PositiveIntegerField(
        default=0, help_text="Annotations whose quoted words changed."
    )
    orphaned = models.PositiveIntegerField(
        default=0, help_text="Annotations whose passage is gone."
    )

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="unique_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.document} (revision {self.number})"

    def get_absolute_url(self) -> str:
        return discussion_url(self.document, revision=self.number)


class AnchorPlacement(models.Model):
    """Where an annotation sat in one revision of its text, so old revisions read as they were."""

    post = models.ForeignKey("Post", on_delete=models.CASCADE, related_name="placements")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="placements")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    exact = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "revision"], name="one_placement_per_revision")
        ]

    def __str__(self) -> str:
        return f"post #{self.post_id} at {self.start}-{self.end} in {self.revision}"


def new_upload_token() -> str:
    return secrets.token_urlsafe(18)


class TextUpload(models.Model):
    """
    A file a teacher uploaded, on its way to becoming a text: converted as
    background work, then shown to the teacher, who corrects and saves it.
    The file's bytes are kept in the database, so that any worker can
    convert it, and dropped once it is converted.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be converted"
        CONVERTING = "converting", "Converting"
        READY = "ready", "Ready to check"
        FAILED = "failed", "Could not be converted"
        SAVED = "saved", "Saved as a text"

    token = models.CharField(max_length=40, unique=True, default=new_upload_token)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="text_uploads"
    )
    classroom = models.ForeignKey(
        "Classroom",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="text_uploads",
        help_text="The class the text is to be assigned to once saved.",
    )
    filename = models.CharField(max_length=255)
    data = models.BinaryField(editable=False)
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent converted.")
    error = models.TextField(blank=True, help_text="Why the file could not be converted.")
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    # Its life, one verb per step (readings.py and tasks.convert_upload call
    # them). The bytes go as soon as the file is converted or refused: they
    # are needed for nothing else, and a teacher's file is theirs.

    @classmethod
    def queue(cls, *, owner, classroom, filename: str, data: bytes) -> "TextUpload":
        """A file kept to be converted as background work."""
        return cls.objects.create(
            owner=owner, classroom=classroom, filename=filename, data=data, size=len(data)
        )

    @classmethod
    def converted(
        cls, *, owner, classroom, filename: str, size: int, title: str, text: str, warnings
    ) -> "TextUpload":
        """A file (or pasted text) converted in the request, ready for the teacher to check."""
        return cls.objects.create(
            owner=owner,
            classroom=classroom,
            filename=filename,
            data=b"",
            size=size,
            status=cls.Status.READY,
            progress=100,
            title=title,
            text=text,
            warnings=list(warnings),
        )

    @classmethod
    def claim(cls, pk: int) -> "TextUpload | None":
        """The upload, now converting; None when it is not waiting (another worker has it)."""
        # One UPDATE claims it, so that two workers never both convert a file.
        if not cls.objects.filter(pk=pk, status=cls.Status.QUEUED).update(
            status=cls.Status.CONVERTING, progress=0
        ):
            return None
        return cls.objects.get(pk=pk)

    def record_progress(self, percent: int) -> None:
        self.progress = percent
        TextUpload.objects.filter(pk=self.pk, status=self.Status.CONVERTING).update(
            progress=percent
        )

    def finish(self, *, title: str, text: str, warnings) -> None:
        self.status = self.Status.READY
        self.progress = 100
        self.title, self.text, self.warnings = title, text, list(warnings)
        self.data = b""
        self.save(update_fields=["status", "progress", "title", "text", "warnings", "data"])

    def fail(self, error: str) -> None:
        self.status = self.Status.FAILED
        self.error = error
        self.data = b""
        self.save(update_fields=["status", "error", "data"])

    def mark_saved(self) -> None:
        """Saved as a text: its words now live in the text's first revision."""
        self.status = self.Status.SAVED
        self.data = b""
        self.text = ""
        self.save(update_fields=["status", "data", "text"])

    @property
    def converting(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.CONVERTING)
