"""What the browser tests share: signing in as a person would, axe, and fixture data."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from annotate.anchoring import anchor_at
from annotate.models import Document, Post, User
from annotate.rendering import render_markdown

# The first occurrence of a phrase in the text's paragraphs, as a DOM Range (or null).
PHRASE_RANGE = """(phrase) => {
  for (const paragraph of document.querySelectorAll("#text p")) {
    const walker = document.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const index = node.data.indexOf(phrase);
      if (index < 0) continue;
      const range = document.createRange();
      range.setStart(node, index);
      range.setEnd(node, index + phrase.length);
      return range;
    }
  }
  return null;
}"""

PASSWORD = "correct horse 42"  # what tests/conftest.py gives its users
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def assert_no_axe_violations(page: Page) -> None:
    """axe-core finds nothing against WCAG 2.2 A and AA on the page as it is now."""
    # Axe injects its script with page.evaluate, which a strict CSP does not block.
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, results.generate_report()


def sign_in(page: Page, email: str, *, next_path: str = "") -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"/accounts/login/?next={next_path}" if next_path else "/accounts/login/")
    fill_sign_in_form(page, email)


def fill_sign_in_form(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator(".signed-in-as")).to_be_visible()
    page.wait_for_load_state()  # scripts have run: the page is ready for readers


def annotate(document: Document, author: User, phrase: str, body: str) -> Post:
    """An annotation on the first occurrence of `phrase`, made without a browser."""
    start = document.text.index(phrase)
    anchor = anchor_at(document.text, start, start + len(phrase))
    return Post.objects.create(
        document=document,
        author=author,
        revision=document.current_revision,
        exact=anchor.exact,
        prefix=anchor.prefix,
        suffix=anchor.suffix,
        start=anchor.start,
        end=anchor.end,
        body=body,
        body_html=render_markdown(body),
    )


def comment(document: Document, author: User, body: str, *, parent: Post | None = None) -> Post:
    """A page comment, or a reply to `parent`, made without a browser."""
    return Post.objects.create(
        document=document,
        author=author,
        parent=parent,
        depth=parent.depth + 1 if parent else 0,
        body=body,
        body_html=render_markdown(body),
    )
