"""Markdown bodies: CommonMark rendered once at save time, then sanitised."""

import nh3
from markdown_it import MarkdownIt

MAX_BODY_LENGTH = 10_000

# CommonMark without raw HTML or images. markdown-it-py caps nesting depth
# (maxNesting), so deeply nested input renders flat instead of recursing.
_markdown = MarkdownIt("commonmark", {"html": False, "typographer": False}).disable("image")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


def render_markdown(source: str) -> str:
    html = _markdown.render(source)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
    )
