"""`manage.py invite_teacher EMAIL`: email a teacher invitation and print its link."""

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from annotate.site import absolute
from annotate.teaching import invite_teacher


class Command(BaseCommand):
    help = (
        "Invite a teacher: the invitation goes out through the outbox, and its link is "
        "printed here too. Whoever accepts it, signed in, becomes a teacher."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the teacher's email address")

    def handle(self, *args, email: str, **options):
        email = email.strip()
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"{email!r} is not an email address.") from error
        invitation = invite_teacher(email)
        self.stdout.write(
            f"Invitation emailed to {email}. Its link works once, until "
            f"{invitation.expires_at:%Y-%m-%d}:\n{absolute(invitation.get_absolute_url())}"
        )
        if settings.LAPTOP_URL and not settings.SITE_URL and "PORT" not in os.environ:
            # This process cannot know where another one, `make run`, serves.
            self.stdout.write(
                f"The link names {settings.LAPTOP_URL}, where `make run` serves by default. "
                "If the site runs on another port, run this command with the same PORT "
                "(e.g. PORT=8123 .venv/bin/python manage.py invite_teacher …)."
            )
