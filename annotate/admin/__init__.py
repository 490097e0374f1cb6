"""
The admin: the moderation desk (posts, flags, settings, Akismet), the
outbox, texts, people, and classes. Instructors see only their own classes.
"""

from . import classes, documents, lms, moderation, outbox, users  # noqa: F401  (registers the model admins)
