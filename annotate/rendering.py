"""Markdown bodies: CommonMark rendered once at save time, then sanitised."""

import nh3
from django.utils.html import linebreaks
from markdown_it import MarkdownIt

MAX_BODY_LENGTH = 10_000

# CommonMark without raw HTML or images, with bare web addresses made links
# (linkify-it-py finds them). markdown-it-py caps nesting depth (maxNesting)
# instead of recursing; see render_markdown for what is shown then.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "typographer": False, "linkify": True})
    .enable("linkify")
    .disable("image")
)
MAX_NESTING = _markdown.options["maxNesting"]
# Blocks that hold text; any other block opened at the deepest level is a container.
_LEAF_BLOCKS = {"paragraph_open", "heading_open"}

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


def render_markdown(source: str) -> str:
    """
    Sanitised HTML for a post. Markdown nested too deeply is shown as plain
    paragraphs instead, so that every word stays and no page gets a tree
    thousands of elements deep (see _too_deep).
    """
    env: dict = {}
    tokens = _markdown.parse(source, env)
    if _too_deep(tokens):
        html = linebreaks(source, autoescape=True)
    else:
        html = _markdown.renderer.render(tokens, _markdown.options, env)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
    )


def count_links(source: str) -> int:
    """How many links a post shows its readers, bare addresses made links included."""
    return sum(
        child.type == "link_open"
        for token in _markdown.parse(source)
        for child in token.children or ()
    )


def _too_deep(tokens) -> bool:
    """
    Whether a quote or list is opened at markdown-it's nesting cap (it would
    drop everything inside), or emphasis and links nest deeper than the cap
    (markdown-it does not cap those: `*` * 5000 makes 2,500 nested elements).
    """
    for token in tokens:
        if token.nesting == 1 and token.level >= MAX_NESTING - 1 and token.type not in _LEAF_BLOCKS:
            return True
        depth = 0
        for child in token.children or ():
            depth += child.nesting
            if depth > MAX_NESTING:
                return True
    return False
