"""
What a post, an edit or a deletion made through fetch gets back: the thread
or comment that changed and the counts that changed, not the page
(annotate/fragments.py). Without the fetch header the forms post and redirect.
"""

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.models import Membership, ModerationSettings, Post, Reading
from tests.factories import annotate, make_class, make_post, make_user, post_comment

FETCH = {"X-Annotate-Fragment": "1"}
PARANOID = "more paranoid at the end of the war"  # in the first paragraph
YALTA = "Yalta and Potsdam"  # the first paragraph too
MASS = "Mass executions took place"  # the second paragraph
TRUCKS = "board the waiting trucks.\n\nThe consequences"  # from the first into the second
TITLE = "“Execute the POW’s…”"


def parts_of(response) -> dict:
    """
    The answer's parts, by the id of the element each puts in place ("-id"
    for a removal), each checked to be one the page's script can place.
    """
    return {key: element for key, (element, _) in _parts(response).items()}


def places_of(response) -> dict:
    """Where each part goes when the page has no element with its id yet."""
    return {key: place for key, (_, place) in _parts(response).items() if place}


def _parts(response) -> dict:
    assert response.status_code == 200, response.content.decode()
    html = response.content.decode()
    assert "<html" not in html
    parts = {}
    for part in BeautifulSoup(html, "html.parser").find_all(recursive=False):
        place = {name: value for name, value in part.attrs.items() if name.startswith("data-")}
        if part.name == "template" and "data-remove" in place:
            key, element = "-" + part["data-remove"], part
        elif part.name == "template":
            assert set(place) in ({"data-after"}, {"data-before"}, {"data-into"}), part
            # Read the element as the page gets it, not as inert template content.
            inner = BeautifulSoup(part.decode_contents(), "html.parser")
            [element] = inner.find_all(recursive=False)
            key = element["id"]
        else:
            key, element = part["id"], part
        assert key not in parts
        parts[key] = (element, place)
    return parts


def words_on(tag) -> str:
    return " ".join(tag.get_text(" ").split())


def full_page(client, document) -> str:
    return client.get(document.get_absolute_url()).content.decode()


@pytest.fixture
def discussed(seeded, stranger) -> dict[str, Post]:
    """The seed text with two annotations in two paragraphs, and a page comment with a reply."""
    comment = make_post(seeded, stranger, "A page comment.")
    return {
        "paranoid": make_post(seeded, stranger, "Paranoia grew.", passage=PARANOID),
        "mass": make_post(seeded, stranger, "Executions on whose orders?", passage=MASS),
        "comment": comment,
        "comment_reply": make_post(seeded, stranger, "A reply to the comment.", parent=comment),
    }


def just_written(body: str) -> Post:
    return Post.objects.get(body=body)


# Replies and page comments


def test_a_reply_in_an_annotation_thread_gets_that_thread_and_its_highlights_count(
    client, author, seeded, discussed
):
    client.force_login(author)
    note = discussed["paranoid"]

    response = post_comment(client, seeded, "Victory made him fear.", parent=note, headers=FETCH)

    reply = just_written("Victory made him fear.")
    assert response["X-Annotate-Fragment-Post"] == str(reply.pk)
    assert response["X-Annotate-Fragment-Announce"] == "Posted."
    parts = parts_of(response)
    assert set(parts) == {f"thread-{note.pk}", "paragraph-0", "hl-2"}
    thread = parts[f"thread-{note.pk}"]
    assert "Victory made him fear." in words_on(thread)
    assert words_on(thread.find(class_="thread-count")) == "2 notes"
    [highlight] = parts["paragraph-0"].select("a.hl")
    assert highlight["aria-describedby"] == "hl-2"
    assert words_on(parts["hl-2"]) == "annotated passage, 2 notes"
    assert places_of(response)["hl-2"] == {"data-into": "highlight-descriptions"}
    html = response.content.decode()
    for elsewhere in ("Executions on whose orders?", "A page comment.", "Mass executions"):
        assert elsewhere not in html
    assert len(html) < len(full_page(client, seeded)) / 4


def test_a_fetched_reply_costs_the_same_queries_however_long_the_discussion(
    client, author, stranger, seeded, discussed
):
    client.force_login(author)
    note = discussed["paranoid"]

    def queries_for_a_reply(body: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert post_comment(client, seeded, body, parent=note, headers=FETCH).status_code == 200
        return len(queries)

    queries_for_a_reply("The first, which stores the site's settings.")
    few = queries_for_a_reply("With a few posts.")
    for number in range(30):
        make_post(seeded, stranger, f"Reply {number}.", parent=note)
        make_post(seeded, stranger, f"Comment {number}.")
    many = queries_for_a_reply("With many posts.")

    assert many == few


def test_a_new_page_comment_goes_after_the_last_one_with_the_new_count(
    client, author, seeded, discussed
):
    client.force_login(author)

    response = post_comment(client, seeded, "My own thought.", headers=FETCH)

    comment = just_written("My own thought.")
    parts = parts_of(response)
    assert set(parts) == {f"thread-{comment.pk}", "comments-title"}
    assert places_of(response)[f"thread-{comment.pk}"] == {
        "data-after": f"thread-{discussed['comment'].pk}"
    }
    assert "My own thought." in words_on(parts[f"thread-{comment.pk}"])
    assert words_on(parts["comments-title"]) == f"3 thoughts on {TITLE}"
    html = response.content.decode()
    for elsewhere in ("A page comment.", "Paranoia grew.", "In spite of"):
        assert elsewhere not in html


def test_a_reply_to_a_page_comment_gets_that_comment_with_its_replies_and_the_count(
    client, author, seeded, discussed
):
    client.force_login(author)
    comment = discussed["comment"]

    response = post_comment(client, seeded, "Replying below.", parent=comment, headers=FETCH)

    parts = parts_of(response)
    assert set(parts) == {f"thread-{comment.pk}", "comments-title"}
    thread = words_on(parts[f"thread-{comment.pk}"])
    assert "A page comment." in thread and "A reply to the comment." in thread
    assert "Replying below." in thread
    assert words_on(parts["comments-title"]) == f"3 thoughts on {TITLE}"
    assert "Paranoia grew." not in response.content.decode()


def test_the_first_page_comment_gets_the_comments_section_that_had_no_list(
    client, author, document
):
    client.force_login(author)

    response = post_comment(client, document, "The very first.", headers=FETCH)

    parts = parts_of(response)
    assert set(parts) == {"comments"}
    assert words_on(parts["comments"].find(id="comments-title")) == "One thought on “Sample text”"
    assert "The very first." in words_on(parts["comments"].select_one("ol.comment-list"))


# Annotations


def test_a_new_annotation_gets_its_passage_with_its_threads_and_the_passage_count(
    client, author, seeded, discussed
):
    client.force_login(author)

    response = annotate(client, seeded, YALTA, "Two conferences.", headers=FETCH)

    note = just_written("Two conferences.")
    parts = parts_of(response)
    assert set(parts) == {"passage-0", "annotation-count", "hl-1"}
    passage = parts["passage-0"]
    [highlight] = [a for a in passage.select("a.hl") if str(note.pk) in a["data-posts"].split()]
    assert words_on(highlight) == YALTA
    assert highlight["href"] == f"?post={note.pk}#post-{note.pk}"
    threads = [thread["id"] for thread in passage.select("details.thread")]
    assert threads == [f"thread-{discussed['paranoid'].pk}", f"thread-{note.pk}"]
    assert words_on(parts["annotation-count"]) == "3 annotated passages"
    assert places_of(response)["annotation-count"] == {"data-after": "document-title"}
    html = response.content.decode()
    for elsewhere in ("Executions on whose orders?", "Mass executions", "A page comment."):
        assert elsewhere not in html


def test_an_annotation_across_two_paragraphs_gets_the_second_ones_words_not_its_threads(
    client, author, seeded, discussed
):
    client.force_login(author)

    response = annotate(client, seeded, TRUCKS, "Into the trucks.", headers=FETCH)

    second = seeded.text.index("The consequences")  # where the second paragraph starts
    parts = parts_of(response)
    assert set(parts) == {"passage-0", f"paragraph-{second}", "annotation-count", "hl-1"}
    note = just_written("Into the trucks.")
    [continued] = parts[f"paragraph-{second}"].select(f'a.hl[data-posts~="{note.pk}"]')
    assert words_on(continued) == "The consequences"
    assert "Executions on whose orders?" not in response.content.decode()


def test_a_reply_to_a_note_on_a_changed_passage_gets_only_its_thread(
    client, author, stranger, seeded
):
    # Written on a revision the text no longer has: its thread is among the orphans.
    orphan = make_post(seeded, stranger, "On older words.", passage=PARANOID, revision=None)
    client.force_login(author)

    response = post_comment(client, seeded, "Still worth reading.", parent=orphan, headers=FETCH)

    parts = parts_of(response)
    assert set(parts) == {f"thread-{orphan.pk}"}
    assert "Still worth reading." in words_on(parts[f"thread-{orphan.pk}"])


# Edits


def test_an_edit_in_an_annotation_thread_gets_only_that_thread(client, author, seeded, discussed):
    note = discussed["paranoid"]
    reply = make_post(seeded, author, "First words.", parent=note)
    client.force_login(author)

    response = client.post(
        reverse("edit_post", args=[reply.pk]), {"body": "Better words."}, headers=FETCH
    )

    assert response["X-Annotate-Fragment-Announce"] == "Saved."
    parts = parts_of(response)
    assert set(parts) == {f"thread-{note.pk}"}
    article = parts[f"thread-{note.pk}"].find(id=f"post-{reply.pk}")
    assert "Better words." in words_on(article)
    assert "(edited)" in words_on(article)


def test_an_edit_of_a_page_comment_gets_that_comment_and_the_count(
    client, author, seeded, discussed
):
    mine = make_post(seeded, author, "My comment.")
    client.force_login(author)

    response = client.post(
        reverse("edit_post", args=[mine.pk]), {"body": "My comment, edited."}, headers=FETCH
    )

    parts = parts_of(response)
    assert set(parts) == {f"thread-{mine.pk}", "comments-title"}
    assert "My comment, edited." in words_on(parts[f"thread-{mine.pk}"])
    assert "A page comment." not in response.content.decode()


# Deletions


def test_deleting_a_reply_in_an_annotation_thread_gets_the_thread_without_it(
    client, author, seeded, discussed
):
    note = discussed["paranoid"]
    reply = make_post(seeded, author, "Regretted.", parent=note)
    client.force_login(author)

    response = client.post(reverse("delete_post", args=[reply.pk]), headers=FETCH)

    assert response["X-Annotate-Fragment-Announce"] == "Deleted."
    parts = parts_of(response)
    assert set(parts) == {f"thread-{note.pk}", "paragraph-0", "hl-1"}
    assert "Regretted." not in response.content.decode()
    assert words_on(parts[f"thread-{note.pk}"].find(class_="thread-count")) == "1 note"


def test_deleting_an_annotation_takes_its_highlight_and_thread_from_its_passage(
    client, author, seeded, discussed
):
    mine = make_post(seeded, author, "Two conferences.", passage=YALTA)
    client.force_login(author)

    response = client.post(reverse("delete_post", args=[mine.pk]), headers=FETCH)

    parts = parts_of(response)
    assert set(parts) == {"passage-0", "annotation-count", "hl-1"}
    passage = parts["passage-0"]
    assert not passage.select(f'a.hl[data-posts~="{mine.pk}"]')
    assert passage.find(id=f"thread-{mine.pk}") is None
    assert passage.find(id=f"thread-{discussed['paranoid'].pk}") is not None
    assert words_on(parts["annotation-count"]) == "2 annotated passages"


def test_deleting_the_only_annotation_removes_the_passage_count(client, author, document):
    mine = make_post(document, author, "Alone.", passage="some words")
    client.force_login(author)

    response = client.post(reverse("delete_post", args=[mine.pk]), headers=FETCH)

    parts = parts_of(response)
    assert set(parts) == {"passage-0", "-annotation-count"}
    assert not parts["passage-0"].select("a.hl")
    assert parts["passage-0"].find(class_="threads") is None


def test_deleting_the_only_note_on_a_changed_passage_removes_the_orphans_section(
    client, author, seeded
):
    orphan = make_post(seeded, author, "On older words.", passage=PARANOID, revision=None)
    client.force_login(author)

    response = client.post(reverse("delete_post", args=[orphan.pk]), headers=FETCH)

    assert set(parts_of(response)) == {"-orphans"}


def test_deleting_a_page_comment_with_replies_leaves_its_placeholder(
    client, author, stranger, seeded, discussed
):
    mine = make_post(seeded, author, "My comment.")
    make_post(seeded, stranger, "An answer to it.", parent=mine)
    client.force_login(author)

    response = client.post(reverse("delete_post", args=[mine.pk]), headers=FETCH)

    parts = parts_of(response)
    assert set(parts) == {f"thread-{mine.pk}", "comments-title"}
    thread = words_on(parts[f"thread-{mine.pk}"])
    assert "This post was deleted." in thread and "An answer to it." in thread
    assert "My comment." not in thread
    assert words_on(parts["comments-title"]) == f"3 thoughts on {TITLE}"


def test_deleting_a_page_comment_among_others_removes_it_and_counts_again(
    client, author, seeded, discussed
):
    mine = make_post(seeded, author, "My comment.")
    client.force_login(author)

    response = client.post(reverse("delete_post", args=[mine.pk]), headers=FETCH)

    parts = parts_of(response)
    assert set(parts) == {f"-thread-{mine.pk}", "comments-title"}
    assert words_on(parts["comments-title"]) == f"2 thoughts on {TITLE}"


def test_deleting_the_only_page_comment_gets_the_empty_comments_section(client, author, document):
    mine = make_post(document, author, "Alone here.")
    client.force_login(author)

    response = client.post(reverse("delete_post", args=[mine.pk]), headers=FETCH)

    parts = parts_of(response)
    assert set(parts) == {"comments"}
    assert "No thoughts yet on “Sample text”" in words_on(parts["comments"])


# Held posts, and hide-until-posted


def test_a_held_reply_comes_back_to_its_author_with_its_held_note(
    client, author, seeded, discussed
):
    ModerationSettings.objects.update_or_create(pk=1, defaults={"hold_first_post": True})
    client.force_login(author)
    comment = discussed["comment"]

    response = post_comment(client, seeded, "Waiting my turn.", parent=comment, headers=FETCH)

    assert "Your post is awaiting moderation." in response["X-Annotate-Fragment-Announce"]
    held = just_written("Waiting my turn.")
    assert held.is_held
    parts = parts_of(response)
    assert set(parts) == {f"thread-{comment.pk}", "comments-title"}
    article = parts[f"thread-{comment.pk}"].find(id=f"post-{held.pk}")
    assert "is-held" in article["class"]
    assert "Other readers cannot see this post yet." in words_on(article.find(class_="held-note"))
    # As WordPress counts: a held comment is not one of the thoughts yet.
    assert words_on(parts["comments-title"]) == f"2 thoughts on {TITLE}"


@pytest.fixture
def hidden_reading(seeded, author, stranger):
    """A class reading that shows a student (the author) classmates' posts once they post."""
    classroom = make_class(students=[author, stranger], readings=[seeded])
    Reading.objects.filter(classroom=classroom).update(hide_until_posted=True)
    make_post(seeded, stranger, "Cal sees paranoia.", classroom=classroom, passage=PARANOID)
    make_post(seeded, stranger, "Cal comments on the page.", classroom=classroom)
    return classroom


def test_a_students_first_post_on_a_hidden_reading_gets_the_whole_discussion(
    client, author, seeded, hidden_reading
):
    client.force_login(author)

    first = post_comment(client, seeded, "My first.", classroom=hidden_reading, headers=FETCH)

    # Classmates' posts appear all over the page: the answer is the whole discussion.
    parts = parts_of(first)
    assert set(parts) == {"discussion-root"}
    discussion = words_on(parts["discussion-root"])
    assert "Cal sees paranoia." in discussion and "Cal comments on the page." in discussion
    assert "once you have posted your own" not in discussion

    second = post_comment(client, seeded, "My second.", classroom=hidden_reading, headers=FETCH)

    assert set(parts_of(second)) == {f"thread-{just_written('My second.').pk}", "comments-title"}
    assert "Cal sees paranoia." not in second.content.decode()


def test_deleting_a_students_only_post_on_a_hidden_reading_hides_classmates_again(
    client, author, seeded, hidden_reading
):
    mine = make_post(seeded, author, "My only post.", classroom=hidden_reading)
    client.force_login(author)

    response = client.post(reverse("delete_post", args=[mine.pk]), headers=FETCH)

    discussion = words_on(parts_of(response)["discussion-root"])
    assert "once you have posted your own" in discussion
    assert "Cal sees paranoia." not in discussion


def test_an_instructors_post_on_a_hidden_reading_gets_only_its_thread(
    client, seeded, hidden_reading
):
    teacher = make_user("Tess Teacher", "tess@example.com")
    hidden_reading.memberships.create(user=teacher, role=Membership.Role.INSTRUCTOR)
    client.force_login(teacher)

    response = post_comment(
        client, seeded, "Read closely.", classroom=hidden_reading, headers=FETCH
    )

    assert set(parts_of(response)) == {
        f"thread-{just_written('Read closely.').pk}",
        "comments-title",
    }


# Without JavaScript


def test_without_the_fetch_header_a_reply_an_edit_and_a_delete_redirect_as_before(
    client, author, seeded, discussed
):
    client.force_login(author)

    replied = post_comment(client, seeded, "Plain form.", parent=discussed["paranoid"])
    reply = just_written("Plain form.")
    edited = client.post(reverse("edit_post", args=[reply.pk]), {"body": "Plain edit."})
    deleted = client.post(reverse("delete_post", args=[reply.pk]))

    assert replied.status_code == edited.status_code == 302
    assert replied["Location"] == edited["Location"] == reply.get_absolute_url()
    assert deleted.status_code == 302
    assert deleted["Location"] == seeded.get_absolute_url()
