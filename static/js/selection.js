// Turning a browser selection into W3C selectors, and back.
//
// Every run of text on the page sits in an element carrying `data-s`, its
// offset in the document's text counted in Unicode code points (what the
// server stores). Paragraphs are separated by newlines in the stored text.

export function codePointLength(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

// UTF-16 index of the `count`-th code point of `text`.
function utf16Index(text, count) {
  let index = 0;
  for (const character of text) {
    if (count <= 0) break;
    index += character.length;
    count -= 1;
  }
  return index;
}

export function paragraphsOf(textRoot) {
  return [...textRoot.querySelectorAll("p[data-s]")].map((element) => {
    const text = element.textContent;
    const start = Number(element.dataset.s);
    return { element, text, start, end: start + codePointLength(text) };
  });
}

// Offset (code points) of a DOM boundary point, clamped into the text.
function boundaryOffset(paragraphs, node, offset, isStart) {
  for (const paragraph of paragraphs) {
    const element = paragraph.element;
    if (element === node || element.contains(node)) {
      const range = document.createRange();
      range.setStart(element, 0);
      range.setEnd(node, offset);
      return paragraph.start + codePointLength(range.toString());
    }
  }
  // Outside every paragraph (a heading, a thread beside the text): snap to
  // the nearest paragraph edge in the direction of the selection.
  const point = document.createRange();
  point.setStart(node, offset);
  if (isStart) {
    for (const paragraph of paragraphs) {
      if (point.comparePoint(paragraph.element, 0) >= 0) return paragraph.start;
    }
    return null;
  }
  for (const paragraph of [...paragraphs].reverse()) {
    if (point.comparePoint(paragraph.element, paragraph.element.childNodes.length) <= 0) {
      return paragraph.end;
    }
  }
  return null;
}

// The stored text between two offsets, rebuilt from the paragraphs on the page.
export function textBetween(paragraphs, start, end) {
  let result = "";
  let position = start;
  for (const paragraph of paragraphs) {
    if (paragraph.end <= position) continue;
    if (paragraph.start >= end) break;
    if (paragraph.start > position) {
      result += "\n".repeat(paragraph.start - position);
      position = paragraph.start;
    }
    const from = utf16Index(paragraph.text, position - paragraph.start);
    const to = utf16Index(paragraph.text, Math.min(end, paragraph.end) - paragraph.start);
    result += paragraph.text.slice(from, to);
    position = Math.min(end, paragraph.end);
  }
  return result;
}

// {start, end, exact} for the current selection inside textRoot, or null.
export function selectionAnchor(textRoot, selection = window.getSelection()) {
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!textRoot.contains(range.commonAncestorContainer) && range.commonAncestorContainer !== textRoot) {
    if (!range.intersectsNode(textRoot)) return null;
  }
  const paragraphs = paragraphsOf(textRoot);
  const start = boundaryOffset(paragraphs, range.startContainer, range.startOffset, true);
  const end = boundaryOffset(paragraphs, range.endContainer, range.endOffset, false);
  if (start === null || end === null || end <= start) return null;
  const exact = textBetween(paragraphs, start, end);
  const trimmed = exact.trim();
  if (!trimmed) return null;
  // A word selected by keyboard or a double tap often brings the space after
  // it: the quote is the words alone. (Whitespace is one code point each.)
  const leading = exact.length - exact.trimStart().length;
  const trailing = exact.length - exact.trimEnd().length;
  return { start: start + leading, end: end - trailing, exact: trimmed };
}

// Select the given offsets again (after signing in, say).
export function selectOffsets(textRoot, start, end) {
  const paragraphs = paragraphsOf(textRoot);
  const locate = (offset) => {
    for (const paragraph of paragraphs) {
      if (offset >= paragraph.start && offset <= paragraph.end) {
        let remaining = offset - paragraph.start;
        const walker = document.createTreeWalker(paragraph.element, NodeFilter.SHOW_TEXT);
        let node = walker.nextNode();
        while (node) {
          const length = codePointLength(node.data);
          if (remaining <= length) return [node, utf16Index(node.data, remaining)];
          remaining -= length;
          node = walker.nextNode();
        }
      }
    }
    return null;
  };
  const from = locate(start);
  const to = locate(end);
  if (!from || !to) return false;
  const range = document.createRange();
  range.setStart(...from);
  range.setEnd(...to);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return true;
}
