"""
The tool's signing keys (django-lti's `Key`). Every active key is in the
JWKS. Rotating publishes a new key at once but signs with it only once it
has been published for the overlap (LTI_KEY_OVERLAP_DAYS), so that an LMS
that caches the JWKS has it before it meets it; the keys it supersedes then
leave the JWKS.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from lti_tool.models import Key
from pylti1p3.registration import Registration


def signing_key() -> Key:
    """
    The newest key published for the overlap; before any is, the oldest one
    still active; made if the tool has none yet.
    """
    cutoff = timezone.now() - timedelta(days=settings.LTI_KEY_OVERLAP_DAYS)
    active = Key.objects.active()
    return (
        active.filter(datetime_created__lte=cutoff).order_by("-datetime_created").first()
        or active.order_by("datetime_created").first()
        or Key.objects.generate()
    )


def tool_registration(lti_registration) -> Registration:
    """PyLTI1p3's registration of an LMS, signing with the key that signs now."""
    registration = lti_registration.to_registration()
    if not lti_registration.has_key:  # a key of its own, for an LMS without JWKS support
        key = signing_key()
        registration.set_tool_private_key(key.private_key)
        registration.set_tool_public_key(key.public_key)
    return registration


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
