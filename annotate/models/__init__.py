"""
The site's data, one module per part of it: people, texts (and their
revisions), posts (and their moderation), classes, and mail. Everything is
importable from here, as `from annotate.models import Post`.
"""

from .classes import (
    TEACHING_ROLES,
    ClassGroup,
    Classroom,
    Membership,
    Reading,
    Rubric,
    Score,
    new_join_token,
)
from .lms import LmsCourse, LmsGrade, LmsLink, LmsPlatform, origin_of
from .mail import DigestItem, OutboundEmail
from .people import MODERATORS_GROUP, TeacherInvitation, User, UserManager
from .posts import (
    Flag,
    HeldReason,
    ModerationSettings,
    Post,
    PostEvent,
    PostQuerySet,
    SpamCheck,
    Verdict,
)
from .texts import (
    AnchorPlacement,
    Document,
    DocumentQuerySet,
    Revision,
    TextUpload,
    discussion_url,
    normalize_text,
    revision_diff_url,
    text_digest,
    text_url,
)

__all__ = [
    "MODERATORS_GROUP",
    "TEACHING_ROLES",
    "AnchorPlacement",
    "ClassGroup",
    "Classroom",
    "DigestItem",
    "Document",
    "DocumentQuerySet",
    "Flag",
    "HeldReason",
    "LmsCourse",
    "LmsGrade",
    "LmsLink",
    "LmsPlatform",
    "Membership",
    "ModerationSettings",
    "OutboundEmail",
    "Post",
    "PostEvent",
    "PostQuerySet",
    "Reading",
    "Revision",
    "Rubric",
    "Score",
    "SpamCheck",
    "TeacherInvitation",
    "TextUpload",
    "User",
    "UserManager",
    "Verdict",
    "discussion_url",
    "new_join_token",
    "normalize_text",
    "origin_of",
    "revision_diff_url",
    "text_digest",
    "text_url",
]
