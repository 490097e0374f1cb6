"""
The site's own name and address, as emails, Akismet and allauth state them.

`SITE_URL` says where the site is served. Without it, a laptop (DEBUG on) is
served by `make run` on 127.0.0.1:$PORT (config/settings.py); a server falls
back to its first allowed host over HTTPS, and `check --deploy` warns
(annotate.W002).
"""

from django.conf import settings

SITE_NAME = "annotate"


def site_url() -> str:
    """The site's address with scheme and port, without a trailing slash."""
    if settings.SITE_URL or settings.LAPTOP_URL:
        return settings.SITE_URL or settings.LAPTOP_URL
    hosts = [host for host in settings.ALLOWED_HOSTS if host not in ("*", "") and host[0] != "."]
    return f"https://{hosts[0]}" if hosts else "http://localhost"


def site_domain() -> str:
    """The host (and port, if any) of `site_url()`: what people see of the address."""
    return site_url().split("://", 1)[-1]


def absolute(path: str, request=None) -> str:
    """
    A path on this site as a full address, for an email, another service or
    a page to copy from: on SITE_URL when it is set, else at the address
    `request` came to (when there is one), else at `site_url()`.
    """
    if request is not None and not settings.SITE_URL:
        return request.build_absolute_uri(path)
    return site_url() + path
