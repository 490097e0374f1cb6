"""
The admin: the moderation desk (posts, flags, settings, Akismet, email),
texts and users, and classes. Instructors see only their own classes.
"""

from django.contrib import admin

from . import classes, moderation  # noqa: F401  (registers the model admins)

admin.site.site_header = "annotate moderation"
admin.site.site_title = "annotate admin"
