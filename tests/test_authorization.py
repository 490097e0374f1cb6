"""
Who can read and change what: every page, export and admin page, for six people.

Two classes, A and B, each read a private text; a third text is public. Each
discussion holds a published annotation, a reply, a page comment and a held
post. The matrix below gives, for each request, the answer each person gets;
the tests after it check that what a page shows stays inside the same walls.
"""

from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.test import Client

from annotate.models import (
    Classroom,
    Document,
    Flag,
    HeldReason,
    Membership,
    Post,
    Reading,
    User,
)
from annotate.rendering import render_markdown
from tests.conftest import make_user

ROLES = ["anonymous", "student_a", "student_b", "instructor_a", "instructor_b", "superuser"]

# What a person gets, besides a plain status code.
LOGIN = "login"  # redirected to the site's sign-in page
ADMIN_LOGIN = "admin login"  # redirected to the admin's sign-in page
ADMIN_INDEX = "admin index"  # the admin's "doesn't exist" redirect to its index

PASSAGE_A = "more paranoid at the end of the war"
PASSAGE = "Second paragraph"


@dataclass
class World:
    people: dict[str, User]
    class_a: Classroom
    class_b: Classroom
    doc_a: Document
    doc_b: Document
    public: Document
    posts: dict[str, Post]
    flag_a: Flag
    flag_b: Flag
    membership_a: Membership
    membership_b: Membership

    def names(self) -> dict:
        """What the paths in the matrix may name."""
        return {**vars(self), **self.posts}


def make_post(document, author, body, *, classroom=None, passage="", parent=None, **fields):
    anchor = {}
    if passage:
        start = document.text.index(passage)
        anchor = {
            "revision": document.current_revision,
            "exact": passage,
            "start": start,
            "end": start + len(passage),
        }
    return Post.objects.create(
        document=document,
        classroom=classroom,
        author=author,
        parent=parent,
        depth=parent.depth + 1 if parent else 0,
        body=body,
        body_html=render_markdown(body),
        **anchor,
        **fields,
    )


def make_instructor(display_name: str, email: str, classroom: Classroom) -> User:
    """Staff in the Moderators group, teaching `classroom`, as docs/teaching.md sets one up."""
    user = make_user(display_name, email, is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    Membership.objects.create(classroom=classroom, user=user, role=Membership.Role.INSTRUCTOR)
    return user


def make_discussion(document, classroom, writer, teacher, prefix: str, passage: str) -> dict:
    """A published annotation, a reply to it, a page comment and a held post, in one discussion."""
    annotation = make_post(
        document, writer, f"{prefix} annotation.", classroom=classroom, passage=passage
    )
    return {
        f"{prefix}_annotation": annotation,
        f"{prefix}_reply": make_post(
            document, teacher, f"{prefix} reply.", classroom=classroom, parent=annotation
        ),
        f"{prefix}_comment": make_post(document, writer, f"{prefix} comment.", classroom=classroom),
        f"{prefix}_held": make_post(
            document,
            writer,
            f"{prefix} held post.",
            classroom=classroom,
            status=Post.Status.PENDING,
            held_reason=HeldReason.FIRST_POST,
        ),
    }


@pytest.fixture
def world(seeded, document) -> World:
    class_a = Classroom.objects.create(name="Alpha History", slug="alpha")
    class_b = Classroom.objects.create(name="Beta History", slug="beta")
    doc_a = seeded
    doc_a.is_public = False
    doc_a.save(update_fields=["is_public"])
    doc_b = Document.objects.create(slug="beta-text", title="Beta text", is_public=False)
    doc_b.revise("First paragraph of the beta text.\n\nSecond paragraph of the beta text.")
    doc_b = Document.objects.with_text().get(pk=doc_b.pk)
    public = document
    Reading.objects.create(classroom=class_a, document=doc_a)
    Reading.objects.create(classroom=class_b, document=doc_b)

    people = {
        "student_a": make_user("Ana Student", "ana@example.com"),
        "student_b": make_user("Ben Student", "ben@example.com"),
        "instructor_a": make_instructor("Ida Instructor", "ida@example.com", class_a),
        "instructor_b": make_instructor("Ivo Instructor", "ivo@example.com", class_b),
        "superuser": make_user(
            "Sue Super", "sue@example.com", is_staff=True, is_superuser=True
        ),
    }
    membership_a = Membership.objects.create(classroom=class_a, user=people["student_a"])
    membership_b = Membership.objects.create(classroom=class_b, user=people["student_b"])
    reader = make_user("Pat Public", "pat@example.com")

    posts = {
        **make_discussion(
            doc_a, class_a, people["student_a"], people["instructor_a"], "a", PASSAGE_A
        ),
        **make_discussion(
            doc_b, class_b, people["student_b"], people["instructor_b"], "b", PASSAGE
        ),
        **make_discussion(public, None, reader, people["student_a"], "public", PASSAGE),
    }
    flag_a = Flag.objects.create(
        post=posts["a_reply"], reporter=people["student_a"], reason=Flag.Reason.OFF_TOPIC
    )
    flag_b = Flag.objects.create(
        post=posts["b_reply"], reporter=people["student_b"], reason=Flag.Reason.OFF_TOPIC
    )
    Post.objects.filter(pk__in=[flag_a.post_id, flag_b.post_id]).update(flag_count=1)
    return World(
        people=people,
        class_a=class_a,
        class_b=class_b,
        doc_a=doc_a,
        doc_b=doc_b,
        public=public,
        posts=posts,
        flag_a=flag_a,
        flag_b=flag_b,
        membership_a=membership_a,
        membership_b=membership_b,
    )


def client_for(world: World, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world.people[role])
    return client


def assert_outcome(response, expected) -> None:
    location = response.headers.get("Location", "")
    if expected == LOGIN:
        assert (response.status_code, location.split("?")[0]) == (302, "/accounts/login/")
    elif expected == ADMIN_LOGIN:
        assert (response.status_code, location.split("?")[0]) == (302, "/admin/login/")
    elif expected == ADMIN_INDEX:
        assert (response.status_code, location) == (302, "/admin/")
    else:
        assert response.status_code == expected, (response.status_code, location)
        if expected == 302:
            assert not location.startswith(("/accounts/login/", "/admin/login/", "/admin/")), (
                location
            )


READING_A = "/classes/{class_a.slug}/texts/{doc_a.slug}/"
READING_B = "/classes/{class_b.slug}/texts/{doc_b.slug}/"
POST = {"body": "A new note."}
REPORT = {"reason": Flag.Reason.SPAM}
EDIT = {"body": "Changed words."}
APPROVE = {"decision": "approve"}
ADM = ADMIN_LOGIN
IDX = ADMIN_INDEX


def row(label: str, method: str, path: str, expected: tuple, data=None):
    assert len(expected) == len(ROLES), label
    return pytest.param(method, path, data, dict(zip(ROLES, expected, strict=True)), id=label)


# fmt: off
MATRIX = [
    # label, method, path, (anonymous, student A, student B, instructor A, instructor B, superuser)
    # Reading and posting
    row("class A reading", "GET", READING_A,                              (LOGIN, 200, 404, 200, 404, 200)),
    row("class B reading", "GET", READING_B,                              (LOGIN, 404, 200, 404, 200, 200)),
    row("public text", "GET", "/texts/{public.slug}/",                    (200, 200, 200, 200, 200, 200)),
    row("class A text at its public address", "GET", "/texts/{doc_a.slug}/",
                                                                          (404, 302, 404, 302, 404, 200)),
    row("post to class A reading", "POST", READING_A + "posts/",          (LOGIN, 302, 404, 302, 404, 302), POST),
    row("post to class B reading", "POST", READING_B + "posts/",          (LOGIN, 404, 302, 404, 302, 302), POST),
    row("post to class A text at its public address", "POST", "/texts/{doc_a.slug}/posts/",
                                                                          (LOGIN, 404, 404, 404, 404, 302), POST),
    row("post to public text", "POST", "/texts/{public.slug}/posts/",     (LOGIN, 302, 302, 302, 302, 302), POST),
    row("JSON-LD of class A reading", "GET", READING_A + "annotations.jsonld",
                                                                          (404, 200, 404, 200, 404, 200)),
    row("JSON-LD of class B reading", "GET", READING_B + "annotations.jsonld",
                                                                          (404, 404, 200, 404, 200, 200)),
    row("JSON-LD of class A text at its public address", "GET", "/texts/{doc_a.slug}/annotations.jsonld",
                                                                          (404, 404, 404, 404, 404, 200)),
    # Permalinks
    row("permalink of A annotation", "GET", "/posts/{a_annotation.pk}/",  (404, 302, 404, 302, 404, 302)),
    row("permalink of A reply", "GET", "/posts/{a_reply.pk}/",            (404, 302, 404, 302, 404, 302)),
    row("permalink of A comment", "GET", "/posts/{a_comment.pk}/",        (404, 302, 404, 302, 404, 302)),
    row("permalink of A held post", "GET", "/posts/{a_held.pk}/",         (404, 302, 404, 404, 404, 404)),
    row("permalink of B annotation", "GET", "/posts/{b_annotation.pk}/",  (404, 404, 302, 404, 302, 302)),
    row("permalink of B reply", "GET", "/posts/{b_reply.pk}/",            (404, 404, 302, 404, 302, 302)),
    row("permalink of public annotation", "GET", "/posts/{public_annotation.pk}/",
                                                                          (302, 302, 302, 302, 302, 302)),
    # Changing posts: authors edit and delete, other readers report
    row("edit A annotation (form)", "GET", "/posts/{a_annotation.pk}/edit/",
                                                                          (LOGIN, 200, 404, 403, 404, 403)),
    row("edit A annotation", "POST", "/posts/{a_annotation.pk}/edit/",    (LOGIN, 302, 404, 403, 404, 403), EDIT),
    row("edit A reply", "POST", "/posts/{a_reply.pk}/edit/",              (LOGIN, 403, 404, 302, 404, 403), EDIT),
    row("edit B annotation", "POST", "/posts/{b_annotation.pk}/edit/",    (LOGIN, 404, 302, 404, 403, 403), EDIT),
    row("edit public annotation", "POST", "/posts/{public_annotation.pk}/edit/",
                                                                          (LOGIN, 403, 403, 403, 403, 403), EDIT),
    row("edit A held post", "POST", "/posts/{a_held.pk}/edit/",           (LOGIN, 302, 404, 404, 404, 404), EDIT),
    row("delete A annotation (form)", "GET", "/posts/{a_annotation.pk}/delete/",
                                                                          (LOGIN, 200, 404, 403, 404, 403)),
    row("delete A annotation", "POST", "/posts/{a_annotation.pk}/delete/",
                                                                          (LOGIN, 302, 404, 403, 404, 403)),
    row("delete B comment", "POST", "/posts/{b_comment.pk}/delete/",      (LOGIN, 404, 302, 404, 403, 403)),
    row("report A annotation (form)", "GET", "/posts/{a_annotation.pk}/report/",
                                                                          (LOGIN, 403, 404, 200, 404, 200)),
    row("report A annotation", "POST", "/posts/{a_annotation.pk}/report/",
                                                                          (LOGIN, 403, 404, 302, 404, 302), REPORT),
    row("report B comment", "POST", "/posts/{b_comment.pk}/report/",      (LOGIN, 404, 403, 404, 302, 302), REPORT),
    row("report A held post", "POST", "/posts/{a_held.pk}/report/",       (LOGIN, 403, 404, 404, 404, 404), REPORT),
    # Class pages, joining, the reader's own pages
    row("my classes", "GET", "/classes/",                                 (LOGIN, 200, 200, 200, 200, 200)),
    row("class A page", "GET", "/classes/{class_a.slug}/",                (LOGIN, 200, 404, 200, 404, 200)),
    row("class B page", "GET", "/classes/{class_b.slug}/",                (LOGIN, 404, 200, 404, 200, 200)),
    row("class A join link", "GET", "/join/{class_a.join_token}/",        (200, 302, 200, 302, 200, 200)),
    row("my activity", "GET", "/activity/",                               (LOGIN, 200, 200, 200, 200, 200)),
    row("preferences", "GET", "/preferences/",                            (LOGIN, 200, 200, 200, 200, 200)),
    row("new join link for A", "POST", "/classes/{class_a.slug}/new-join-link/",
                                                                          (LOGIN, 404, 404, 302, 404, 302)),
    row("new join link for B", "POST", "/classes/{class_b.slug}/new-join-link/",
                                                                          (LOGIN, 404, 404, 404, 302, 302)),
    row("new join link by GET", "GET", "/classes/{class_a.slug}/new-join-link/",
                                                                          (405, 405, 405, 405, 405, 405)),
    # Exports
    row("A discussion CSV", "GET", "/classes/{class_a.slug}/export/discussion.csv",
                                                                          (404, 404, 404, 200, 404, 200)),
    row("A discussion JSON-LD", "GET", "/classes/{class_a.slug}/export/discussion.jsonld",
                                                                          (404, 404, 404, 200, 404, 200)),
    row("A students CSV", "GET", "/classes/{class_a.slug}/export/students.csv",
                                                                          (404, 404, 404, 200, 404, 200)),
    row("B discussion CSV", "GET", "/classes/{class_b.slug}/export/discussion.csv",
                                                                          (404, 404, 404, 404, 200, 200)),
    row("B discussion JSON-LD", "GET", "/classes/{class_b.slug}/export/discussion.jsonld",
                                                                          (404, 404, 404, 404, 200, 200)),
    row("B students CSV", "GET", "/classes/{class_b.slug}/export/students.csv",
                                                                          (404, 404, 404, 404, 200, 200)),
    # The admin: posts
    row("admin index", "GET", "/admin/",                                  (ADM, ADM, ADM, 200, 200, 200)),
    row("admin posts", "GET", "/admin/annotate/post/",                    (ADM, ADM, ADM, 200, 200, 200)),
    row("admin A annotation", "GET", "/admin/annotate/post/{a_annotation.pk}/change/",
                                                                          (ADM, ADM, ADM, 200, IDX, 200)),
    row("admin A held post", "GET", "/admin/annotate/post/{a_held.pk}/change/",
                                                                          (ADM, ADM, ADM, 200, IDX, 200)),
    row("admin B annotation", "GET", "/admin/annotate/post/{b_annotation.pk}/change/",
                                                                          (ADM, ADM, ADM, IDX, 200, 200)),
    row("admin public annotation", "GET", "/admin/annotate/post/{public_annotation.pk}/change/",
                                                                          (ADM, ADM, ADM, IDX, IDX, 200)),
    row("approve A held post", "POST", "/admin/annotate/post/{a_held.pk}/decide/",
                                                                          (ADM, ADM, ADM, 302, 404, 302), APPROVE),
    row("approve B held post", "POST", "/admin/annotate/post/{b_held.pk}/decide/",
                                                                          (ADM, ADM, ADM, 404, 302, 302), APPROVE),
    row("approve public held post", "POST", "/admin/annotate/post/{public_held.pk}/decide/",
                                                                          (ADM, ADM, ADM, 404, 404, 302), APPROVE),
    row("admin Akismet status", "GET", "/admin/annotate/post/akismet-status/",
                                                                          (ADM, ADM, ADM, 200, 200, 200)),
    # The admin: classes, members, reports, texts
    row("admin classes", "GET", "/admin/annotate/classroom/",             (ADM, ADM, ADM, 200, 200, 200)),
    row("admin add class", "GET", "/admin/annotate/classroom/add/",       (ADM, ADM, ADM, 200, 200, 200)),
    row("admin class A", "GET", "/admin/annotate/classroom/{class_a.pk}/change/",
                                                                          (ADM, ADM, ADM, 200, IDX, 200)),
    row("admin class B", "GET", "/admin/annotate/classroom/{class_b.pk}/change/",
                                                                          (ADM, ADM, ADM, IDX, 200, 200)),
    row("admin class A dashboard", "GET", "/admin/annotate/classroom/{class_a.pk}/dashboard/",
                                                                          (ADM, ADM, ADM, 200, 404, 200)),
    row("admin class B dashboard", "GET", "/admin/annotate/classroom/{class_b.pk}/dashboard/",
                                                                          (ADM, ADM, ADM, 404, 200, 200)),
    row("admin memberships", "GET", "/admin/annotate/membership/",        (ADM, ADM, ADM, 200, 200, 200)),
    row("admin A membership", "GET", "/admin/annotate/membership/{membership_a.pk}/change/",
                                                                          (ADM, ADM, ADM, 200, IDX, 200)),
    row("admin B membership", "GET", "/admin/annotate/membership/{membership_b.pk}/change/",
                                                                          (ADM, ADM, ADM, IDX, 200, 200)),
    row("admin add membership", "GET", "/admin/annotate/membership/add/", (ADM, ADM, ADM, 403, 403, 200)),
    row("admin reports", "GET", "/admin/annotate/flag/",                  (ADM, ADM, ADM, 200, 200, 200)),
    row("admin report on A post", "GET", "/admin/annotate/flag/{flag_a.pk}/change/",
                                                                          (ADM, ADM, ADM, 200, IDX, 200)),
    row("admin report on B post", "GET", "/admin/annotate/flag/{flag_b.pk}/change/",
                                                                          (ADM, ADM, ADM, IDX, 200, 200)),
    row("admin texts", "GET", "/admin/annotate/document/",                (ADM, ADM, ADM, 200, 200, 200)),
    row("admin class A text", "GET", "/admin/annotate/document/{doc_a.pk}/change/",
                                                                          (ADM, ADM, ADM, 200, IDX, 200)),
    row("admin class B text", "GET", "/admin/annotate/document/{doc_b.pk}/change/",
                                                                          (ADM, ADM, ADM, IDX, 200, 200)),
    row("admin public text", "GET", "/admin/annotate/document/{public.pk}/change/",
                                                                          (ADM, ADM, ADM, IDX, IDX, 200)),
    # The admin: site-wide settings and accounts are not an instructor's
    row("admin moderation settings", "GET", "/admin/annotate/moderationsettings/",
                                                                          (ADM, ADM, ADM, 403, 403, 302)),
    row("admin moderation settings page", "GET", "/admin/annotate/moderationsettings/1/change/",
                                                                          (ADM, ADM, ADM, 403, 403, 200)),
    row("admin users", "GET", "/admin/annotate/user/",                    (ADM, ADM, ADM, 403, 403, 200)),
    row("admin outgoing email", "GET", "/admin/annotate/outboundemail/",  (ADM, ADM, ADM, 403, 403, 200)),
]
# fmt: on


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "data", "expected"), MATRIX)
def test_authorization_matrix(world, role, method, path, data, expected):
    if "moderationsettings/1/" in path:
        from annotate.models import ModerationSettings

        ModerationSettings.load()
    client = client_for(world, role)
    url = path.format(**world.names())

    response = client.get(url) if method == "GET" else client.post(url, data or {})

    assert_outcome(response, expected[role])


# What the pages show stays inside the walls


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def page_text(response) -> str:
    return " ".join(soup(response).get_text().split())


def test_each_discussion_shows_its_own_posts_only(world):
    student_a = client_for(world, "student_a")
    superuser = client_for(world, "superuser")

    reading_a = page_text(student_a.get(READING_A.format(**world.names())))
    public = page_text(student_a.get(f"/texts/{world.public.slug}/"))
    reading_b = page_text(superuser.get(READING_B.format(**world.names())))

    assert "a annotation." in reading_a
    assert "a reply." in reading_a
    assert "a comment." in reading_a
    assert "a held post." in reading_a  # the author's own, awaiting moderation
    assert "b annotation." not in reading_a
    assert "public annotation." not in reading_a
    assert "public annotation." in public
    assert "a annotation." not in public
    assert "b annotation." in reading_b
    assert "a annotation." not in reading_b
    assert "b held post." not in reading_b  # held posts are for their author and the admin


def test_class_json_ld_holds_that_class_s_published_posts_only(world):
    client = client_for(world, "instructor_a")

    response = client.get(READING_A.format(**world.names()) + "annotations.jsonld")

    items = response.json()["first"]["items"]
    bodies = sorted(item["body"]["value"] for item in items)
    assert bodies == ["a annotation.", "a comment.", "a reply."]


def test_outsiders_change_nothing_when_refused(world):
    student_b = client_for(world, "student_b")
    instructor_b = client_for(world, "instructor_b")
    names = world.names()
    posts_before = Post.objects.count()
    token_before = world.class_a.join_token

    student_b.post(READING_A.format(**names) + "posts/", POST)
    instructor_b.post(READING_A.format(**names) + "posts/", POST)
    instructor_b.post(f"/posts/{world.posts['a_annotation'].pk}/report/", REPORT)
    instructor_b.post(f"/posts/{world.posts['a_annotation'].pk}/edit/", EDIT)
    instructor_b.post(f"/posts/{world.posts['a_comment'].pk}/delete/")
    instructor_b.post(f"/classes/{world.class_a.slug}/new-join-link/")
    client_for(world, "instructor_a").post(f"/posts/{world.posts['a_annotation'].pk}/edit/", EDIT)

    assert Post.objects.count() == posts_before
    annotation = Post.objects.get(pk=world.posts["a_annotation"].pk)
    assert annotation.body == "a annotation."
    assert annotation.flag_count == 0
    assert not annotation.flags.exists()
    assert Post.objects.get(pk=world.posts["a_comment"].pk).deleted_at is None
    world.class_a.refresh_from_db()
    assert world.class_a.join_token == token_before


def test_only_the_class_s_instructor_makes_a_new_join_link(world):
    old_token = world.class_a.join_token
    client_for(world, "student_a").post(f"/classes/{world.class_a.slug}/new-join-link/")
    world.class_a.refresh_from_db()
    assert world.class_a.join_token == old_token

    client_for(world, "instructor_a").post(f"/classes/{world.class_a.slug}/new-join-link/")

    world.class_a.refresh_from_db()
    assert world.class_a.join_token != old_token


# The admin, scoped to an instructor's classes


def listed_posts(client, query: str = "") -> set[int]:
    page = soup(client.get("/admin/annotate/post/" + query))
    return {
        int(cell.get_text().split("#")[1])
        for cell in page.select("#result_list tbody tr .field-post")
    }


def test_instructor_lists_only_their_class_s_posts_and_a_superuser_lists_all(world):
    posts = world.posts
    a_posts = {post.pk for name, post in posts.items() if name.startswith("a_")}
    b_posts = {post.pk for name, post in posts.items() if name.startswith("b_")}
    public_posts = {post.pk for name, post in posts.items() if name.startswith("public_")}

    assert listed_posts(client_for(world, "instructor_a")) == a_posts
    assert listed_posts(client_for(world, "instructor_b")) == b_posts
    assert listed_posts(client_for(world, "superuser")) == a_posts | b_posts | public_posts
    # Asking for another class by its filter finds nothing.
    other_class = f"?classroom__id__exact={world.class_b.pk}"
    assert listed_posts(client_for(world, "instructor_a"), other_class) == set()


def test_instructor_s_queues_count_only_their_class(world):
    page = soup(client_for(world, "instructor_a").get("/admin/"))

    text = " ".join(page.get_text().split())

    # One held post and one reported post in class A; as many again in B and public.
    assert "Pending 1" in text or "Pending (1)" in text or "1 Pending" in text, text


def test_another_class_s_post_page_is_not_shown_to_an_instructor(world):
    client = client_for(world, "instructor_a")
    post = world.posts["b_annotation"]

    response = client.get(f"/admin/annotate/post/{post.pk}/change/", follow=True)

    text = page_text(response)
    assert response.redirect_chain == [("/admin/", 302)]
    assert "doesn’t exist" in text
    assert "b annotation." not in text
    assert "Ben Student" not in text


def test_instructor_s_bulk_decision_reaches_only_their_class(world):
    client = client_for(world, "instructor_a")
    mine, theirs, public = (world.posts[name] for name in ("a_held", "b_held", "public_held"))

    client.post(
        "/admin/annotate/post/",
        {"action": "remove", "_selected_action": [mine.pk, theirs.pk, public.pk], "index": 0},
    )

    statuses = dict(
        Post.objects.filter(pk__in=[mine.pk, theirs.pk, public.pk]).values_list("pk", "status")
    )
    assert statuses == {
        mine.pk: Post.Status.REMOVED,
        theirs.pk: Post.Status.PENDING,
        public.pk: Post.Status.PENDING,
    }


def test_instructor_s_one_click_decision_on_another_class_s_post_changes_nothing(world):
    client = client_for(world, "instructor_a")
    theirs = world.posts["b_held"]

    response = client.post(f"/admin/annotate/post/{theirs.pk}/decide/", {"decision": "remove"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Post.Status.PENDING
    assert not theirs.events.exists()


def test_instructor_lists_only_their_class_members_reports_and_texts(world):
    client = client_for(world, "instructor_a")

    classes = page_text(client.get("/admin/annotate/classroom/"))
    members = page_text(client.get("/admin/annotate/membership/"))
    reports = page_text(client.get("/admin/annotate/flag/"))
    texts = page_text(client.get("/admin/annotate/document/"))

    assert "Alpha History" in classes
    assert "Beta History" not in classes
    assert "Ana Student" in members
    assert "Ben Student" not in members
    assert "Ivo Instructor" not in members
    assert f"#{world.posts['a_reply'].pk}" in reports
    assert f"#{world.posts['b_reply'].pk}" not in reports
    assert world.doc_a.title in texts
    assert "Beta text" not in texts
    assert world.public.title not in texts


def test_dashboard_of_a_class_shows_nothing_of_another(world):
    page = page_text(
        client_for(world, "instructor_a").get(
            f"/admin/annotate/classroom/{world.class_a.pk}/dashboard/"
        )
    )

    assert world.doc_a.title in page
    assert "a held post." in page
    assert "b held post." not in page
    assert "public held post." not in page
    assert "Beta text" not in page


def admin_form(response) -> dict:
    """The values an admin change form would send back as it stands."""
    page = soup(response)
    form = page.select_one("form#classroom_form")
    data = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        name = field["name"]
        if field.name == "textarea":
            data[name] = field.get_text()
        elif field.name == "select":
            chosen = field.select_one("option[selected]")
            data[name] = chosen["value"] if chosen else ""
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data[name] = field.get("value", "on")
        elif field.get("type") not in ("submit", "button", "file"):
            data[name] = field.get("value", "")
    return data


def add_reading(client, classroom: Classroom, document: Document):
    url = f"/admin/annotate/classroom/{classroom.pk}/change/"
    data = admin_form(client.get(url))
    count = int(data["readings-TOTAL_FORMS"])
    data["readings-TOTAL_FORMS"] = str(count + 1)
    data[f"readings-{count}-document"] = str(document.pk)
    data[f"readings-{count}-classroom"] = str(classroom.pk)
    return client.post(url, data)


def test_instructor_cannot_assign_another_class_s_private_text(world):
    client = client_for(world, "instructor_a")

    response = add_reading(client, world.class_a, world.doc_b)

    assert response.status_code == 200  # the form again, with an error
    assert "Select a valid choice" in page_text(response)
    assert not Reading.objects.filter(classroom=world.class_a, document=world.doc_b).exists()


def test_instructor_assigns_a_public_text_even_when_another_class_reads_it(world):
    Reading.objects.create(classroom=world.class_b, document=world.public)
    client = client_for(world, "instructor_a")

    response = add_reading(client, world.class_a, world.public)

    assert response.status_code == 302, page_text(response)
    assert Reading.objects.filter(classroom=world.class_a, document=world.public).exists()


def test_instructor_cannot_move_a_member_into_another_class(world):
    client = client_for(world, "instructor_a")
    url = f"/admin/annotate/membership/{world.membership_a.pk}/change/"

    response = client.post(url, {"classroom": world.class_b.pk, "role": "student"})

    assert response.status_code == 200
    assert "Select a valid choice" in page_text(response)
    world.membership_a.refresh_from_db()
    assert world.membership_a.classroom == world.class_a
