"""
A post's life has one home (annotate.lifecycle): only the model's verbs set
a post's status, every background task lives in annotate.tasks, and the
admin queues work for Akismet and the mail server instead of doing it.
"""

import ast
import importlib
import pkgutil
from pathlib import Path

import akismet
import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.db import connection
from django.tasks import Task, default_task_backend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import annotate
from annotate import lifecycle, spam
from annotate.models import OutboundEmail, Post, SpamCheck
from tests.factories import make_post

APP = Path(annotate.__file__).parent
STATUS_FIELDS = {"status", "held_reason"}


class AkismetMustNotBeCalled(akismet.TestSyncClient):
    def _fail(self, *args, **kwargs):
        raise AssertionError("Akismet was called inside the request")

    comment_check = submit_spam = submit_ham = verify_key = usage_limit = _fail


@pytest.fixture
def tasks_queued_not_run(settings):
    """A server's task backend, as far as a request can tell: work is queued, not done."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()


@pytest.fixture
def akismet_unreachable_from_requests(settings, monkeypatch):
    settings.AKISMET_API_KEY = "test-key"
    monkeypatch.setattr(spam, "client_class", AkismetMustNotBeCalled)


def queued(backend) -> list[str]:
    return [result.task.name for result in backend.results]


def python_files():
    for path in APP.rglob("*.py"):
        if "migrations" not in path.parts:
            yield path


def test_nothing_but_the_models_verbs_assigns_a_posts_status():
    offenders = []
    for path in python_files():
        if "models" in path.parts:
            continue
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in STATUS_FIELDS:
                    offenders.append(f"{path.name}:{node.lineno}")
            # Post.objects.filter(...).update(status=...) skips the history row.
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "update"
                and any(keyword.arg in STATUS_FIELDS for keyword in node.keywords)
                and "Post" in ast.get_source_segment(source, node.func.value)
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_every_background_task_is_defined_in_the_tasks_module():
    defined_elsewhere = []
    for module_info in pkgutil.walk_packages(annotate.__path__, "annotate."):
        if ".migrations" in module_info.name or module_info.name.endswith(".tasks"):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, Task) and value.func.__module__ != "annotate.tasks":
                defined_elsewhere.append(f"{module_info.name}.{name}")
    assert defined_elsewhere == []


def test_the_admin_offers_exactly_the_decisions_lifecycle_knows(
    client, superuser, author, document
):
    post = make_post(document, author, "Held.")
    client.force_login(superuser)

    page = BeautifulSoup(
        client.get(reverse("admin:annotate_post_change", args=[post.pk])).content, "html.parser"
    )

    buttons = {
        button["value"]: button.get_text(strip=True)
        for button in page.select('button[name="decision"]')
    }
    assert {key: buttons[key] for key in lifecycle.DECISIONS} == {
        key: decision.label for key, decision in lifecycle.DECISIONS.items()
    }


def test_deciding_in_the_admin_queues_the_report_to_akismet_and_sends_nothing_itself(
    client,
    superuser,
    author,
    document,
    tasks_queued_not_run,
    akismet_unreachable_from_requests,
    django_capture_on_commit_callbacks,
):
    post = make_post(document, author, "Buy now.")
    SpamCheck.objects.create(post=post, payload={"comment_content": "Buy now."})
    client.force_login(superuser)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:annotate_post_decide", args=[post.pk]), {"decision": "spam"}
        )

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == Post.Status.SPAM
    assert queued(tasks_queued_not_run) == ["submit_report"]
    assert SpamCheck.objects.get(post=post).submission == "spam"


def test_retrying_email_in_the_admin_queues_it_and_talks_to_no_mail_server(
    client, superuser, tasks_queued_not_run, django_capture_on_commit_callbacks
):
    email = OutboundEmail.objects.create(
        to=["mo@example.com"], subject="Held for moderation", body="Review it.", attempts=3
    )
    client.force_login(superuser)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:annotate_outboundemail_changelist"),
            {"action": "retry_now", "_selected_action": [email.pk], "index": 0},
        )

    assert mail.outbox == []
    assert queued(tasks_queued_not_run) == ["send_email"]
    email.refresh_from_db()
    assert (email.sent_at, email.attempts) == (None, 3)


def test_the_akismet_page_asks_in_the_background_and_says_so_meanwhile(
    client, moderator, tasks_queued_not_run, akismet_unreachable_from_requests
):
    moderator.is_superuser = True
    moderator.save()
    client.force_login(moderator)

    page = BeautifulSoup(
        client.get(reverse("admin:annotate_post_akismet_status")).content, "html.parser"
    )

    rows = {
        row.th.get_text(" ", strip=True): row.td.get_text(" ", strip=True)
        for row in page.select("#content-main tr")
    }
    assert rows["API key"] == "Being checked with Akismet now. Reload this page in a moment."
    assert queued(tasks_queued_not_run) == ["check_akismet_status"]


def test_a_new_post_loads_the_rules_once_and_writes_its_spam_check_once(
    client, author, document, settings
):
    settings.AKISMET_API_KEY = ""
    client.force_login(author)

    with CaptureQueriesContext(connection) as queries:
        client.post(reverse("create_post", args=[document.slug]), {"body": "A page comment."})

    statements = [query["sql"] for query in queries.captured_queries]
    rules_read = [sql for sql in statements if 'FROM "annotate_moderationsettings"' in sql]
    spam_check_writes = [
        sql
        for sql in statements
        if sql.startswith(('INSERT INTO "annotate_spamcheck"', 'UPDATE "annotate_spamcheck"'))
    ]
    assert len(rules_read) == 1
    assert len(spam_check_writes) == 1
    assert Post.objects.get().status == Post.Status.PUBLISHED


def test_an_edit_writes_the_spam_check_once(author, document, settings):
    settings.AKISMET_API_KEY = ""
    post = make_post(document, author, "First words.")
    SpamCheck.objects.create(post=post, payload={"comment_content": "First words."})

    with CaptureQueriesContext(connection) as queries:
        lifecycle.edit(post, "Second words.")

    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('UPDATE "annotate_spamcheck"')
    ]
    assert len(writes) == 1
    assert SpamCheck.objects.get(post=post).payload["comment_content"] == "Second words."
