"""Classes: their members and roles, and the texts they read."""

import secrets
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from .texts import Document, discussion_url


def new_join_token() -> str:
    return secrets.token_urlsafe(18)


class Classroom(models.Model):
    """A class: its members read and discuss its readings, visible to them alone."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    term = models.CharField(max_length=100, blank=True, help_text="e.g. Spring 2027")
    description = models.TextField(blank=True)
    join_token = models.CharField(
        max_length=40,
        unique=True,
        default=new_join_token,
        help_text="The secret in the join link. Regenerate it to turn off old links.",
    )
    join_expires_at = models.DateTimeField(
        "join link expires at", null=True, blank=True, help_text="Empty: never expires."
    )
    member_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most students the class admits, by its join link or by email domain. "
        "Empty: no limit.",
    )
    allowed_domains = models.TextField(
        blank=True,
        help_text="Email domains (one a line, e.g. school.edu) whose people can join from "
        "their “My classes” page without the link.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="Where the class meets, e.g. Europe/London: its times are given in this zone.",
    )
    instructor_token = models.CharField(
        max_length=40,
        unique=True,
        default=new_join_token,
        help_text="The secret in the link that makes whoever opens it a co-instructor.",
    )
    assistant_token = models.CharField(
        max_length=40,
        unique=True,
        default=new_join_token,
        help_text="The secret in the link that makes whoever opens it a teaching assistant.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="classrooms"
    )
    documents = models.ManyToManyField(Document, through="Reading", related_name="classrooms")

    class Meta:
        ordering = ["name"]
        verbose_name = "class"
        verbose_name_plural = "classes"

    def __str__(self) -> str:
        return f"{self.name} ({self.term})" if self.term else self.name

    def get_absolute_url(self) -> str:
        return reverse("classroom", args=[self.slug])

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """
        The class's time zone. The forms only take IANA names, but a name that
        the system's zone database no longer knows must not break every page of
        the class: its times are then given in UTC, and named so.
        """
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    @property
    def zone_name(self) -> str:
        """The class's time zone as people read it: "America/New York"."""
        return self.zone.key.replace("_", " ")

    def get_join_url(self) -> str:
        return reverse("join", args=[self.join_token])

    def regenerate_join_token(self) -> None:
        self.join_token = new_join_token()
        self.save(update_fields=["join_token"])

    @property
    def domains(self) -> list[str]:
        return [
            line.strip().lower().lstrip("@")
            for line in self.allowed_domains.splitlines()
            if line.strip()
        ]

    def admits_domain_of(self, email: str) -> bool:
        domain = email.rsplit("@", 1)[-1].lower()
        return domain in self.domains

    def why_link_is_closed(self) -> str | None:
        """Why the join link cannot admit anyone now, in words for the person holding it."""
        if self.join_expires_at and self.join_expires_at <= timezone.now():
            return "This join link has expired. Ask your instructor for a new one."
        return self.why_full()

    def why_full(self) -> str | None:
        """Why the class can take no more students, however they join."""
        if self.member_limit is not None:
            students = self.memberships.filter(role=Membership.Role.STUDENT).count()
            if students >= self.member_limit:
                return "This class is full. Ask your instructor to make room."
        return None

    @transaction.atomic
    def admit(self, user, *, by_link: bool) -> str | None:
        """
        Make `user` a student of the class, by its join link or (`by_link`
        False) by their school address. Returns why the class cannot take
        them, in words for them, or None once they are a member.
        """
        # Joins of one class queue on its row, so the last place goes to one
        # person: without the lock, two joins could both count a free place.
        locked = Classroom.objects.select_for_update().get(pk=self.pk)
        if locked.memberships.filter(user=user).exists():
            return None
        problem = locked.why_link_is_closed() if by_link else locked.why_full()
        if problem is None:
            Membership.objects.create(classroom=locked, user=user)
        return problem


class ClassGroup(models.Model):
    """
    A small group of a class's students. On a reading discussed in groups,
    each student reads only their group's posts and the teaching staff's.
    """

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["classroom", "name"]
        verbose_name = "group"
        constraints = [
            models.UniqueConstraint(fields=["classroom", "name"], name="unique_group_name")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        ASSISTANT = "assistant", "Teaching assistant"
        INSTRUCTOR = "instructor", "Instructor"

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)
    group = models.ForeignKey(
        ClassGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
        help_text="Students only: the small group they discuss “in groups” readings with.",
    )
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["classroom", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["classroom", "user"], name="one_membership_per_class")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.classroom} ({self.get_role_display()})"


TEACHING_ROLES = (Membership.Role.INSTRUCTOR, Membership.Role.ASSISTANT)
"""
The class's teaching staff: they moderate it, see its dashboard and every
post. Only instructors change its settings, readings and roster, or delete it.
"""


class Reading(models.Model):
    """A text assigned to a class."""

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="readings")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="readings")
    due_at = models.DateTimeField("due", null=True, blank=True)
    instructions = models.TextField(blank=True)
    hide_until_posted = models.BooleanField(
        "hide classmates’ posts until the student has posted",
        default=False,
        help_text="Each student sees classmates’ posts only after posting their own.",
    )
    reminded_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the students who had not posted were last reminded (once a day at most).",
    )
    in_groups = models.BooleanField(
        "discussed in groups",
        default=False,
        help_text="Each student sees only their own group’s posts and the teaching staff’s.",
    )

    class Meta:
        ordering = ["classroom", models.F("due_at").asc(nulls_last=True), "document__title"]
        constraints = [
            models.UniqueConstraint(fields=["classroom", "document"], name="one_reading_per_text")
        ]

    def __str__(self) -> str:
        return f"{self.document} for {self.classroom}"

    def get_absolute_url(self) -> str:
        return discussion_url(self.document, self.classroom)


class Rubric(models.Model):
    """
    How a class's participation is scored, per student and reading: points
    for each kind of contribution, up to a cap each, as the teacher sets them;
    a post after the due date earns `late_factor` of its points. The
    defaults give 10 points a reading (3 annotations × 2, 2 replies × 1,
    spread 1, engagement 1). Only published posts count.
    """

    classroom = models.OneToOneField(Classroom, on_delete=models.CASCADE, related_name="rubric")
    annotation_points = models.DecimalField(
        "points per annotation", max_digits=5, decimal_places=2, default=Decimal("2")
    )
    annotations_counted = models.PositiveSmallIntegerField(
        "annotations counted, at most", default=3
    )
    min_annotation_words = models.PositiveSmallIntegerField(
        "words an annotation needs to count", default=15
    )
    reply_points = models.DecimalField(
        "points per reply", max_digits=5, decimal_places=2, default=Decimal("1")
    )
    replies_counted = models.PositiveSmallIntegerField("replies counted, at most", default=2)
    spread_points = models.DecimalField(
        "points for spread through the text",
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        help_text="Given in full when the student's annotations touch every section of the text, "
        "in part for part of it.",
    )
    late_factor = models.DecimalField(
        "what a late post counts for",
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.5"),
        help_text="A post after the due date earns this share of its points: 1 in full, 0 "
        "nothing, 0.5 half.",
    )
    engagement_points = models.DecimalField(
        "points for replies received or an instructor's pick",
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
    )
    visible_to_students = models.BooleanField(
        "students see their scores and this rule",
        default=False,
        help_text="On their “My activity” page.",
    )

    def __str__(self) -> str:
        return f"rubric of {self.classroom}"


class Score(models.Model):
    """
    One student's participation score on one reading: what the rubric gives
    (recomputed as their posts change), and the teacher's override, which
    recomputing never touches.
    """

    reading = models.ForeignKey(Reading, on_delete=models.CASCADE, related_name="scores")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scores"
    )
    computed = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    breakdown = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    override = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    override_comment = models.TextField(
        blank=True, help_text="Private: for the class's instructors only."
    )
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reading", "student"], name="one_score_per_reading")
        ]

    def __str__(self) -> str:
        return f"{self.student} on {self.reading}"

    @property
    def points(self):
        """What counts: the teacher's override if there is one, else the rubric's points."""
        return self.override if self.override is not None else self.computed
