"""
WordPress's moderation rules, through the site: links, moderation and
disallowed keys, first posts, pre-moderated texts, flood control, closed
discussions, and readers' reports.
"""

from datetime import UTC, datetime, timedelta

import akismet
import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone

from annotate import lifecycle, spam
from annotate.models import Flag, ModerationSettings, OutboundEmail, Post, PostEvent, SpamCheck
from tests.factories import make_user, post_comment

FRAGMENT = {"X-Annotate-Fragment": "1"}


def words_on(tag) -> str:
    return " ".join(tag.get_text(" ").split())


def set_rules(**values) -> ModerationSettings:
    rules = ModerationSettings.load()
    for name, value in values.items():
        setattr(rules, name, value)
    rules.save()
    return rules


@pytest.fixture(autouse=True)
def rules_alone(settings):
    """Without an Akismet key the rules decide at once (one test adds Akismet back)."""
    settings.AKISMET_API_KEY = ""


@pytest.fixture
def reader(client, author):
    client.force_login(author)
    return client


def the_post(body) -> Post:
    return Post.objects.get(body=body)


# Links


@pytest.mark.parametrize(
    ("body", "links"),
    [
        ("Two links: https://a.example and http://b.example/page", 2),
        ("Three: [one](https://a.example), www.b.example and mailto:c@example.com", 3),
        ("Two bare addresses, linked on the page: cheap-pills.com and c@example.com", 2),
        ("Two written in code, where they are not links: `https://a.example https://b.example`", 2),
    ],
)
def test_a_post_with_two_or_more_links_is_held(reader, document, body, links):
    response = post_comment(reader, document, body)

    assert response.status_code == 302
    post = the_post(body)
    assert (post.status, post.held_reason) == ("pending", "links")
    assert post.events.get(kind=PostEvent.Kind.HELD).detail == (f"{links} links (the limit is 2).")


@pytest.mark.parametrize(
    "body",
    [
        "One link: https://www.example.com/some/page",
        "One Markdown link: [the source](https://www.example.com)",
        "One autolink: <https://example.com>",
        "No links at all, just a www-less sentence.",
    ],
)
def test_a_post_with_fewer_links_than_the_limit_is_published(reader, document, body):
    post_comment(reader, document, body)

    assert the_post(body).status == "published"


def test_the_link_limit_can_be_raised_or_turned_off(reader, document):
    set_rules(link_limit=3)
    post_comment(reader, document, "Two: https://a.example https://b.example")
    set_rules(link_limit=0)
    post_comment(reader, document, "Many: https://a.example https://b.example https://c.example")

    assert Post.objects.filter(status="published").count() == 2


# Moderation keys and disallowed keys


@pytest.mark.parametrize(
    ("key", "where"),
    [
        ("casino", "content"),
        ("ada author", "author name"),
        ("ada@example", "email"),
        ("192.0.2.66", "IP address"),
    ],
)
def test_a_moderation_key_in_content_name_email_or_ip_holds_the_post(reader, document, key, where):
    set_rules(moderation_keys=f"unrelated\n  {key.upper()}  \n")

    post_comment(reader, document, "Visit the Casino tonight.", meta={"REMOTE_ADDR": "192.0.2.66"})

    post = Post.objects.get()
    assert (post.status, post.held_reason) == ("pending", "keyword"), where
    assert key in post.events.get(kind=PostEvent.Kind.HELD).detail


def test_without_a_matching_key_the_post_is_published(reader, document):
    set_rules(moderation_keys="casino", disallowed_keys="viagra")

    post_comment(reader, document, "A plain remark.", meta={"REMOTE_ADDR": "192.0.2.66"})

    assert the_post("A plain remark.").status == "published"


@pytest.mark.parametrize(
    ("key", "meta"),
    [
        ("cheap pills", {}),
        ("ada@example.com", {}),
        ("203.0.113.", {"REMOTE_ADDR": "203.0.113.9"}),
    ],
)
def test_a_disallowed_key_makes_the_post_spam_without_telling_the_author(
    reader, stranger, document, key, meta
):
    set_rules(disallowed_keys=key, moderation_keys=key)

    response = post_comment(reader, document, "Cheap pills, going fast.", meta=meta)

    post = the_post("Cheap pills, going fast.")
    assert (post.status, post.held_reason) == ("spam", "")
    assert post.events.filter(kind=PostEvent.Kind.RULE_SPAM).exists()
    page = BeautifulSoup(reader.get(response.url).content, "html.parser")
    told = " ".join(words_on(li) for li in page.select("ul.messages li"))
    assert told == (
        "Your post is awaiting moderation. A moderator will read it before others see it."
    )
    article = words_on(page.find("article", id=f"post-{post.pk}"))
    assert "awaiting moderation" in article
    assert "spam" not in article.lower()
    reader.force_login(stranger)
    assert "Cheap pills" not in reader.get(document.get_absolute_url()).content.decode()


# What a held post's author is told


@pytest.mark.parametrize(
    ("rules", "body", "told"),
    [
        ({"hold_first_post": True}, "Hello.", "First posts wait for a moderator."),
        ({}, "See https://a.example and https://b.example", "posts with links wait"),
        ({"moderation_keys": "gulag"}, "The Gulag held them.", "a word that this site asks"),
    ],
)
def test_a_held_post_tells_its_author_why_it_waits(reader, document, rules, body, told):
    set_rules(**rules)

    response = post_comment(reader, document, body)
    fetched = post_comment(reader, document, body + " Again.", headers=FRAGMENT)

    page = BeautifulSoup(reader.get(response.url).content, "html.parser")
    post = the_post(body)
    note = words_on(page.find("article", id=f"post-{post.pk}").find(class_="held-note"))
    assert told in note
    assert "Other readers cannot see this post yet." in note
    assert told in " ".join(words_on(li) for li in page.select("ul.messages li"))
    assert told in fetched["X-Annotate-Fragment-Announce"]


def test_the_held_note_never_names_the_word_on_the_moderation_list(reader, document):
    set_rules(moderation_keys="gulag")

    response = post_comment(reader, document, "The Gulag held them.")

    page = BeautifulSoup(reader.get(response.url).content, "html.parser")
    note = words_on(page.find(class_="held-note"))
    assert "gulag" not in note.lower()
    assert "gulag" not in " ".join(words_on(li) for li in page.select("ul.messages li")).lower()


def test_only_the_author_is_told_why_a_post_waits(reader, stranger, document):
    set_rules(hold_first_post=True)
    post_comment(reader, document, "Hello.")

    reader.force_login(stranger)
    page = BeautifulSoup(reader.get(document.get_absolute_url()).content, "html.parser")

    assert page.find(class_="held-note") is None


# First posts and pre-moderated texts


def test_first_posts_are_held_until_one_is_approved(reader, author, moderator, document):
    set_rules(hold_first_post=True)

    post_comment(reader, document, "My very first post.")
    post_comment(reader, document, "My second, still waiting.")
    first, second = the_post("My very first post."), the_post("My second, still waiting.")
    assert (first.status, first.held_reason) == ("pending", "first_post")
    assert (second.status, second.held_reason) == ("pending", "first_post")

    lifecycle.decide(first, "approve", by=moderator)
    post_comment(reader, document, "Now trusted.")

    assert the_post("Now trusted.").status == "published"
    assert the_post("My second, still waiting.").status == "pending"


def test_a_post_marked_spam_does_not_count_as_approved(reader, moderator, document):
    set_rules(hold_first_post=True)
    post_comment(reader, document, "Spam first.")
    lifecycle.decide(the_post("Spam first."), "spam", by=moderator)

    post_comment(reader, document, "Then this.")

    assert the_post("Then this.").held_reason == "first_post"


def test_a_premoderated_text_holds_every_post(reader, stranger, document):
    document.premoderated = True
    document.save()

    post_comment(reader, document, "Held on this text.")
    reader.force_login(stranger)
    post_comment(reader, document, "Mine too.")

    assert list(Post.objects.values_list("status", "held_reason")) == [
        ("pending", "premoderated"),
        ("pending", "premoderated"),
    ]


def test_with_akismet_the_rules_apply_after_a_ham_verdict_and_moderators_hear_of_it(
    reader, moderators_group, document, settings, monkeypatch, django_capture_on_commit_callbacks
):
    class Ham(akismet.TestSyncClient):
        comment_check_response = akismet.CheckResponse.HAM

    settings.AKISMET_API_KEY = "test-key"
    monkeypatch.setattr(spam, "client_class", Ham)

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(reader, document, "Two: https://a.example https://b.example")

    post = Post.objects.get()
    assert (post.status, post.held_reason, post.spam_verdict) == ("pending", "links", "ham")
    [email] = OutboundEmail.objects.all()
    assert email.to == ["mo@example.com"]
    assert "Two: https://a.example https://b.example" in email.body


# Flood control


@pytest.fixture
def flood_limit(db):
    # Saved explicitly: tests default the limit to 0 (see conftest.py).
    ModerationSettings(pk=1, flood_seconds=15).save()


def test_posting_again_within_fifteen_seconds_is_refused_and_the_draft_kept(
    reader, document, flood_limit, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    assert post_comment(reader, document, "First.").status_code == 302
    time_machine.shift(timedelta(seconds=5))

    response = post_comment(reader, document, "Too soon, but worth keeping.")

    assert response.status_code == 429
    soup = BeautifulSoup(response.content, "html.parser")
    error = words_on(soup.select_one("div.form-error"))
    assert error == (
        "You are posting too quickly. Wait 10 seconds and post again; your text is kept in the box."
    )
    assert soup.find("textarea", id="id_body").get_text() == "Too soon, but worth keeping."
    assert Post.objects.count() == 1


def test_a_fragment_request_within_the_limit_gets_the_message_as_text(
    reader, document, flood_limit, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    post_comment(reader, document, "First.")
    time_machine.shift(timedelta(seconds=14))

    response = post_comment(reader, document, "Again.", headers=FRAGMENT)

    assert response.status_code == 429
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("You are posting too quickly. Wait 1 second ")


def test_after_fifteen_seconds_posting_works_again(reader, document, flood_limit, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    post_comment(reader, document, "First.")
    time_machine.shift(timedelta(seconds=15))

    response = post_comment(reader, document, "Second, in good time.")

    assert response.status_code == 302
    assert the_post("Second, in good time.").status == "published"


def test_flood_control_is_per_reader(reader, stranger, document, flood_limit):
    post_comment(reader, document, "Mine.")
    reader.force_login(stranger)

    assert post_comment(reader, document, "Someone else's.").status_code == 302


@pytest.mark.parametrize("extra", [{"is_staff": True}, {"is_superuser": True}])
def test_staff_and_moderators_are_not_flood_limited(client, document, flood_limit, extra):
    client.force_login(make_user("Staff Member", "staff@example.com", **extra))

    responses = [post_comment(client, document, f"Quick note {n}.") for n in range(3)]

    assert [r.status_code for r in responses] == [302, 302, 302]
    assert Post.objects.filter(status="published").count() == 3


# Closed discussions


def test_after_the_discussion_closes_posting_is_refused_and_nothing_stored(reader, document):
    document.discussion_closes_at = datetime(2024, 6, 30, 18, 0, tzinfo=UTC)
    document.save()

    response = post_comment(reader, document, "Too late.")

    assert response.status_code == 403
    soup = BeautifulSoup(response.content, "html.parser")
    assert words_on(soup.select_one("div.form-error")) == (
        "Discussion of this text closed on 30 June 2024 at 18:00. "
        "You can still read everything posted."
    )
    assert not Post.objects.exists()
    assert not SpamCheck.objects.exists()
    assert not PostEvent.objects.exists()


def test_a_fragment_request_after_closing_gets_the_message_as_text(reader, document):
    document.discussion_closes_at = timezone.now() - timedelta(minutes=1)
    document.save()

    response = post_comment(reader, document, "Too late.", headers=FRAGMENT)

    assert response.status_code == 403
    assert "closed on" in response.content.decode()
    assert not Post.objects.exists()


def test_before_the_discussion_closes_posting_works(reader, document):
    document.discussion_closes_at = timezone.now() + timedelta(minutes=1)
    document.save()

    assert post_comment(reader, document, "Just in time.").status_code == 302
    assert the_post("Just in time.").status == "published"


# Readers' reports


def report(client, post, reason="spam", note=""):
    return client.post(reverse("flag_post", args=[post.pk]), {"reason": reason, "note": note})


@pytest.fixture
def published(reader, document) -> Post:
    post_comment(reader, document, "A published opinion.")
    post = the_post("A published opinion.")
    assert post.status == "published"
    return post


@pytest.fixture
def three_readers(db):
    return [make_user(f"Reader {n}", f"reader{n}@example.com") for n in range(3)]


def test_three_readers_reporting_hide_the_post_and_moderators_are_emailed(
    client, author, published, document, three_readers, moderators_group
):
    for number, reporter in enumerate(three_readers):
        client.force_login(reporter)
        response = report(client, published, reason="abuse", note=f"Report {number}")
        assert response.status_code == 302
        published.refresh_from_db()
        assert published.status == ("pending" if number == 2 else "published")

    assert (published.held_reason, published.flag_count) == ("flags", 3)
    assert Flag.objects.filter(post=published).count() == 3
    assert "A published opinion." not in client.get(document.get_absolute_url()).content.decode()
    client.logout()
    assert "A published opinion." not in client.get(document.get_absolute_url()).content.decode()
    client.force_login(author)
    assert "A published opinion." in client.get(document.get_absolute_url()).content.decode()
    [email] = OutboundEmail.objects.all()
    assert email.to == ["mo@example.com"]
    assert "Reported by 3 readers." in email.body


def test_a_reader_reporting_twice_counts_once(client, published, three_readers):
    client.force_login(three_readers[0])

    report(client, published)
    response = report(client, published, reason="abuse")

    published.refresh_from_db()
    assert published.flag_count == 1
    assert Flag.objects.get(post=published).reason == "spam"
    page = BeautifulSoup(client.get(response.url).content, "html.parser")
    assert "You have already reported this post" in words_on(page.select_one("ul.messages"))


def test_the_report_form_thanks_the_reader(client, published, three_readers):
    client.force_login(three_readers[0])

    response = report(client, published, reason="off_topic", note="Not about the text.")

    page = BeautifulSoup(client.get(response.url).content, "html.parser")
    assert "Thank you: a moderator will look at this post." in words_on(
        page.select_one("ul.messages")
    )
    assert Flag.objects.get().note == "Not about the text."


def test_authors_cannot_report_their_own_post(reader, published):
    assert report(reader, published).status_code == 403
    assert reader.get(reverse("flag_post", args=[published.pk])).status_code == 403
    assert not Flag.objects.exists()


def test_anonymous_readers_are_sent_to_sign_in_before_reporting(client, published):
    client.logout()

    response = report(client, published)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not Flag.objects.exists()


def test_a_report_without_a_reason_is_refused_with_a_message(client, published, three_readers):
    client.force_login(three_readers[0])

    response = report(client, published, reason="")

    assert response.status_code == 400
    assert "Choose a reason for your report." in response.content.decode()
    assert not Flag.objects.exists()


# Edits are judged again on their new words


def test_editing_in_a_disallowed_word_marks_the_post_spam(client, seeded, author):
    ModerationSettings.objects.update_or_create(pk=1, defaults={"disallowed_keys": "casino"})
    client.force_login(author)
    client.post(f"{seeded.get_absolute_url()}posts/", {"body": "An honest note."})
    post = Post.objects.get()
    assert post.status == Post.Status.PUBLISHED

    client.post(f"/posts/{post.pk}/edit/", {"body": "Visit my casino."})

    post.refresh_from_db()
    assert post.status == Post.Status.SPAM
    assert "awaiting moderation" in client.get(seeded.get_absolute_url()).content.decode()


def test_editing_in_links_holds_a_published_post_for_a_moderator(client, seeded, author, stranger):
    client.force_login(author)
    client.post(f"{seeded.get_absolute_url()}posts/", {"body": "See the source."})
    post = Post.objects.get()

    client.post(
        f"/posts/{post.pk}/edit/",
        {"body": "See https://one.example and https://two.example"},
    )

    post.refresh_from_db()
    assert (post.status, post.held_reason) == (Post.Status.PENDING, "links")
    client.force_login(stranger)
    assert "two.example" not in client.get(seeded.get_absolute_url()).content.decode()


def test_an_ordinary_edit_keeps_the_post_published(client, seeded, author):
    client.force_login(author)
    client.post(f"{seeded.get_absolute_url()}posts/", {"body": "A note."})
    post = Post.objects.get()
    client.post(f"/posts/{post.pk}/edit/", {"body": "A better note."})
    post.refresh_from_db()
    assert (post.status, post.body) == (Post.Status.PUBLISHED, "A better note.")
