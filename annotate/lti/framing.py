"""
Inside the LMS's frame. An LMS opens the site in an iframe on its own page,
so for a session that came from a launch (and for the launch's own pages)
the site lets that LMS's origins frame it, and marks its cookies so that a
browser sends them in a cross-site frame: Secure, SameSite=None and
Partitioned (CHIPS: kept apart per top-level site, the one kind of
third-party cookie browsers still allow). Only the pages a launched person
works in are framed (`FRAMED_PAGES`); every other page, and every page of
other sessions, keeps `frame-ancestors 'none'` and X-Frame-Options DENY.
"""

import re
from http.cookies import Morsel

from django.conf import settings
from django.db import Error as DatabaseError

SESSION_KEY = "lti"


class PartitionedMorsel(Morsel):
    """A cookie with the Partitioned attribute, which Python's http.cookies lacks before 3.14."""

    _reserved = {**Morsel._reserved, "partitioned": "Partitioned"}
    _flags = {*Morsel._flags, "partitioned"}


def partition(response, key: str) -> None:
    """Send the cookie `key` set on `response` as a partitioned third-party cookie."""
    original = response.cookies[key]
    morsel = PartitionedMorsel()
    morsel.set(original.key, original.value, original.coded_value)
    for attribute, value in original.items():
        morsel[attribute] = value
    morsel["secure"] = True
    morsel["samesite"] = "None"
    morsel["partitioned"] = True
    response.cookies[key] = morsel


def framing_origins(request) -> list[str]:
    """The LMS origins that may frame the pages of this request's session (none for most)."""
    session = getattr(request, "session", None)
    # Untouched, a session without a cookie is empty: reading it would only add "Vary: Cookie".
    if session is None or not (settings.SESSION_COOKIE_NAME in request.COOKIES or session.modified):
        return []
    try:
        framed = session.get(SESSION_KEY) or {}
    except DatabaseError:  # the database is away: the page says so, unframed
        return []
    return list(framed.get("origins", []))


# What a person launched from an LMS does inside its frame: read, post, pick and add
# readings, follow the class and its LMS roster. The class's settings, join links,
# copies and deletion, the admin and the account pages open in a tab of their own (their links
# say so in a frame, static/js/frame-links.js): no page of the LMS, nor HTML its
# users put in it, can frame them to trick a click.
FRAMED_PAGES = re.compile(
    r"^/(?:$|lti/|texts/|activity/$|posts/\d+/(?:$|edit/|delete/|report/)"
    r"|classes/(?:$|[^/]+/(?:$|texts/|gradebook/$|roster/|lms/|readings/(?:new|uploads)/)))"
)


def never_framed(path: str) -> bool:
    """Whether the page at `path` stays unframed even in a session launched from an LMS."""
    return FRAMED_PAGES.match(path) is None


class FrameAncestorsMiddleware:
    """Tells the CSP and X-Frame-Options middleware which LMS may frame a page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        origins = getattr(response, "lti_frame_origins", None)
        if origins is None and not never_framed(request.path):
            # Read after the view: a launch has just put its origins in the session.
            origins = framing_origins(request)
        if origins:
            response.xframe_options_exempt = True
            policy = getattr(response, "_csp_config", settings.SECURE_CSP)
            response._csp_config = {**policy, "frame-ancestors": origins}
            response.lti_partition_cookies = True
        return response


class FramedCookiesMiddleware:
    """Marks the cookies of framed pages (session, CSRF, messages) to work in the frame."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # (Signing out happens on the account pages, which are never framed.)
        if getattr(response, "lti_partition_cookies", False):
            for key in list(response.cookies):
                partition(response, key)
        return response
