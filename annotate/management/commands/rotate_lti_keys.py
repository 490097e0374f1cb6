"""`manage.py rotate_lti_keys`: a new signing key for LTI, the old one kept through the overlap."""

from django.conf import settings
from django.core.management.base import BaseCommand

from annotate.lti.keys import rotate


class Command(BaseCommand):
    help = (
        "Make a new key to sign LTI messages with. The previous keys stay in the JWKS for "
        "LTI_KEY_OVERLAP_DAYS days after this (the daily sweep retires them), so LMSs that "
        "cached the JWKS keep verifying."
    )

    def handle(self, *args, **options):
        key, retired = rotate()
        self.stdout.write(f"New signing key {key}: it signs from now on.")
        if retired:
            self.stdout.write(f"{retired} key(s) superseded for the overlap left the JWKS.")
        self.stdout.write(
            f"Older keys stay in the JWKS for {settings.LTI_KEY_OVERLAP_DAYS} days after a "
            "newer one is published; the daily sweep retires them."
        )
