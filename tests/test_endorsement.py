"""
An instructor's pick: the class's instructors mark a published post, every
reader sees the mark, its history says who, and the author's score is
recomputed.
"""

import pytest

from annotate.models import Membership, Post, PostEvent, User
from tests.factories import make_class, make_document, make_post, make_user
from tests.test_classes import messages_after, soup, words

READING = "/classes/history/texts/sample/"


@pytest.fixture
def instructor(db) -> User:
    return make_user("Tess Teacher", "tess@example.com")


@pytest.fixture
def author(db) -> User:
    return make_user("Ada Author", "ada@example.com")


@pytest.fixture
def classmate(db) -> User:
    return make_user("Cal Classmate", "cal@example.com")


@pytest.fixture
def document(db):
    return make_document()


@pytest.fixture
def classroom(instructor, author, classmate, document):
    return make_class(instructor=instructor, students=[author, classmate], readings=[document])


@pytest.fixture
def post(classroom, document, author) -> Post:
    return make_post(document, author, "A fine thought.", classroom=classroom)


def pick_url(post: Post) -> str:
    return f"/posts/{post.pk}/pick/"


def test_an_instructor_picks_a_post_and_every_reader_sees_the_mark(
    client, post, instructor, classmate
):
    client.force_login(instructor)

    response = client.post(pick_url(post), {"pick": "1"})

    assert response.status_code == 302
    assert "Marked as an instructor’s pick" in messages_after(client, response)[0]
    post.refresh_from_db()
    assert post.endorsed_by == instructor and post.endorsed_at is not None
    event = post.events.get(kind=PostEvent.Kind.ENDORSED)
    assert event.actor == instructor
    client.force_login(classmate)
    mark = soup(client.get(READING)).select_one(f"#post-{post.pk} .badge-pick")
    assert words(mark) == "★ Instructor’s pick"


def test_an_instructor_takes_the_pick_off(client, post, instructor):
    post.endorse(by=instructor)
    client.force_login(instructor)
    page = soup(client.get(READING))
    assert words(page.select_one(f"#post-{post.pk} .pick-form button")).startswith("Remove pick")

    client.post(pick_url(post), {"pick": "0"})

    post.refresh_from_db()
    assert post.endorsed_at is None and post.endorsed_by is None
    assert post.events.filter(kind=PostEvent.Kind.UNENDORSED, actor=instructor).exists()
    assert soup(client.get(READING)).select_one(".badge-pick") is None


def test_picking_twice_writes_one_history_row(client, post, instructor):
    client.force_login(instructor)
    client.post(pick_url(post), {"pick": "1"})
    client.post(pick_url(post), {"pick": "1"})
    assert post.events.filter(kind=PostEvent.Kind.ENDORSED).count() == 1


def test_assistants_and_students_are_refused_with_a_reason(client, post, classroom, classmate):
    assistant = make_user("Tia Assistant", "tia@example.com")
    Membership.objects.create(classroom=classroom, user=assistant, role=Membership.Role.ASSISTANT)
    for person in (assistant, classmate):
        client.force_login(person)
        response = client.post(pick_url(post), {"pick": "1"})
        assert response.status_code == 403
        assert "Only the class’s instructors" in response.content.decode()
        assert soup(client.get(READING)).select_one(".pick-form") is None
    post.refresh_from_db()
    assert post.endorsed_at is None


def test_outsiders_and_missing_posts_get_not_found(client, post):
    client.force_login(make_user("Stan Stranger", "stan@example.com"))
    assert client.post(pick_url(post), {"pick": "1"}).status_code == 404
    assert client.post("/posts/999999/pick/", {"pick": "1"}).status_code == 404


def test_a_public_post_cannot_be_picked(client, document, instructor):
    public = make_post(document, instructor, "Public.")
    client.force_login(instructor)
    assert client.post(pick_url(public), {"pick": "1"}).status_code == 404


def test_only_a_published_post_can_be_picked(client, classroom, document, instructor):
    held = make_post(document, instructor, "Mine, held.", classroom=classroom, status="pending")
    client.force_login(instructor)

    response = client.post(pick_url(held), {"pick": "1"})

    assert messages_after(client, response) == [
        "Only a published post can be an instructor’s pick."
    ]
    held.refresh_from_db()
    assert held.endorsed_at is None


def test_a_pick_asks_for_the_authors_score_again(client, post, instructor, monkeypatch):
    from annotate import scores

    changed = []
    monkeypatch.setattr(scores, "post_changed", changed.append)
    client.force_login(instructor)
    client.post(pick_url(post), {"pick": "1"})
    assert [each.pk for each in changed] == [post.pk]


def test_the_pick_form_is_a_labelled_button(client, post, instructor):
    client.force_login(instructor)
    button = soup(client.get(READING)).select_one(f"#post-{post.pk} .pick-form button")
    assert words(button) == "Mark as instructor’s pick: the post by Ada Author"
