"""People: everyone signs in with their email address and shows a display name."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

# The group whose staff members moderate, and which gives teachers what they
# need in the admin (migrations 0003 and 0005 create it and its permissions).
MODERATORS_GROUP = "Moderators"


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
    email_on_reply = models.BooleanField("email me when someone replies to my posts", default=True)
    moderation_digest = models.BooleanField(
        "one daily email about held and reported posts instead of one per post",
        default=False,
        help_text="For instructors and moderators.",
    )
    digest_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_teacher = models.BooleanField(
        "teacher",
        default=False,
        help_text="Creates and runs classes, and moderates only their own classes' posts.",
    )
    is_class_staff = models.BooleanField(
        "class staff",
        default=False,
        help_text="Joined a class as a co-instructor or teaching assistant by its link: "
        "moderates only the classes they help teach, never the public discussions.",
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

    @transaction.atomic
    def become_teacher(self) -> None:
        """
        Everything a teacher needs and nothing more: the admin (staff), the
        moderators' permissions, and a reach limited to their own classes
        (scoping: a teacher is never a site moderator).
        """
        self.is_teacher = True
        self._give_moderation(["is_teacher"])

    def join_class_staff(self) -> None:
        """
        What a co-instructor or teaching assistant who joined by link needs:
        the admin and the moderators' permissions, for their classes only.
        """
        if self.is_staff:  # a teacher, a site moderator or a superuser already
            return
        self.is_class_staff = True
        self._give_moderation(["is_class_staff"])

    @transaction.atomic
    def _give_moderation(self, fields: list[str]) -> None:
        self.is_staff = True
        self.save(update_fields=[*fields, "is_staff"])
        self.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])


def new_invitation_token() -> str:
    return secrets.token_urlsafe(24)


def invitation_expiry():
    return timezone.now() + TeacherInvitation.VALID_FOR


class TeacherInvitation(models.Model):
    """A link that makes whoever accepts it (signed in) a teacher; it works once."""

    VALID_FOR = timedelta(days=14)

    email = models.EmailField(help_text="Where the invitation was sent.")
    token = models.CharField(max_length=40, unique=True, default=new_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"teacher invitation for {self.email}"

    def get_absolute_url(self) -> str:
        return reverse("accept_teacher_invitation", args=[self.token])

    def why_closed(self) -> str | None:
        """Why the link cannot make anyone a teacher now, in words for its holder."""
        if self.accepted_at is not None:
            return (
                "This teacher invitation has been used already. If that was not you, ask "
                "for a new one."
            )
        if self.expires_at <= timezone.now():
            return (
                "This teacher invitation has expired. Ask the site's administrator for a new one."
            )
        return None

    @transaction.atomic
    def accept(self, user) -> str | None:
        """Make `user` a teacher. Returns why it cannot, or None once they are one."""
        locked = TeacherInvitation.objects.select_for_update().get(pk=self.pk)
        if problem := locked.why_closed():
            return problem
        user.become_teacher()
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        return None
