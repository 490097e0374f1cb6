// The reading page's behaviour: selecting a passage to annotate, opening
// threads from highlights, replying and previewing without reloading. The page
// works without it: highlights, threads and comments are plain HTML.

import { selectionAnchor, selectOffsets } from "./selection.js";

const FRAGMENT_HEADER = "X-Annotate-Fragment";
const PENDING_KEY = "annotate:pending";
// Where threads sit beside the text instead of under it (as site.css says).
// There, a bubble by the selection starts a note and the note box opens in
// the margin; on a phone, a toolbar at the bottom and a note sheet do.
const WIDE = window.matchMedia("(min-width: 64rem)");
const MARGIN_GAP = 8;

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

function announce(message) {
  const live = $("#live");
  if (!live) return;
  live.textContent = "";
  // A fresh text node makes screen readers announce a repeated message too.
  window.setTimeout(() => { live.textContent = message; }, 50);
}

// The text proper: its paragraphs, not the threads and reply boxes beside them
// (which sit inside #text too, between the paragraphs).
function inParagraph(node) {
  const element = node?.nodeType === Node.ELEMENT_NODE ? node : node?.parentElement;
  return Boolean(element?.closest("#text p[data-s]"));
}

function csrfToken(form) {
  return $("input[name=csrfmiddlewaretoken]", form)?.value ?? "";
}

const KEPT = "Your text is kept in the box.";

// The server explains every refusal in plain text (flood control with the
// seconds to wait, a closed discussion, a form error): show its words.
// Other failures are explained here, never as a bare "something went wrong".
async function postForm(form, url = form.action) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      body: new FormData(form),
      headers: { [FRAGMENT_HEADER]: "1" },
      credentials: "same-origin",
    });
  } catch {
    throw new Error(`The site could not be reached. Check your connection and post again. ${KEPT}`);
  }
  if (response.redirected) {
    throw new Error(`Your session has ended. Sign in again in another tab, then post again. ${KEPT}`);
  }
  const body = await response.text();
  if (response.ok) return { response, body };
  const said = (response.headers.get("Content-Type") ?? "").startsWith("text/plain") ? body.trim() : "";
  if (said) throw new Error(said);
  throw new Error(refusalMessage(response.status));
}

function refusalMessage(status) {
  switch (status) {
    case 403:
      // Django's CSRF check: the page is older than the session.
      return `This page has expired. Reload it, then post again. ${KEPT}`;
    case 404:
      return `This post or text is no longer there. Reload the page to see the discussion as it is now. ${KEPT}`;
    case 429:
      return `You are posting too quickly. Wait a moment and post again. ${KEPT}`;
    case 503:
      return `The site is briefly unavailable. Try again in a minute. ${KEPT}`;
    default:
      return `The site could not save your post just now. Try again in a moment. ${KEPT}`;
  }
}

function showError(form, message) {
  const error = $("[data-error]", form);
  if (error) {
    error.textContent = message;
    error.hidden = false;
  }
  announce(message);
}

function clearError(form) {
  const error = $("[data-error]", form);
  if (error) {
    error.textContent = "";
    error.hidden = true;
  }
}

class ReadingPage {
  constructor(root) {
    this.root = root;
    this.slug = root.dataset.document;
    this.anchor = null;
    this.returnFocus = null;
    this.toolbar = $("[data-toolbar]");
    this.bubble = $("[data-bubble]");
    this.composer = $("#composer");
    this.annotateButton = $("[data-annotate]");
    this.armed = null;

    document.body.classList.add("has-toolbar");
    this.trackToolbarHeight();
    this.makeTextFocusable();
    this.caret = document.createElement("span");
    this.caret.className = "text-caret";
    this.caret.setAttribute("aria-hidden", "true");
    this.caret.hidden = true;
    document.body.append(this.caret);

    document.addEventListener("selectionchange", () => this.onSelectionChange());
    document.addEventListener("click", (event) => this.onClick(event));
    document.addEventListener("keydown", (event) => this.onKeyDown(event));
    document.addEventListener("submit", (event) => this.onSubmit(event));
    document.addEventListener("toggle", (event) => this.onToggle(event), true);
    document.addEventListener("focusin", (event) => this.onFocusChange(event));
    document.addEventListener("focusout", () => window.setTimeout(() => this.placeCaret()));
    window.addEventListener("resize", () => this.placeCaret());
    WIDE.addEventListener("change", () => this.onWidthChange());
    // Pressing the bubble must not take the selection it acts on away.
    this.bubble?.addEventListener("mousedown", (event) => event.preventDefault());
    for (const control of [this.bubble, this.toolbar]) {
      control?.addEventListener("pointerdown", () => this.arm());
    }
    this.margin = new ResizeObserver(() => this.scheduleMarginLayout());
    this.observeMargin();

    this.restorePending();
  }

  get textRoot() {
    return $("#text", this.root.isConnected ? this.root : document);
  }

  // The fixed toolbar must never cover the element that has keyboard focus
  // (WCAG 2.4.11): the stylesheet keeps that much room at the bottom.
  trackToolbarHeight() {
    if (!this.toolbar) return;
    const update = () => {
      document.documentElement.style.setProperty("--toolbar-height", `${this.toolbar.offsetHeight}px`);
    };
    new ResizeObserver(update).observe(this.toolbar);
    update();
  }

  makeTextFocusable() {
    const text = this.textRoot;
    if (!text) return;
    text.tabIndex = 0;
    text.setAttribute("role", "region");
    text.setAttribute("aria-label", "Text. Select words with Shift and the arrow keys, then press Enter to annotate them.");
  }

  // selectionchange arrives as a queued task, so a key press or click can come
  // before it: read the selection afresh whenever acting on it.
  readSelection() {
    const text = this.textRoot;
    this.anchor = text ? selectionAnchor(text) : null;
    return this.anchor;
  }

  onFocusChange(event) {
    const text = this.textRoot;
    // Arriving by keyboard, put the caret at the start of the text so it can be seen.
    if (text && event.target === text && text.matches(":focus-visible")) {
      const selection = window.getSelection();
      if (!selection.rangeCount || !inParagraph(selection.anchorNode)) this.collapseToStart(text);
    }
    this.placeCaret();
  }

  collapseToStart(text) {
    const first = $("p[data-s]", text);
    if (!first) return false;
    const walker = document.createTreeWalker(first, NodeFilter.SHOW_TEXT);
    window.getSelection().collapse(walker.nextNode() ?? first, 0);
    return true;
  }

  // Text that is not editable shows no caret of its own, so keyboard readers
  // would move through it blind: draw one where the collapsed selection is.
  placeCaret() {
    if (!this.caret) return;
    const text = this.textRoot;
    const selection = window.getSelection();
    const reading = document.activeElement === text || inParagraph(document.activeElement);
    const rect = reading && selection.isCollapsed ? this.focusPointRect() : null;
    this.caret.hidden = !rect;
    if (!rect) return;
    this.caret.style.top = `${window.scrollY + rect.top}px`;
    this.caret.style.left = `${window.scrollX + rect.left}px`;
    this.caret.style.height = `${rect.height}px`;
  }

  // Where the moving end of the selection is on screen, if it is in the text.
  focusPointRect() {
    const selection = window.getSelection();
    if (!selection.rangeCount || !inParagraph(selection.focusNode)) return null;
    const range = document.createRange();
    range.setStart(selection.focusNode, selection.focusOffset);
    const rect = range.getClientRects()[0] ?? range.getBoundingClientRect();
    return rect.height ? rect : null;
  }

  // Keep the moving end of a keyboard selection on screen, above the toolbar.
  revealFocusPoint() {
    const rect = this.focusPointRect();
    if (!rect) return;
    const bottom = window.innerHeight - (this.toolbar?.hidden === false ? this.toolbar.offsetHeight : 0);
    if (rect.bottom > bottom) window.scrollBy({ top: rect.bottom - bottom + 16, behavior: "instant" });
    else if (rect.top < 0) window.scrollBy({ top: rect.top - 16, behavior: "instant" });
  }

  onSelectionChange() {
    this.readSelection();
    this.placeCaret();
    this.showAnnotateControl();
  }

  get composing() {
    return Boolean(this.composer && !this.composer.hidden);
  }

  // One control to start a note, and only while words are selected: the
  // bubble by the selection on a wide screen, the toolbar on a phone.
  showAnnotateControl() {
    const offered = Boolean(this.anchor || this.armed) && !this.composing;
    if (this.annotateButton) this.annotateButton.disabled = !offered;
    if (this.toolbar) {
      const show = offered && !WIDE.matches;
      if (show && this.anchor) {
        const hint = $("[data-toolbar-hint]", this.toolbar);
        const exact = this.anchor.exact;
        if (hint) hint.textContent = `Selected: “${exact.length > 60 ? `${exact.slice(0, 60)}…` : exact}”`;
      }
      this.toolbar.hidden = !show;
    }
    this.placeBubble(offered && WIDE.matches);
  }

  // A tap on the control may clear the selection before its click arrives
  // (phones do): keep what was selected until then.
  arm() {
    const selection = window.getSelection();
    this.armed = this.anchor && selection.rangeCount
      ? { anchor: this.anchor, range: selection.getRangeAt(0).cloneRange() }
      : null;
    window.setTimeout(() => {
      this.armed = null;
      this.showAnnotateControl();
    }, 1000);
  }

  placeBubble(show) {
    if (!this.bubble) return;
    const selection = window.getSelection();
    if (!show || !selection.rangeCount) {
      this.bubble.hidden = true;
      return;
    }
    const rects = selection.getRangeAt(0).getClientRects();
    const last = rects[rects.length - 1];
    if (!last) {
      this.bubble.hidden = true;
      return;
    }
    this.bubble.hidden = false;
    const top = window.scrollY + last.bottom + 8;
    const left = Math.min(window.scrollX + last.right - 20, window.scrollX + document.documentElement.clientWidth - this.bubble.offsetWidth - 8);
    this.bubble.style.top = `${top}px`;
    this.bubble.style.left = `${Math.max(8, left)}px`;
  }

  onKeyDown(event) {
    const text = this.textRoot;
    if (event.key === "Escape" && this.composing) {
      this.closeComposer();
      return;
    }
    if (event.key === "Tab" && this.composing && !WIDE.matches) {
      this.keepFocusInComposer(event);
      return;
    }
    const form = event.target.closest?.("[data-annotation-form], [data-reply-form]");
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.matches("textarea")) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    // Keys typed in a reply box or on a thread beside the paragraphs are theirs.
    if (!text || (event.target !== text && !inParagraph(event.target))) return;
    if (event.key === "Enter" || event.key === " ") {
      const anchor = this.readSelection();
      if (!anchor) return; // on a highlight, let the link open its thread
      if (event.key === "Enter") {
        event.preventDefault();
        this.startAnnotation();
        return;
      }
    }
    // Keyboard selection in read-only text: arrows move a caret, Shift+arrows extend it.
    const directions = { ArrowLeft: "backward", ArrowRight: "forward", ArrowUp: "backward", ArrowDown: "forward" };
    const direction = directions[event.key];
    if (!direction || event.altKey || event.metaKey) return;
    const selection = window.getSelection();
    if (!selection.rangeCount || !inParagraph(selection.anchorNode)) {
      if (!this.collapseToStart(text)) return;
    }
    const granularity = event.key === "ArrowUp" || event.key === "ArrowDown" ? "line" : event.ctrlKey ? "word" : "character";
    event.preventDefault();
    selection.modify(event.shiftKey ? "extend" : "move", direction, granularity);
    this.revealFocusPoint();
    this.placeCaret();
  }

  onClick(event) {
    const target = event.target;
    const skip = target.closest("[data-skip-to-comment]");
    if (skip) {
      // Straight into the comment box, not only to where it is.
      const box = document.getElementById(skip.hash.slice(1));
      if (box?.matches("textarea")) {
        event.preventDefault();
        box.focus();
      }
      return;
    }
    if (target.closest("[data-annotate], [data-bubble]") && !target.closest("[data-annotate-anon]")) {
      if (!this.readSelection() && this.armed) this.restoreArmed();
      if (target.closest("[data-bubble][data-anon]")) {
        this.savePending();
        window.location.href = $("[data-annotate-anon]")?.href ?? "/accounts/login/";
        return;
      }
      event.preventDefault();
      this.startAnnotation();
      return;
    }
    if (target.closest("[data-sign-in]")) {
      if (!this.readSelection() && this.armed) this.restoreArmed();
      this.savePending();
      return;
    }
    const highlight = target.closest("a.hl");
    if (highlight) {
      if (this.readSelection()) {
        event.preventDefault(); // the reader is selecting, not opening
        return;
      }
      event.preventDefault();
      this.openThreads(highlight);
      return;
    }
    const reply = target.closest("[data-reply-to]");
    if (reply && $("#reply-template")) {
      event.preventDefault();
      this.openReply(reply);
      return;
    }
    if (target.closest("[data-close]")) {
      event.preventDefault();
      const form = target.closest("form");
      if (form?.matches("[data-annotation-form]")) this.closeComposer();
      else if (form) this.closeReply(form);
      return;
    }
    if (target.closest("[data-preview]")) {
      event.preventDefault();
      this.preview(target.closest("form"));
    }
  }

  onToggle(event) {
    const thread = event.target;
    if (!(thread instanceof HTMLDetailsElement) || !thread.matches(".thread")) return;
    const id = thread.dataset.thread;
    for (const highlight of $$(`a.hl[data-posts~="${id}"]`)) {
      highlight.classList.toggle("is-active", thread.open);
    }
  }

  openThreads(highlight) {
    const ids = highlight.dataset.posts.split(" ");
    let first = null;
    for (const id of ids) {
      const thread = document.getElementById(`thread-${id}`);
      if (!thread) continue;
      thread.open = true;
      first ??= thread;
    }
    $$("a.hl.is-current").forEach((element) => element.classList.remove("is-current"));
    highlight.classList.add("is-current");
    if (first) {
      first.scrollIntoView({ block: "nearest" });
      $("summary", first)?.focus();
      announce(`${ids.length === 1 ? "Thread" : `${ids.length} threads`} opened.`);
    }
  }

  restoreArmed() {
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(this.armed.range);
    this.anchor = this.armed.anchor;
    this.armed = null;
  }

  startAnnotation() {
    if (!this.anchor) return;
    if (!this.composer) {
      this.savePending();
      window.location.href = $("[data-annotate-anon]")?.href ?? "/accounts/login/";
      return;
    }
    const form = $("form", this.composer);
    form.elements.start.value = this.anchor.start;
    form.elements.end.value = this.anchor.end;
    form.elements.exact.value = this.anchor.exact;
    $("[data-quote]", form).textContent = this.anchor.exact;
    clearError(form);
    if (this.composer.hidden) this.returnFocus = document.activeElement;
    this.markPassage();
    this.composer.hidden = false;
    this.showAnnotateControl();
    form.elements.body.focus({ preventScroll: true });
    this.placeComposer();
  }

  // Never over the passage being annotated, nor over the threads: beside the
  // text on a wide screen, pushing the threads there down; on a phone a
  // sheet at the bottom, with the passage scrolled into the room above it.
  placeComposer() {
    if (!this.composing) return;
    const wide = WIDE.matches;
    const style = this.composer.style;
    this.composer.classList.toggle("in-margin", wide);
    // Modal only where it covers the page.
    this.composer.setAttribute("aria-modal", String(!wide));
    const passage = this.passage?.getBoundingClientRect();
    const text = this.textRoot;
    if (wide && text) {
      const column = this.marginColumn(text);
      style.left = `${window.scrollX + column.left}px`;
      style.width = `${column.width}px`;
      this.composerAnchor = passage?.height ? passage.top - column.top : 0;
      document.body.classList.remove("composing");
      this.layoutMargin();
      this.composer.scrollIntoView({ block: "nearest", behavior: "instant" });
      return;
    }
    style.left = style.width = style.top = "";
    document.documentElement.style.setProperty("--composer-height", `${this.composer.offsetHeight}px`);
    document.body.classList.add("composing");
    if (!passage?.height) return;
    const room = this.composer.getBoundingClientRect().top;
    if (passage.top >= MARGIN_GAP && passage.bottom <= room - MARGIN_GAP) return;
    const above = Math.max(MARGIN_GAP, (room - passage.height) / 2);
    window.scrollBy({ top: passage.top - above, behavior: "instant" });
  }

  // The column beside the text where threads sit on a wide screen.
  marginColumn(text) {
    const box = text.getBoundingClientRect();
    const measure = $("p[data-s]", text)?.getBoundingClientRect().width ?? box.width / 2;
    const gap = 2.5 * parseFloat(getComputedStyle(document.documentElement).fontSize);
    const left = box.left + measure + gap;
    return { left, top: box.top, width: Math.max(box.right - left, 0) };
  }

  observeMargin() {
    this.margin.disconnect();
    const text = this.textRoot;
    if (!text) return;
    this.margin.observe(text);
    for (const aside of $$(".passage > .threads", text)) this.margin.observe(aside);
    this.layoutMargin();
  }

  scheduleMarginLayout() {
    if (this.marginFrame) return;
    this.marginFrame = window.requestAnimationFrame(() => {
      this.marginFrame = null;
      this.layoutMargin();
    });
  }

  // On a wide screen each paragraph's threads sit beside it, moved down only
  // as far as the threads above them (and an open note box) need: an open
  // thread never pushes the next paragraph away from this one. All sizes are
  // read before any position is written, so the page is laid out once.
  layoutMargin() {
    const text = this.textRoot;
    if (!text) return;
    const asides = $$(".passage > .threads", text);
    const wide = WIDE.matches;
    text.classList.toggle("margin-layout", wide);
    if (!wide) {
      for (const aside of asides) aside.style.top = "";
      text.style.minHeight = "";
      return;
    }
    const items = asides.map((aside) => ({
      element: aside,
      top: aside.previousElementSibling?.offsetTop ?? 0,
      height: aside.offsetHeight,
    }));
    // The note box takes its place among them, at the passage's height.
    if (this.composing && this.composer.classList.contains("in-margin")) {
      const note = { element: this.composer, top: this.composerAnchor, height: this.composer.offsetHeight };
      const after = items.findIndex((item) => item.top > note.top);
      items.splice(after < 0 ? items.length : after, 0, note);
    }
    let floor = 0;
    for (const item of items) {
      item.y = Math.max(item.top, floor);
      floor = item.y + item.height + MARGIN_GAP;
    }
    const textTop = window.scrollY + text.getBoundingClientRect().top;
    for (const item of items) {
      item.element.style.top = `${item.element === this.composer ? textTop + item.y : item.y}px`;
    }
    text.style.minHeight = `${floor}px`;
  }

  onWidthChange() {
    this.layoutMargin();
    this.showAnnotateControl();
    this.placeComposer();
  }

  // The composer covers part of the page (most of it on a phone), so it is
  // modal: Tab stays inside it and never lands on something hidden behind it
  // (WCAG 2.4.11). Escape or Cancel leave it.
  keepFocusInComposer(event) {
    const focusable = $$("textarea, input:not([type=hidden]), button:not(:disabled), a[href]", this.composer)
      .filter((element) => element.tabIndex >= 0 && element.getClientRects().length > 0);
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const inside = this.composer.contains(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault();
      last?.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault();
      first?.focus();
    }
  }

  // Writing in the note box takes the selection away; keep the passage marked
  // (CSS Custom Highlight API, where there is one) and remember it for Cancel.
  markPassage() {
    const selection = window.getSelection();
    this.passage = selection.rangeCount ? selection.getRangeAt(0).cloneRange() : null;
    if (this.passage && window.Highlight && CSS.highlights) {
      CSS.highlights.set("annotate-passage", new Highlight(this.passage));
    }
  }

  closeComposer({ focusHighlightOf } = {}) {
    if (!this.composer) return;
    this.composer.hidden = true;
    document.body.classList.remove("composing");
    this.layoutMargin();
    const form = $("form", this.composer);
    $("[data-preview-output]", form).hidden = true;
    if (window.CSS?.highlights) CSS.highlights.delete("annotate-passage");
    const passage = this.passage;
    this.passage = null;
    const highlight = focusHighlightOf && $(`a.hl[data-posts~="${focusHighlightOf}"]`);
    if (highlight) {
      highlight.focus();
      return;
    }
    // Cancelled: give the selection back, then focus back where the reader was.
    if (passage?.startContainer.isConnected && this.textRoot?.contains(passage.startContainer)) {
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(passage);
      this.onSelectionChange();
    }
    const back = this.returnFocus;
    if (back?.isConnected && back !== document.body && !back.disabled && !back.closest("[hidden]")) back.focus();
    else this.textRoot?.focus();
  }

  openReply(link) {
    const article = link.closest("article.post");
    // A reply form to this post may be open already, maybe rendered by the server.
    const existing = $$("form[data-reply-form]", this.root).find(
      (form) => form.elements.parent.value === link.dataset.replyTo,
    );
    if (existing) {
      existing.elements.body.focus();
      return;
    }
    const form = $("#reply-template").content.firstElementChild.cloneNode(true);
    const author = $(".post-author", article)?.textContent ?? "this post";
    const id = `reply-to-${link.dataset.replyTo}`;
    form.elements.parent.value = link.dataset.replyTo;
    form.elements.body.id = id;
    const label = $("[data-reply-label]", form);
    label.htmlFor = id;
    label.textContent = `Reply to ${author}`;
    article.after(form);
    form.elements.body.focus();
  }

  closeReply(form) {
    const article = form.previousElementSibling;
    form.remove();
    $("[data-reply-to]", article)?.focus();
  }

  async preview(form) {
    const output = $("[data-preview-output]", form);
    const body = form.elements.body.value;
    const data = new FormData();
    data.append("body", body);
    data.append("csrfmiddlewaretoken", csrfToken(form));
    const response = await fetch("/preview/", { method: "POST", body: data, credentials: "same-origin" });
    const text = await response.text();
    output.hidden = false;
    if (response.ok) output.innerHTML = text || "<p><em>Nothing to preview.</em></p>";
    else output.textContent = text;
  }

  async onSubmit(event) {
    const form = event.target;
    if (!form.matches("[data-annotation-form], [data-reply-form]")) return;
    event.preventDefault();
    clearError(form);
    if (!form.elements.body.value.trim()) {
      showError(form, "Write something before posting.");
      form.elements.body.focus();
      return;
    }
    const submit = $("button[type=submit]", form);
    submit.disabled = true;
    try {
      const { response, body } = await postForm(form);
      const postId = response.headers.get(`${FRAGMENT_HEADER}-Post`);
      const message = response.headers.get(`${FRAGMENT_HEADER}-Announce`) ?? "Posted.";
      const annotating = form.matches("[data-annotation-form]");
      if (annotating) window.getSelection().removeAllRanges();
      this.applyChanges(body, { sent: form });
      if (annotating) {
        form.elements.body.value = "";
        sessionStorage.removeItem(PENDING_KEY);
        this.closeComposer({ focusHighlightOf: postId });
      } else {
        const post = document.getElementById(`post-${postId}`);
        // Inside a closed thread, or behind "Show N replies": open them.
        for (let details = post?.closest("details"); details; details = details.parentElement.closest("details")) {
          details.open = true;
        }
        post?.setAttribute("tabindex", "-1");
        post?.focus();
      }
      announce(message);
    } catch (error) {
      showError(form, error.message);
    } finally {
      submit.disabled = false;
    }
  }

  // The server answers a change with the parts of the page it touched
  // (annotate/fragments.py describes them): each element replaces the one
  // with its id; a <template> removes one (data-remove) or holds one to put
  // after, before or into another where the page has none yet. The whole
  // discussion is one such part, #discussion-root. What the reader has
  // going survives: open threads, a selection in the text, reply drafts.
  applyChanges(html, { sent = null } = {}) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const open = $$("details[open][id]").map((element) => element.id);
    const current = $$("a.hl.is-current").map((element) => element.dataset.posts);
    const parts = [...template.content.children];
    const selection = this.selectionIn(parts);
    for (const part of parts) this.applyChange(part, sent);
    for (const id of open) {
      const details = document.getElementById(id);
      if (details) details.open = true;
    }
    for (const thread of $$("details.thread[open]", this.root)) {
      for (const highlight of $$(`a.hl[data-posts~="${thread.dataset.thread}"]`)) highlight.classList.add("is-active");
    }
    for (const posts of current) {
      $(`a.hl[data-posts="${posts}"]`, this.root)?.classList.add("is-current");
    }
    if (selection) selectOffsets(this.textRoot, selection.start, selection.end);
    this.makeTextFocusable();
    this.observeMargin();
  }

  applyChange(part, sent) {
    if (part.matches("template[data-remove]")) {
      document.getElementById(part.dataset.remove)?.remove();
      return;
    }
    let where = null;
    if (part.matches("template")) {
      where = part.dataset;
      part = part.content.firstElementChild;
      if (!part) return;
    }
    const old = part.id && document.getElementById(part.id);
    if (old) {
      const drafts = this.draftsIn(old, sent);
      old.replaceWith(part);
      for (const form of drafts) document.getElementById(`post-${form.elements.parent.value}`)?.after(form);
    } else if (where?.after) {
      document.getElementById(where.after)?.after(part);
    } else if (where?.before) {
      document.getElementById(where.before)?.before(part);
    } else if (where?.into) {
      document.getElementById(where.into)?.append(part);
    }
    if (part.id === "discussion-root" && part.isConnected) this.root = part;
  }

  // Reply boxes with words in them, other than the one just sent.
  draftsIn(element, sent) {
    return $$("form[data-reply-form]", element).filter(
      (form) => form !== sent && form.elements.body.value.trim(),
    );
  }

  // The reader's selection in the text, if a part replaces what holds it.
  selectionIn(parts) {
    const selection = window.getSelection();
    if (!selection.rangeCount || selection.isCollapsed) return null;
    const touched = parts.some((part) => {
      const id = part.matches("template") ? (part.dataset.remove ?? part.content.firstElementChild?.id) : part.id;
      const element = id && document.getElementById(id);
      return element && (element.contains(selection.anchorNode) || element.contains(selection.focusNode));
    });
    return touched ? this.readSelection() : null;
  }

  savePending() {
    const pending = { slug: this.slug };
    if (this.anchor) pending.anchor = this.anchor;
    const draft = $("#composer-body")?.value;
    if (draft) pending.draft = draft;
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  }

  restorePending() {
    let pending;
    try {
      pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null");
    } catch {
      pending = null;
    }
    if (!pending || pending.slug !== this.slug || !pending.anchor) return;
    if (!selectOffsets(this.textRoot, pending.anchor.start, pending.anchor.end)) return;
    this.anchor = selectionAnchor(this.textRoot);
    if (this.anchor?.exact !== pending.anchor.exact) {
      // The text changed meanwhile: these offsets now hold other words.
      sessionStorage.removeItem(PENDING_KEY);
      window.getSelection().removeAllRanges();
      this.anchor = null;
      return;
    }
    if (this.composer && this.anchor) {
      sessionStorage.removeItem(PENDING_KEY);
      this.startAnnotation();
      if (pending.draft) $("#composer-body").value = pending.draft;
      announce("Your selection is back. Write your note.");
    }
  }
}

function enablePreviewButtons() {
  for (const button of $$("[data-comment-form] [data-preview]")) button.hidden = false;
}

const root = document.getElementById("discussion-root");
// An earlier revision is for reading only: no selecting to annotate there.
if (root && !root.hasAttribute("data-readonly")) {
  new ReadingPage(root);
  enablePreviewButtons();
}
