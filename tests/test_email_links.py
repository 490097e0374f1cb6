"""
Every email the site sends, read as its recipient reads it: each link points
at the site's own address and opens a page that works for them; no email
says "example.com"; account email goes through the retried outbox; class
email goes only to people still in the class; unsubscribing is a POST.
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.sites.models import Site
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from annotate import lifecycle
from annotate.models import Membership, OutboundEmail, Post
from annotate.notifications import unsubscribe_token
from annotate.revisions import revise_document
from annotate.site import site_url
from annotate.tasks import run_maintenance
from tests.factories import make_class, make_moderator, make_post, post_comment, saved_post

pytestmark = pytest.mark.usefixtures("run_background_work")

LINK = re.compile(r"https?://[^\s<>]+")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def later(time_machine, **delta) -> None:
    time_machine.move_to(timezone.now() + timedelta(**delta), tick=False)


def links_in(message) -> list[str]:
    return [link.rstrip(".,;)") for link in LINK.findall(message.body)]


def opens_for(client, url: str) -> int:
    """The status of the page at `url` once redirects are followed, as a mail reader clicks."""
    assert url.startswith(site_url() + "/"), f"{url} is not on the site's address {site_url()}"
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.get(path, follow=True).status_code


def sign_up(client):
    """A newcomer signs up as Dana Reader, which sends them a confirmation email."""
    return client.post(
        "/accounts/signup/",
        {
            "display_name": "Dana Reader",
            "email": "dana@example.com",
            "password1": "a long unusual passphrase 73",
            "password2": "a long unusual passphrase 73",
        },
    )


@pytest.fixture
def moderator(db):
    """Staff, in the Moderators group."""
    return make_moderator()


def test_every_link_in_every_email_opens_a_working_page_for_its_recipient(
    client, seeded, author, stranger, moderator, time_machine, django_capture_on_commit_callbacks
):
    # A reply to the author, a post held for the moderator, a reader's report,
    # a daily digest, and a note orphaned by a revision of the text.
    client.force_login(author)
    question = saved_post(post_comment(client, seeded, "Were the Allies wrong?"))
    annotation = make_post(seeded, author, "A note on Stalin.", passage="Stalin")
    client.force_login(stranger)
    saved_post(post_comment(client, seeded, "They had little choice.", parent=question))
    seeded.premoderated = True
    seeded.save()
    saved_post(post_comment(client, seeded, "Held for a moderator."))
    moderator.moderation_digest = True
    moderator.save()
    saved_post(post_comment(client, seeded, "Held for the digest."))
    later(time_machine, days=1, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        run_maintenance.call()
        revise_document(seeded, seeded.text.replace("Stalin", "The dictator"), by=moderator)

    # Account email: confirmation at sign-up, password reset, a new address.
    client.logout()
    response = sign_up(client)
    assert response.status_code == 302
    client.logout()
    client.post("/accounts/password/reset/", {"email": author.email})
    client.force_login(stranger)
    client.post("/accounts/email/", {"action_add": "", "email": "sam.new@example.com"})

    subjects = [message.subject for message in mail.outbox]
    for expected in [
        "replied to you",
        "Held for moderation",
        "Daily moderation digest",
        "The passage you annotated",
        "Please Confirm Your Email Address",
        "Password Reset Email",
    ]:
        assert any(expected in subject for subject in subjects), (expected, subjects)
    assert sum("Confirm Your Email" in subject for subject in subjects) == 2
    assert annotation.pk  # the orphan email above is about it

    recipients = {
        author.email: author,
        stranger.email: stranger,
        "sam.new@example.com": stranger,
        moderator.email: moderator,
    }
    checked = 0
    for message in mail.outbox:
        assert "example.com!" not in message.body and "\nexample.com" not in message.body
        assert "Hello from annotate!" in message.body or "annotate" in message.body
        [address] = message.to
        reader = client_for(address, recipients)
        for link in links_in(message):
            assert opens_for(reader, link) == 200, (message.subject, link)
            checked += 1
    assert checked >= 9


def client_for(address: str, recipients: dict):
    """A mail reader's browser: signed in as the recipient, or not signed in for account mail."""
    from django.test import Client

    browser = Client()
    if person := recipients.get(address):
        browser.force_login(person)
    return browser


def test_account_email_names_the_site_and_never_example_com(client, db):
    assert Site.objects.get_current().name == "annotate"
    assert Site.objects.get_current().domain != "example.com"
    sign_up(client)
    [message] = mail.outbox
    assert message.body.startswith("Hello from annotate!")
    assert "example.com!" not in message.body
    assert f"Thank you for using annotate!\n{urlsplit(site_url()).netloc}" in message.body
    assert "example.com" not in client.get("/accounts/login/").content.decode()


def test_links_follow_site_url_when_it_is_set(client, settings, author, seeded, stranger):
    settings.SITE_URL = "https://annotate.school.edu"
    client.post("/accounts/password/reset/", {"email": author.email})
    client.force_login(author)
    question = saved_post(post_comment(client, seeded, "A question?"))
    client.force_login(stranger)
    saved_post(post_comment(client, seeded, "An answer.", parent=question))

    assert len(mail.outbox) == 2
    for message in mail.outbox:
        links = links_in(message)
        assert links
        assert all(link.startswith("https://annotate.school.edu/") for link in links), links


# Account email through the outbox


class RefusingMailServer:
    """An email backend whose server refuses connections."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


def test_with_the_mail_server_down_sign_up_and_reset_answer_normally_and_mail_goes_out_later(
    client, settings, author, time_machine
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingMailServer"}}
    response = sign_up(client)
    assert response.status_code == 302
    client.logout()
    response = client.post("/accounts/password/reset/", {"email": author.email})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    waiting = OutboundEmail.objects.filter(sent_at=None)
    assert waiting.count() == 2
    assert all("Connection refused" in email.last_error for email in waiting)
    assert mail.outbox == []

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    later(time_machine, minutes=2)
    run_maintenance.call()

    assert sorted(message.to[0] for message in mail.outbox) == [author.email, "dana@example.com"]
    assert not OutboundEmail.objects.filter(sent_at=None).exists()
    # The links in them sign people in: the outbox keeps none once they are sent.
    assert not OutboundEmail.objects.filter(body__contains="/accounts/").exists()
    reset = next(message for message in mail.outbox if message.to == [author.email])
    [link] = [link for link in links_in(reset) if "/password/reset/key/" in link]
    assert opens_for(client, link) == 200


# Class email goes only to the class


@pytest.fixture
def classroom(seeded):
    seeded.is_public = False
    seeded.save()
    return make_class("History 10", "history-10", readings=[seeded])


def test_a_reply_email_is_not_sent_to_someone_who_left_the_class_before_it_went_out(
    client, seeded, classroom, author, stranger, settings, time_machine
):
    Membership.objects.create(classroom=classroom, user=author)
    Membership.objects.create(classroom=classroom, user=stranger)
    client.force_login(author)
    question = saved_post(
        post_comment(client, seeded, "A question for the class?", classroom=classroom)
    )

    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingMailServer"}}
    client.force_login(stranger)
    saved_post(
        post_comment(client, seeded, "A classmate's answer.", classroom=classroom, parent=question)
    )
    email = OutboundEmail.objects.get()
    assert email.to == [author.email] and email.sent_at is None

    Membership.objects.filter(classroom=classroom, user=author).delete()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    later(time_machine, minutes=2)
    run_maintenance.call()

    assert mail.outbox == []
    email.refresh_from_db()
    assert email.sent_at is None and email.withheld_at is not None
    assert email.next_attempt_at is None  # never tried again


def test_held_post_email_is_not_sent_to_an_instructor_who_no_longer_teaches_the_class(
    client, seeded, classroom, author, settings, time_machine
):
    teacher = make_moderator("Tess Teacher", "tess@example.com")
    Membership.objects.create(classroom=classroom, user=teacher, role=Membership.Role.INSTRUCTOR)
    Membership.objects.create(classroom=classroom, user=author)
    seeded.premoderated = True
    seeded.save()
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingMailServer"}}
    client.force_login(author)
    saved_post(post_comment(client, seeded, "Held for the teacher.", classroom=classroom))
    assert OutboundEmail.objects.get().to == [teacher.email]

    Membership.objects.filter(user=teacher).update(role=Membership.Role.STUDENT)
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    later(time_machine, minutes=2)
    run_maintenance.call()
    assert mail.outbox == []


def test_each_moderator_gets_their_own_email_and_sees_no_other_address(
    client, seeded, author, moderator
):
    other = make_moderator("Otto Other", "otto@example.com")
    seeded.premoderated = True
    seeded.save()
    client.force_login(author)
    saved_post(post_comment(client, seeded, "Held for both."))
    assert sorted(message.to[0] for message in mail.outbox) == [moderator.email, other.email]
    assert all(len(message.to) == 1 for message in mail.outbox)


# Unsubscribing


def test_opening_an_unsubscribe_link_asks_first_and_only_the_button_unsubscribes(client, author):
    url = f"/unsubscribe/{unsubscribe_token(author)}/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stop reply emails?" in html
    assert '<form method="post">' in html and "<button" in html
    author.refresh_from_db()
    assert author.email_on_reply is True

    assert client.head(url).status_code == 405  # link checkers unsubscribe nobody
    assert client.post(url).status_code == 200
    author.refresh_from_db()
    assert author.email_on_reply is False


def test_a_mail_programs_one_click_post_unsubscribes_without_a_session_or_csrf_token(
    client, author, seeded, stranger
):
    from django.test import Client

    writer = client
    writer.force_login(author)
    question = saved_post(post_comment(writer, seeded, "A question?"))
    writer.force_login(stranger)
    saved_post(post_comment(writer, seeded, "An answer.", parent=question))
    [message] = mail.outbox
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    target = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert target.startswith(site_url())

    mail_program = Client(enforce_csrf_checks=True)
    response = mail_program.post(
        urlsplit(target).path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    author.refresh_from_db()
    assert author.email_on_reply is False


def test_a_damaged_unsubscribe_link_says_so_and_changes_nothing(client, author):
    response = client.post("/unsubscribe/not-a-token/")
    assert response.status_code == 400
    assert "That link did not work" in response.content.decode()
    author.refresh_from_db()
    assert author.email_on_reply is True


def test_a_moderator_decision_notifies_the_parent_author_once_even_after_an_edit(
    client, seeded, author, stranger, moderator
):
    """An edited reply published again is not a new reply: no second email."""
    client.force_login(author)
    question = saved_post(post_comment(client, seeded, "A question?"))
    client.force_login(stranger)
    reply = saved_post(post_comment(client, seeded, "An answer.", parent=question))
    assert len(mail.outbox) == 1
    client.post(f"/posts/{reply.pk}/edit/", {"body": "A better answer."})
    reply.refresh_from_db()
    assert reply.status == Post.Status.PUBLISHED
    lifecycle.decide(reply, "approve", by=moderator)
    assert len(mail.outbox) == 1
