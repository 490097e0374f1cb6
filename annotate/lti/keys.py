"""
The tool's signing keys (django-lti's `Key`): the newest active key signs,
and every active key is in the JWKS. Rotating adds a key and keeps the old
ones in the JWKS until the new one has been published for the overlap, so
that an LMS that cached the JWKS still verifies what was signed before.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from lti_tool.models import Key


def ensure_key() -> Key:
    """The key that signs now, made if the tool has none yet."""
    return Key.objects.active().order_by("-datetime_created").first() or Key.objects.generate()


@transaction.atomic
def rotate() -> tuple[Key, int]:
    """A new signing key, and how many superseded keys left the JWKS."""
    key = Key.objects.generate()
    return key, retire_superseded()


def retire_superseded(overlap_days: int | None = None) -> int:
    """Take out of the JWKS the keys superseded by one published for longer than the overlap."""
    days = settings.LTI_KEY_OVERLAP_DAYS if overlap_days is None else overlap_days
    cutoff = timezone.now() - timedelta(days=days)
    anchor = (
        Key.objects.active()
        .filter(datetime_created__lte=cutoff)
        .order_by("-datetime_created")
        .first()
    )
    if anchor is None:
        return 0
    return (
        Key.objects.active()
        .filter(datetime_created__lt=anchor.datetime_created)
        .update(is_active=False)
    )
