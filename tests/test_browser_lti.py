"""
Launches from an LMS in Chromium, inside the LMS's iframe: the LMS's course
page is served by the test platform on 127.0.0.1 and frames the site on
localhost, another site, so every cookie the site sets there is a
third-party cookie. An instructor adds the tool by deep linking (choosing a
reading, which creates the LMS's gradebook column); a student opens the
assignment, lands on the reading signed in, and posts in the frame.
"""

import jwt
import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from annotate.models import Classroom, Post, Reading
from tests.lti_platform import INSTRUCTOR, Platform

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"


@pytest.fixture
def lms(live_server):
    """The LMS on 127.0.0.1, framing the site on localhost: another site."""
    cache.clear()
    platform = Platform(host="127.0.0.1")
    platform.tool_login_url = f"{live_server.url}/lti/login/"
    platform.register()
    yield platform
    platform.close()


def course_page(platform: Platform, hint: str, **claims) -> str:
    platform.pending[hint] = claims
    return f"{platform.issuer}/course/{hint}"


def test_deep_link_then_a_students_launch_in_the_lms_frame(page: Page, lms, seeded):
    # The instructor adds the tool to an assignment: the LMS sends a deep linking request.
    return_url = f"{lms.issuer}/deep-link-return"
    page.goto(
        course_page(
            lms,
            "teacher",
            sub="teacher-1",
            name="Tess Teacher",
            email="tess@school.example",
            roles=[INSTRUCTOR],
            message_type="LtiDeepLinkingRequest",
            **{
                DL_SETTINGS: {
                    "deep_link_return_url": return_url,
                    "accept_types": ["ltiResourceLink"],
                    "accept_presentation_document_targets": ["iframe"],
                }
            },
        )
    )
    tool = page.frame_locator("#tool")
    expect(tool.get_by_role("heading", name="Choose the reading")).to_be_visible()
    expect(tool.get_by_text("has no readings yet")).to_be_visible()
    tool.get_by_role("link", name="Add a reading").click()

    # A text already on the site becomes the class's reading; the picker comes back.
    expect(tool.get_by_role("heading", name="Add a reading")).to_be_visible()
    tool.locator("select[name=document]").select_option(label=seeded.title)
    tool.get_by_role("button", name="Assign this text").click()
    expect(tool.get_by_role("heading", name="Choose the reading")).to_be_visible()
    tool.get_by_label(seeded.title).check()
    tool.get_by_role("button", name="Add it to the LMS").click()

    # The answer goes back to the LMS: a resource link with a gradebook column.
    expect(tool.get_by_text("Received.")).to_be_visible()
    [(_, _, form)] = [item for item in lms.received if item[1] == "/deep-link-return"]
    answer = jwt.decode(form["JWT"], options={"verify_signature": False})
    [item] = answer[CONTENT_ITEMS]
    reading = Reading.objects.get()
    assert item["custom"] == {"reading": reading.document.slug}
    assert item["lineItem"]["scoreMaximum"] > 0

    # A student opens the new assignment in the LMS: in the frame, on the reading, signed in.
    student = page.context.browser.new_context()
    lms_tab = student.new_page()
    lms_tab.goto(
        course_page(
            lms,
            "student",
            sub="student-1",
            name="Ada Student",
            email="ada@school.example",
            resource_link={"id": "assignment-1", "title": item["title"]},
            custom=item["custom"],
        )
    )
    frame = lms_tab.frame_locator("#tool")
    expect(frame.get_by_role("heading", name=seeded.title, exact=True)).to_be_visible()
    expect(frame.locator(".signed-in-as")).to_contain_text("Ada Student")

    # Posting works in the frame: the session and CSRF cookies came back.
    frame.locator("[data-comment-form] textarea").fill("The returning prisoners were suspect.")
    frame.get_by_role("button", name="Post Comment").click()
    expect(frame.get_by_text("The returning prisoners were suspect.")).to_be_visible()
    assert Post.objects.get().author.email == "ada@school.example"
    assert Classroom.objects.get().memberships.count() == 2
    student.close()


# A browser that keeps no cookies in a cross-site frame: the page's script sees its
# cookie writes vanish there (and only there), as under a third-party cookie block.
BLOCK_FRAME_COOKIES = """
if (window.top !== window) {
  Object.defineProperty(document, "cookie", {get: () => "", set: () => {}});
}
"""


def test_where_the_frame_keeps_no_cookies_the_launch_goes_on_in_a_new_tab(
    page: Page, lms, live_server
):
    page.context.add_init_script(BLOCK_FRAME_COOKIES)
    page.goto(course_page(lms, "student", sub="student-2", name="Bo Student", email=None))
    tool = page.frame_locator("#tool")
    expect(tool.get_by_text("blocks the cookies")).to_be_visible()

    with page.context.expect_page() as opened:
        tool.get_by_role("link", name="Open it in a new tab").click()
    tab = opened.value
    tab.wait_for_load_state()

    expect(tab.locator(".signed-in-as")).to_contain_text("Bo Student")
    expect(tab.get_by_text("has not chosen the reading")).to_be_visible()
    assert tab.url.startswith(live_server.url)  # the tool's own tab, at the top level
