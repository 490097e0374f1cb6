"""
The admin as a moderator and an instructor use it, in a real browser: every
page they open passes axe (WCAG 2.2 A and AA), and every link on it opens.
"""

from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from annotate.models import User
from tests.browser import WCAG_TAGS, sign_in
from tests.test_admin_privacy import ClassDesk, class_desk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "/admin/annotate"
# Links that do something rather than show something, even by GET.
NOT_FOLLOWED = {"/admin/logout/", "/accounts/logout/"}
SENT_AWAY = {"/admin/", "/admin/login/", "/accounts/login/"}


@pytest.fixture
def desk(seeded, document) -> ClassDesk:
    return class_desk(seeded, document)


def instructor_pages(desk: ClassDesk) -> list[str]:
    classroom, post = desk.classroom.pk, desk.annotation.pk
    return [
        "/admin/",
        f"{ADMIN}/",
        f"{ADMIN}/post/",
        f"{ADMIN}/post/?status__exact=pending&_facets=True",
        f"{ADMIN}/post/?q=Paranoia",
        f"{ADMIN}/post/{post}/change/",
        f"{ADMIN}/post/{post}/history/",
        f"{ADMIN}/post/akismet-status/",
        f"{ADMIN}/flag/",
        f"{ADMIN}/flag/{desk.flag.pk}/change/",
        f"{ADMIN}/classroom/",
        f"{ADMIN}/classroom/add/",
        f"{ADMIN}/classroom/{classroom}/change/",
        f"{ADMIN}/classroom/{classroom}/dashboard/",
        f"{ADMIN}/classroom/{classroom}/history/",
        f"{ADMIN}/membership/",
        f"{ADMIN}/membership/{desk.student.memberships.get().pk}/change/",
        f"{ADMIN}/document/",
        f"{ADMIN}/document/{desk.class_text.pk}/change/",
        f"{ADMIN}/document/{desk.class_text.pk}/history/",
        f"{ADMIN}/membership/{desk.student.memberships.get().pk}/delete/",
    ]


def moderator_pages(desk: ClassDesk) -> list[str]:
    post = desk.public_post.pk
    return [
        "/admin/",
        f"{ADMIN}/",
        f"{ADMIN}/post/",
        f"{ADMIN}/post/?flagged=yes&deleted=no&_facets=True",
        f"{ADMIN}/post/?q=public",
        f"{ADMIN}/post/{post}/change/",
        f"{ADMIN}/post/{post}/history/",
        f"{ADMIN}/post/akismet-status/",
        f"{ADMIN}/flag/",
        f"{ADMIN}/classroom/",
        f"{ADMIN}/document/",
        f"{ADMIN}/document/{desk.public_text.pk}/change/",
        f"{ADMIN}/moderationsettings/1/change/",
        f"{ADMIN}/moderationsettings/1/history/",
        "/admin/password_change/",
    ]


def superuser_pages(desk: ClassDesk) -> list[str]:
    """The users' pages, which only superusers open, and a class as they see it."""
    return [
        f"{ADMIN}/user/",
        f"{ADMIN}/user/?q=example.com",
        f"{ADMIN}/user/{desk.student.pk}/change/",
        f"{ADMIN}/user/{desk.student.pk}/history/",
        f"{ADMIN}/post/{desk.annotation.pk}/change/",
        f"{ADMIN}/classroom/{desk.classroom.pk}/change/",
        f"{ADMIN}/classroom/{desk.classroom.pk}/dashboard/",
        f"{ADMIN}/document/{desk.class_text.pk}/change/",
    ]


def axe_violations(page: Page) -> list[str]:
    """What axe finds against WCAG 2.2 A and AA, one line per rule and element."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [
        f"{violation['id']}: {' '.join(node['target'])}: {node['failureSummary']!r}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


def links_on(page: Page) -> set[str]:
    """The page's same-origin links as the browser resolves them (scripts fill some in)."""
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    origin = urlsplit(page.url)
    return {
        href.split("#")[0]
        for href in hrefs
        if urlsplit(href).netloc == origin.netloc and urlsplit(href).path not in NOT_FOLLOWED
    }


def refusal(page: Page, url: str) -> str | None:
    """Why following `url` fails its viewer: refused, missing, broken, or sent away."""
    response = page.request.get(url, max_redirects=0)
    if response.status in (403, 404) or response.status >= 500:
        return f"{response.status}"
    location = response.headers.get("location", "")
    # The admin answers a page out of reach by its index ("doesn't exist"), or a sign-in.
    if response.status == 302 and urlsplit(location).path in SENT_AWAY:
        return f"302 to {location}"
    return None


def problems_on_pages(page: Page, paths: list[str]) -> dict[str, list[str]]:
    """For each page: its axe violations, and each link on it that fails its viewer."""
    problems, checked = {}, {}
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, (path, response.status)
        page.wait_for_load_state()
        found = axe_violations(page)
        for url in sorted(links_on(page)):
            if url not in checked:
                checked[url] = refusal(page, url)
            if checked[url]:
                found.append(f"link {url}: {checked[url]}")
        if found:
            problems[path] = found
    return problems


def signed_in_admin(page: Page, user: User) -> Page:
    sign_in(page, user.email)
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


def test_every_admin_page_an_instructor_opens_is_accessible_and_links_only_where_they_may_go(
    page: Page, desk
):
    signed_in_admin(page, desk.instructor)

    assert problems_on_pages(page, instructor_pages(desk)) == {}


def test_every_admin_page_a_moderator_opens_is_accessible_and_links_only_where_they_may_go(
    page: Page, desk
):
    signed_in_admin(page, desk.moderator)

    assert problems_on_pages(page, moderator_pages(desk)) == {}


def test_the_users_pages_a_superuser_opens_are_accessible_and_their_links_open(page: Page, desk):
    signed_in_admin(page, desk.superuser)

    assert problems_on_pages(page, superuser_pages(desk)) == {}


def test_class_pages_stay_accessible_on_a_phone_and_the_dashboard_fits_it(page: Page, desk):
    signed_in_admin(page, desk.instructor)
    page.set_viewport_size({"width": 375, "height": 740})
    dashboard = f"{ADMIN}/classroom/{desk.classroom.pk}/dashboard/"

    problems = problems_on_pages(
        page, [f"{ADMIN}/classroom/{desk.classroom.pk}/change/", f"{ADMIN}/post/", dashboard]
    )

    assert problems == {}
    # Its wide tables scroll inside their boxes; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_admins_own_sign_in_page_is_accessible(page: Page, desk):
    page.goto("/admin/login/?next=/admin/")

    assert axe_violations(page) == []

    page.get_by_label("Email address").fill(desk.moderator.email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errornote")).to_be_visible()
    assert axe_violations(page) == []


def test_the_join_link_is_the_full_address_and_its_copy_button_copies_it(
    page: Page, desk, live_server, settings
):
    settings.SITE_URL = live_server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    signed_in_admin(page, desk.instructor)
    join_url = live_server.url + desk.classroom.get_join_url()

    for path in (
        f"{ADMIN}/classroom/{desk.classroom.pk}/change/",
        f"{ADMIN}/classroom/{desk.classroom.pk}/dashboard/",
    ):
        page.goto(path)
        address = page.get_by_role("textbox", name="Join link")
        expect(address).to_have_value(join_url)
        expect(address).to_have_attribute("readonly", "")
        page.evaluate("navigator.clipboard.writeText('')")

        page.get_by_role("button", name="Copy link").click()

        expect(page.get_by_role("status").filter(has_text="Copied.")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == join_url

    # The copied address works: it sends a member on to the class's page.
    page.goto(join_url)
    expect(page).to_have_url(live_server.url + desk.classroom.get_absolute_url())


def test_every_admin_page_an_instructor_opens_is_accessible_in_the_dark_theme(page: Page, desk):
    signed_in_admin(page, desk.instructor)
    page.emulate_media(color_scheme="dark")
    problems = {}

    for path in instructor_pages(desk):
        page.goto(path)
        if found := axe_violations(page):
            problems[path] = found

    assert problems == {}


def test_messages_errors_and_added_rows_on_an_instructors_pages_stay_accessible(page: Page, desk):
    signed_in_admin(page, desk.instructor)
    problems = {}

    def check(what: str) -> None:
        if found := axe_violations(page):
            problems[what] = found

    page.goto(f"{ADMIN}/classroom/{desk.classroom.pk}/change/")
    page.get_by_role("button", name="Add another Reading").click()
    check("a class with a new reading row")
    page.get_by_role("textbox", name="Name:").fill("")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".errornote")).to_be_visible()
    check("a class saved without its name")

    page.goto(f"{ADMIN}/post/{desk.annotation.pk}/change/")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messagelist")).to_contain_text("approved and published")
    check("a post after a decision")

    page.goto(f"{ADMIN}/post/")
    page.get_by_role("checkbox", name="Select this object for an action").first.check()
    page.get_by_label("Action:").select_option(label="Remove the selected posts")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text("removed")
    check("the list of posts after an action")

    assert problems == {}
