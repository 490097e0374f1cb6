"""
HTML, and the formats that become HTML. nh3, the site's sanitiser, parses
the HTML and removes scripts, styles and whatever else is not reading
matter; _Blocks then walks what is left, one paragraph per block, counting
the images it leaves out. Markdown is rendered to HTML by markdown-it and
read the same way, with the title of a YAML front matter as a candidate.
"""

import re
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt

from .base import (
    _SPACES,
    ConversionError,
    _collapse,
    _Extracted,
    _images_left_out,
)

# HTML, and the formats that become HTML.

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "header",
    "hgroup", "hr", "legend", "li", "main", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "tfoot", "thead", "tr", "ul",
} | _HEADINGS  # fmt: skip
_INLINE = {
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "i",
    "img", "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup",
    "td", "th", "time", "u", "var", "wbr",
}  # fmt: skip
# Removed with everything inside them: not reading matter.
_DROPPED_WITH_CONTENT = {
    "script", "style", "noscript", "template", "nav", "iframe", "object", "svg", "math",
    "button", "select", "textarea", "form",
}  # fmt: skip
_BULLETS = ("•", "◦", "▪")
# Mammoth's links from a footnote back to where it is cited ("↑").
_BACK_LINK = re.compile(r"#(footnote|endnote)-ref-")


def _read_html(html: str, *, titles: list[str | None] | None = None) -> _Extracted:
    blocks = _Blocks()
    blocks.read(html)
    return blocks.extracted(titles or [])


class _Blocks(HTMLParser):
    """
    Paragraphs from sanitised HTML: one per block (paragraph, heading, list
    item, table row, ...), with whitespace collapsed as a browser would.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.page_title = ""
        self.images = 0
        self.flattened_tables = False
        self._buffer: list[str] = []
        self._prefix = ""
        self._lists: list[list] = []  # [tag, next number] per open list
        self._pre = 0
        self._in_title = False
        self._skipping = 0
        self._cell_depth = 0
        self._row: list[str] | None = None
        self._outside_cell: list[str] = []

    def read(self, html: str) -> None:
        self.reset()  # so that one _Blocks can read an e-book's chapters one by one
        self.feed(_sanitise(html))
        self.close()
        self._flush()

    def extracted(self, titles: list[str | None]) -> _Extracted:
        warnings = []
        if self.images:
            warnings.append(_images_left_out(self.images))
        if self.flattened_tables:
            warnings.append(
                "Tables were flattened: each row is now one paragraph, its cells separated by “|”."
            )
        first_h1 = next((text for tag, text in self.headings if tag == "h1"), None)
        first_heading = self.headings[0][1] if self.headings else None
        return _Extracted(
            self.paragraphs, warnings, [*titles, self.page_title, first_h1, first_heading]
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and _BACK_LINK.match(dict(attrs).get("href") or ""):
            self._skipping += 1
        elif tag == "title":
            self._flush()
            self._in_title = True
        elif tag == "img":
            self.images += 1
        elif tag == "br":
            self._buffer.append(" " if self._cell_depth else "\n")
        elif tag in ("td", "th"):
            self._start_cell()
        elif tag == "tr" and not self._cell_depth:
            self._flush()
            self._row = []
        elif tag in _BLOCKS:
            self._block_boundary()
            if tag in ("ul", "ol"):
                start = dict(attrs).get("start") or "1"
                self._lists.append([tag, int(start) if start.isdigit() else 1])
            elif tag == "li" and not self._cell_depth:
                self._prefix = self._list_marker()
            elif tag == "pre":
                self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._skipping:
            self._skipping -= 1
        elif tag == "title":
            self.page_title = _collapse("".join(self._buffer))
            self._buffer = []
            self._in_title = False
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr" and not self._cell_depth:
            self._end_row()
        elif tag in _BLOCKS:
            if tag in _HEADINGS and not self._cell_depth:
                text = self._flush()
                if text:
                    self.headings.append((tag, text))
            self._block_boundary()
            if tag in ("ul", "ol") and self._lists:
                self._lists.pop()
            elif tag == "pre" and self._pre:
                self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        self._buffer.append(data if self._pre else _SPACES.sub(" ", data))

    def _block_boundary(self) -> None:
        if self._cell_depth:
            self._buffer.append(" ")
        else:
            self._flush()

    def _list_marker(self) -> str:
        if not self._lists:
            return ""
        current = self._lists[-1]
        if current[0] == "ol":
            current[1] += 1
            return f"{current[1] - 1}. "
        depth = sum(1 for tag, _ in self._lists if tag == "ul")
        return _BULLETS[min(depth, len(_BULLETS)) - 1] + " "

    def _start_cell(self) -> None:
        if self._cell_depth:  # a table inside a cell: its words join the cell's
            self._buffer.append(" ")
            self._cell_depth += 1
            return
        if self._row is None:  # a cell outside a row, which html5ever does not make
            self._flush()
            self._row = []
        self._outside_cell, self._buffer = self._buffer, []
        self._cell_depth = 1

    def _end_cell(self) -> None:
        if not self._cell_depth:
            return
        self._cell_depth -= 1
        if self._cell_depth:
            self._buffer.append(" ")
            return
        cell = _collapse("".join(self._buffer))
        self._buffer = self._outside_cell
        if cell and self._row is not None:
            self._row.append(cell)

    def _end_row(self) -> None:
        if self._row:
            if len(self._row) > 1:
                self.flattened_tables = True
            self.paragraphs.append(" | ".join(self._row))
        self._row = None

    def _flush(self) -> str:
        """End the paragraph being read; returns its text."""
        text = "".join(self._buffer)
        self._buffer = []
        if self._in_title:
            return ""
        if self._pre:
            text = text.strip("\n")
        else:
            text = "\n".join(_collapse(line) for line in text.split("\n")).strip()
        if text.strip():
            text = self._prefix + text
            self._prefix = ""
            self.paragraphs.append(text)
            return text
        return ""


# html5ever takes time that grows with the square of the nesting depth
# (100,000 nested <div>s: a minute); real documents nest a few dozen deep.
MAX_HTML_DEPTH = 1_000
# Never matching across a "<", so that no run of unclosed tags makes it backtrack.
_TAG = re.compile(r"<(/?)([a-zA-Z][^\s/<>]*)[^<>]*?(/?)>")
# Elements that never hold others, or that the next of their kind closes:
# they add no depth however many there are.
_FLAT_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
    "thead", "tbody", "tfoot", "colgroup", "caption", "html", "head", "body", "rb", "rt",
    "rp", "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip


def _sanitise(html: str) -> str:
    """What nh3 (html5ever and ammonia) keeps of `html`: well-formed, text and blocks only."""
    if _nesting_depth(html) > MAX_HTML_DEPTH:
        raise ConversionError(
            f"This file’s markup is nested more than {MAX_HTML_DEPTH:,} levels deep, which "
            "no real document is, so it was not read."
        )
    return nh3.clean(
        html,
        tags=_BLOCKS | _INLINE | {"title"},
        attributes={"a": {"href"}, "ol": {"start"}},
        clean_content_tags=_DROPPED_WITH_CONTENT,
        strip_comments=True,
        link_rel=None,
    )


def _nesting_depth(html: str) -> int:
    """How deep `html`'s elements nest, counting an unclosed one as open to the end."""
    depth = deepest = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _FLAT_ELEMENTS:
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


# Markdown.

_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.M | re.I)


def _read_markdown(text: str) -> _Extracted:
    """Markdown rendered to HTML and read as HTML; a YAML front matter's title is used."""
    titles = []
    front_matter = _FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if front_matter:
        title = _FRONT_MATTER_TITLE.search(front_matter.group(1))
        titles.append(title.group(1).strip("'\"") if title else None)
        text = text.replace("\r\n", "\n")[front_matter.end() :]
    return _read_html(_markdown.render(text), titles=titles)
