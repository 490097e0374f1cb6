"""
Everything Akismet: what we send, how we reach it, what its answers mean.

Every call goes through the `akismet` package's SyncClient with a timeout;
callers record the outcome in the post's history. Nothing here touches the
database: the tasks in tasks.py decide what an answer does to a post.
"""

import functools
import hashlib
import ssl
from dataclasses import dataclass
from datetime import UTC

import akismet
import httpx
from django.conf import settings
from django.http import HttpRequest

from . import site
from .models import MODERATORS_GROUP, TEACHING_ROLES, Membership, Post, Verdict
from .scoping import is_site_moderator

# Akismet's own service, where AKISMET_API_URL points unless it is set.
AKISMET_SERVICE_URL = "https://rest.akismet.com"

# The client class; tests swap in the akismet package's TestSyncClient.
client_class: type[akismet.SyncClient] = akismet.SyncClient


class SpamCheckError(Exception):
    """Akismet could not give a verdict: down, slow, an odd answer, or a bad key."""


def is_enabled() -> bool:
    return bool(settings.AKISMET_API_KEY)


class RebasedTransport(httpx.HTTPTransport):
    """Sends the client's requests to another base URL (a local stand-in for Akismet)."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base = httpx.URL(base_url.rstrip("/"))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self.base.scheme,
            host=self.base.host,
            port=self.base.port,
            path=self.base.path.rstrip("/") + request.url.path,
        )
        request.headers["Host"] = request.url.netloc.decode("ascii")
        return super().handle_request(request)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """
    One TLS context for every call: building one loads the whole CA bundle,
    about 40 ms of CPU that each check would otherwise spend again.
    """
    return httpx.create_ssl_context()


def api_url() -> str:
    """Where Akismet's API is: its own service, or a stand-in set as AKISMET_API_URL."""
    return (settings.AKISMET_API_URL or AKISMET_SERVICE_URL).rstrip("/")


def http_client() -> httpx.Client:
    """The HTTP client for Akismet's API (or the stand-in at AKISMET_API_URL)."""
    transport = None
    if api_url() != AKISMET_SERVICE_URL:
        transport = RebasedTransport(api_url(), verify=tls_context())
    return httpx.Client(
        headers={"User-Agent": akismet.USER_AGENT},
        timeout=settings.AKISMET_TIMEOUT,
        transport=transport,
        verify=tls_context(),
    )


def client(http: httpx.Client) -> akismet.SyncClient:
    # Not used as a context manager: entering one verifies the key each time.
    return client_class(
        config=akismet.Config(key=settings.AKISMET_API_KEY, url=site_url()), http_client=http
    )


def site_url() -> str:
    """The blog URL Akismet knows the site by: AKISMET_SITE_URL, else the site's own address."""
    return settings.AKISMET_SITE_URL or site.site_url()


def client_ip(request: HttpRequest) -> str:
    """
    The reader's IP address: REMOTE_ADDR, or the address our own proxy
    appended to a trusted header (the last one; earlier ones are the client's
    say-so and can be forged).
    """
    if header := settings.AKISMET_TRUSTED_IP_HEADER:
        forwarded = request.META.get(header, "")
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if addresses:
            return addresses[-1]
    return request.META.get("REMOTE_ADDR", "")


def _gmt(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_payload(request: HttpRequest | None, post: Post) -> dict:
    """
    The comment-check arguments for a post, saved with it before any network
    call (and sent again, unchanged, with submit-spam/submit-ham). Without a
    request (a post edited that never had a snapshot) the reader's address,
    browser and referrer are unknown.
    """
    user = post.author
    meta = request.META if request is not None else {}
    payload = {
        "user_ip": client_ip(request) if request is not None else "",
        "user_agent": meta.get("HTTP_USER_AGENT", ""),
        "referrer": meta.get("HTTP_REFERER", ""),
        "permalink": site.absolute(post.get_absolute_url()),
        "comment_type": post.kind,
        "comment_author": user.display_name,
        "comment_author_email": user.email,
        "comment_content": post.body,
        "comment_date_gmt": _gmt(post.created_at),
        "blog_lang": settings.LANGUAGE_CODE,
        "blog_charset": "UTF-8",
        "honeypot_field_name": settings.ACCOUNT_SIGNUP_FORM_HONEYPOT_FIELD,
        "user_role": user_role(user, post.classroom_id),
    }
    # A text with no words yet can still take page comments; it was never modified.
    if revision := post.document.current_revision:
        payload["comment_post_modified_gmt"] = _gmt(revision.created_at)
    if settings.AKISMET_IS_TEST:
        payload["is_test"] = True
    return payload


def user_role(user, classroom_id: int | None) -> str:
    """
    The author's role as the WordPress plugin tells Akismet: administrator
    for superusers, editor for moderators and for the class's teaching staff
    (instructors and teaching assistants), subscriber for everyone else.
    """
    if user.is_superuser:
        return "administrator"
    if user.is_staff or user.groups.filter(name=MODERATORS_GROUP).exists():
        return "editor"
    if (
        classroom_id
        and Membership.objects.filter(
            classroom_id=classroom_id, user=user, role__in=TEACHING_ROLES
        ).exists()
    ):
        return "editor"
    return "subscriber"


def is_trusted(user, classroom_id: int | None = None) -> bool:
    """
    Whom the moderation rules skip, as WordPress skips editors: superusers,
    site moderators, and in a class its own teaching staff. A teacher or
    teaching assistant is not trusted outside their classes: a staff link
    passed around must not open the public discussions to its holders.
    """
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser or (user.is_staff and is_site_moderator(user)):
        return True
    return bool(
        classroom_id
        and Membership.objects.filter(
            classroom_id=classroom_id, user=user, role__in=TEACHING_ROLES
        ).exists()
    )


@dataclass(frozen=True)
class CheckResult:
    verdict: str
    detail: str


def check(payload: dict, *, recheck_reason: str = "") -> CheckResult:
    """Ask Akismet about a post. Raises SpamCheckError when there is no verdict."""
    arguments = {key: value for key, value in payload.items() if key != "user_ip"}
    if recheck_reason:
        arguments["recheck_reason"] = recheck_reason
    try:
        with http_client() as http:
            answer = client(http).comment_check(payload.get("user_ip", ""), **arguments)
    except akismet.APIKeyError as error:
        raise SpamCheckError(f"Akismet rejected the API key or site URL: {error}") from error
    except akismet.AkismetError as error:
        raise SpamCheckError(_describe(error)) from error
    verdict = {
        akismet.CheckResponse.HAM: Verdict.HAM,
        akismet.CheckResponse.SPAM: Verdict.SPAM,
        akismet.CheckResponse.DISCARD: Verdict.DISCARD,
    }[answer]
    return CheckResult(verdict=verdict, detail=f"comment-check answered {verdict}")


def submit(payload: dict, *, as_spam: bool) -> None:
    """Tell Akismet it was wrong (or right), with what the check saw. Raises SpamCheckError."""
    arguments = {key: value for key, value in payload.items() if key != "user_ip"}
    try:
        with http_client() as http:
            akismet_client = client(http)
            send = akismet_client.submit_spam if as_spam else akismet_client.submit_ham
            send(payload.get("user_ip", ""), **arguments)
    except akismet.AkismetError as error:
        raise SpamCheckError(_describe(error)) from error


def status() -> dict:
    """Key verification and usage for the admin's Akismet page."""
    if not is_enabled():
        return {"enabled": False}
    info: dict = {
        "enabled": True,
        "site_url": site_url(),
        "api_url": api_url(),
        "settings": settings_fingerprint(),
    }
    with http_client() as http:
        akismet_client = client(http)
        try:
            info["key_valid"] = akismet_client.verify_key()
        except akismet.AkismetError as error:
            info["error"] = _describe(error)
            return info
        if info["key_valid"]:
            try:
                info["usage"] = akismet_client.usage_limit()
            except akismet.AkismetError as error:
                info["usage_error"] = _describe(error)
    return info


def settings_fingerprint() -> str:
    """Which key, site URL and endpoint an answer about the key was given for (not the key)."""
    said = f"{settings.AKISMET_API_KEY}|{site_url()}|{api_url()}"
    return hashlib.sha256(said.encode()).hexdigest()[:16]


def _describe(error: Exception) -> str:
    """
    The error and its cause on one line, e.g. 'Error making request to Akismet.
    (ConnectError: [Errno 111] Connection refused)'; the package's own messages
    span several indented lines.
    """
    message = " ".join(str(error).split())
    cause = error.__cause__
    if cause is not None and str(cause) not in str(error):
        message = f"{message} ({type(cause).__name__}: {' '.join(str(cause).split())})"
    return message or type(error).__name__
