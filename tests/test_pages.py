"""
The site's pages as a reader meets them: the home page, the reading page's
layout and discussion heading, the privacy page, security headers, the admin
for editing texts, and the page-not-found page.
"""

import pytest
from bs4 import BeautifulSoup

from annotate.models import Document
from tests.factories import make_document, make_post

READING = "/texts/execute-the-pows/"


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def text_of(element) -> str:
    return " ".join(element.get_text().split())


# Home


def test_home_goes_straight_to_the_only_text(client, seeded):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == READING


def test_home_lists_the_texts_when_there_are_several(client, seeded, document):
    response = client.get("/")

    assert response.status_code == 200
    links = [(a["href"], text_of(a)) for a in soup(response).select("main .document-list a")]
    assert links == [
        (READING, "Execute the POW’s…"),
        ("/texts/sample/", "Sample text"),
    ]
    assert "Stalin’s treatment of returning Soviet POWs" in text_of(soup(response).main)


def test_home_says_there_is_nothing_to_read_when_there_are_no_texts(client, db):
    make_document("", slug="draft", title="A draft without any text yet")

    response = client.get("/")

    assert response.status_code == 200
    main = soup(response).main
    assert text_of(main.h1) == "Readings"
    assert "There is nothing to read yet." in text_of(main)
    assert "A draft without any text yet" not in text_of(main)


# The reading page's layout


def test_the_reading_page_is_english_and_its_title_names_the_text(client, seeded):
    page = soup(client.get(READING))

    assert page.html["lang"] == "en"
    assert text_of(page.title) == "Execute the POW’s… · annotate"


def test_the_reading_page_has_landmarks_a_skip_link_and_a_favicon(client, seeded):
    page = soup(client.get(READING))

    assert page.select_one("body > header a.site-name")["href"] == "/"
    assert page.select_one("body > header nav[aria-label]")
    assert page.select_one("body > main#content article h1#document-title")
    assert page.select_one("body > footer")
    first_link = page.body.find("a")
    assert (first_link["href"], text_of(first_link)) == ("#content", "Skip to content")
    favicon = page.select_one('head link[rel="icon"]')
    assert favicon["href"] == "/static/favicon.svg"


def comments_heading(client) -> str:
    return text_of(soup(client.get(READING)).select_one("#comments h2"))


def test_the_discussion_heading_invites_the_first_thought(client, seeded):
    assert comments_heading(client) == "No thoughts yet on “Execute the POW’s…”"


def test_the_discussion_heading_counts_one_thought(client, seeded, author):
    make_post(seeded, author, "A first thought.")

    assert comments_heading(client) == "One thought on “Execute the POW’s…”"


def test_the_discussion_heading_counts_several_thoughts(client, seeded, author, stranger):
    make_post(seeded, author, "A first thought.")
    make_post(seeded, stranger, "A second thought.")

    assert comments_heading(client) == "2 thoughts on “Execute the POW’s…”"


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed in"])
def test_the_akismet_notice_links_to_the_privacy_page(client, seeded, author, signed_in):
    if signed_in:
        client.force_login(author)

    notice = soup(client.get(READING)).select_one("#respond .akismet-notice")

    assert text_of(notice) == (
        "This site uses Akismet to reduce spam. Learn how your comment data is processed."
    )
    link = notice.find("a")
    assert (link["href"], text_of(link)) == (
        "/privacy/",
        "Learn how your comment data is processed.",
    )


# Privacy


def test_the_privacy_page_says_what_is_stored_what_akismet_gets_and_for_how_long(client, db):
    response = client.get("/privacy/")

    assert response.status_code == 200
    main = soup(response).main
    headings = [text_of(h2) for h2 in main.find_all("h2")]
    assert headings == [
        "Your account",
        "What you post",
        "Spam filtering with Akismet",
        "How long we keep it",
        "Cookies",
    ]
    text = text_of(main)
    assert "We store your email address, a hash of your password" in text
    assert "your email address is never shown to other readers" in text
    assert (
        "we send Akismet your post’s text, your display name, your email address, your IP "
        "address, your browser’s user agent, the page you came from (the referrer)"
    ) in text
    assert "erased from our copy 15 days after the spam check is final" in text
    assert "deleted automatically after 15 days" in text


# Security headers and the Content-Security-Policy


PAGES = [
    READING,
    "/",
    "/privacy/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
]


@pytest.fixture
def several_texts(seeded, document, author, stranger):
    """Two texts, so that home lists them, and a discussion on the reading page."""
    comment = make_post(seeded, author, "A first *thought*.")
    make_post(seeded, stranger, "A reply.", parent=comment)
    make_post(seeded, stranger, "An annotation.", passage="Stalin")


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("url", PAGES)
def test_pages_send_a_strict_content_security_policy(client, several_texts, url):
    response = client.get(url)

    assert response.status_code == 200
    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_send_the_other_security_headers(client, several_texts, url):
    response = client.get(url)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def assert_nothing_inline(response) -> None:
    page = soup(response)
    # A JSON data block (allauth's email page has one) is never executed.
    inline_scripts = [
        str(script)[:120]
        for script in page.find_all("script")
        if not script.get("src") and script.get("type") != "application/json"
    ]
    assert inline_scripts == []
    assert [str(style)[:120] for style in page.find_all("style")] == []
    styled = [str(element)[:120] for element in page.find_all(style=True)]
    assert styled == []
    handlers = [
        f"{element.name} {name}"
        for element in page.find_all(True)
        for name in element.attrs
        if name.lower().startswith("on")
    ]
    assert handlers == []
    assert 'href="javascript:' not in response.content.decode().lower()


@pytest.mark.parametrize("url", PAGES)
def test_pages_have_no_inline_scripts_or_styles_for_a_visitor(client, several_texts, url):
    response = client.get(url)

    assert response.status_code == 200
    assert_nothing_inline(response)


@pytest.mark.parametrize(
    "url",
    [
        READING,
        "/",
        "/privacy/",
        "/accounts/logout/",
        "/accounts/email/",
        "/accounts/password/change/",
    ],
)
def test_pages_have_no_inline_scripts_or_styles_for_a_signed_in_reader(
    client, several_texts, author, url
):
    client.force_login(author)

    response = client.get(url)

    assert response.status_code == 200
    assert_nothing_inline(response)


def test_the_page_not_found_page_has_no_inline_scripts_or_styles(client, db):
    response = client.get("/texts/no-such-text/")

    assert response.status_code == 404
    assert_nothing_inline(response)


# Editing a text in the admin


def form_data(form) -> dict[str, str]:
    """What a browser would submit for `form` as it stands."""
    data = {}
    for field in form.find_all(["input", "textarea", "select"]):
        name = field.get("name")
        if not name or field.get("type") in {"submit", "button", "file"}:
            continue
        if field.get("type") in {"checkbox", "radio"}:
            if field.has_attr("checked"):
                data[name] = field.get("value", "on")
        elif field.name == "textarea":
            # Browsers drop the newline that Django puts after <textarea>.
            data[name] = field.get_text().removeprefix("\n")
        elif field.name == "select":
            selected = field.find("option", selected=True)
            data[name] = selected["value"] if selected else ""
        else:
            data[name] = field.get("value", "")
    return data


def admin_change_form(client, document: Document):
    response = client.get(f"/admin/annotate/document/{document.pk}/change/")
    assert response.status_code == 200
    return soup(response).select_one("form#document_form")


def test_the_admin_form_for_a_text_has_its_metadata_and_its_text(client, seeded, superuser):
    client.force_login(superuser)

    form = admin_change_form(client, seeded)

    names = [field["name"] for field in form.select(".form-row input, .form-row textarea")]
    for name in ["title", "slug", "subtitle", "citation", "source", "text"]:
        assert name in names
    assert form_data(form)["text"] == seeded.text


def test_saving_a_changed_text_in_the_admin_records_revision_two(client, seeded, superuser):
    client.force_login(superuser)
    data = form_data(admin_change_form(client, seeded))
    new_text = data["text"].replace("fightingmen", "fighting men")
    data.update(text=new_text, title="Execute the POWs", _save="Save")

    response = client.post(f"/admin/annotate/document/{seeded.pk}/change/", data, follow=True)

    assert response.status_code == 200
    messages = [text_of(li) for li in soup(response).select("ul.messagelist li")]
    assert "The text changed: saved as revision 2." in messages
    document = Document.objects.with_text().get(pk=seeded.pk)
    assert document.title == "Execute the POWs"
    assert document.current_revision.number == 2
    assert document.current_revision.created_by == superuser
    assert "not only fighting men." in document.text
    assert "fightingmen" in document.revisions.get(number=1).text
    page = soup(client.get(READING))
    assert "not only fighting men." in text_of(page.select_one("#text"))


def test_saving_an_unchanged_text_in_the_admin_records_no_revision(client, seeded, superuser):
    client.force_login(superuser)
    data = form_data(admin_change_form(client, seeded))
    data.update(subtitle="A new subtitle", _save="Save")

    response = client.post(f"/admin/annotate/document/{seeded.pk}/change/", data, follow=True)

    assert response.status_code == 200
    messages = [text_of(li) for li in soup(response).select("ul.messagelist li")]
    assert not any("revision" in message for message in messages)
    document = Document.objects.get(pk=seeded.pk)
    assert document.subtitle == "A new subtitle"
    assert list(document.revisions.values_list("number", flat=True)) == [1]


# Page not found


def test_an_unknown_text_gives_a_page_not_found_in_the_site_layout(client, db):
    response = client.get("/texts/no-such-text/")

    assert response.status_code == 404
    page = soup(response)
    assert text_of(page.title) == "Page not found · annotate"
    assert text_of(page.select_one("main h1")) == "Page not found"
    site_name = page.select_one("body > header a.site-name")
    assert (site_name["href"], text_of(site_name)) == ("/", "annotate")
    assert page.select_one('body > footer a[href="/privacy/"]')
    assert page.select_one('main a[href="/"]').get_text() == "Back to the readings"
