// The reading page's behaviour: selecting a passage to annotate, opening
// threads from highlights, replying and previewing without reloading. The page
// works without it: highlights, threads and comments are plain HTML.

import { selectionAnchor, selectOffsets } from "./selection.js";

const FRAGMENT_HEADER = "X-Annotate-Fragment";
const PENDING_KEY = "annotate:pending";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

function announce(message) {
  const live = $("#live");
  if (!live) return;
  live.textContent = "";
  // A fresh text node makes screen readers announce a repeated message too.
  window.setTimeout(() => { live.textContent = message; }, 50);
}

function csrfToken(form) {
  return $("input[name=csrfmiddlewaretoken]", form)?.value ?? "";
}

async function postForm(form, url = form.action) {
  const response = await fetch(url, {
    method: "POST",
    body: new FormData(form),
    headers: { [FRAGMENT_HEADER]: "1" },
    credentials: "same-origin",
  });
  if (response.status === 403 || response.redirected) {
    throw new Error("Your session has ended. Sign in again; your text is kept in the box.");
  }
  const body = await response.text();
  if (!response.ok) {
    throw new Error(response.status === 400 ? body : "Something went wrong on our side. Your text is kept; try again in a moment.");
  }
  return { response, body };
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

    if (this.toolbar) this.toolbar.hidden = false;
    document.body.classList.add("has-toolbar");
    this.makeTextFocusable();

    document.addEventListener("selectionchange", () => this.onSelectionChange());
    document.addEventListener("click", (event) => this.onClick(event));
    document.addEventListener("keydown", (event) => this.onKeyDown(event));
    document.addEventListener("submit", (event) => this.onSubmit(event));
    document.addEventListener("toggle", (event) => this.onToggle(event), true);
    this.bubble?.addEventListener("mousedown", (event) => event.preventDefault());

    this.restorePending();
  }

  get textRoot() {
    return $("#text", this.root.isConnected ? this.root : document);
  }

  makeTextFocusable() {
    const text = this.textRoot;
    if (!text) return;
    text.tabIndex = 0;
    text.setAttribute("role", "region");
    text.setAttribute("aria-label", "Text. Select words with Shift and the arrow keys, then press Enter to annotate them.");
  }

  onSelectionChange() {
    const text = this.textRoot;
    this.anchor = text ? selectionAnchor(text) : null;
    if (this.annotateButton) this.annotateButton.disabled = !this.anchor;
    const hint = $("[data-toolbar-hint]");
    if (hint) {
      hint.textContent = this.anchor
        ? `Selected: “${this.anchor.exact.length > 60 ? `${this.anchor.exact.slice(0, 60)}…` : this.anchor.exact}”`
        : "Select words in the text to annotate them.";
    }
    this.placeBubble();
  }

  placeBubble() {
    if (!this.bubble) return;
    const selection = window.getSelection();
    if (!this.anchor || !selection.rangeCount || (this.composer && !this.composer.hidden)) {
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
    if (event.key === "Escape" && this.composer && !this.composer.hidden) {
      this.closeComposer();
      return;
    }
    if (!text || !text.contains(event.target)) return;
    if (event.target.closest("a.hl") && !this.anchor && (event.key === "Enter" || event.key === " ")) {
      return; // let the highlight link open its thread
    }
    if (event.key === "Enter" && this.anchor) {
      event.preventDefault();
      this.startAnnotation();
      return;
    }
    // Keyboard selection in read-only text: arrows move a caret, Shift+arrows extend it.
    const directions = { ArrowLeft: "backward", ArrowRight: "forward", ArrowUp: "backward", ArrowDown: "forward" };
    const direction = directions[event.key];
    if (!direction || event.altKey || event.metaKey) return;
    const selection = window.getSelection();
    if (!selection.rangeCount || !text.contains(selection.anchorNode)) {
      const first = $("p[data-s]", text);
      if (!first) return;
      selection.collapse(first.firstChild?.firstChild ?? first, 0);
    }
    const granularity = event.key === "ArrowUp" || event.key === "ArrowDown" ? "line" : event.ctrlKey ? "word" : "character";
    event.preventDefault();
    selection.modify(event.shiftKey ? "extend" : "move", direction, granularity);
  }

  onClick(event) {
    const target = event.target;
    if (target.closest("[data-annotate], [data-bubble]") && !target.closest("[data-annotate-anon]")) {
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
      this.savePending();
      return;
    }
    const highlight = target.closest("a.hl");
    if (highlight) {
      if (this.anchor) {
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
    this.returnFocus = document.activeElement;
    this.composer.hidden = false;
    if (this.bubble) this.bubble.hidden = true;
    form.elements.body.focus();
  }

  closeComposer({ focusHighlightOf } = {}) {
    if (!this.composer) return;
    this.composer.hidden = true;
    const form = $("form", this.composer);
    $("[data-preview-output]", form).hidden = true;
    const highlight = focusHighlightOf && $(`a.hl[data-posts~="${focusHighlightOf}"]`);
    if (highlight) highlight.focus();
    else if (this.returnFocus?.isConnected) this.returnFocus.focus();
    else this.textRoot?.focus();
  }

  openReply(link) {
    const article = link.closest("article.post");
    const existing = article.parentElement.querySelector(":scope > form[data-reply-form]");
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
      this.swap(body);
      if (form.matches("[data-annotation-form]")) {
        form.elements.body.value = "";
        sessionStorage.removeItem(PENDING_KEY);
        window.getSelection().removeAllRanges();
        this.closeComposer({ focusHighlightOf: postId });
      } else {
        const post = document.getElementById(`post-${postId}`);
        const thread = post?.closest("details.thread");
        if (thread) thread.open = true;
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

  swap(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.querySelector("#discussion-root");
    if (!fresh) return;
    const openThreads = $$("details.thread[open]", this.root).map((element) => element.id);
    this.root.replaceWith(fresh);
    this.root = fresh;
    for (const id of openThreads) {
      const thread = document.getElementById(id);
      if (thread) thread.open = true;
    }
    this.makeTextFocusable();
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
if (root) {
  new ReadingPage(root);
  enablePreviewButtons();
}
