"""The discussion as a W3C Web Annotation collection, for other tools to read."""

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from annotate.models import Post
from annotate.rendering import render_markdown
from tests.factories import make_post

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
HARD_WORDS = "Stalin’s orders"


def collection(client, document) -> dict:
    response = client.get(reverse("annotations_jsonld", args=[document.slug]))
    assert response.status_code == 200
    return response.json()


def items_of(data: dict) -> list[dict]:
    return data["first"]["items"]


def iri(post: Post) -> str:
    return f"http://testserver/posts/{post.pk}/"


def by_id(data: dict) -> dict[str, dict]:
    return {item["id"]: item for item in items_of(data)}


def selectors(item: dict) -> dict[str, dict]:
    return {selector["type"]: selector for selector in item["target"]["selector"]}


def test_the_page_links_to_its_annotation_collection(client, seeded):
    soup = BeautifulSoup(client.get(seeded.get_absolute_url()).content, "html.parser")

    link = soup.find("link", rel="alternate", type="application/ld+json")

    assert link["href"] == f"/texts/{seeded.slug}/annotations.jsonld"
    assert client.get(link["href"]).status_code == 200


def test_the_collection_is_json_ld_in_the_web_annotation_context(client, author, seeded):
    make_post(seeded, author, "A note.", passage="more paranoid", context=True)

    response = client.get(reverse("annotations_jsonld", args=[seeded.slug]))

    assert response["Content-Type"].split(";")[0] == "application/ld+json"
    assert 'profile="http://www.w3.org/ns/anno.jsonld"' in response["Content-Type"]
    data = response.json()
    assert data["@context"] == CONTEXT
    assert data["type"] == "AnnotationCollection"
    assert data["id"] == f"http://testserver/texts/{seeded.slug}/annotations.jsonld"
    assert data["first"]["type"] == "AnnotationPage"
    assert data["total"] == len(items_of(data)) == 1


def test_an_empty_discussion_is_an_empty_collection(client, seeded):
    data = collection(client, seeded)

    assert data["total"] == 0
    assert items_of(data) == []


def test_every_item_is_an_annotation_with_a_body_and_a_target(client, author, stranger, seeded):
    note = make_post(seeded, author, "**Why** so?", passage="more paranoid", context=True)
    make_post(seeded, stranger, "Because.", parent=note)
    make_post(seeded, stranger, "A page comment.")

    data = collection(client, seeded)

    assert data["total"] == 3
    for item in items_of(data):
        assert item.keys() >= {"id", "type", "motivation", "body", "target", "created", "creator"}
        assert item["type"] == "Annotation"
        assert item["body"]["type"] == "TextualBody"
        assert item["body"]["format"] == "text/markdown"
    assert by_id(data)[iri(note)]["body"]["value"] == "**Why** so?"
    assert by_id(data)[iri(note)]["creator"] == {"type": "Person", "name": "Ada Author"}


def test_an_annotation_targets_its_passage_with_quote_and_position_selectors(
    client, author, seeded
):
    note = make_post(seeded, author, "A note.", passage=HARD_WORDS, context=True)

    item = by_id(collection(client, seeded))[iri(note)]

    assert item["motivation"] == "commenting"
    assert item["target"]["source"] == f"http://testserver/texts/{seeded.slug}/"
    assert item["target"]["state"] == {"type": "HttpRequestState", "value": "revision=1"}
    quote, position = selectors(item)["TextQuoteSelector"], selectors(item)["TextPositionSelector"]
    text = seeded.text
    assert quote["exact"] == HARD_WORDS == text[position["start"] : position["end"]]
    assert text[: position["start"]].endswith(quote["prefix"])
    assert text[position["end"] :].startswith(quote["suffix"])
    assert len(quote["prefix"]) == len(quote["suffix"]) == 32


def test_a_reply_targets_its_parent(client, author, stranger, seeded):
    note = make_post(seeded, author, "A note.", passage="more paranoid", context=True)
    reply = make_post(seeded, stranger, "Reply.", parent=note)
    reply_to_reply = make_post(seeded, author, "Reply again.", parent=reply)

    items = by_id(collection(client, seeded))

    assert items[iri(reply)]["motivation"] == "replying"
    assert items[iri(reply)]["target"] == iri(note)
    assert items[iri(reply_to_reply)]["target"] == iri(reply)
    assert iri(note) in items


def test_a_page_comment_targets_the_whole_text(client, author, seeded):
    comment = make_post(seeded, author, "On the whole.")

    item = by_id(collection(client, seeded))[iri(comment)]

    assert item["motivation"] == "commenting"
    assert item["target"] == f"http://testserver/texts/{seeded.slug}/"


def test_an_edited_post_carries_its_modified_time(client, author, seeded):
    comment = make_post(seeded, author, "First words.")
    comment.edit("Second words.", render_markdown("Second words."))

    item = by_id(collection(client, seeded))[iri(comment)]

    assert item["body"]["value"] == "Second words."
    assert item["modified"] == comment.edited_at.isoformat()


def test_the_collection_holds_only_what_the_reader_may_see(client, author, stranger, seeded):
    shown = make_post(seeded, stranger, "Published.")
    own_held = make_post(seeded, author, "My pending post.", status=Post.Status.PENDING)
    others_held = make_post(seeded, stranger, "Their pending post.", status=Post.Status.PENDING)
    spam = make_post(
        seeded, stranger, "A note.", passage="more paranoid", context=True, status=Post.Status.SPAM
    )
    removed = make_post(seeded, stranger, "Removed.", status=Post.Status.REMOVED)
    deleted = make_post(seeded, author, "Deleted.")
    deleted.delete_by_author()

    client.force_login(author)
    items = by_id(collection(client, seeded))

    assert set(items) == {iri(shown), iri(own_held)}
    for hidden in (others_held, spam, removed, deleted):
        assert iri(hidden) not in items
    client.logout()
    assert set(by_id(collection(client, seeded))) == {iri(shown)}


def test_replies_hidden_from_the_page_are_not_in_the_collection(client, author, stranger, seeded):
    removed = make_post(seeded, stranger, "Removed by a moderator.", status=Post.Status.REMOVED)
    make_post(seeded, author, "Under the removed post.", parent=removed)
    held = make_post(seeded, stranger, "Held.", status=Post.Status.PENDING)
    make_post(seeded, author, "Under someone else's held post.", parent=held)

    client.force_login(author)
    data = collection(client, seeded)

    assert data["total"] == 0
    assert "Under" not in client.get(seeded.get_absolute_url()).content.decode()


def test_replies_to_a_deleted_post_stay_and_target_it(client, author, stranger, seeded):
    gone = make_post(seeded, author, "Soon deleted.")
    reply = make_post(seeded, stranger, "Still here.", parent=gone)
    gone.delete_by_author()

    items = by_id(collection(client, seeded))

    assert set(items) == {iri(reply)}
    assert items[iri(reply)]["target"] == iri(gone)


def test_non_ascii_text_is_sent_as_utf8_not_escaped(client, author, seeded):
    make_post(seeded, author, "Ça va 👩\u200d👩\u200d👧", passage=HARD_WORDS, context=True)

    response = client.get(reverse("annotations_jsonld", args=[seeded.slug]))

    assert "Ça va 👩\u200d👩\u200d👧".encode() in response.content
    assert HARD_WORDS.encode() in response.content


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_collection_is_read_only(client, seeded, method):
    response = getattr(client, method)(reverse("annotations_jsonld", args=[seeded.slug]))

    assert response.status_code == 405
