"""
The admin: the moderation desk (posts, flags, settings, Akismet, email),
texts and users, and classes. Instructors see only their own classes.
"""

from . import classes, moderation  # noqa: F401  (registers the model admins)
