"""Annotating, replying, commenting, editing and deleting, through real URLs."""

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from annotate.discussion import THREAD_DEPTH
from annotate.models import Post
from annotate.rendering import MAX_BODY_LENGTH
from tests.factories import annotate, make_document, make_post, post_comment, selection

PARANOID = "more paranoid at the end of the war"
TRUCKS = "board the waiting trucks.\n\nThe consequences"
FRAGMENT = {"X-Annotate-Fragment": "1"}


# Helpers: what a person sees


def page(client, document, **params) -> BeautifulSoup:
    response = client.get(document.get_absolute_url(), params)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def words_on(tag) -> str:
    return " ".join(tag.get_text(" ").split())


def highlights_of(soup: BeautifulSoup, post_id: int) -> list:
    return [a for a in soup.select("a.hl") if str(post_id) in a["data-posts"].split()]


def description_of(soup: BeautifulSoup, tag) -> str:
    return words_on(soup.find(id=tag["aria-describedby"]))


def the_post(soup: BeautifulSoup, post_id: int):
    return soup.find("article", id=f"post-{post_id}")


def parent_on_page(soup: BeautifulSoup, post_id: int) -> int | None:
    """The id of the post this one is shown nested under, if any."""
    item = the_post(soup, post_id).parent
    children = item.parent
    if "children" not in children.get("class", []):
        return None
    owner = children.find_parent("li")
    while owner is not None and "more-replies" in " ".join(owner.get("class", [])):
        owner = owner.find_parent("li")
    return int(owner.find("article")["id"].removeprefix("post-"))


def thread_count_heading(soup: BeautifulSoup) -> str:
    return words_on(soup.find(id="comments-title"))


# Annotating a passage


def test_author_annotates_a_passage_and_sees_it_highlighted_with_its_thread(client, author, seeded):
    client.force_login(author)

    response = annotate(client, seeded, PARANOID, "Paranoia grew *after* victory.")

    post = Post.objects.get()
    assert response.status_code == 302
    assert response.url == f"/texts/{seeded.slug}/?post={post.pk}#post-{post.pk}"
    assert (post.exact, post.start, post.author) == (PARANOID, seeded.text.index(PARANOID), author)
    soup = page(client, seeded)
    [highlight] = highlights_of(soup, post.pk)
    assert highlight.get_text() == PARANOID
    assert highlight["data-posts"] == str(post.pk)
    assert description_of(soup, highlight) == "annotated passage, 1 note"
    thread = soup.find("details", id=f"thread-{post.pk}")
    assert "“more paranoid at the end of the war”" in words_on(thread.summary)
    assert "1 note" in words_on(thread.summary)
    assert "Paranoia grew after victory." in words_on(thread)
    assert thread.find("em").get_text() == "after"
    assert "Ada Author" in words_on(the_post(soup, post.pk))
    assert "1 annotated passage" in words_on(soup.find(class_="reading-header"))


def test_the_redirect_after_posting_says_posted(client, author, seeded):
    client.force_login(author)

    response = annotate(client, seeded, PARANOID)

    soup = BeautifulSoup(client.get(response.url).content, "html.parser")
    assert words_on(soup.find(class_="messages")) == "Posted."


def test_a_quote_that_does_not_match_the_text_is_refused_and_nothing_is_stored(
    client, author, seeded
):
    client.force_login(author)

    response = annotate(client, seeded, PARANOID, "Mine.", exact="less paranoid at the end of it")

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    assert "The selected words do not match the text at that position" in words_on(
        soup.find(class_="form-error")
    )
    assert soup.find("textarea", attrs={"name": "body"}).get_text() == "Mine."
    assert not Post.objects.exists()


def test_a_mismatched_quote_sent_by_fetch_gets_a_plain_text_400(client, author, seeded):
    client.force_login(author)

    response = annotate(
        client, seeded, PARANOID, exact="less paranoid at the end of it", headers=FRAGMENT
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("The selected words do not match the text")
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": -3}, "The selection’s position is invalid (negative)."),
        ({"end": 10**9}, "The selection runs past the end of the text."),
        ({"prefix": "Stalin was never "}, "The words before the selection do not match"),
        ({"suffix": " than ever"}, "The words after the selection do not match"),
        ({"end": ""}, "The selection is incomplete."),
        ({"parent": 1}, "A reply cannot also annotate a passage."),
    ],
    ids=["negative", "past the end", "prefix", "suffix", "no end", "reply with anchor"],
)
def test_a_bad_selection_is_refused_with_its_reason(client, author, seeded, fields, message):
    client.force_login(author)

    response = annotate(client, seeded, PARANOID, headers=FRAGMENT, **fields)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Post.objects.exists()


def test_a_selection_across_two_paragraphs_is_highlighted_in_both(client, author, seeded):
    client.force_login(author)

    annotate(client, seeded, TRUCKS, "Scene change.")

    post = Post.objects.get()
    soup = page(client, seeded)
    highlights = highlights_of(soup, post.pk)
    assert [h.get_text() for h in highlights] == ["board the waiting trucks.", "The consequences"]
    first, second = (h.find_parent("div", class_="passage") for h in highlights)
    assert first is not second
    assert first.find("details", id=f"thread-{post.pk}") is not None
    assert second.find("details", id=f"thread-{post.pk}") is None


def test_overlapping_annotations_share_the_overlap(client, author, stranger, seeded):
    client.force_login(author)
    annotate(client, seeded, "more paranoid at the end")
    client.force_login(stranger)
    annotate(client, seeded, "at the end of the war than at the beginning")
    first, second = Post.objects.order_by("pk")

    soup = page(client, seeded)

    assert [h.get_text() for h in highlights_of(soup, first.pk)] == [
        "more paranoid ",
        "at the end",
    ]
    [overlap] = [h for h in soup.select("a.hl") if h["data-posts"] == f"{first.pk} {second.pk}"]
    assert overlap.get_text() == "at the end"
    assert description_of(soup, overlap) == "annotated passage, 2 notes"
    assert description_of(soup, highlights_of(soup, first.pk)[0]) == "annotated passage, 1 note"
    assert "2 annotated passages" in words_on(soup.find(class_="reading-header"))


def test_a_selection_made_before_the_text_was_revised_is_refused(client, author, seeded):
    client.force_login(author)
    stale = selection(seeded, PARANOID)
    seeded.revise(seeded.text.replace("In spite of", "Despite"))
    seeded.refresh_from_db()

    response = client.post(
        reverse("create_post", args=[seeded.slug]),
        {"body": "Late.", **stale},
        headers=FRAGMENT,
    )

    assert response.status_code == 400
    assert "The text has changed since you loaded the page" in response.content.decode()
    assert not Post.objects.exists()


def test_a_selection_on_a_text_without_words_yet_is_refused(client, author, db):
    empty = make_document("", slug="empty", title="Not written yet")
    client.force_login(author)

    response = client.post(
        reverse("create_post", args=[empty.slug]),
        {"body": "Note.", "start": 0, "end": 4, "exact": "Word"},
        headers=FRAGMENT,
    )

    assert response.status_code == 400
    assert response.content.decode() == "This text has no words to annotate yet."
    assert not Post.objects.exists()


def test_an_anonymous_post_redirects_to_sign_in_and_stores_nothing(client, seeded):
    responses = [annotate(client, seeded, PARANOID), post_comment(client, seeded)]

    for response in responses:
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/?next=")
    assert not Post.objects.exists()


def test_the_anonymous_page_invites_to_sign_in_and_has_no_post_form(client, seeded):
    soup = page(client, seeded)

    assert soup.find("form", action=reverse("create_post", args=[seeded.slug])) is None
    assert "Sign in or create an account to comment" in words_on(soup.find(id="respond"))


# Replies and page comments


def test_a_reply_to_an_annotation_joins_its_thread(client, author, stranger, seeded):
    client.force_login(author)
    annotate(client, seeded, PARANOID, "First note.")
    annotation = Post.objects.get()
    client.force_login(stranger)

    response = post_comment(client, seeded, "I disagree.", parent=annotation)

    reply = Post.objects.exclude(pk=annotation.pk).get()
    assert response.url == f"/texts/{seeded.slug}/?post={reply.pk}#post-{reply.pk}"
    assert (reply.parent, reply.depth, reply.start) == (annotation, 1, None)
    soup = page(client, seeded)
    thread = soup.find("details", id=f"thread-{annotation.pk}")
    assert "I disagree." in words_on(thread)
    assert parent_on_page(soup, reply.pk) == annotation.pk
    assert "2 notes" in words_on(thread.summary)
    [highlight] = highlights_of(soup, annotation.pk)
    assert description_of(soup, highlight) == "annotated passage, 2 notes"
    assert "No thoughts yet" in thread_count_heading(soup)


def test_a_reply_to_a_page_comment_nests_under_it(client, author, stranger, seeded):
    client.force_login(author)
    post_comment(client, seeded, "What a passage.")
    top = Post.objects.get()
    client.force_login(stranger)

    post_comment(client, seeded, "Indeed it is.", parent=top)

    reply = Post.objects.get(parent=top)
    soup = page(client, seeded)
    assert parent_on_page(soup, reply.pk) == top.pk
    assert parent_on_page(soup, top.pk) is None
    assert "Indeed it is." in words_on(soup.find(id="comments"))
    assert thread_count_heading(soup) == f"2 thoughts on “{seeded.title}”"


def test_replies_past_the_deepest_level_attach_to_their_parents_parent(client, author, seeded):
    client.force_login(author)
    post_comment(client, seeded, "Level 1.")
    chain = [Post.objects.get()]
    for level in range(2, THREAD_DEPTH + 3):
        post_comment(client, seeded, f"Level {level}.", parent=chain[-1])
        chain.append(Post.objects.latest("pk"))

    assert [post.depth for post in chain] == [0, 1, 2, 3, 4, 4, 4]
    deepest = chain[THREAD_DEPTH - 1]
    assert chain[THREAD_DEPTH].parent == chain[THREAD_DEPTH - 2]
    assert chain[THREAD_DEPTH + 1].parent == chain[THREAD_DEPTH - 2]
    soup = page(client, seeded)
    assert parent_on_page(soup, deepest.pk) == chain[THREAD_DEPTH - 2].pk
    assert parent_on_page(soup, chain[-1].pk) == chain[THREAD_DEPTH - 2].pk
    nesting = len(the_post(soup, chain[-1].pk).find_parents("ol", class_="children"))
    assert nesting == THREAD_DEPTH - 1


def test_a_reply_to_a_post_in_another_document_is_refused(client, author, seeded, document):
    elsewhere = make_post(document, author, "On the other text.")
    client.force_login(author)

    response = post_comment(client, seeded, "Lost reply.", parent=elsewhere, headers=FRAGMENT)

    assert response.status_code == 400
    assert response.content.decode() == "The post you are replying to is no longer there."
    assert Post.objects.count() == 1


def test_a_reply_to_a_deleted_post_is_refused_and_the_draft_kept(client, author, stranger, seeded):
    gone = make_post(seeded, author, "Soon gone.")
    make_post(seeded, author, "Keeps the placeholder.", parent=gone)
    gone.delete_by_author()
    client.force_login(stranger)

    response = post_comment(client, seeded, "My reply.", parent=gone)

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    assert "The post you are replying to is no longer there." in words_on(
        soup.find(id="respond").find(class_="form-error")
    )
    assert soup.find(id="respond").find("textarea").get_text() == "My reply."
    assert Post.objects.count() == 2


def test_a_reply_to_a_post_held_for_moderation_is_refused(client, author, stranger, seeded):
    held = make_post(seeded, author, "Held.", status=Post.Status.PENDING)
    client.force_login(stranger)

    response = post_comment(client, seeded, "Reply.", parent=held, headers=FRAGMENT)

    assert response.status_code == 400
    assert Post.objects.count() == 1


def test_the_comment_heading_counts_comments_and_their_replies_but_not_annotations(
    client, author, stranger, seeded
):
    assert thread_count_heading(page(client, seeded)) == f"No thoughts yet on “{seeded.title}”"
    client.force_login(author)
    post_comment(client, seeded, "One.")
    assert thread_count_heading(page(client, seeded)) == f"One thought on “{seeded.title}”"

    first = Post.objects.get()
    post_comment(client, seeded, "Two.")
    client.force_login(stranger)
    post_comment(client, seeded, "Three, a reply.", parent=first)
    annotate(client, seeded, PARANOID, "Not a page comment.")
    annotation = Post.objects.get(start__isnull=False)
    post_comment(client, seeded, "Nor is this.", parent=annotation)

    assert thread_count_heading(page(client, seeded)) == f"3 thoughts on “{seeded.title}”"


# Markdown and what never becomes active


def test_markdown_is_rendered_and_links_are_marked_nofollow(client, author, seeded):
    client.force_login(author)

    post_comment(
        client, seeded, "**Bold** claim, see [the source](https://example.com/lynch).\n\n- one"
    )

    post = Post.objects.get()
    body = the_post(page(client, seeded), post.pk).find(class_="post-body")
    assert body.find("strong").get_text() == "Bold"
    link = body.find("a")
    assert link["href"] == "https://example.com/lynch"
    assert link["rel"] == ["nofollow", "ugc", "noopener"]
    assert body.find("li").get_text() == "one"


@pytest.mark.parametrize(
    ("written", "href"),
    [
        ("https://example.com/lynch?page=2", "https://example.com/lynch?page=2"),
        ("www.example.org/stalin", "http://www.example.org/stalin"),
        ("example.com", "http://example.com"),
        ("lynch@example.com", "mailto:lynch@example.com"),
    ],
)
def test_web_addresses_in_a_post_become_links(client, author, seeded, written, href):
    client.force_login(author)

    post_comment(client, seeded, f"Read {written}, then reply.")

    post = Post.objects.get()
    link = the_post(page(client, seeded), post.pk).find(class_="post-body").find("a")
    assert (link["href"], link.get_text()) == (href, written)
    assert link["rel"] == ["nofollow", "ugc", "noopener"]


def test_words_with_dots_and_unsafe_schemes_stay_text(client, author, seeded):
    client.force_login(author)

    post_comment(client, seeded, "Lynch, p. 42, e.g. U.S.A. 1924-53; javascript:alert(1) file.txt")

    post = Post.objects.get()
    assert the_post(page(client, seeded), post.pk).find(class_="post-body").find("a") is None


DANGEROUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="https://example.com" onclick="alert(1)">raw link</a>',
    "<b>raw bold</b> and <iframe src=https://example.com></iframe>",
    "[click me](javascript:alert(1))",
    "[click me](JaVaScRiPt:alert(1))",
    "[click me](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "![a picture](https://example.com/tracker.png)",
    '[title](https://example.com "x\\" onmouseover=\\"alert(1)")',
    "<style>body{display:none}</style>",
    "```html\n<script>alert(1)</script>\n```",
]


@pytest.mark.parametrize("body", DANGEROUS)
def test_dangerous_markup_never_becomes_active(client, author, seeded, body):
    client.force_login(author)

    post_comment(client, seeded, body)

    post = Post.objects.get()
    article = the_post(page(client, seeded), post.pk)
    body_html = article.find(class_="post-body")
    assert body_html.find_all(["script", "img", "iframe", "style", "b", "object"]) == []
    for tag in body_html.find_all(True):
        assert not [name for name in tag.attrs if name.startswith("on")], tag
        assert tag.attrs.keys() <= {"href", "title", "rel", "start"}, tag
    for link in body_html.find_all("a"):
        assert link["href"].startswith("https://"), link
        assert link["rel"] == ["nofollow", "ugc", "noopener"]


def test_preview_renders_markdown_the_way_it_will_be_saved(client, author):
    client.force_login(author)

    response = client.post(reverse("preview"), {"body": "*Hi* <script>x</script>"})

    assert response.status_code == 200
    assert response.content.decode() == "<p><em>Hi</em> &lt;script&gt;x&lt;/script&gt;</p>\n"


def test_preview_refuses_an_empty_body_in_plain_text(client, author):
    client.force_login(author)

    response = client.post(reverse("preview"), {"body": "  "})

    assert response.status_code == 400
    assert response.content.decode() == "Write something before posting."


def test_preview_needs_a_signed_in_reader(client, db):
    response = client.post(reverse("preview"), {"body": "Hi"})

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# Form errors keep the draft


def test_a_body_too_long_is_refused_and_the_draft_kept(client, author, seeded):
    client.force_login(author)
    draft = "x" * (MAX_BODY_LENGTH + 1)

    response = post_comment(client, seeded, draft)

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    textarea = soup.find(id="respond").find("textarea", attrs={"name": "body"})
    assert textarea.get_text() == draft
    assert textarea["aria-invalid"] == "true"
    assert words_on(soup.find(id=textarea["aria-describedby"])) == (
        "Keep it under 10000 characters (this has 10001)."
    )
    assert not Post.objects.exists()


def test_a_body_of_exactly_the_limit_is_accepted(client, author, seeded):
    client.force_login(author)

    response = post_comment(client, seeded, "x" * MAX_BODY_LENGTH)

    assert response.status_code == 302
    assert len(Post.objects.get().body) == MAX_BODY_LENGTH


@pytest.mark.parametrize("body", ["", "   \n\t  "])
def test_an_empty_body_is_refused_with_a_prompt(client, author, seeded, body):
    client.force_login(author)

    response = post_comment(client, seeded, body)

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    assert words_on(soup.find(id="body-errors")) == "Write something before posting."
    assert not Post.objects.exists()


def test_an_empty_annotation_sent_by_fetch_gets_a_plain_text_400(client, author, seeded):
    client.force_login(author)

    response = annotate(client, seeded, PARANOID, "", headers=FRAGMENT)

    assert response.status_code == 400
    assert response.content.decode() == "Write something before posting."


@pytest.mark.parametrize("field", ["body", "exact", "prefix"])
def test_nul_characters_are_refused(client, author, seeded, field):
    client.force_login(author)
    fields = {"body": "A note.", **selection(seeded, PARANOID)}
    fields[field] = fields[field][:2] + "\x00" + fields[field][2:]

    response = client.post(reverse("create_post", args=[seeded.slug]), fields, headers=FRAGMENT)

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert not Post.objects.exists()


def test_a_nul_character_in_a_comment_is_refused_with_the_draft_kept(client, author, seeded):
    client.force_login(author)

    response = post_comment(client, seeded, "Bad\x00byte")

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    assert "NUL character" in words_on(soup.find(id="body-errors"))
    assert not Post.objects.exists()


# Editing and deleting: who may


@pytest.fixture
def authors_comment(seeded, author) -> Post:
    return make_post(seeded, author, "My *original* words.")


@pytest.mark.parametrize("action", ["edit_post", "delete_post"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_author_may_edit_and_delete(client, author, authors_comment, action, method):
    client.force_login(author)

    response = getattr(client, method)(
        reverse(action, args=[authors_comment.pk]), {"body": "New words."}
    )

    assert response.status_code == (200 if method == "get" else 302)


@pytest.mark.parametrize("action", ["edit_post", "delete_post"])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["stranger", "moderator"])
def test_nobody_but_the_author_may_edit_or_delete(
    client, request, authors_comment, action, method, who
):
    client.force_login(request.getfixturevalue(who))

    response = getattr(client, method)(
        reverse(action, args=[authors_comment.pk]), {"body": "Hijacked."}
    )

    assert response.status_code == 403
    soup = BeautifulSoup(response.content, "html.parser")
    assert "Only the author of a post can change it." in words_on(soup.find("main"))
    authors_comment.refresh_from_db()
    assert (authors_comment.body, authors_comment.deleted_at) == ("My *original* words.", None)


@pytest.mark.parametrize("action", ["edit_post", "delete_post"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_anonymous_reader_is_sent_to_sign_in_to_edit_or_delete(
    client, authors_comment, action, method
):
    url = reverse(action, args=[authors_comment.pk])

    response = getattr(client, method)(url, {"body": "Hijacked."} if method == "post" else None)

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={url}"
    authors_comment.refresh_from_db()
    assert (authors_comment.body, authors_comment.deleted_at) == ("My *original* words.", None)


def test_the_edit_form_shows_the_markdown_as_written(client, author, authors_comment):
    client.force_login(author)

    response = client.get(reverse("edit_post", args=[authors_comment.pk]))

    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("textarea", attrs={"name": "body"}).get_text() == "My *original* words."


def test_an_edited_post_shows_its_new_words_and_edited(client, author, stranger, authors_comment):
    client.force_login(author)

    response = client.post(reverse("edit_post", args=[authors_comment.pk]), {"body": "**Better**."})

    assert response.url == authors_comment.get_absolute_url()
    client.force_login(stranger)
    article = the_post(page(client, authors_comment.document), authors_comment.pk)
    assert words_on(article.find(class_="post-body")) == "Better ."
    assert article.find(class_="post-body").find("strong").get_text() == "Better"
    assert "(edited)" in words_on(article.find(class_="post-meta"))


def test_saving_unchanged_words_does_not_mark_the_post_edited(client, author, authors_comment):
    client.force_login(author)

    client.post(reverse("edit_post", args=[authors_comment.pk]), {"body": "My *original* words."})

    article = the_post(page(client, authors_comment.document), authors_comment.pk)
    assert "(edited)" not in words_on(article)


@pytest.mark.parametrize("data", [{"body": ""}, {}], ids=["blank body", "nothing sent"])
def test_an_edit_to_nothing_is_refused_and_the_post_kept(client, author, authors_comment, data):
    client.force_login(author)

    response = client.post(reverse("edit_post", args=[authors_comment.pk]), data)

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    assert words_on(soup.find(id="body-errors")) == "Write something before posting."
    authors_comment.refresh_from_db()
    assert authors_comment.body == "My *original* words."


def test_deleting_a_post_with_replies_leaves_a_placeholder(
    client, author, stranger, authors_comment
):
    reply = make_post(authors_comment.document, stranger, "A reply stays.", parent=authors_comment)
    client.force_login(author)

    response = client.post(reverse("delete_post", args=[authors_comment.pk]))

    assert response.status_code == 302
    client.force_login(stranger)
    soup = page(client, authors_comment.document)
    article = the_post(soup, authors_comment.pk)
    assert words_on(article) == "This post was deleted."
    assert "original" not in soup.get_text()
    assert "Ada Author" not in words_on(article)
    assert parent_on_page(soup, reply.pk) == authors_comment.pk
    assert thread_count_heading(soup) == f"One thought on “{authors_comment.document.title}”"


def test_deleting_a_post_without_replies_removes_it_from_the_page(client, author, authors_comment):
    client.force_login(author)

    client.post(reverse("delete_post", args=[authors_comment.pk]))

    soup = page(client, authors_comment.document)
    assert the_post(soup, authors_comment.pk) is None
    assert "This post was deleted." not in soup.get_text()
    assert "No thoughts yet" in thread_count_heading(soup)


def test_a_deleted_annotation_with_replies_keeps_its_passage_and_counts_only_the_replies(
    client, author, stranger, seeded
):
    client.force_login(author)
    annotate(client, seeded, PARANOID, "Soon gone.")
    annotation = Post.objects.get()
    make_post(seeded, stranger, "My reply stays.", parent=annotation)

    client.post(reverse("delete_post", args=[annotation.pk]))

    soup = page(client, seeded)
    [highlight] = highlights_of(soup, annotation.pk)
    assert description_of(soup, highlight) == "annotated passage, 1 note"
    thread = soup.find("details", id=f"thread-{annotation.pk}")
    assert words_on(thread.summary) == f"“{PARANOID}” 1 note"
    assert "This post was deleted." in words_on(thread)
    assert "My reply stays." in words_on(thread)
    assert "Soon gone." not in soup.get_text()


def test_deleting_an_annotation_without_replies_removes_its_highlight(client, author, seeded):
    client.force_login(author)
    annotate(client, seeded, PARANOID)
    post = Post.objects.get()

    client.post(reverse("delete_post", args=[post.pk]))

    soup = page(client, seeded)
    assert soup.select("a.hl") == []
    assert soup.find(id=f"thread-{post.pk}") is None


def test_a_deleted_post_can_be_neither_edited_nor_deleted_again(client, author, authors_comment):
    authors_comment.delete_by_author()
    client.force_login(author)

    assert client.get(reverse("edit_post", args=[authors_comment.pk])).status_code == 404
    assert client.post(reverse("delete_post", args=[authors_comment.pk])).status_code == 404


def test_the_delete_page_asks_before_deleting(client, author, authors_comment):
    client.force_login(author)

    response = client.get(reverse("delete_post", args=[authors_comment.pk]))

    assert "Delete your post?" in response.content.decode()
    authors_comment.refresh_from_db()
    assert not authors_comment.is_deleted


# Who sees what


def test_a_pending_post_is_shown_to_its_author_awaiting_moderation_and_to_nobody_else(
    client, author, stranger, moderator, seeded
):
    held = make_post(seeded, author, "Held for review.", status=Post.Status.PENDING)

    client.force_login(author)
    article = the_post(page(client, seeded), held.pk)
    assert "Held for review." in words_on(article)
    assert "awaiting moderation" in words_on(article.find(class_="post-meta"))

    for reader in (stranger, moderator, None):
        client.logout()
        if reader:
            client.force_login(reader)
        soup = page(client, seeded)
        assert the_post(soup, held.pk) is None
        assert "Held for review." not in soup.get_text()
        assert "No thoughts yet" in thread_count_heading(soup)


def test_a_held_annotation_is_highlighted_for_its_author_only(client, author, stranger, seeded):
    client.force_login(author)
    annotate(client, seeded, PARANOID, "Held note.")
    post = Post.objects.get()
    post.status = Post.Status.SPAM
    post.save()

    assert len(highlights_of(page(client, seeded), post.pk)) == 1
    client.force_login(stranger)
    assert page(client, seeded).select("a.hl") == []
    assert client.get(reverse("post", args=[post.pk])).status_code == 404


def test_a_removed_post_is_shown_to_nobody_not_even_its_author(client, author, stranger, seeded):
    removed = make_post(seeded, author, "Removed words.", status=Post.Status.REMOVED)

    for reader in (author, stranger):
        client.force_login(reader)
        soup = page(client, seeded)
        assert the_post(soup, removed.pk) is None
        assert "Removed words." not in soup.get_text()
        assert client.get(reverse("post", args=[removed.pk])).status_code == 404
    client.force_login(author)
    assert client.get(reverse("edit_post", args=[removed.pk])).status_code == 404


def test_a_published_reply_under_a_removed_post_is_not_shown_loose(
    client, author, stranger, seeded
):
    removed = make_post(seeded, author, "Removed words.", status=Post.Status.REMOVED)
    make_post(seeded, stranger, "Reply to removed.", parent=removed)

    soup = page(client, seeded)

    assert "Reply to removed." not in soup.get_text()


# Fetch requests and permalinks


def test_a_fetch_post_gets_the_discussion_fragment_and_what_to_announce(client, author, seeded):
    client.force_login(author)

    response = annotate(client, seeded, PARANOID, "Via fetch.", headers=FRAGMENT)

    post = Post.objects.get()
    assert response.status_code == 200
    assert response["X-Annotate-Fragment-Post"] == str(post.pk)
    assert response["X-Annotate-Fragment-Announce"] == "Posted."
    html = response.content.decode()
    assert "<html" not in html
    soup = BeautifulSoup(html, "html.parser")
    # The passage now carrying the highlight, not the whole discussion (tests/test_fragments.py).
    assert soup.find(id="discussion-root") is None
    assert soup.find(id="passage-0") is not None
    assert len(highlights_of(soup, post.pk)) == 1
    assert "Via fetch." in words_on(soup.find(id=f"thread-{post.pk}"))


def test_a_fetch_edit_and_delete_return_the_fragment(client, author, authors_comment):
    client.force_login(author)

    edited = client.post(
        reverse("edit_post", args=[authors_comment.pk]), {"body": "Fetched edit."}, headers=FRAGMENT
    )
    deleted = client.post(reverse("delete_post", args=[authors_comment.pk]), headers=FRAGMENT)

    assert edited["X-Annotate-Fragment-Announce"] == "Saved."
    assert edited["X-Annotate-Fragment-Post"] == str(authors_comment.pk)
    assert "Fetched edit." in edited.content.decode()
    assert deleted["X-Annotate-Fragment-Announce"] == "Deleted."
    soup = BeautifulSoup(deleted.content, "html.parser")
    # The comments section it was the last of, not the whole discussion (tests/test_fragments.py).
    assert soup.find(id="comments") is not None
    assert the_post(soup, authors_comment.pk) is None


def test_a_fetch_edit_to_nothing_gets_a_plain_text_400(client, author, authors_comment):
    client.force_login(author)

    response = client.post(
        reverse("edit_post", args=[authors_comment.pk]), {"body": ""}, headers=FRAGMENT
    )

    assert response.status_code == 400
    assert response.content.decode() == "Write something before posting."


def test_a_permalink_redirects_to_the_post_on_its_page(client, author, seeded):
    post = make_post(seeded, author)

    response = client.get(reverse("post", args=[post.pk]))

    assert response.status_code == 302
    assert response.url == f"/texts/{seeded.slug}/?post={post.pk}#post-{post.pk}"


def test_a_permalink_opens_the_thread_and_marks_the_highlight_current(
    client, author, stranger, seeded
):
    client.force_login(author)
    annotate(client, seeded, PARANOID)
    annotate(client, seeded, "Mass executions")
    opened, other = Post.objects.order_by("pk")

    soup = page(client, seeded, post=opened.pk)

    assert soup.find("details", id=f"thread-{opened.pk}").has_attr("open")
    assert not soup.find("details", id=f"thread-{other.pk}").has_attr("open")
    assert "is-current" in highlights_of(soup, opened.pk)[0]["class"]
    assert "is-current" not in highlights_of(soup, other.pk)[0]["class"]
    assert "is-current" in the_post(soup, opened.pk)["class"]
    assert soup.find(id=f"reply-{opened.pk}").find("input", attrs={"name": "parent"})[
        "value"
    ] == str(opened.pk)


def test_a_reply_permalink_opens_its_thread_and_marks_its_passage_current(
    client, author, stranger, seeded
):
    client.force_login(author)
    annotate(client, seeded, PARANOID)
    annotation = Post.objects.get()
    reply = make_post(seeded, stranger, "Reply.", parent=annotation)

    soup = page(client, seeded, post=reply.pk)

    assert soup.find("details", id=f"thread-{annotation.pk}").has_attr("open")
    assert "is-current" in the_post(soup, reply.pk)["class"]
    assert "is-current" in highlights_of(soup, annotation.pk)[0]["class"]


def test_the_page_ignores_a_post_parameter_that_is_not_a_number(client, author, seeded):
    post = make_post(seeded, author)

    soup = page(client, seeded, post="abc", replyto="1x")

    assert "is-current" not in the_post(soup, post.pk)["class"]


def test_every_box_for_a_post_allows_what_the_form_allows(client, author, seeded):
    client.force_login(author)
    note = make_post(seeded, author, "A comment to reply to.")

    boxes = page(client, seeded, replyto=note.pk).find_all("textarea")
    edit = BeautifulSoup(client.get(reverse("edit_post", args=[note.pk])).content, "html.parser")

    assert len(boxes) >= 3  # the comment box, the note box and the reply template
    for box in [*boxes, *edit.find_all("textarea")]:
        assert box["maxlength"] == str(MAX_BODY_LENGTH), box
