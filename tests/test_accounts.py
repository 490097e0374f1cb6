"""
Accounts through django-allauth: sign up with a display name, confirm the
email address, sign out and in, reset a forgotten password.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from bs4 import BeautifulSoup
from django.core import mail
from django.core.cache import cache

from annotate.models import User
from annotate.site import site_url
from tests.factories import make_post

# Account email goes out from the outbox once each request commits.
pytestmark = pytest.mark.usefixtures("run_background_work")

PASSWORD = "a long unusual passphrase 73"
NEW_PASSWORD = "another quite different phrase 19"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth counts sign-ups, failed logins and resets in the cache, across tests."""
    cache.clear()
    yield
    cache.clear()


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def text_of(element) -> str:
    return " ".join(element.get_text().split())


def signed_in_as(client) -> str | None:
    """The display name the page header shows, or None when it offers to sign in."""
    page = soup(client.get("/privacy/"))
    signed_in = page.select_one("header .signed-in-as strong")
    if signed_in is None:
        assert page.select_one('header a[href^="/accounts/login/"]').get_text() == "Sign in"
        return None
    return signed_in.get_text()


def sign_up(client, **fields):
    data = {
        "display_name": "Dana Reader",
        "email": "dana@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "website": "",
        **fields,
    }
    return client.post("/accounts/signup/", data)


def sign_in(client, email: str = "dana@example.com", password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def link_in(message, path_prefix: str) -> str:
    match = re.search(rf"{re.escape(site_url())}({re.escape(path_prefix)}\S+)", message.body)
    assert match, f"no {path_prefix} link in:\n{message.body}"
    return match.group(1)


def confirm_email(client, message) -> None:
    confirm_url = link_in(message, "/accounts/confirm-email/")
    page = client.get(confirm_url)
    assert page.status_code == 200
    response = client.post(confirm_url)
    assert response.status_code == 302


def form_errors(response) -> str:
    page = soup(response)
    return " ".join(text_of(element) for element in page.select(".errorlist"))


# Signing up


def test_signing_up_sends_a_confirmation_email_and_following_it_confirms_the_address(
    client, seeded
):
    response = sign_up(client)

    assert response.status_code == 302
    assert signed_in_as(client) == "Dana Reader"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dana@example.com"]
    assert message.subject == "[annotate] Please Confirm Your Email Address"

    confirm_url = link_in(message, "/accounts/confirm-email/")
    page = client.get(confirm_url)
    assert page.status_code == 200
    assert text_of(soup(page).h1) == "Confirm Email Address"
    assert "dana@example.com" in text_of(soup(page).main)
    assert not EmailAddress.objects.get(email="dana@example.com").verified

    response = client.post(confirm_url)

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="dana@example.com").verified
    assert signed_in_as(client) == "Dana Reader"


def test_a_new_account_is_named_by_its_display_name(client, db):
    sign_up(client, display_name="  Dana   Reader ")

    user = User.objects.get(email="dana@example.com")
    assert user.display_name == "Dana Reader"
    assert user.check_password(PASSWORD)


def test_signing_out_and_in_again_with_email_and_password(client, db):
    sign_up(client)
    confirm_email(client, mail.outbox[0])

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert signed_in_as(client) is None

    response = sign_in(client)

    assert response.status_code == 302
    assert signed_in_as(client) == "Dana Reader"


def test_the_sign_out_link_asks_before_signing_out(client, author):
    client.force_login(author)

    page = soup(client.get("/accounts/logout/"))

    assert page.select_one('main form[method="post"][action="/accounts/logout/"]')
    assert signed_in_as(client) == "Ada Author"


def test_signing_in_with_a_wrong_password_shows_an_error_and_does_not_sign_in(client, author):
    response = sign_in(client, email="ada@example.com", password="not the password")

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in text_of(
        soup(response).main
    )
    assert signed_in_as(client) is None


def test_the_header_names_the_reader_and_the_reading_page_never_shows_the_email(
    client, seeded, stranger
):
    sign_up(client)
    # The one-off "Confirmation email sent to ..." message, shown to the reader alone.
    client.get("/privacy/")
    dana = User.objects.get(email="dana@example.com")
    make_post(seeded, dana, "A first thought.")

    page = client.get("/texts/execute-the-pows/")

    assert text_of(soup(page).select_one("header .signed-in-as")) == "Signed in as Dana Reader"
    assert text_of(soup(page).select_one("#comments .post-author")) == "Dana Reader"
    assert "dana@example.com" not in page.content.decode()

    client.force_login(stranger)
    page = client.get("/texts/execute-the-pows/")
    assert text_of(soup(page).select_one("#comments .post-author")) == "Dana Reader"
    assert "dana@example.com" not in page.content.decode()


@pytest.mark.parametrize(
    ("display_name", "error"),
    [
        (
            "dana@example.com",
            "A display name cannot contain “@”: it is shown to everyone, so keep your email "
            "address out of it.",
        ),
        ("Dana @ home", "A display name cannot contain “@”"),
        ("", "Choose a display name: it is shown on your posts."),
        ("   ", "Choose a display name: it is shown on your posts."),
    ],
)
def test_a_display_name_that_is_empty_or_has_an_at_sign_is_refused(client, db, display_name, error):
    response = sign_up(client, display_name=display_name)

    assert response.status_code == 200
    assert error in form_errors(response)
    assert not User.objects.exists()
    assert mail.outbox == []


def test_the_signup_form_asks_for_a_display_name_first(client, db):
    page = soup(client.get("/accounts/signup/"))

    names = [field["name"] for field in page.select("main form input:not([type=hidden])")]
    assert names == ["display_name", "email", "password1", "password2", "website"]
    assert text_of(page.select_one('label[for="id_display_name"]')) == "Display name:"
    assert "Your email address is never shown." in text_of(page.select_one("main form"))


def test_a_filled_in_honeypot_creates_no_account(client, db):
    sign_up(client, website="https://spam.example")

    assert not User.objects.exists()
    assert mail.outbox == []


# Mandatory confirmation, as on a server


def test_with_mandatory_confirmation_an_unconfirmed_reader_cannot_sign_in_until_confirming(
    client, db, settings
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"

    response = sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "We have sent an email to you for verification." in text_of(
        soup(client.get("/accounts/confirm-email/")).main
    )
    assert signed_in_as(client) is None

    response = sign_in(client)

    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_as(client) is None

    confirm_email(client, mail.outbox[0])

    assert signed_in_as(client) == "Dana Reader"
    client.post("/accounts/logout/")
    sign_in(client)
    assert signed_in_as(client) == "Dana Reader"


# Forgotten passwords


def test_a_password_reset_email_leads_to_a_form_that_sets_a_new_password(client, author):
    response = client.post("/accounts/password/reset/", {"email": "ada@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "[annotate] Password Reset Email"

    response = client.get(link_in(message, "/accounts/password/reset/key/"), follow=True)
    form = soup(response).select_one('main form[method="post"]')
    assert text_of(soup(response).h1) == "Change Password"
    assert [field["name"] for field in form.select("input[type=password]")] == [
        "password1",
        "password2",
    ]

    response = client.post(form["action"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert signed_in_as(client) is None
    sign_in(client, email="ada@example.com", password="correct horse 42")
    assert signed_in_as(client) is None
    sign_in(client, email="ada@example.com", password=NEW_PASSWORD)
    assert signed_in_as(client) == "Ada Author"


# Layout


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/logout/",
    ],
)
def test_account_pages_render_inside_the_site_layout(client, author, url):
    if url == "/accounts/logout/":
        client.force_login(author)

    response = client.get(url)

    assert response.status_code == 200
    page = soup(response)
    assert page.html["lang"] == "en"
    assert page.title.get_text().split()[-2:] == ["·", "annotate"]
    site_name = page.select_one("body > header a.site-name")
    assert (site_name["href"], site_name.get_text()) == ("/", "annotate")
    assert page.select_one("body > main#content h1")
    privacy = page.select_one('body > footer a[href="/privacy/"]')
    assert privacy.get_text() == "Privacy: what we store and why"
