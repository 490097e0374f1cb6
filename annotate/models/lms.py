"""
Classes run from a school's LMS over LTI 1.3. The platforms, their
deployments, people, courses and links are django-lti's models (app
`lti_tool`); these tie them to the site's: which origins may frame the site
for a platform, which class a course is, and which reading a link opens.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone

from .classes import Classroom, Reading


def origin_of(url: str) -> str:
    """ "https://canvas.school.edu/api/lti/authorize" → "https://canvas.school.edu"."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


class LmsPlatform(models.Model):
    """What the site needs to know of a registered LMS beyond the registration itself."""

    registration = models.OneToOneField(
        "lti_tool.LtiRegistration", on_delete=models.CASCADE, related_name="platform"
    )
    frame_origins = models.TextField(
        "origins that open the site in a frame",
        blank=True,
        help_text="One a line, e.g. https://school.instructure.com. The issuer's and the "
        "authorization endpoint's origins are always allowed.",
    )

    class Meta:
        verbose_name = "LMS platform"

    def __str__(self) -> str:
        return str(self.registration)

    @classmethod
    def origins_for(cls, registration) -> list[str]:
        """The origins that may frame the site for `registration` (its platform row made if new)."""
        platform, _ = cls.objects.get_or_create(registration=registration)
        return platform.allowed_frame_origins()

    def allowed_frame_origins(self) -> list[str]:
        listed = [origin_of(line) for line in self.frame_origins.splitlines()]
        found = [
            *listed,
            origin_of(self.registration.issuer),
            origin_of(self.registration.auth_url),
        ]
        return list(dict.fromkeys(origin for origin in found if origin))


class LmsCourse(models.Model):
    """An LMS course (an LTI context of one deployment) and the class it is here."""

    context = models.OneToOneField(
        "lti_tool.LtiContext", on_delete=models.CASCADE, related_name="course"
    )
    classroom = models.OneToOneField(Classroom, on_delete=models.CASCADE, related_name="lms_course")
    created_at = models.DateTimeField(default=timezone.now)
    roster_synced_at = models.DateTimeField(
        "roster last synced", null=True, blank=True, help_text="With the LMS's roster (NRPS)."
    )
    roster_changes = models.JSONField(
        default=dict, blank=True, help_text="What the last sync changed: who came, left, or moved."
    )
    roster_error = models.TextField(blank=True, help_text="Why the last sync failed, if it did.")
    roster_claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="Being synced by a worker until then."
    )

    class Meta:
        verbose_name = "LMS course"

    def __str__(self) -> str:
        return f"{self.classroom} from {self.context.deployment.registration}"


class LmsLink(models.Model):
    """An LMS resource link (an assignment or module item) and the reading it opens."""

    resource_link = models.OneToOneField(
        "lti_tool.LtiResourceLink", on_delete=models.CASCADE, related_name="assignment"
    )
    reading = models.ForeignKey(
        Reading, on_delete=models.SET_NULL, null=True, blank=True, related_name="lms_links"
    )
    line_item_url = models.URLField(
        "gradebook column", max_length=500, blank=True, help_text="The AGS line item's URL."
    )
    grades_queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the scores were last put in the queue for the LMS (after the due "
        "date, or by “Send grades”).",
    )

    class Meta:
        verbose_name = "LMS link"

    def __str__(self) -> str:
        return self.resource_link.title or self.resource_link.id_on_platform


class LmsGrade(models.Model):
    """
    A student's score on a link's reading, on its way to the LMS's gradebook
    column (AGS), or sent. Like the email outbox: a send that fails for a
    reason that passes (the LMS down, a timeout) waits and is tried again
    with backoff; one the LMS refuses outright is failed until sent again.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "waiting"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    link = models.ForeignKey(LmsLink, on_delete=models.CASCADE, related_name="grades")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lms_grades"
    )
    points = models.DecimalField(max_digits=6, decimal_places=2)
    maximum = models.DecimalField(max_digits=6, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    queued_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "LMS grade"
        constraints = [
            models.UniqueConstraint(fields=["link", "student"], name="one_lms_grade_per_link")
        ]

    def __str__(self) -> str:
        return f"{self.student} on {self.link}: {self.points}/{self.maximum} ({self.status})"

    @classmethod
    def queue(cls, link: LmsLink, points: dict, maximum) -> None:
        """
        Put each student's current score (`points`: student id → points) in
        the queue, in one statement, replacing what was waiting or sent.
        """
        now = timezone.now()
        fresh = {
            "maximum": maximum,
            "status": cls.Status.WAITING,
            "queued_at": now,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
        }
        cls.objects.bulk_create(
            [cls(link=link, student_id=s, points=p, **fresh) for s, p in points.items()],
            update_conflicts=True,
            unique_fields=["link", "student"],
            update_fields=["points", *fresh],
        )

    def mark_sent(self) -> None:
        self._finish(self.Status.SENT, error="", sent_at=timezone.now())

    def mark_refused(self, error: str) -> None:
        """The LMS refused the score outright: trying again would not help."""
        self._finish(self.Status.FAILED, error=error, sent_at=self.sent_at)

    def retry_later(self, error: str, at) -> None:
        """The LMS could not take it now (down, slow, overloaded): it waits for `at`."""
        self._settle(attempts=self.attempts + 1, last_error=error, next_attempt_at=at)

    def _finish(self, status, *, error: str, sent_at) -> None:
        self._settle(
            status=status,
            attempts=self.attempts + 1,
            last_error=error,
            sent_at=sent_at,
            next_attempt_at=None,
        )

    def _settle(self, **fields) -> None:
        """
        Record a try, unless the score was queued again meanwhile (new points,
        from “Send grades”): then the new one waits its turn, untouched.
        """
        rows = LmsGrade.objects.filter(pk=self.pk, queued_at=self.queued_at)
        if rows.update(claimed_until=None, **fields):
            for name, value in fields.items():
                setattr(self, name, value)
        else:
            LmsGrade.objects.filter(pk=self.pk).update(claimed_until=None)

    @property
    def shown_status(self) -> str:
        """What the instructor reads: “sent”, “waiting”, or “failed: why”."""
        if self.status == self.Status.FAILED:
            return f"failed: {self.last_error}"
        if self.status == self.Status.WAITING and self.last_error:
            return f"waiting (the last try failed: {self.last_error}; trying again)"
        return self.get_status_display()
