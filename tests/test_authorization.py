"""
Who can read and change what: every page, export and admin page, for nine people:
someone signed out; in class A, a student of each of its two small groups, its
teacher, a co-instructor and a teaching assistant; a student and the teacher of
class B; and a superuser.

Two classes, A and B, each read a private text; a third text is public. Class A
discusses its text in groups (Table 1 holds student A1, Table 2 student A2). Each
discussion holds a published annotation, a reply, a page comment and a held
post. The matrix below gives, for each request, the answer each person gets;
the tests after it check that what a page shows stays inside the same walls.
"""

from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from annotate.models import (
    ClassGroup,
    Classroom,
    Document,
    Flag,
    HeldReason,
    Membership,
    ModerationSettings,
    Post,
    PostEvent,
    Reading,
    TextUpload,
    User,
)
from tests.factories import make_class, make_document, make_post, make_user

ROLES = [
    "anonymous",
    "student_a",
    "student_a2",
    "student_b",
    "instructor_a",
    "coinstructor_a",
    "assistant_a",
    "instructor_b",
    "superuser",
]

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
    group_a1: ClassGroup
    group_a2: ClassGroup
    upload_a: TextUpload
    membership_a: Membership
    membership_b: Membership

    def names(self) -> dict:
        """What the paths in the matrix may name."""
        return {**vars(self), **self.posts, "student_b_user": self.people["student_b"]}


def make_instructor(
    display_name: str, email: str, classroom: Classroom, role=Membership.Role.INSTRUCTOR
) -> User:
    """A teacher (or, by `role`, a teaching assistant) of `classroom`, as its invitations make one."""
    user = make_user(display_name, email)
    if role == Membership.Role.INSTRUCTOR:
        user.become_teacher()
    else:
        user.join_class_staff()
    Membership.objects.create(classroom=classroom, user=user, role=role)
    return user


def make_discussion(document, classroom, writer, teacher, prefix: str, passage: str) -> dict:
    """
    A published annotation, a reply to it, a page comment and a held post in one
    discussion, named and worded after it: "a_annotation" says "Class A annotation."
    """
    label = {"a": "Class A", "b": "Class B", "public": "Public"}[prefix]
    annotation = make_post(
        document, writer, f"{label} annotation.", classroom=classroom, passage=passage
    )
    return {
        f"{prefix}_annotation": annotation,
        f"{prefix}_reply": make_post(
            document, teacher, f"{label} reply.", classroom=classroom, parent=annotation
        ),
        f"{prefix}_comment": make_post(document, writer, f"{label} comment.", classroom=classroom),
        f"{prefix}_held": make_post(
            document,
            writer,
            f"{label} held post.",
            classroom=classroom,
            status=Post.Status.PENDING,
            held_reason=HeldReason.FIRST_POST,
        ),
    }


@pytest.fixture
def world(seeded, document) -> World:
    class_a = make_class("Alpha History", "alpha")
    class_b = make_class("Beta History", "beta")
    doc_a = seeded
    doc_a.is_public = False
    doc_a.save(update_fields=["is_public"])
    doc_b = make_document(
        "First paragraph of the beta text.\n\nSecond paragraph of the beta text.",
        slug="beta-text",
        title="Beta text",
        is_public=False,
    )
    public = document
    # Class A discusses its reading in two small groups; student_a is in the first.
    Reading.objects.create(classroom=class_a, document=doc_a, in_groups=True)
    Reading.objects.create(classroom=class_b, document=doc_b)
    group_a1 = ClassGroup.objects.create(classroom=class_a, name="Table 1")
    group_a2 = ClassGroup.objects.create(classroom=class_a, name="Table 2")

    people = {
        "student_a": make_user("Ana Student", "ana@example.com"),
        "student_b": make_user("Ben Student", "ben@example.com"),
        "instructor_a": make_instructor("Ida Instructor", "ida@example.com", class_a),
        "instructor_b": make_instructor("Ivo Instructor", "ivo@example.com", class_b),
        "student_a2": make_user("Amy Student", "amy@example.com"),
        "coinstructor_a": make_instructor("Cora Coteacher", "cora@example.com", class_a),
        "assistant_a": make_instructor(
            "Tad Assistant", "tad@example.com", class_a, role=Membership.Role.ASSISTANT
        ),
        "superuser": make_user("Sue Super", "sue@example.com", is_staff=True, is_superuser=True),
    }
    membership_a = Membership.objects.create(
        classroom=class_a, user=people["student_a"], group=group_a1
    )
    Membership.objects.create(classroom=class_a, user=people["student_a2"], group=group_a2)
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
    upload_a = TextUpload.objects.create(
        owner=people["instructor_a"],
        classroom=class_a,
        filename="notes.txt",
        status=TextUpload.Status.FAILED,
        error="This file is empty.",
    )
    ModerationSettings.load()  # the one row, at /admin/annotate/moderationsettings/1/
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
        group_a1=group_a1,
        group_a2=group_a2,
        upload_a=upload_a,
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
            assert location != "/admin/", "redirected away as if the object did not exist"
            assert not location.startswith(("/accounts/login/", "/admin/login/")), location


READING_A = "/classes/alpha/texts/execute-the-pows/"
READING_B = "/classes/beta/texts/beta-text/"
ADMIN = "/admin/annotate/"
# The search behind the admin's people picker: every account on the site.
PEOPLE_SEARCH = "?app_label=annotate&model_name=membership&field_name=user&term=a"
ADM = ADMIN_LOGIN
IDX = ADMIN_INDEX

# What each kind of POST sends: a well-formed request, so that only the person decides.
FORM_DATA = {
    "posts/": {"body": "A new note."},
    "edit/": {"body": "Changed words."},
    "report/": {"reason": Flag.Reason.SPAM},
    "decide/": {"decision": "approve"},
    "groups/new/": {"name": "Table 3"},
    "groups/split/": {"size": 1, "replace": "on"},
    "new-class/": {"name": "Another class", "time_zone": "UTC"},
    "roster/invite/": {"addresses": "newcomer@example.com", "role": "student"},
    "/role/": {"role": "student"},
    "/classes/alpha/delete/": {"name": "Alpha History"},
    "/pick/": {"pick": "1"},
    "/classes/alpha/settings/": {"name": "Alpha History", "time_zone": "UTC"},
    "copy/": {"name": "Alpha History", "term": "Next year", "weeks": 52, "time_zone": "UTC"},
}


def form_data(path: str) -> dict:
    return next((data for end, data in FORM_DATA.items() if path.endswith(end)), {})


# Each row: method, path (with the names of World.names() in braces), then what each of
# ROLES gets. The paths name the fixture's objects: A reads execute-the-pows, B reads
# beta-text, "sample" is public; a_annotation is class A's annotation, and so on.
# fmt: off
MATRIX = [
    # method path                                               anon   stu A1 stu A2 stu B  ins A  co A   TA A   ins B  super
    # Reading and posting
    ("GET",  READING_A,                                         LOGIN, 200,   200,   404,   200,   200,   200,   404,   200),
    ("GET",  READING_B,                                         LOGIN, 404,   404,   200,   404,   404,   404,   200,   200),
    ("GET",  "/texts/sample/",                                  200,   200,   200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/texts/execute-the-pows/",                        404,   302,   302,   404,   302,   302,   302,   404,   200),
    ("POST", READING_A + "posts/",                              LOGIN, 302,   302,   404,   302,   302,   302,   404,   302),
    ("POST", READING_B + "posts/",                              LOGIN, 404,   404,   302,   404,   404,   404,   302,   302),
    ("POST", "/texts/execute-the-pows/posts/",                  LOGIN, 404,   404,   404,   404,   404,   404,   404,   302),
    ("POST", "/texts/sample/posts/",                            LOGIN, 302,   302,   302,   302,   302,   302,   302,   302),
    ("GET",  READING_A + "annotations.jsonld",                  404,   200,   200,   404,   200,   200,   200,   404,   200),
    ("GET",  READING_B + "annotations.jsonld",                  404,   404,   404,   200,   404,   404,   404,   200,   200),
    ("GET",  "/texts/execute-the-pows/annotations.jsonld",      404,   404,   404,   404,   404,   404,   404,   404,   200),
    # Permalinks
    ("GET",  "/posts/{a_annotation.pk}/",                       404,   302,   404,   404,   302,   302,   302,   404,   302),
    ("GET",  "/posts/{a_reply.pk}/",                            404,   302,   404,   404,   302,   302,   302,   404,   302),
    ("GET",  "/posts/{a_comment.pk}/",                          404,   302,   404,   404,   302,   302,   302,   404,   302),
    ("GET",  "/posts/{a_held.pk}/",                             404,   302,   404,   404,   404,   404,   404,   404,   404),
    ("GET",  "/posts/{b_annotation.pk}/",                       404,   404,   404,   302,   404,   404,   404,   302,   302),
    ("GET",  "/posts/{b_reply.pk}/",                            404,   404,   404,   302,   404,   404,   404,   302,   302),
    ("GET",  "/posts/{public_annotation.pk}/",                  302,   302,   302,   302,   302,   302,   302,   302,   302),
    # Changing posts: their authors edit and delete them, other readers report them
    ("GET",  "/posts/{a_annotation.pk}/edit/",                  LOGIN, 200,   404,   404,   403,   403,   403,   404,   403),
    ("POST", "/posts/{a_annotation.pk}/edit/",                  LOGIN, 302,   404,   404,   403,   403,   403,   404,   403),
    ("POST", "/posts/{a_reply.pk}/edit/",                       LOGIN, 403,   404,   404,   302,   403,   403,   404,   403),
    ("POST", "/posts/{a_held.pk}/edit/",                        LOGIN, 302,   404,   404,   404,   404,   404,   404,   404),
    ("POST", "/posts/{b_annotation.pk}/edit/",                  LOGIN, 404,   404,   302,   404,   404,   404,   403,   403),
    ("POST", "/posts/{public_annotation.pk}/edit/",             LOGIN, 403,   403,   403,   403,   403,   403,   403,   403),
    ("GET",  "/posts/{a_annotation.pk}/delete/",                LOGIN, 200,   404,   404,   403,   403,   403,   404,   403),
    ("POST", "/posts/{a_annotation.pk}/delete/",                LOGIN, 302,   404,   404,   403,   403,   403,   404,   403),
    ("POST", "/posts/{b_comment.pk}/delete/",                   LOGIN, 404,   404,   302,   404,   404,   404,   403,   403),
    ("GET",  "/posts/{a_annotation.pk}/report/",                LOGIN, 403,   404,   404,   200,   200,   200,   404,   200),
    ("POST", "/posts/{a_annotation.pk}/report/",                LOGIN, 403,   404,   404,   302,   302,   302,   404,   302),
    ("POST", "/posts/{a_held.pk}/report/",                      LOGIN, 403,   404,   404,   404,   404,   404,   404,   404),
    ("POST", "/posts/{b_comment.pk}/report/",                   LOGIN, 404,   404,   403,   404,   404,   404,   302,   302),
    # Class pages, joining, a reader's own pages
    ("GET",  "/classes/",                                       LOGIN, 200,   200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/classes/alpha/",                                 LOGIN, 200,   200,   404,   200,   200,   200,   404,   200),
    ("GET",  "/classes/beta/",                                  LOGIN, 404,   404,   200,   404,   404,   404,   200,   200),
    ("GET",  "/join/{class_a.join_token}/",                     200,   302,   302,   200,   302,   302,   302,   200,   200),
    ("POST", "/classes/alpha/join/",                            LOGIN, 404,   404,   404,   404,   404,   404,   404,   404),
    ("GET",  "/activity/",                                      LOGIN, 200,   200,   200,   200,   200,   200,   200,   200),
    ("GET",  "/preferences/",                                   LOGIN, 200,   200,   200,   200,   200,   200,   200,   200),
    ("POST", "/classes/alpha/new-join-link/",                   LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    ("POST", "/classes/beta/new-join-link/",                    LOGIN, 404,   404,   404,   404,   404,   404,   302,   302),
    ("GET",  "/classes/alpha/new-join-link/",                   405,   405,   405,   405,   405,   405,   405,   405,   405),
    # Small groups: the instructors change them (teaching assistants only look)
    ("GET",  "/classes/alpha/groups/",                          LOGIN, 404,   404,   404,   200,   200,   200,   404,   200),
    ("POST", "/classes/alpha/groups/new/",                      LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    ("POST", "/classes/beta/groups/new/",                       LOGIN, 404,   404,   404,   404,   404,   404,   302,   302),
    ("POST", "/classes/alpha/groups/split/",                    LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    # Roster and staff links: instructors change them, teaching assistants look
    ("GET",  "/classes/alpha/roster/",                          LOGIN, 404,   404,   404,   200,   200,   200,   404,   200),
    ("GET",  "/classes/beta/roster/",                           LOGIN, 404,   404,   404,   404,   404,   404,   200,   200),
    ("POST", "/classes/alpha/roster/invite/",                   LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    ("POST", "/classes/alpha/roster/{membership_a.pk}/role/",   LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    ("POST", "/classes/alpha/roster/{membership_b.pk}/role/",   LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    ("POST", "/classes/beta/roster/{membership_b.pk}/remove/",  LOGIN, 404,   404,   404,   404,   404,   404,   302,   302),
    ("POST", "/classes/alpha/new-staff-links/",                 LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    ("GET",  "/join/staff/{class_a.assistant_token}/",          200,   200,   200,   200,   302,   302,   302,   200,   200),
    ("GET",  "/join/staff/not-a-token/",                        404,   404,   404,   404,   404,   404,   404,   404,   404),
    # Readings: instructors add, edit and remove them; an upload is its uploader's
    ("GET",  "/classes/alpha/readings/new/",                    LOGIN, 404,   404,   404,   200,   200,   403,   404,   200),
    ("GET",  "/classes/beta/readings/new/",                     LOGIN, 404,   404,   404,   404,   404,   404,   200,   200),
    ("GET",  "/classes/alpha/readings/execute-the-pows/edit/",  LOGIN, 404,   404,   404,   200,   200,   403,   404,   200),
    ("GET",  "/classes/alpha/readings/beta-text/edit/",         LOGIN, 404,   404,   404,   404,   404,   403,   404,   404),
    ("GET",  "/classes/alpha/readings/execute-the-pows/remove/",LOGIN, 404,   404,   404,   200,   200,   403,   404,   200),
    ("GET",  "/classes/alpha/readings/uploads/{upload_a.token}/",LOGIN, 404,   404,   404,   200,   404,   403,   404,   200),
    ("GET",  "/classes/beta/readings/uploads/{upload_a.token}/",LOGIN, 404,   404,   404,   404,   404,   404,   404,   404),
    # Class settings: instructors change them and delete the class
    ("GET",  "/classes/alpha/settings/",                        LOGIN, 404,   404,   404,   200,   200,   403,   404,   200),
    ("POST", "/classes/alpha/settings/",                        LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    ("GET",  "/classes/beta/settings/",                         LOGIN, 404,   404,   404,   404,   404,   404,   200,   200),
    ("GET",  "/classes/alpha/delete/",                          LOGIN, 404,   404,   404,   200,   200,   403,   404,   200),
    ("POST", "/classes/alpha/delete/",                          LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    ("POST", "/classes/beta/delete/",                           LOGIN, 404,   404,   404,   404,   404,   404,   400,   400),
    # Following and grading a class: the staff look, instructors pick and grade
    ("GET",  "/classes/alpha/texts/execute-the-pows/insights/", LOGIN, 404,   404,   404,   200,   200,   200,   404,   200),
    ("GET",  "/classes/beta/texts/beta-text/insights/",         LOGIN, 404,   404,   404,   404,   404,   404,   200,   200),
    ("POST", "/classes/alpha/texts/execute-the-pows/remind/",   LOGIN, 403,   403,   404,   302,   302,   302,   404,   302),
    ("POST", "/posts/{a_annotation.pk}/pick/",                  LOGIN, 403,   404,   404,   302,   302,   403,   404,   302),
    ("POST", "/posts/{b_annotation.pk}/pick/",                  LOGIN, 404,   404,   403,   404,   404,   404,   302,   302),
    ("POST", "/posts/{public_annotation.pk}/pick/",             LOGIN, 404,   404,   404,   404,   404,   404,   404,   404),
    ("GET",  "/classes/alpha/rubric/",                          LOGIN, 404,   404,   404,   200,   200,   200,   404,   200),
    ("POST", "/classes/alpha/rubric/",                          LOGIN, 404,   404,   404,   400,   400,   403,   404,   400),
    ("GET",  "/classes/alpha/gradebook/",                       LOGIN, 404,   404,   404,   200,   200,   200,   404,   200),
    ("GET",  "/classes/beta/gradebook/",                        LOGIN, 404,   404,   404,   404,   404,   404,   200,   200),
    ("GET",  "/classes/alpha/export/gradebook.csv",             404,   404,   404,   404,   200,   200,   403,   404,   200),
    ("GET",  "/classes/alpha/students/{membership_a.pk}/",      LOGIN, 404,   404,   404,   200,   200,   200,   404,   200),
    ("GET",  "/classes/alpha/students/{membership_b.pk}/",      LOGIN, 404,   404,   404,   404,   404,   404,   404,   404),
    # A new term: instructors copy the class
    ("GET",  "/classes/alpha/copy/",                            LOGIN, 404,   404,   404,   200,   200,   403,   404,   200),
    ("POST", "/classes/alpha/copy/",                            LOGIN, 404,   404,   404,   302,   302,   403,   404,   302),
    ("POST", "/classes/beta/copy/",                             LOGIN, 404,   404,   404,   404,   404,   404,   302,   302),
    # The teaching staff read a grouped reading one group at a time
    ("GET",  READING_A + "?group={group_a1.pk}",                LOGIN, 200,   200,   404,   200,   200,   200,   404,   200),
    # Exports, for grading
    ("GET",  "/classes/alpha/export/discussion.csv",            404,   404,   404,   404,   200,   200,   200,   404,   200),
    ("GET",  "/classes/alpha/export/discussion.jsonld",         404,   404,   404,   404,   200,   200,   200,   404,   200),
    ("GET",  "/classes/alpha/export/students.csv",              404,   404,   404,   404,   200,   200,   403,   404,   200),
    ("GET",  "/classes/beta/export/discussion.csv",             404,   404,   404,   404,   404,   404,   404,   200,   200),
    ("GET",  "/classes/beta/export/discussion.jsonld",          404,   404,   404,   404,   404,   404,   404,   200,   200),
    ("GET",  "/classes/beta/export/students.csv",               404,   404,   404,   404,   404,   404,   404,   200,   200),
    # The admin: posts
    ("GET",  "/admin/",                                         ADM,   ADM,   ADM,   ADM,   200,   200,   200,   200,   200),
    ("GET",  ADMIN + "post/",                                   ADM,   ADM,   ADM,   ADM,   200,   200,   200,   200,   200),
    ("GET",  ADMIN + "post/{a_annotation.pk}/change/",          ADM,   ADM,   ADM,   ADM,   200,   200,   200,   IDX,   200),
    ("GET",  ADMIN + "post/{a_held.pk}/change/",                ADM,   ADM,   ADM,   ADM,   200,   200,   200,   IDX,   200),
    ("GET",  ADMIN + "post/{b_annotation.pk}/change/",          ADM,   ADM,   ADM,   ADM,   IDX,   IDX,   IDX,   200,   200),
    ("GET",  ADMIN + "post/{public_annotation.pk}/change/",     ADM,   ADM,   ADM,   ADM,   IDX,   IDX,   IDX,   IDX,   200),
    ("POST", ADMIN + "post/{a_held.pk}/decide/",                ADM,   ADM,   ADM,   ADM,   302,   302,   302,   404,   302),
    ("POST", ADMIN + "post/{b_held.pk}/decide/",                ADM,   ADM,   ADM,   ADM,   404,   404,   404,   302,   302),
    ("POST", ADMIN + "post/{public_held.pk}/decide/",           ADM,   ADM,   ADM,   ADM,   404,   404,   404,   404,   302),
    ("GET",  ADMIN + "post/akismet-status/",                    ADM,   ADM,   ADM,   ADM,   200,   200,   200,   200,   200),
    # The admin: classes, members, reports, texts
    ("GET",  ADMIN + "classroom/",                              ADM,   ADM,   ADM,   ADM,   200,   200,   200,   200,   200),
    ("GET",  ADMIN + "classroom/add/",                          ADM,   ADM,   ADM,   ADM,   200,   200,   403,   200,   200),
    ("GET",  ADMIN + "classroom/{class_a.pk}/change/",          ADM,   ADM,   ADM,   ADM,   200,   200,   200,   IDX,   200),
    ("GET",  ADMIN + "classroom/{class_b.pk}/change/",          ADM,   ADM,   ADM,   ADM,   IDX,   IDX,   IDX,   200,   200),
    ("GET",  ADMIN + "classroom/{class_a.pk}/dashboard/",       ADM,   ADM,   ADM,   ADM,   200,   200,   200,   404,   200),
    ("GET",  ADMIN + "classroom/{class_b.pk}/dashboard/",       ADM,   ADM,   ADM,   ADM,   404,   404,   404,   200,   200),
    ("GET",  ADMIN + "membership/",                             ADM,   ADM,   ADM,   ADM,   200,   200,   200,   200,   200),
    ("GET",  ADMIN + "membership/add/",                         ADM,   ADM,   ADM,   ADM,   403,   403,   403,   403,   200),
    ("GET",  ADMIN + "membership/{membership_a.pk}/change/",    ADM,   ADM,   ADM,   ADM,   200,   200,   200,   IDX,   200),
    ("GET",  ADMIN + "membership/{membership_b.pk}/change/",    ADM,   ADM,   ADM,   ADM,   IDX,   IDX,   IDX,   200,   200),
    ("GET",  ADMIN + "flag/",                                   ADM,   ADM,   ADM,   ADM,   200,   200,   200,   200,   200),
    ("GET",  ADMIN + "flag/{flag_a.pk}/change/",                ADM,   ADM,   ADM,   ADM,   200,   200,   200,   IDX,   200),
    ("GET",  ADMIN + "flag/{flag_b.pk}/change/",                ADM,   ADM,   ADM,   ADM,   IDX,   IDX,   IDX,   200,   200),
    ("GET",  ADMIN + "document/",                               ADM,   ADM,   ADM,   ADM,   200,   200,   200,   200,   200),
    ("GET",  ADMIN + "document/{doc_a.pk}/change/",             ADM,   ADM,   ADM,   ADM,   200,   200,   200,   IDX,   200),
    ("GET",  ADMIN + "document/{doc_b.pk}/change/",             ADM,   ADM,   ADM,   ADM,   IDX,   IDX,   IDX,   200,   200),
    ("GET",  ADMIN + "document/{public.pk}/change/",            ADM,   ADM,   ADM,   ADM,   IDX,   IDX,   IDX,   IDX,   200),
    # The admin: site-wide rules and accounts are not an instructor's business
    ("GET",  ADMIN + "moderationsettings/",                     ADM,   ADM,   ADM,   ADM,   403,   403,   403,   403,   302),
    ("GET",  ADMIN + "moderationsettings/1/change/",            ADM,   ADM,   ADM,   ADM,   403,   403,   403,   403,   200),
    ("GET",  ADMIN + "user/",                                   ADM,   ADM,   ADM,   ADM,   403,   403,   403,   403,   200),
    ("GET",  ADMIN + "user/{student_b_user.pk}/change/",        ADM,   ADM,   ADM,   ADM,   403,   403,   403,   403,   200),
    ("GET",  "/admin/autocomplete/" + PEOPLE_SEARCH,            ADM,   ADM,   ADM,   ADM,   403,   403,   403,   403,   200),
    ("GET",  ADMIN + "outboundemail/",                          ADM,   ADM,   ADM,   ADM,   403,   403,   403,   403,   200),
    ("GET",  ADMIN + "user/invite-teacher/",                    ADM,   ADM,   ADM,   ADM,   403,   403,   403,   403,   200),
    ("POST", ADMIN + "user/invite-teacher/",                    ADM,   ADM,   ADM,   ADM,   403,   403,   403,   403,   200),
    # Becoming a teacher (test_teaching.py accepts invitations)
    ("GET",  "/teaching/",                                      LOGIN, 200,   200,   200,   200,   200,   200,   200,   200),
    ("POST", "/teaching/become-a-teacher/",                     LOGIN, 302,   302,   302,   302,   302,   302,   302,   302),
    ("GET",  "/teaching/invitations/not-a-token/",              404,   404,   404,   404,   404,   404,   404,   404,   404),
    ("GET",  "/teaching/new-class/",                            LOGIN, 403,   403,   403,   200,   200,   403,   200,   403),
    ("POST", "/teaching/new-class/",                            LOGIN, 403,   403,   403,   302,   302,   403,   302,   403),
    ("GET",  "/classes/alpha/join-link/",                       LOGIN, 404,   404,   404,   200,   200,   200,   404,   200),
    ("GET",  "/classes/beta/join-link/",                        LOGIN, 404,   404,   404,   404,   404,   404,   200,   200),
]
# fmt: on


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        pytest.param(method, path, outcomes, id=f"{method} {path}")
        for method, path, *outcomes in MATRIX
    ],
)
def test_authorization_matrix(world, role, method, path, expected):
    client = client_for(world, role)
    url = path.format(**world.names())

    response = client.get(url) if method == "GET" else client.post(url, form_data(url))

    assert_outcome(response, expected[ROLES.index(role)])


# What the pages show stays inside the walls


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def page_text(response) -> str:
    return " ".join(soup(response).get_text().split())


def test_each_discussion_shows_its_own_posts_only(world):
    student_a = client_for(world, "student_a")
    superuser = client_for(world, "superuser")

    reading_a = page_text(student_a.get(READING_A))
    public = page_text(student_a.get(f"/texts/{world.public.slug}/"))
    reading_b = page_text(superuser.get(READING_B))

    assert "Class A annotation." in reading_a
    assert "Class A reply." in reading_a
    assert "Class A comment." in reading_a
    assert "Class A held post." in reading_a  # the author's own, awaiting moderation
    assert "Class B annotation." not in reading_a
    assert "Public annotation." not in reading_a
    assert "Public annotation." in public
    assert "Class A annotation." not in public
    assert "Class B annotation." in reading_b
    assert "Class A annotation." not in reading_b
    assert "Class B held post." not in reading_b  # held posts are for their author and the admin


def test_class_json_ld_holds_that_class_s_published_posts_only(world):
    client = client_for(world, "instructor_a")

    response = client.get(READING_A + "annotations.jsonld")

    items = response.json()["first"]["items"]
    bodies = sorted(item["body"]["value"] for item in items)
    assert bodies == ["Class A annotation.", "Class A comment.", "Class A reply."]


def test_outsiders_change_nothing_when_refused(world):
    student_b = client_for(world, "student_b")
    instructor_b = client_for(world, "instructor_b")
    posts_before = Post.objects.count()
    token_before = world.class_a.join_token

    student_b.post(READING_A + "posts/", {"body": "A new note."})
    instructor_b.post(READING_A + "posts/", {"body": "A new note."})
    instructor_b.post(f"/posts/{world.posts['a_annotation'].pk}/report/", {"reason": "spam"})
    instructor_b.post(f"/posts/{world.posts['a_annotation'].pk}/edit/", {"body": "Changed."})
    instructor_b.post(f"/posts/{world.posts['a_comment'].pk}/delete/")
    instructor_b.post(f"/classes/{world.class_a.slug}/new-join-link/")
    client_for(world, "assistant_a").post(f"/classes/{world.class_a.slug}/new-join-link/")
    # A class's roster reaches its own members only, whatever the address names.
    client_for(world, "instructor_a").post(
        f"/classes/{world.class_a.slug}/roster/{world.membership_b.pk}/role/",
        {"role": "instructor"},
    )
    client_for(world, "instructor_a").post(
        f"/classes/{world.class_a.slug}/roster/{world.membership_b.pk}/remove/"
    )
    client_for(world, "instructor_a").post(
        f"/posts/{world.posts['a_annotation'].pk}/edit/", {"body": "Changed."}
    )

    assert Post.objects.count() == posts_before
    annotation = Post.objects.get(pk=world.posts["a_annotation"].pk)
    assert annotation.body == "Class A annotation."
    assert annotation.flag_count == 0
    assert not annotation.flags.exists()
    assert Post.objects.get(pk=world.posts["a_comment"].pk).deleted_at is None
    world.class_a.refresh_from_db()
    assert world.class_a.join_token == token_before
    membership_b = Membership.objects.get(pk=world.membership_b.pk)
    assert membership_b.role == Membership.Role.STUDENT


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


def queue_counts(client) -> dict[str, int]:
    page = soup(client.get("/admin/"))
    return {
        " ".join(row.th.get_text().split()): int(row.select_one(".count").get_text())
        for row in page.select("#moderation-queue tr")
        if row.select_one(".count")
    }


def test_the_moderation_queues_count_only_the_posts_in_reach(world):
    # One held and one reported post in each of class A, class B and the public text.
    instructor = queue_counts(client_for(world, "instructor_a"))
    superuser = queue_counts(client_for(world, "superuser"))

    assert (instructor["Pending"], instructor["Flagged by readers"]) == (1, 1)
    assert (superuser["Pending"], superuser["Flagged by readers"]) == (3, 2)


def test_another_class_s_post_page_is_not_shown_to_an_instructor(world):
    client = client_for(world, "instructor_a")
    post = world.posts["b_annotation"]

    response = client.get(f"/admin/annotate/post/{post.pk}/change/", follow=True)

    text = page_text(response)
    assert response.redirect_chain == [("/admin/", 302)]
    assert "doesn’t exist" in text
    assert "Class B annotation." not in text
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
    assert "Class A held post." in page
    assert "Class B held post." not in page
    assert "Public held post." not in page
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


def test_akismet_status_names_no_post_of_another_class(world):
    theirs = world.posts["b_annotation"]
    PostEvent.objects.create(post=theirs, kind=PostEvent.Kind.AKISMET_ERROR, detail="Timed out.")

    page = page_text(client_for(world, "instructor_a").get(ADMIN + "post/akismet-status/"))

    assert f"#{theirs.pk}" not in page
    assert "Ben Student" not in page


def test_the_generic_view_on_site_redirect_tells_instructors_nothing(world):
    from django.contrib.contenttypes.models import ContentType

    theirs = world.posts["b_annotation"]
    content_type = ContentType.objects.get_for_model(theirs)
    path = f"/admin/r/{content_type.pk}/{theirs.pk}/"

    assert client_for(world, "instructor_a").get(path).status_code == 404
    assert client_for(world, "superuser").get(path).status_code == 302
