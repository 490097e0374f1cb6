"""The moderation desk in the admin, as a member of the Moderators group uses it."""

import akismet
import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate import spam
from annotate.models import (
    Flag,
    HeldReason,
    ModerationSettings,
    OutboundEmail,
    Post,
    PostEvent,
    SpamCheck,
    Verdict,
)
from tests.factories import make_moderator, make_post, make_user

CHANGELIST = "/admin/annotate/post/"
INDEX = "/admin/"
AKISMET_STATUS = "/admin/annotate/post/akismet-status/"
SPAM_OFF = "Spam filtering is off: AKISMET_API_KEY is not set."

# Measured: the session, the user, their own and their groups' permissions,
# whether they teach a class (their reach), the classes and documents for the
# filters, two counts (shown and total), and the posts with their authors,
# documents and classes.
CHANGELIST_QUERIES = 10


class AkismetSaysHam(akismet.TestSyncClient):
    comment_check_response = akismet.CheckResponse.HAM


class AkismetSaysSpam(akismet.TestSyncClient):
    comment_check_response = akismet.CheckResponse.SPAM


class AkismetRejectsTheKey(akismet.TestSyncClient):
    verify_key_response = False


@pytest.fixture
def moderator(db):
    """Staff, in the Moderators group, not a superuser."""
    return make_moderator()


@pytest.fixture
def outsider(db):
    """Staff, but in no group: may sign in to the admin and do nothing there."""
    return make_user("Stan Staff", "stan@example.com", is_staff=True)


@pytest.fixture
def akismet_on(settings, monkeypatch):
    """Spam filtering on, with Akismet's own test client answering "not spam"."""
    settings.AKISMET_API_KEY = "test-key"
    settings.AKISMET_SITE_URL = "https://annotate.example.org"
    monkeypatch.setattr(spam, "client_class", AkismetSaysHam)


# Helpers: posts as the site stores them, and what a moderator sees

# Every post here has the spam-check snapshot the site saves with a new post.
SENDER = {"user_ip": "203.0.113.5", "user_agent": "Mozilla/5.0"}


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def words_on(tag) -> str:
    return " ".join(tag.get_text().split())


def messages_on(soup: BeautifulSoup) -> list[str]:
    return [words_on(item) for item in soup.select(".messagelist li")]


def banner_on(soup: BeautifulSoup) -> str:
    banner = soup.select_one(".spam-off-banner")
    return words_on(banner) if banner else ""


def listed(client, **params) -> list[dict[str, str]]:
    """The changelist's rows, each as {column: text}."""
    soup = soup_of(client.get(CHANGELIST, params))
    return [
        {
            cell["class"][0].removeprefix("field-"): words_on(cell)
            for cell in row.select("th[class^=field-], td[class^=field-]")
        }
        for row in soup.select("#result_list tbody tr")
    ]


def listed_ids(client, **params) -> list[int]:
    return [int(row["post"].split("#")[1].split()[0]) for row in listed(client, **params)]


def bulk(client, action: str, posts: list[Post]):
    data = {"action": action, "_selected_action": [post.pk for post in posts], "index": 0}
    return client.post(CHANGELIST, data, follow=True)


def change_url(post: Post) -> str:
    return reverse("admin:annotate_post_change", args=[post.pk])


def decide(client, post: Post, decision: str, **kwargs):
    url = reverse("admin:annotate_post_decide", args=[post.pk])
    return client.post(url, {"decision": decision}, **kwargs)


def history_on(soup: BeautifulSoup) -> list[tuple[str, str, str]]:
    """(kind, actor, detail) for each history row on a post's page."""
    return [
        tuple(
            words_on(row.select_one(f"td.field-{name}"))
            for name in ("kind", "actor_name", "detail")
        )
        for row in soup.select("#events-group tbody tr")
        if row.select_one("td.field-kind")
    ]


def kinds_of(post: Post) -> list[str]:
    return list(post.events.values_list("kind", flat=True))


# The list of posts


def test_the_list_shows_each_posts_moderation_state_passage_author_and_text(
    client, moderator, author, stranger, seeded
):
    passage = "more paranoid at the end of the war"
    held = make_post(
        seeded,
        author,
        "Paranoia grew after victory, " + "and grew " * 20,
        passage=passage,
        sender=SENDER,
        status=Post.Status.PENDING,
        held_reason=HeldReason.LINKS,
        spam_verdict=Verdict.HAM,
        flag_count=2,
        minutes_ago=5,
    )
    spammy = make_post(
        seeded,
        stranger,
        "Cheap watches",
        sender=SENDER,
        status=Post.Status.SPAM,
        spam_verdict=Verdict.SPAM,
    )
    client.force_login(moderator)

    newest, older = listed(client)

    assert newest["post"] == f"comment #{spammy.pk}"
    assert (newest["status"], newest["verdict"], newest["author_name"]) == (
        "Spam",
        "Spam",
        "Sam Stranger",
    )
    assert older["post"] == f"annotation #{held.pk}"
    assert older["status"] == "Pending"
    assert older["held_reason"] == "Too many links"
    assert older["verdict"] == "Not spam"
    assert older["flags"] == "2"
    assert older["excerpt"].startswith("Paranoia grew after victory, and grew")
    assert older["excerpt"].endswith("…")
    assert len(older["excerpt"]) == 80
    assert older["quote"] == f"“{passage}”"
    assert older["document"] == seeded.title
    assert older["author_name"] == "Ada Author"


def test_a_long_quoted_passage_is_shortened_in_the_list(client, moderator, author, seeded):
    passage = seeded.text.split("\n\n")[1][:200]
    make_post(seeded, author, "A note on this.", passage=passage, sender=SENDER)
    client.force_login(moderator)

    [row] = listed(client)

    assert row["quote"] == f"“{passage[:59]}…”"


def test_the_filters_pick_out_each_queue(client, moderator, author, seeded, document):
    published = make_post(seeded, author, "Fine words.", sender=SENDER)
    pending = make_post(seeded, author, "Held words.", sender=SENDER, status=Post.Status.PENDING)
    spam_post = make_post(seeded, author, "Buy now.", sender=SENDER, status=Post.Status.SPAM)
    judged_spam = make_post(
        seeded, author, "Judged.", sender=SENDER, status=Post.Status.SPAM, spam_verdict=Verdict.SPAM
    )
    flagged = make_post(seeded, author, "Reported.", sender=SENDER, flag_count=1)
    failing = make_post(
        seeded,
        author,
        "Unchecked.",
        sender=SENDER,
        status=Post.Status.PENDING,
        held_reason=HeldReason.CHECK_FAILED,
    )
    SpamCheck.objects.filter(post=failing).update(last_error="Akismet timed out.")
    abandoned = make_post(
        seeded,
        author,
        "Never checked.",
        sender=SENDER,
        status=Post.Status.PENDING,
        held_reason=HeldReason.CHECK_ABANDONED,
    )
    erred_then_published = make_post(seeded, author, "Checked later.", sender=SENDER)
    SpamCheck.objects.filter(post=erred_then_published).update(last_error="Akismet said 500.")
    elsewhere = make_post(document, author, "On another text.", sender=SENDER)
    client.force_login(moderator)

    assert set(listed_ids(client, status__exact="pending")) == {
        pending.pk,
        failing.pk,
        abandoned.pk,
    }
    assert set(listed_ids(client, status__exact="spam")) == {spam_post.pk, judged_spam.pk}
    assert listed_ids(client, spam_verdict__exact="spam") == [judged_spam.pk]
    assert listed_ids(client, flagged="yes") == [flagged.pk]
    assert flagged.pk not in listed_ids(client, flagged="no")
    assert len(listed_ids(client, flagged="no")) == 8
    assert set(listed_ids(client, check_errors="yes")) == {
        failing.pk,
        abandoned.pk,
        erred_then_published.pk,
    }
    assert listed_ids(client, document__id__exact=document.pk) == [elsewhere.pk]
    assert published.pk in listed_ids(client)


def test_search_finds_posts_by_their_words_passage_author_name_and_email(
    client, moderator, author, stranger, seeded
):
    by_words = make_post(seeded, stranger, "Mentions the tribunal.", sender=SENDER)
    by_passage = make_post(
        seeded,
        stranger,
        "A note on this.",
        passage="more paranoid at the end of the war",
        sender=SENDER,
    )
    by_author = make_post(seeded, author, "Anything.", sender=SENDER)
    client.force_login(moderator)

    assert listed_ids(client, q="tribunal") == [by_words.pk]
    assert listed_ids(client, q="paranoid") == [by_passage.pk]
    assert listed_ids(client, q="Ada Author") == [by_author.pk]
    assert listed_ids(client, q="ada@example.com") == [by_author.pk]


def test_the_list_costs_the_same_queries_for_5_posts_as_for_50(
    client, moderator, author, stranger, seeded, django_assert_max_num_queries
):
    client.force_login(moderator)
    people = [author, stranger, moderator]
    counts = []
    made = 0
    for size in (5, 50):
        for number in range(made, size):
            make_post(
                seeded,
                people[number % 3],
                f"Note {number}",
                passage="more paranoid at the end of the war",
                sender=SENDER,
                flag_count=number % 2,
                status=Post.Status.PENDING if number % 4 else Post.Status.PUBLISHED,
            )
        made = size
        with django_assert_max_num_queries(CHANGELIST_QUERIES) as captured:
            response = client.get(CHANGELIST)
        assert len(soup_of(response).select("#result_list tbody tr")) == size
        counts.append(len(captured))

    assert counts[0] == counts[1]


# The admin index: the queues at a glance


def test_the_index_counts_pending_spam_and_flagged_posts_and_links_each_to_its_list(
    client, moderator, author, seeded
):
    make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    failing = make_post(
        seeded,
        author,
        "Unchecked.",
        sender=SENDER,
        status=Post.Status.PENDING,
        held_reason=HeldReason.CHECK_FAILED,
    )
    SpamCheck.objects.filter(post=failing).update(last_error="Akismet timed out.")
    make_post(seeded, author, "Spam.", sender=SENDER, status=Post.Status.SPAM, flag_count=1)
    for _ in range(3):
        make_post(seeded, author, "Reported.", sender=SENDER, flag_count=2)
    make_post(seeded, author, "Fine.", sender=SENDER)
    make_post(seeded, author, "Never checked.", body_html="")
    client.force_login(moderator)

    soup = soup_of(client.get(INDEX))

    queue = soup.select_one("#moderation-queue")
    counts = {words_on(row.th): int(words_on(row.td)) for row in queue.select("tr") if row.th}
    assert counts == {
        "Pending": 2,
        "Spam": 1,
        "Flagged by readers": 4,
        "Spam-check errors": 1,
    }
    for row in queue.select("tr"):
        url = row.th.a["href"]
        assert url.startswith(CHANGELIST)
        shown = soup_of(client.get(url)).select("#result_list tbody tr")
        assert len(shown) == int(words_on(row.td)), url
    assert queue.find("a", string="Akismet status")["href"] == AKISMET_STATUS


def test_a_staff_member_outside_the_group_sees_no_queue_and_no_posts(
    client, outsider, author, seeded
):
    make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(outsider)

    soup = soup_of(client.get(INDEX))

    assert soup.select_one("#moderation-queue") is None
    assert client.get(CHANGELIST).status_code == 403


# Deciding in bulk


@pytest.mark.parametrize(
    ("action", "status", "event", "message"),
    [
        ("approve", "published", "approved", "2 posts approved and published."),
        ("mark_spam", "spam", "marked_spam", "2 posts marked as spam."),
        ("mark_not_spam", "published", "marked_ham", "2 posts marked as not spam and published."),
        ("remove", "removed", "removed", "2 posts removed."),
    ],
)
def test_a_moderator_decides_on_selected_posts_at_once(
    client, moderator, author, seeded, action, status, event, message
):
    first = make_post(seeded, author, "One.", sender=SENDER, status=Post.Status.PENDING)
    second = make_post(seeded, author, "Two.", sender=SENDER, status=Post.Status.PENDING)
    untouched = make_post(seeded, author, "Three.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(moderator)

    response = bulk(client, action, [first, second])

    assert messages_on(soup_of(response)) == [message]
    for post in (first, second):
        post.refresh_from_db()
        assert (post.status, post.moderated_by) == (status, moderator)
        assert post.events.get(kind=event).actor == moderator
    untouched.refresh_from_db()
    assert (untouched.status, untouched.moderated_by) == ("pending", None)


def test_the_message_says_how_many_were_already_in_that_state(client, moderator, author, seeded):
    held = make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    published = make_post(seeded, author, "Out.", sender=SENDER, flag_count=1)
    Flag.objects.create(post=published, reporter=moderator, reason=Flag.Reason.OFF_TOPIC)
    client.force_login(moderator)

    response = bulk(client, "approve", [held, published])

    assert messages_on(soup_of(response)) == [
        "2 posts approved and published. 1 of them was published already."
    ]
    published.refresh_from_db()
    assert published.flag_count == 0
    assert published.flags.get().resolved_at is not None


def test_bulk_recheck_queues_a_fresh_akismet_check_for_each_post(
    client, moderator, author, seeded, akismet_on, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(spam, "client_class", AkismetSaysSpam)
    first = make_post(seeded, author, "One.", sender=SENDER)
    second = make_post(seeded, author, "Two.", sender=SENDER)
    client.force_login(moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(client, "recheck", [first, second])

    assert messages_on(soup_of(response)) == [
        "Akismet will recheck 2 posts. Its verdict is recorded in the history and never "
        "overrides a moderator’s decision."
    ]
    for post in (first, second):
        post.refresh_from_db()
        assert kinds_of(post) == ["recheck", "akismet_spam"]
        assert post.events.get(kind="recheck").actor == moderator
        assert (post.status, post.spam_verdict) == ("spam", "spam")


def test_bulk_recheck_with_spam_filtering_off_says_so_and_changes_nothing(
    client, moderator, author, seeded
):
    post = make_post(seeded, author, "One.", sender=SENDER)
    client.force_login(moderator)

    response = bulk(client, "recheck", [post])

    assert messages_on(soup_of(response)) == [f"{SPAM_OFF} Nothing was rechecked."]
    assert kinds_of(post) == []


def test_marking_spam_in_bulk_reports_it_to_akismet(
    client, moderator, author, seeded, akismet_on, django_capture_on_commit_callbacks
):
    post = make_post(seeded, author, "Slipped through.", sender=SENDER)
    client.force_login(moderator)

    with django_capture_on_commit_callbacks(execute=True):
        bulk(client, "mark_spam", [post])

    assert kinds_of(post) == ["marked_spam", "submitted_spam"]
    assert SpamCheck.objects.get(post=post).submission == ""


# Deciding in one click on a post's page


@pytest.mark.parametrize(
    ("decision", "status", "event", "done"),
    [
        ("approve", "published", "Approved by a moderator", "approved and published"),
        ("spam", "spam", "Marked spam by a moderator", "marked as spam"),
        (
            "not_spam",
            "published",
            "Marked not spam by a moderator",
            "marked as not spam and published",
        ),
        ("remove", "removed", "Removed by a moderator", "removed"),
    ],
)
def test_a_moderator_decides_with_one_click_on_the_posts_page(
    client, moderator, author, seeded, decision, status, event, done
):
    post = make_post(seeded, author, "Held words.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(moderator)
    page = soup_of(client.get(change_url(post)))
    button = page.select_one(f"#decide button[value={decision}]")
    decide_url = reverse("admin:annotate_post_decide", args=[post.pk])
    assert button.find_parent("form")["action"] == decide_url

    response = decide(client, post, decision, follow=True)

    assert response.redirect_chain == [(change_url(post), 302)]
    soup = soup_of(response)
    assert messages_on(soup) == [f"Comment #{post.pk} {done}."]
    post.refresh_from_db()
    assert post.status == status
    assert history_on(soup)[-1] == (event, "Mo Moderator", "-")
    assert f"Now: {post.get_status_display()}, last decided by Mo Moderator." in words_on(
        soup.select_one("#decide")
    )


def test_recheck_on_the_posts_page_records_akismets_verdict(
    client, moderator, author, seeded, akismet_on, django_capture_on_commit_callbacks
):
    post = make_post(seeded, author, "Checked again.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(moderator)
    assert soup_of(client.get(change_url(post))).select_one("#decide button[value=recheck]")

    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, post, "recheck")
    soup = soup_of(client.get(response.url))

    assert messages_on(soup)[0].startswith("Akismet will recheck 1 post.")
    assert [row[:2] for row in history_on(soup)] == [
        ("Recheck requested", "Mo Moderator"),
        ("Akismet: not spam", "the site"),
    ]


def test_without_spam_filtering_the_page_offers_no_recheck(client, moderator, author, seeded):
    post = make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(moderator)

    soup = soup_of(client.get(change_url(post)))

    assert [button["value"] for button in soup.select("#decide button")] == [
        "approve",
        "spam",
        "not_spam",
        "remove",
    ]


def test_marking_spam_on_the_page_reports_it_to_akismet(
    client, moderator, author, seeded, akismet_on, django_capture_on_commit_callbacks
):
    post = make_post(seeded, author, "Slipped through.", sender=SENDER)
    client.force_login(moderator)

    with django_capture_on_commit_callbacks(execute=True):
        decide(client, post, "spam")

    assert PostEvent.objects.filter(post=post, kind=PostEvent.Kind.SUBMITTED_SPAM).exists()
    soup = soup_of(client.get(change_url(post)))
    assert [row[0] for row in history_on(soup)] == [
        "Marked spam by a moderator",
        "Reported to Akismet as spam",
    ]


def test_a_post_akismet_called_spam_is_published_by_not_spam_and_reported_as_ham(
    client, moderator, author, seeded, akismet_on, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(spam, "client_class", AkismetSaysSpam)
    client.force_login(author)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/texts/{seeded.slug}/posts/", {"body": "A real thought.", "parent": ""})
    post = Post.objects.get()
    assert post.status == Post.Status.SPAM
    client.force_login(moderator)
    assert listed_ids(client, status__exact="spam") == [post.pk]

    with django_capture_on_commit_callbacks(execute=True):
        decide(client, post, "not_spam")

    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED
    assert PostEvent.objects.filter(post=post, kind=PostEvent.Kind.SUBMITTED_HAM).exists()
    assert [row[0] for row in history_on(soup_of(client.get(change_url(post))))] == [
        "Created",
        "Akismet: spam",
        "Marked not spam by a moderator",
        "Reported to Akismet as not spam",
    ]


def test_a_recheck_never_overrides_a_moderators_decision(
    client, moderator, author, seeded, akismet_on, monkeypatch, django_capture_on_commit_callbacks
):
    post = make_post(seeded, author, "Held words.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(moderator)
    decide(client, post, "approve")
    monkeypatch.setattr(spam, "client_class", AkismetSaysSpam)

    with django_capture_on_commit_callbacks(execute=True):
        decide(client, post, "recheck")

    post.refresh_from_db()
    assert (post.status, post.spam_verdict) == (Post.Status.PUBLISHED, Verdict.SPAM)
    soup = soup_of(client.get(change_url(post)))
    assert [row[0] for row in history_on(soup)] == [
        "Approved by a moderator",
        "Recheck requested",
        "Akismet: spam",
    ]
    assert "Now: Published, last decided by Mo Moderator." in words_on(soup.select_one("#decide"))


def test_a_decision_needs_a_post_request(client, moderator, author, seeded):
    post = make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(moderator)

    response = client.get(reverse("admin:annotate_post_decide", args=[post.pk]))

    assert response.status_code == 405
    post.refresh_from_db()
    assert post.status == Post.Status.PENDING


def test_a_decision_needs_the_pages_csrf_token(moderator, author, seeded):
    post = make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(moderator)

    refused = decide(browser, post, "approve")
    post.refresh_from_db()
    assert (refused.status_code, post.status) == (403, Post.Status.PENDING)

    page = soup_of(browser.get(change_url(post)))
    token = page.select_one("#decide input[name=csrfmiddlewaretoken]")["value"]
    url = reverse("admin:annotate_post_decide", args=[post.pk])
    accepted = browser.post(url, {"decision": "approve", "csrfmiddlewaretoken": token})
    post.refresh_from_db()
    assert (accepted.status_code, post.status) == (302, Post.Status.PUBLISHED)


def test_an_unknown_decision_is_refused(client, moderator, author, seeded):
    post = make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(moderator)

    assert decide(client, post, "publish_everything").status_code == 400
    assert decide(client, post, "").status_code == 400
    assert kinds_of(post) == []


# A post's page: its story, read-only


def test_the_posts_page_shows_its_history_reports_and_spam_check_and_edits_nothing(
    client, moderator, author, stranger, seeded
):
    post = make_post(
        seeded,
        author,
        "Paranoia grew *after* victory.",
        passage="more paranoid at the end of the war",
        sender=SENDER,
        status=Post.Status.PENDING,
        held_reason=HeldReason.FLAGS,
        flag_count=1,
    )
    post.record(PostEvent.Kind.CREATED, actor=author)
    post.record(PostEvent.Kind.FLAGGED, actor=stranger, detail="Off topic")
    Flag.objects.create(
        post=post, reporter=stranger, reason=Flag.Reason.OFF_TOPIC, note="Not about the text."
    )
    SpamCheck.objects.filter(post=post).update(attempts=2, last_error="Akismet timed out.")
    client.force_login(moderator)

    soup = soup_of(client.get(change_url(post)))

    assert history_on(soup) == [
        ("Created", "Ada Author", "-"),
        ("Reported by a reader", "Sam Stranger", "Off topic"),
    ]
    [report] = soup.select("#flags-group tbody tr:has(td.field-reason)")
    assert words_on(report.select_one(".field-reporter_name")) == "Sam Stranger"
    assert words_on(report.select_one(".field-reason")) == "Off topic"
    assert words_on(report.select_one(".field-note")) == "Not about the text."
    assert words_on(report.select_one(".field-resolved_at")) == "-"
    spam_check = soup.select_one("#spam_check-group")
    payload = spam_check.select_one("pre.payload").get_text()
    assert '\n  "comment_type": "annotation",\n' in payload
    assert '\n  "user_ip": "203.0.113.5"\n}' in payload
    assert words_on(spam_check.select_one(".field-attempts .readonly")) == "2"
    assert words_on(spam_check.select_one(".field-last_error .readonly")) == "Akismet timed out."
    for label in ("Next attempt at", "Checked at", "Erased at"):
        assert spam_check.find("label", string=f"{label}:")
    assert words_on(soup.select_one(".field-quoted_passage .readonly")) == (
        "more paranoid at the end of the war"
    )
    assert words_on(soup.select_one(".field-body .readonly")) == "Paranoia grew *after* victory."
    main_form = soup.select_one("#post_form")
    assert main_form.select("textarea, select, input[type=text]") == []
    assert main_form.select("input[name=_save], input[name=_continue]") == []


def test_only_superusers_may_delete_a_post_and_nobody_adds_one(
    client, moderator, superuser, author, seeded
):
    post = make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    delete_url = reverse("admin:annotate_post_delete", args=[post.pk])
    client.force_login(moderator)

    assert soup_of(client.get(change_url(post))).select_one("a.deletelink") is None
    assert client.get(delete_url).status_code == 403
    assert client.get(reverse("admin:annotate_post_add")).status_code == 403

    client.force_login(superuser)
    assert soup_of(client.get(change_url(post))).select_one("a.deletelink")
    assert client.get(reverse("admin:annotate_post_add")).status_code == 403


# Staff outside the Moderators group


def test_staff_outside_the_moderators_group_are_refused_every_decision(
    client, outsider, author, seeded, akismet_on
):
    post = make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(outsider)

    for action in ("approve", "mark_spam", "mark_not_spam", "remove", "recheck"):
        assert bulk(client, action, [post]).status_code == 403
    for decision in ("approve", "spam", "not_spam", "remove", "recheck"):
        assert decide(client, post, decision).status_code == 403
    assert client.get(change_url(post)).status_code == 403
    assert client.get(AKISMET_STATUS).status_code == 403
    post.refresh_from_db()
    assert (post.status, kinds_of(post)) == (Post.Status.PENDING, [])


def test_people_who_are_not_staff_are_sent_to_the_admin_sign_in(client, stranger, author, seeded):
    post = make_post(seeded, author, "Held.", sender=SENDER, status=Post.Status.PENDING)
    client.force_login(stranger)

    response = decide(client, post, "approve")

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    post.refresh_from_db()
    assert post.status == Post.Status.PENDING


# Akismet's status


def test_the_status_page_shows_the_key_verified_urls_usage_and_the_last_error(
    client, moderator, author, seeded, akismet_on
):
    post = make_post(seeded, author, "Unchecked.", sender=SENDER, status=Post.Status.PENDING)
    post.record(
        PostEvent.Kind.AKISMET_ERROR, detail="Akismet timed out. Next attempt at 10:05 UTC."
    )
    SpamCheck.objects.filter(post=post).update(last_error="Akismet timed out.")
    client.force_login(moderator)

    soup = soup_of(client.get(AKISMET_STATUS))

    rows = {words_on(row.th): words_on(row.td) for row in soup.select("#content-main tr")}
    assert rows["Spam filtering"] == "On"
    assert rows["API key"] == "Verified"
    assert rows["Site URL"] == "https://annotate.example.org"
    assert rows["API URL"] == "https://rest.akismet.com"
    assert rows["Usage this month"] == "7463 of 350000 calls (2.13%)"
    assert rows["Last error"].endswith(
        f"Akismet check failed for comment #{post.pk} by Ada Author. "
        "Akismet timed out. Next attempt at 10:05 UTC."
    )
    assert rows["Posts with check errors"] == "1"
    assert banner_on(soup) == ""


def test_the_status_page_says_when_akismet_rejects_the_key(
    client, moderator, akismet_on, monkeypatch
):
    monkeypatch.setattr(spam, "client_class", AkismetRejectsTheKey)
    client.force_login(moderator)

    soup = soup_of(client.get(AKISMET_STATUS))

    rows = {words_on(row.th): words_on(row.td) for row in soup.select("#content-main tr")}
    assert rows["API key"].startswith("Rejected")
    assert "Usage this month" not in rows
    assert rows["Last error"] == "None recorded."


def test_without_a_key_the_index_list_and_status_page_say_spam_filtering_is_off(
    client, moderator, settings
):
    settings.AKISMET_API_KEY = ""
    client.force_login(moderator)

    for url in (INDEX, CHANGELIST, AKISMET_STATUS):
        soup = soup_of(client.get(url))
        assert banner_on(soup).startswith(SPAM_OFF), url
        assert soup.select_one(".spam-off-banner a")["href"] == AKISMET_STATUS
    status = soup_of(client.get(AKISMET_STATUS))
    rows = {words_on(row.th): words_on(row.td) for row in status.select("#content-main tr")}
    assert rows["Spam filtering"] == f"Off. {SPAM_OFF}"
    assert "API key" not in rows


def test_with_a_key_there_is_no_banner(client, moderator, akismet_on):
    client.force_login(moderator)

    for url in (INDEX, CHANGELIST):
        assert banner_on(soup_of(client.get(url))) == ""


# Moderation settings, readers' reports, outgoing email


def test_the_moderation_settings_are_one_page_that_moderators_can_change(client, moderator):
    client.force_login(moderator)

    response = client.get("/admin/annotate/moderationsettings/", follow=True)

    rules = ModerationSettings.load()
    settings_url = reverse("admin:annotate_moderationsettings_change", args=[rules.pk])
    assert response.redirect_chain == [(settings_url, 302)]
    form = soup_of(response).select_one("#moderationsettings_form")
    data = {
        field["name"]: field.get("value", "")
        for field in form.select("input[name]")
        if field.get("type") != "checkbox"
    }
    data |= {textarea["name"]: textarea.get_text() for textarea in form.select("textarea")}
    data |= {"flag_threshold": "5", "_save": "Save"}
    client.post(settings_url, data)
    assert ModerationSettings.load().flag_threshold == 5
    assert ModerationSettings.objects.count() == 1
    assert client.get("/admin/annotate/moderationsettings/add/").status_code == 403
    delete_url = reverse("admin:annotate_moderationsettings_delete", args=[rules.pk])
    assert client.get(delete_url).status_code == 403


def test_reports_by_readers_are_listed_with_resolved_and_reason_filters(
    client, moderator, author, stranger, seeded
):
    post = make_post(seeded, author, "Reported.", sender=SENDER, flag_count=1)
    open_report = Flag.objects.create(post=post, reporter=stranger, reason=Flag.Reason.SPAM)
    resolved = Flag.objects.create(
        post=post, reporter=moderator, reason=Flag.Reason.ABUSE, resolved_at=timezone.now()
    )
    client.force_login(moderator)

    def reasons(**params) -> list[str]:
        soup = soup_of(client.get("/admin/annotate/flag/", params))
        return [words_on(cell) for cell in soup.select("#result_list td.field-reason")]

    assert sorted(reasons()) == ["Abusive or hateful", "Spam or advertising"]
    assert reasons(resolved="no") == [open_report.get_reason_display()]
    assert reasons(resolved="yes") == [resolved.get_reason_display()]
    assert reasons(reason__exact="abuse") == ["Abusive or hateful"]
    soup = soup_of(client.get("/admin/annotate/flag/"))
    assert soup.select_one("td.field-post_link a")["href"] == change_url(post)


def test_only_superusers_see_outgoing_email_and_may_retry_it(
    run_background_work, moderator, superuser
):
    client = run_background_work
    email = OutboundEmail.objects.create(
        to=["mo@example.com"],
        subject="[annotate] Held for moderation",
        body="Review it.",
        attempts=3,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )
    client.force_login(moderator)
    assert client.get("/admin/annotate/outboundemail/").status_code == 403
    assert "Outbound emails" not in words_on(soup_of(client.get(INDEX)))

    client.force_login(superuser)
    assert "Outbound emails" in words_on(soup_of(client.get(INDEX)))
    outbox_page = soup_of(client.get("/admin/annotate/outboundemail/"))
    [row] = outbox_page.select("#result_list tbody tr")
    assert words_on(row.select_one(".field-recipients")) == "mo@example.com"
    assert words_on(row.select_one(".field-last_error")).startswith("ConnectionRefusedError")
    response = client.post(
        "/admin/annotate/outboundemail/",
        {"action": "retry_now", "_selected_action": [email.pk], "index": 0},
        follow=True,
    )

    # The admin only queues the sending; on a laptop's task backend it runs at once.
    assert messages_on(soup_of(response)) == [
        "Queued 1 of 1 to send now; reload to see how it went."
    ]
    [sent] = mail.outbox
    assert (sent.to, sent.subject) == (["mo@example.com"], "[annotate] Held for moderation")
    email.refresh_from_db()
    assert email.sent_at is not None
    assert email.attempts == 4


def test_a_superuser_makes_someone_a_moderator_by_ticking_the_group(client, superuser, author):
    client.force_login(superuser)
    url = reverse("admin:annotate_user_change", args=[author.pk])
    form = soup_of(client.get(url)).select_one("#user_form")
    [group_box] = form.select('input[type="checkbox"][name="groups"]')
    assert words_on(form.select_one(f'label[for="{group_box["id"]}"]')) == "Moderators"
    data = {
        field["name"]: field.get("value", "")
        for field in form.select("input[name]")
        if field.get("type") not in ("checkbox", "submit")
    }
    data |= {"is_active": "on", "groups": group_box["value"], "_save": "Save"}

    response = client.post(url, data)

    assert response.status_code == 302, messages_on(soup_of(response))
    assert list(author.groups.values_list("name", flat=True)) == ["Moderators"]
