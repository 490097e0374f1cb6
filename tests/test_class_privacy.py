"""
A class's privacy: what unlocks hide-until-posted, counts on the class page
that tell of no post the reader cannot see, a member limit that holds when
many join at once, and 404 and 403 pages in plain words.
"""

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from annotate.models import Classroom, Document, HeldReason, Membership, Post, Reading, User
from tests.factories import make_class, make_document, make_post, make_user
from tests.test_classes import page_text, reading_counts_shown, reading_rows, soup

NOTICE = "Your classmates’ notes appear here once you have posted your own."
HIDDEN = "/classes/history/texts/hidden/"
OPEN = "/classes/history/texts/open/"
PASSAGE = "the first paragraph"


def text(slug: str, title: str, *, is_public: bool = False) -> Document:
    words = f"Words of {title}, in the first paragraph.\n\nAnd more in the second."
    return make_document(words, slug=slug, title=title, is_public=is_public)


@pytest.fixture
def hidden(db) -> Document:
    return text("hidden", "Hidden until posted")


@pytest.fixture
def open_text(db) -> Document:
    return text("open", "Open from the start")


@pytest.fixture
def instructor(db) -> User:
    return make_user("Tess Teacher", "tess@example.com")


@pytest.fixture
def classroom(instructor, hidden, open_text) -> Classroom:
    """Modern History reads one text with hide-until-posted and one without."""
    classroom = make_class(term="Spring 2027", instructor=instructor)
    Reading.objects.create(classroom=classroom, document=hidden, hide_until_posted=True)
    Reading.objects.create(classroom=classroom, document=open_text)
    return classroom


@pytest.fixture
def student(author, classroom) -> User:
    Membership.objects.create(classroom=classroom, user=author)
    return author


@pytest.fixture
def classmate(classroom) -> User:
    user = make_user("Cal Classmate", "cal@example.com")
    Membership.objects.create(classroom=classroom, user=user)
    return user


def in_class(classroom, document, author, body, **fields) -> Post:
    return make_post(document, author, body, classroom=classroom, **fields)


# What unlocks hide-until-posted


@pytest.fixture
def classmates_note(classroom, hidden, classmate) -> Post:
    return in_class(classroom, hidden, classmate, "Cal's note on the reading.")


def sees_classmates(client, note: Post) -> bool:
    page = page_text(client.get(HIDDEN))
    shown = "Cal's note on the reading." in page
    assert shown is (NOTICE not in page)
    # The note's own address agrees with the page.
    assert client.get(f"/posts/{note.pk}/report/").status_code == (200 if shown else 404)
    return shown


@pytest.mark.parametrize(
    ("status", "unlocks"),
    [
        (Post.Status.PUBLISHED, True),
        (Post.Status.PENDING, True),
        (Post.Status.SPAM, False),
        (Post.Status.REMOVED, False),
    ],
)
def test_only_a_post_others_can_see_or_that_awaits_moderation_unlocks_classmates_posts(
    client, classroom, hidden, student, classmates_note, status, unlocks
):
    in_class(classroom, hidden, student, "Ada's own words.", status=status)
    client.force_login(student)

    assert sees_classmates(client, classmates_note) is unlocks


def test_a_post_the_student_deleted_does_not_unlock_classmates_posts(
    client, classroom, hidden, student, classmates_note
):
    in_class(classroom, hidden, student, "Ada's words, soon gone.").delete_by_author()
    client.force_login(student)

    assert not sees_classmates(client, classmates_note)


def test_a_reply_to_the_student_s_own_spam_does_not_unlock_classmates_posts(
    client, classroom, hidden, student, classmates_note
):
    spam = in_class(classroom, hidden, student, "Buy now.", status=Post.Status.SPAM)
    client.force_login(student)

    response = client.post(HIDDEN + "posts/", {"body": "Really, buy now.", "parent": spam.pk})

    assert response.status_code == 302
    assert Post.objects.get(parent=spam).status == Post.Status.PUBLISHED
    assert not sees_classmates(client, classmates_note)


def test_a_reply_under_a_removed_post_does_not_unlock_classmates_posts(
    client, classroom, hidden, student, instructor, classmates_note
):
    removed = in_class(classroom, hidden, instructor, "Withdrawn prompt.")
    in_class(classroom, hidden, student, "My answer to it.", parent=removed)
    client.force_login(student)
    assert sees_classmates(client, classmates_note)

    removed.remove(by=instructor)

    assert not sees_classmates(client, classmates_note)


def test_a_reply_under_a_deleted_post_still_unlocks_classmates_posts(
    client, classroom, hidden, student, instructor, classmates_note
):
    # A deleted post stays as a placeholder above its replies: others still read them.
    prompt = in_class(classroom, hidden, instructor, "A prompt.")
    in_class(classroom, hidden, student, "My answer to it.", parent=prompt)
    prompt.delete_by_author()
    client.force_login(student)

    assert sees_classmates(client, classmates_note)


# Counts on the class page


def counts_on_reading_page(client, path: str) -> list[str]:
    """
    What a reader counts on a reading's page: published posts, their own
    posts, and first posts asking something with no published reply shown.
    """
    page = soup(client.get(path))
    articles = page.select("article.post")

    def shown(article) -> bool:
        return not {"is-held", "is-deleted"} & set(article["class"])

    def parent_of(article):
        list_item = article.find_parent("li")
        replies = list_item.find_parent("ol")
        if "children" not in replies["class"]:
            return None
        return replies.find_parent("li").find("article", recursive=False)

    published = [article for article in articles if shown(article)]
    mine = [
        article
        for article in articles
        if "is-deleted" not in article["class"] and article.select_one("a[href$='/edit/']")
    ]
    answered = {parent_of(article)["id"] for article in published if parent_of(article)}
    unanswered = [
        article
        for article in published
        if parent_of(article) is None
        and "?" in article.select_one(".post-body").get_text()
        and article["id"] not in answered
    ]
    return [str(len(published)), str(len(mine)), str(len(unanswered))]


@pytest.fixture
def discussion(classroom, hidden, open_text, instructor, student, classmate) -> dict[str, Post]:
    """Both readings, with posts each reader's page shows or leaves out."""

    def post(document, author, body, **fields) -> Post:
        return in_class(classroom, document, author, body, **fields)

    posts = {}
    for document in (hidden, open_text):
        question = post(document, instructor, "Where does the story start?")
        post(document, classmate, "With the war.", parent=question)
        post(document, classmate, "Cal's note?", passage=PASSAGE)
        removed = post(document, classmate, "Off topic?", status=Post.Status.REMOVED)
        post(document, instructor, "Answer to a removed post.", parent=removed)
        held = post(
            document, classmate, "Held?", status=Post.Status.PENDING, held_reason=HeldReason.LINKS
        )
        post(document, instructor, "Answer to a held post.", parent=held)
        spam = post(document, classmate, "Spam?", status=Post.Status.SPAM)
        post(document, classmate, "More spam.", parent=spam)
        deleted = post(document, classmate, "Deleted?")
        post(document, instructor, "Answer to a deleted post.", parent=deleted)
        deleted.delete_by_author()
        prompt = post(document, instructor, "A prompt.")
        middle = post(document, classmate, "A reply, later removed.", parent=prompt)
        below = post(document, instructor, "Below a removed reply.", parent=middle)
        post(document, instructor, "Further below?", parent=below)
        middle.remove(by=instructor)
        posts[document.slug] = question
    # The student's own: held on the open text, with a published reply under it.
    own = post(open_text, student, "Ada wonders?", status=Post.Status.PENDING)
    post(open_text, instructor, "A reply to Ada's held post.", parent=own)
    post(open_text, student, "Ada's spam?", status=Post.Status.SPAM)
    return posts


def assert_class_page_counts_what_reading_pages_show(client):
    rows = reading_counts_shown(client.get("/classes/history/"))
    shown = [counts_on_reading_page(client, HIDDEN), counts_on_reading_page(client, OPEN)]
    assert rows == shown
    return shown


def test_class_page_counts_only_what_each_reading_page_shows_the_reader(
    client, discussion, classroom, hidden, instructor, student, classmate
):
    client.force_login(student)
    # Before posting: the instructor's posts alone, and not their replies to
    # classmates' hidden posts; nobody's answer to the question shows yet.
    assert assert_class_page_counts_what_reading_pages_show(client) == [
        ["2", "0", "1"],
        ["6", "2", "1"],
    ]

    in_class(classroom, hidden, student, "Now I have posted.")
    assert assert_class_page_counts_what_reading_pages_show(client) == [
        ["6", "1", "1"],
        ["6", "2", "1"],
    ]

    # The classmate reads replies under their own held posts; nobody else does.
    client.force_login(classmate)
    assert assert_class_page_counts_what_reading_pages_show(client) == [
        ["8", "5", "1"],
        ["7", "5", "1"],
    ]

    client.force_login(instructor)
    assert assert_class_page_counts_what_reading_pages_show(client) == [
        ["6", "3", "1"],
        ["5", "3", "1"],
    ]


def test_a_question_answered_only_by_a_hidden_classmate_reads_as_unanswered(
    client, classroom, hidden, instructor, student, classmate
):
    question = in_class(classroom, hidden, instructor, "Who wrote this?")
    in_class(classroom, hidden, classmate, "A journalist.", parent=question)
    client.force_login(student)

    rows = reading_rows(client.get("/classes/history/"))

    assert rows[0][2:] == ["1", "0", "1"]


def test_class_page_counts_with_the_same_queries_for_many_posts_as_for_few(
    client, classroom, hidden, open_text, instructor, student, classmate
):
    def class_page_queries() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/classes/history/").status_code == 200
        return [query["sql"] for query in queries.captured_queries]

    client.force_login(student)
    for document in (hidden, open_text):
        in_class(classroom, document, classmate, "A first question?")
    few = class_page_queries()
    for document in (hidden, open_text):
        root = in_class(classroom, document, instructor, "A prompt.")
        for number in range(20):
            reply = in_class(classroom, document, classmate, f"Reply {number}?", parent=root)
            in_class(classroom, document, instructor, "Thanks.", parent=reply)
    many = class_page_queries()

    assert len(many) == len(few)
    assert sum('FROM "annotate_post"' in sql for sql in many) == 1


# A member limit that holds


def at_once(requests: list[tuple[User, str]]) -> list:
    """POST each (person, path) from its own thread, all released together."""
    clients = []
    for person, _ in requests:
        person_client = Client()
        person_client.force_login(person)
        clients.append(person_client)
    start = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def send(index: int, path: str) -> None:
        try:
            start.wait(timeout=30)
            answers[index] = clients[index].post(path)
        except Exception as error:  # reported by the test below, not lost in a thread
            answers[index] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=send, args=(index, path))
        for index, (_, path) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return answers


not_on_sqlite = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's in-memory test database cannot take joins at once: between "
    "connections it locks whole tables and fails instead of waiting (a laptop's "
    "database file queues them, with IMMEDIATE transactions and a busy timeout); "
    "CI runs this on PostgreSQL",
)


@pytest.fixture
def slow_count(monkeypatch):
    """
    A pause after each count of free places, as a busy database gives: joins
    that are not queued one after another all count the same free place.
    """

    def slowly(check):
        def counted_slowly(self):
            answer = check(self)
            time.sleep(0.2)
            return answer

        return counted_slowly

    monkeypatch.setattr(Classroom, "why_link_is_closed", slowly(Classroom.why_link_is_closed))
    monkeypatch.setattr(Classroom, "why_full", slowly(Classroom.why_full))


def joiners(count: int, domain: str = "example.com") -> list[User]:
    return [make_user(f"Joiner {number}", f"joiner{number}@{domain}") for number in range(count)]


def assert_answers(answers, *, admitted: int, refused: int) -> None:
    errors = [answer for answer in answers if isinstance(answer, Exception)]
    assert not errors
    assert sorted(answer.status_code for answer in answers) == [302] * admitted + [403] * refused
    for answer in answers:
        if answer.status_code == 403:
            assert "This class is full. Ask your instructor to make room." in page_text(answer)


@not_on_sqlite
@pytest.mark.django_db(transaction=True)
def test_joins_at_the_same_moment_admit_no_more_students_than_the_limit(slow_count):
    classroom = make_class("Seminar", "seminar", member_limit=3)
    people = joiners(8)

    answers = at_once([(person, classroom.get_join_url()) for person in people])

    assert_answers(answers, admitted=3, refused=5)
    assert classroom.memberships.filter(role=Membership.Role.STUDENT).count() == 3


@not_on_sqlite
@pytest.mark.django_db(transaction=True)
def test_joins_by_link_and_by_school_address_at_once_share_the_limit(slow_count):
    classroom = make_class("Seminar", "seminar", member_limit=2, allowed_domains="school.example")
    by_link = [(person, classroom.get_join_url()) for person in joiners(3)]
    by_domain = [(person, "/classes/seminar/join/") for person in joiners(3, "school.example")]

    answers = at_once(by_link + by_domain)

    assert_answers(answers, admitted=2, refused=4)
    assert classroom.memberships.count() == 2


def test_a_full_class_admits_nobody_by_school_address(client, db):
    first, second = joiners(2, "school.example")
    classroom = make_class(
        "Seminar", "seminar", member_limit=1, allowed_domains="school.example", students=[first]
    )
    client.force_login(second)

    response = client.post("/classes/seminar/join/")

    assert response.status_code == 403
    assert "This class is full. Ask your instructor to make room." in page_text(response)
    assert not classroom.memberships.filter(user=second).exists()


def test_joining_again_by_the_link_keeps_one_membership(client, classroom, student):
    classroom.member_limit = 1
    classroom.save(update_fields=["member_limit"])

    assert classroom.admit(student, by_link=True) is None
    assert classroom.memberships.filter(user=student).count() == 1


# 404 and 403 pages in plain words

NO_SUCH_TEXT = "This text doesn't exist, or it belongs to a class you're not in."
NO_SUCH_CLASS = "This class doesn't exist, or you're not one of its members."
NOTHING_HERE = (
    "There's nothing at this address. What was here may have been deleted, "
    "or it belongs to a class you're not in."
)


@pytest.fixture
def readers(classroom, student, classmate, stranger, open_text) -> dict[str, Client | Post]:
    Document.objects.filter(slug="open").update(is_public=True)
    text("private", "A class-only text")
    open_text.revise("A second version of the words.")
    clients = {"anonymous": Client()}
    for name, person in [("student", student), ("stranger", stranger)]:
        clients[name] = Client()
        clients[name].force_login(person)
    clients["classmate_post"] = in_class(classroom, open_text, classmate, "Cal's words.")
    return clients


@pytest.mark.parametrize(
    ("reader", "method", "path", "status", "message"),
    [
        ("anonymous", "get", "/texts/no-such-text/", 404, NO_SUCH_TEXT),
        ("stranger", "get", "/texts/private/", 404, NO_SUCH_TEXT),
        ("stranger", "get", "/texts/private/annotations.jsonld", 404, NO_SUCH_TEXT),
        ("stranger", "get", "/texts/private/revisions/2/", 404, NO_SUCH_TEXT),
        ("student", "get", "/classes/no-such-class/", 404, NO_SUCH_CLASS),
        ("stranger", "get", "/classes/history/", 404, NO_SUCH_CLASS),
        ("stranger", "get", "/classes/history/texts/open/", 404, NO_SUCH_CLASS),
        ("student", "get", "/classes/no-such-class/texts/open/", 404, NO_SUCH_CLASS),
        (
            "student",
            "get",
            "/classes/history/texts/no-such-text/",
            404,
            "Modern History (Spring 2027) has no such reading. Its class page lists them all.",
        ),
        ("student", "get", "/texts/open/revisions/9/", 404, "This text has no revision 9."),
        ("student", "get", "/texts/open/?revision=7", 404, "This text has no revision 7."),
        (
            "student",
            "get",
            f"/texts/open/revisions/{2**70}/",
            404,
            f"This text has no revision {2**70}.",
        ),
        ("student", "get", f"/texts/open/?revision={2**70}", 404, "This text has no revision"),
        (
            "student",
            "get",
            "/classes/history/texts/open/revisions/9/",
            404,
            "This text has no revision 9.",
        ),
        (
            "student",
            "get",
            "/texts/open/revisions/1/",
            404,
            "The first version of a text has nothing to compare with.",
        ),
        ("anonymous", "get", "/posts/987654/", 404, NOTHING_HERE),
        ("student", "get", "/posts/987654/edit/", 404, NOTHING_HERE),
        ("student", "post", "/posts/987654/report/", 404, NOTHING_HERE),
        ("anonymous", "get", "/no/such/page/", 404, NOTHING_HERE),
        (
            "stranger",
            "get",
            "/join/not-a-join-token/",
            404,
            "This join link is not valid: it may have been replaced by a new one. "
            "Ask your instructor for the current link.",
        ),
        (
            "stranger",
            "post",
            "/classes/no-such-class/join/",
            404,
            "This class doesn't exist, or it doesn't admit your address: "
            "ask your instructor for its join link.",
        ),
        (
            "student",
            "get",
            "/classes/history/export/students.csv",
            404,
            "Only the class's instructors and teaching assistants can see that.",
        ),
        (
            "student",
            "get",
            "/posts/{classmate_post}/edit/",
            403,
            "Only the author of a post can change it.",
        ),
    ],
)
def test_404_and_403_pages_say_plainly_what_is_missing(
    readers, reader, method, path, status, message
):
    path = path.format(classmate_post=readers["classmate_post"].pk)

    response = getattr(readers[reader], method)(path)

    assert response.status_code == status
    page = page_text(response)
    assert message in page
    assert "matches the given query" not in page
    assert "404" not in page


def test_a_403_without_a_reason_of_its_own_still_says_something_plain(client, db):
    helper = make_user("Hal Helper", "hal@example.com", is_staff=True)
    client.force_login(helper)

    response = client.get("/admin/annotate/user/")

    assert response.status_code == 403
    assert (
        "This page isn't open to you. If you think it should be, ask your instructor or a "
        "moderator." in page_text(response)
    )
