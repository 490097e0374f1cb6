"""What the site answers when it fails: a database that is away is not a bug."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER_SECONDS = 30
DATABASE_AWAY = (OperationalError, InterfaceError)


def database_away() -> HttpResponse:
    """
    A 503 with Retry-After while the database cannot be reached (restarting,
    failing over, out of connections): nothing is lost, and trying again
    shortly will do. Rendered without the request, whose context would reach
    for the session and the user, which live in the database that is away.
    """
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseAwayMiddleware:
    """Answers 503 for a view that met the database away, on a laptop (DEBUG) too."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        return database_away() if isinstance(exception, DATABASE_AWAY) else None


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler: 503 when the failure was the database away (say, in a middleware)."""
    if isinstance(sys.exc_info()[1], DATABASE_AWAY):
        return database_away()
    return defaults.server_error(request)
