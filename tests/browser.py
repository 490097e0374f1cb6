"""
What the browser tests share: finding a phrase on the page, signing in as a
person would, and axe. Their data comes from tests/factories.py.
"""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

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

# Selects that phrase as a reader would, scrolled into view; false if it is not there.
SELECT_PHRASE = f"""(phrase) => {{
  const range = ({PHRASE_RANGE})(phrase);
  if (!range) return false;
  range.startContainer.parentElement.scrollIntoView({{block: "center", behavior: "instant"}});
  getSelection().removeAllRanges();
  getSelection().addRange(range);
  return true;
}}"""

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
