import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command

from annotate.models import Document, ModerationSettings, User
from annotate.tasks import run_maintenance
from tests.factories import MODERATORS, make_document, make_user

# Playwright runs an event loop in the test thread; the live server's
# database work happens in its own thread, so Django's guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium; without it browser tests skip, except in CI where they fail."""
    if not Path(CHROMIUM).exists():
        reason = (
            f"browser tests need Chromium at {CHROMIUM}: install it (apt-get install chromium) "
            "or set CHROMIUM_PATH"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def run_background_work(client, django_capture_on_commit_callbacks):
    """
    The test client's requests run their background work (email, spam
    checks) when their transaction commits, as a laptop install does. The
    test's own transaction would otherwise keep it from ever running.
    """
    send = client.request

    def request(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return send(**kwargs)

    client.request = request
    return client


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Call something and run the background work it queues, as once its transaction commits."""

    def run(callable_, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return callable_(*args, **kwargs)

    return run


@pytest.fixture
def sweep(run_tasks):
    """Run the upkeep sweep as cron would, with the work it queues."""

    def run() -> dict:
        return run_tasks(run_maintenance.call)

    return run


@pytest.fixture(autouse=True)
def fresh_cache():
    """
    Each test starts with an empty cache: sign-in rate limits (which the live
    server would count across the whole session, answering 429 after some
    thirty browser sign-ins) and the upkeep sweep's once-a-minute mark.
    """
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_flood_limit(monkeypatch):
    """Tests post in quick succession; flood-control tests set their own limit."""
    monkeypatch.setattr(ModerationSettings._meta.get_field("flood_seconds"), "default", 0)


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def author(db) -> User:
    return make_user("Ada Author", "ada@example.com")


@pytest.fixture
def stranger(db) -> User:
    return make_user("Sam Stranger", "sam@example.com")


@pytest.fixture
def moderator(db) -> User:
    return make_user("Mo Moderator", "mo@example.com", is_staff=True)


@pytest.fixture
def moderators_group(moderator) -> User:
    """The moderator, in the Moderators group: the one who gets the moderators' emails."""
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS)[0])
    return moderator


@pytest.fixture
def superuser(db) -> User:
    return make_user("Sue Super", "sue@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def seeded(db) -> Document:
    """The seed text, loaded as `make run` loads it."""
    call_command("load_seeds", verbosity=0)
    return Document.objects.with_text().get(slug="execute-the-pows")


@pytest.fixture
def document(db) -> Document:
    """The sample text: two short paragraphs."""
    return make_document()


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Relative URLs in page.goto() go to the live server.

    This also replaces pytest-playwright's own base_url fixture, a method on a
    plugin class that pytest 9 deprecates (an error here, as warnings are).
    """
    return live_server.url


@pytest.fixture
def platform():
    """An LMS on 127.0.0.1 (tests/lti_platform.py), not yet registered with the site."""
    from tests.lti_platform import Platform

    lms = Platform()
    yield lms
    lms.close()


@pytest.fixture
def registration(platform, db):
    """The site's registration of that LMS, its deployment active, and a tool key."""
    return platform.register()
