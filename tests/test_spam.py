"""
Spam filtering with Akismet: what a verdict does to a post, and exactly what
the site tells Akismet about it.

Verdicts come from the akismet package's own test client; the complete
request is read off a local Akismet stand-in (tests/akismet_server.py).
"""

from datetime import UTC, datetime, timedelta

import akismet
import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone

from annotate import spam
from annotate.lifecycle import decide as moderate
from annotate.models import (
    Document,
    ModerationSettings,
    Post,
    PostEvent,
    SpamCheck,
    Verdict,
)
from annotate.site import site_url
from annotate.tasks import run_maintenance
from tests.akismet_server import akismet_server_fixture  # noqa: F401
from tests.factories import annotate, make_class, make_document, make_user, post_comment

FRAGMENT = {"X-Annotate-Fragment": "1"}


# Helpers: what a browser sends, and what a person sees


def words_on(tag) -> str:
    return " ".join(tag.get_text(" ").split())


def article_on_page(client, document, post):
    """The post as `client`'s reader sees it on the reading page, or None."""
    response = client.get(document.get_absolute_url())
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").find("article", id=f"post-{post.pk}")


def messages_after(client, response) -> str:
    """The status messages shown on the page the reader is sent to."""
    soup = BeautifulSoup(client.get(response.url).content, "html.parser")
    return " ".join(words_on(li) for li in soup.select("ul.messages li"))


@pytest.fixture
def akismet_says(monkeypatch, settings):
    """Make the akismet package's TestSyncClient answer with `verdict`."""

    def use(verdict: akismet.CheckResponse) -> None:
        class Answer(akismet.TestSyncClient):
            comment_check_response = verdict

        settings.AKISMET_API_KEY = "test-key"
        monkeypatch.setattr(spam, "client_class", Answer)

    return use


@pytest.fixture
def post_now(client, django_capture_on_commit_callbacks):
    """Post as the signed-in reader and run the background check, as after a commit."""

    def send(poster, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = poster(client, *args, **kwargs)
        assert response.status_code == 302, response.content.decode()
        return response

    return send


# Verdicts


def test_ham_is_published_for_everyone(client, author, document, akismet_says, post_now):
    akismet_says(akismet.CheckResponse.HAM)
    client.force_login(author)

    post_now(post_comment, document, "A fair point about the second paragraph.")

    post = Post.objects.get()
    assert (post.status, post.held_reason, post.spam_verdict) == ("published", "", "ham")
    assert SpamCheck.objects.get(post=post).final_at is not None
    client.logout()
    assert "A fair point" in words_on(article_on_page(client, document, post))


def test_spam_is_hidden_from_others_and_shown_to_its_author_as_awaiting_moderation(
    client, author, stranger, document, akismet_says, post_now
):
    akismet_says(akismet.CheckResponse.SPAM)
    client.force_login(author)

    response = post_now(post_comment, document, "Cheap watches here.")

    post = Post.objects.get()
    assert (post.status, post.spam_verdict) == ("spam", "spam")
    told = messages_after(client, response)
    assert "awaiting moderation" in told
    assert "spam" not in told.lower()
    seen_by_author = words_on(article_on_page(client, document, post))
    assert "Cheap watches here." in seen_by_author
    assert "awaiting moderation" in seen_by_author
    assert "spam" not in seen_by_author.lower()
    client.force_login(stranger)
    assert article_on_page(client, document, post) is None
    assert client.get(reverse("post", args=[post.pk])).status_code == 404
    client.logout()
    assert article_on_page(client, document, post) is None
    assert client.get(reverse("post", args=[post.pk])).status_code == 404


def test_discard_is_spam_with_the_verdict_recorded_as_discard(
    client, author, stranger, document, akismet_says, post_now
):
    akismet_says(akismet.CheckResponse.DISCARD)
    client.force_login(author)

    post_now(post_comment, document, "Blatant.")

    post = Post.objects.get()
    assert (post.status, post.spam_verdict) == ("spam", Verdict.DISCARD)
    assert post.events.filter(kind=PostEvent.Kind.AKISMET_DISCARD).exists()
    client.force_login(stranger)
    assert article_on_page(client, document, post) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("verdict", "announcement"),
    [
        (akismet.CheckResponse.HAM, "Posted."),
        (
            akismet.CheckResponse.SPAM,
            "Your post is awaiting moderation. A moderator will read it before others see it.",
        ),
    ],
)
def test_outside_a_test_transaction_the_check_runs_before_the_reader_is_answered(
    client, author, document, akismet_says, verdict, announcement
):
    # Real commits: on_commit work (the check) runs inside the request, as on a laptop.
    akismet_says(verdict)
    client.force_login(author)

    response = post_comment(client, document, "Within the request.", headers=FRAGMENT)

    assert response.status_code == 200
    assert response["X-Annotate-Fragment-Announce"] == announcement
    post = Post.objects.get()
    article = BeautifulSoup(response.content, "html.parser").find("article", id=f"post-{post.pk}")
    assert "Within the request." in words_on(article)
    assert "spam" not in words_on(article).lower()


# What is sent


@pytest.fixture
def frozen_document(db, time_machine) -> Document:
    """A text revised at a known moment; the clock then stops a day later."""
    time_machine.move_to(datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC), tick=False)
    document = make_document(
        "Words to annotate, and more words after them.", slug="frozen", title="Frozen text"
    )
    time_machine.shift(timedelta(days=1, hours=2, seconds=3))
    return document


def test_comment_check_sends_everything_akismet_asks_for(
    client, author, frozen_document, akismet_server, post_now, settings
):
    settings.AKISMET_IS_TEST = True
    client.force_login(author)
    body = "Ünïcode — “quotes”, 𝄞 and 👩‍👩‍👧;\n\n  an indented line,\ttabs   and  spaces."

    post_now(
        post_comment,
        frozen_document,
        body,
        headers={"User-Agent": "Mozilla/5.0 (Test)", "Referer": "http://testserver/texts/"},
        meta={"REMOTE_ADDR": "192.0.2.7"},
    )

    post = Post.objects.get()
    [sent] = akismet_server.comment_checks()
    assert sent == {
        "api_key": "local-test-key",
        "blog": spam.site_url(),
        "user_ip": "192.0.2.7",
        "user_agent": "Mozilla/5.0 (Test)",
        "referrer": "http://testserver/texts/",
        "permalink": f"{site_url()}/texts/frozen/?post={post.pk}#post-{post.pk}",
        "user_role": "subscriber",
        "comment_type": "comment",
        "comment_author": "Ada Author",
        "comment_author_email": "ada@example.com",
        "comment_content": body,
        "comment_date_gmt": "2031-05-07T09:08:12Z",
        "comment_post_modified_gmt": "2031-05-06T07:08:09Z",
        "blog_lang": "en",
        "blog_charset": "UTF-8",
        "honeypot_field_name": "website",
        "is_test": "true",
    }
    assert post.body == body


def test_the_content_sent_keeps_line_breaks_exactly_as_the_browser_sent_them(
    client, author, document, akismet_server, post_now
):
    client.force_login(author)
    body = "First line\r\nsecond line\r\n\r\n> quoted  text"

    post_now(post_comment, document, body)

    [sent] = akismet_server.comment_checks()
    assert sent["comment_content"] == body == Post.objects.get().body


def test_comment_type_tells_comments_replies_and_annotations_apart(
    client, author, stranger, document, akismet_server, post_now
):
    client.force_login(author)
    post_now(post_comment, document, "A page comment.")
    post_now(annotate, document, "some words", "An annotation.")
    client.force_login(stranger)
    parent = Post.objects.get(body="A page comment.")
    post_now(post_comment, document, "A reply.", parent=parent)

    sent = {fields["comment_content"]: fields for fields in akismet_server.comment_checks()}
    assert sent["A page comment."]["comment_type"] == "comment"
    assert sent["An annotation."]["comment_type"] == "annotation"
    assert sent["A reply."]["comment_type"] == "reply"
    assert sent["A reply."]["comment_author"] == "Sam Stranger"
    assert sent["A reply."]["comment_author_email"] == "sam@example.com"
    reply = Post.objects.get(body="A reply.")
    assert sent["A reply."]["permalink"].endswith(f"?post={reply.pk}#post-{reply.pk}")


def test_behind_a_trusted_proxy_the_last_forwarded_address_is_sent(
    client, author, document, akismet_server, post_now, settings
):
    settings.AKISMET_TRUSTED_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    client.force_login(author)

    post_now(
        post_comment,
        document,
        headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.5,198.51.100.23"},
        meta={"REMOTE_ADDR": "10.0.0.1"},
    )

    [sent] = akismet_server.comment_checks()
    assert sent["user_ip"] == "198.51.100.23"


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(
    client, author, document, akismet_server, post_now, settings
):
    settings.AKISMET_TRUSTED_IP_HEADER = ""
    client.force_login(author)

    post_now(
        post_comment,
        document,
        headers={"X-Forwarded-For": "203.0.113.5"},
        meta={"REMOTE_ADDR": "10.0.0.1"},
    )

    [sent] = akismet_server.comment_checks()
    assert sent["user_ip"] == "10.0.0.1"


def test_is_test_is_sent_only_outside_production(
    client, author, document, akismet_server, post_now, settings
):
    client.force_login(author)
    settings.AKISMET_IS_TEST = True
    post_now(post_comment, document, "On a laptop.")
    settings.AKISMET_IS_TEST = False
    post_now(post_comment, document, "In production.")

    sent = {fields["comment_content"]: fields for fields in akismet_server.comment_checks()}
    assert sent["On a laptop."]["is_test"] == "true"
    assert "is_test" not in sent["In production."]


def test_moderators_are_sent_as_editors_and_never_held_by_rules(
    client, author, moderator, document, akismet_server, post_now
):
    rules = ModerationSettings.load()
    rules.moderation_keys = "mo moderator\nwatch"
    rules.hold_first_post = True
    rules.save()
    document.premoderated = True
    document.save()
    client.force_login(moderator)

    post_now(post_comment, document, "Watch https://a.example and https://b.example closely.")
    client.force_login(author)
    post_now(post_comment, document, "A reader's first post.")

    sent = {fields["comment_content"]: fields for fields in akismet_server.comment_checks()}
    assert sent["Watch https://a.example and https://b.example closely."]["user_role"] == "editor"
    assert sent["A reader's first post."]["user_role"] == "subscriber"
    staff_post = Post.objects.get(author=moderator)
    assert (staff_post.status, staff_post.held_reason) == ("published", "")
    assert Post.objects.get(author=author).status == "pending"


def test_every_check_and_report_tells_akismet_the_authors_role_as_wordpress_does(
    client, author, stranger, document, akismet_server, post_now, django_capture_on_commit_callbacks
):
    """administrator for superusers, editor for instructors of the class, subscriber otherwise."""
    admin = make_user("Ann Admin", "ann@example.com", is_staff=True, is_superuser=True)
    teacher = make_user("Tess Teacher", "tess@example.com")
    classroom = make_class(
        "History 101", "history-101", instructor=teacher, students=[stranger], readings=[document]
    )
    for person, body in [(admin, "By the admin."), (teacher, "By the teacher."),
                         (stranger, "By a student.")]:  # fmt: skip
        client.force_login(person)
        with django_capture_on_commit_callbacks(execute=True):
            assert post_comment(client, document, body, classroom=classroom).status_code == 302

    sent = {fields["comment_content"]: fields for fields in akismet_server.comment_checks()}
    assert sent["By the admin."]["user_role"] == "administrator"
    assert sent["By the teacher."]["user_role"] == "editor"
    assert sent["By a student."]["user_role"] == "subscriber"

    # A report sends the same snapshot, role included.
    student_post = Post.objects.get(body="By a student.")
    with django_capture_on_commit_callbacks(execute=True):
        moderate(student_post, "spam", by=admin)
    [report] = akismet_server.received("submit-spam")
    assert report.fields["user_role"] == "subscriber"


def test_a_retry_after_a_failure_says_cron_retry(
    client, author, document, akismet_server, post_now, time_machine
):
    client.force_login(author)
    akismet_server.mode = "error500"
    post_now(post_comment, document, "Checked twice.")
    akismet_server.mode = "ham"

    time_machine.move_to(timezone.now() + timedelta(minutes=2))
    run_maintenance.call()

    first, retry = akismet_server.comment_checks()
    assert "recheck_reason" not in first
    assert retry["recheck_reason"] == "cron_retry"
    assert {k: v for k, v in retry.items() if k != "recheck_reason"} == first
    assert Post.objects.get().status == "published"


def test_an_edit_is_checked_again_with_the_new_words_and_recheck_reason_edit(
    client, author, document, akismet_server, post_now, django_capture_on_commit_callbacks
):
    client.force_login(author)
    post_now(post_comment, document, "Before.")
    post = Post.objects.get()
    akismet_server.mode = "spam"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("edit_post", args=[post.pk]), {"body": "After, for sale."})

    assert response.status_code == 302
    first, edit = akismet_server.comment_checks()
    assert "recheck_reason" not in first
    assert edit["recheck_reason"] == "edit"
    assert edit["comment_content"] == "After, for sale."
    post.refresh_from_db()
    assert (post.status, post.spam_verdict) == ("spam", "spam")


def test_a_document_without_text_yet_can_still_be_commented_on(
    client, author, akismet_server, post_now
):
    document = make_document("", slug="untitled", title="Not written yet")
    client.force_login(author)

    post_now(post_comment, document, "When will this be written?")

    [sent] = akismet_server.comment_checks()
    assert "comment_post_modified_gmt" not in sent
    assert Post.objects.get().status == "published"


# Without Akismet, and the honeypot


def test_without_a_key_nothing_is_sent_and_the_rules_alone_decide(
    client, author, document, akismet_server, post_now, settings
):
    settings.AKISMET_API_KEY = ""
    client.force_login(author)

    post_now(post_comment, document, "Published straight away.")
    post_now(post_comment, document, "Held: https://a.example https://b.example")

    assert akismet_server.received() == []
    assert Post.objects.get(body="Published straight away.").status == "published"
    held = Post.objects.get(body__startswith="Held")
    assert (held.status, held.held_reason) == ("pending", "links")
    assert held.spam_verdict == ""


def test_a_filled_in_honeypot_is_spam_and_the_poster_is_not_told(
    client, author, stranger, document, akismet_server, post_now
):
    client.force_login(author)

    response = post_now(post_comment, document, "Great post!", website="http://cheap.example")

    post = Post.objects.get()
    assert post.status == "spam"
    assert post.events.filter(kind=PostEvent.Kind.RULE_SPAM, detail__icontains="honeypot").exists()
    assert akismet_server.received() == []
    told = messages_after(client, response)
    assert "awaiting moderation" in told
    assert "spam" not in told.lower()
    client.force_login(stranger)
    assert article_on_page(client, document, post) is None


# The admin's Akismet status


def test_the_status_reports_a_valid_key_and_the_usage(akismet_server):
    info = spam.status()

    assert info["key_valid"] is True
    assert info["usage"]["limit"] == 350000
    assert akismet_server.received("verify-key")[0].fields == {
        "key": "local-test-key",
        "blog": spam.site_url(),
    }


def test_the_status_reports_a_rejected_key_without_asking_for_usage(akismet_server):
    akismet_server.mode = "invalid_key"

    info = spam.status()

    assert info["key_valid"] is False
    assert "usage" not in info
    assert akismet_server.received("usage-limit") == []


@pytest.mark.parametrize(("fault", "words"), [("refused", "refused"), ("garbage", "maybe")])
def test_the_status_says_why_akismet_could_not_be_reached(akismet_server, fault, words):
    akismet_server.mode = fault

    info = spam.status()

    assert "key_valid" not in info
    assert words in info["error"]


def test_without_a_key_the_status_says_filtering_is_off(settings):
    settings.AKISMET_API_KEY = ""

    assert spam.status() == {"enabled": False}
