"""
What the admin tells an instructor about their students: names and words,
never an email address, nor the IP address, user agent and referrer that
went to Akismet. Superusers see those for spam work.
"""

import importlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.test import Client

from annotate.models import (
    MODERATORS_GROUP,
    Classroom,
    Document,
    Flag,
    HeldReason,
    ModerationSettings,
    Post,
    PostEvent,
    Reading,
    User,
)
from tests.factories import make_class, make_moderator, make_post, make_user

STUDENT_EMAIL = "ada.student@example.com"
CLASSMATE_EMAIL = "cal.classmate@example.com"
IP = "203.0.113.77"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) PrivacyProbe/1.0"
REFERRER = "https://referrer.example/privacy-probe"
PERSONAL = [STUDENT_EMAIL, CLASSMATE_EMAIL, IP, USER_AGENT, REFERRER]
# Who sent each post, as the spam-check snapshot the site keeps records it.
SENDER = {"user_ip": IP, "user_agent": USER_AGENT, "referrer": REFERRER}
PASSAGE = "more paranoid at the end of the war"


@dataclass
class ClassDesk:
    """A class in the admin: its instructor, two students, their posts, and a site moderator."""

    classroom: Classroom
    instructor: User
    student: User
    classmate: User
    moderator: User
    superuser: User
    class_text: Document  # class-only, read by the class
    public_text: Document  # public, read by the class too
    annotation: Post  # the student's, held, reported by the classmate
    reply: Post  # the instructor's
    public_post: Post  # on the public discussion, by the classmate
    flag: Flag


def moderators_group() -> Group:
    """
    The Moderators group with the permissions its migrations give it. Browser
    tests empty the database after each test, group included: they make it again.
    """
    granted = [
        *importlib.import_module(
            "annotate.migrations.0003_moderators_group_and_site_name"
        ).MODERATOR_PERMISSIONS,
        *importlib.import_module(
            "annotate.migrations.0005_instructor_permissions"
        ).INSTRUCTOR_PERMISSIONS,
    ]
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="annotate", codename__in=granted)
    )
    return group


def class_desk(class_text: Document, public_text: Document) -> ClassDesk:
    moderators_group()  # with its permissions, before anyone joins it
    instructor = make_moderator("Tess Teacher", "tess@example.com")
    moderator = make_moderator()
    superuser = make_user("Sue Super", "sue@example.com", is_staff=True, is_superuser=True)
    student = make_user("Ada Author", STUDENT_EMAIL)
    classmate = make_user("Cal Classmate", CLASSMATE_EMAIL)
    classroom = make_class(term="Spring", instructor=instructor, students=[student, classmate])
    class_text.is_public = False
    class_text.save(update_fields=["is_public"])
    Reading.objects.create(classroom=classroom, document=class_text, instructions="Read closely.")
    Reading.objects.create(classroom=classroom, document=public_text)

    annotation = make_post(
        class_text,
        student,
        "Paranoia grew after victory.",
        passage=PASSAGE,
        classroom=classroom,
        sender=SENDER,
        status=Post.Status.PENDING,
        held_reason=HeldReason.FLAGS,
        flag_count=1,
    )
    annotation.record(PostEvent.Kind.FLAGGED, actor=classmate, detail="Off topic")
    reply = make_post(
        class_text,
        instructor,
        "Why then?",
        classroom=classroom,
        parent=annotation,
        sender=SENDER,
        depth=1,
    )
    public_post = make_post(public_text, classmate, "A public thought.", sender=SENDER)
    flag = Flag.objects.create(
        post=annotation, reporter=classmate, reason=Flag.Reason.OFF_TOPIC, note="Not the text."
    )
    class_text.revise(class_text.text + "\n\nA paragraph added later.", by=instructor)
    ModerationSettings.load()
    # The admin's history of the class, with the changes of a superuser and of the instructor.
    for user in (superuser, instructor):
        LogEntry.objects.log_actions(
            user.pk, [classroom], CHANGE, change_message="Changed the description."
        )
    LogEntry.objects.log_actions(
        superuser.pk, [annotation], CHANGE, change_message="Looked into it."
    )
    return ClassDesk(
        classroom=classroom,
        instructor=instructor,
        student=student,
        classmate=classmate,
        moderator=moderator,
        superuser=superuser,
        class_text=class_text,
        public_text=public_text,
        annotation=annotation,
        reply=reply,
        public_post=public_post,
        flag=flag,
    )


@pytest.fixture
def desk(seeded, document) -> ClassDesk:
    return class_desk(seeded, document)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return response.content.decode()


def links_on(response) -> list[str]:
    page = BeautifulSoup(response.content, "html.parser")
    return [link["href"] for link in page.select("a[href]")]


def admin_pages_reached(client: Client, start: list[str]) -> dict[str, str]:
    """
    Every admin page reached from `start` by following links, each path once
    (its first address seen: a list's sorting and filter links repeat its
    rows), with the HTML it answered. Links out of the admin are not followed.
    """
    pages, queue, seen = {}, list(start), set()
    while queue:
        url = queue.pop(0)
        path = urlsplit(url).path
        if path in seen:
            continue
        seen.add(path)
        response = client.get(url, follow=True)
        if response.status_code != 200 or "html" not in response["Content-Type"]:
            continue
        pages[url] = text_of(response)
        for href in links_on(response):
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith("/admin/"):
                continue
            if parts.path == "/admin/logout/":
                continue
            queue.append(href if href.startswith("/") else parts.path)
    return pages


def class_admin_pages(desk: ClassDesk) -> list[str]:
    admin = "/admin/annotate"
    return [
        "/admin/",
        f"{admin}/post/",
        f"{admin}/post/?q=Paranoia",
        f"{admin}/post/?status__exact=pending",
        f"{admin}/post/{desk.annotation.pk}/change/",
        f"{admin}/post/{desk.annotation.pk}/history/",
        f"{admin}/flag/",
        f"{admin}/flag/{desk.flag.pk}/change/",
        f"{admin}/classroom/",
        f"{admin}/classroom/{desk.classroom.pk}/change/",
        f"{admin}/classroom/{desk.classroom.pk}/dashboard/",
        f"{admin}/classroom/{desk.classroom.pk}/history/",
        f"{admin}/membership/",
        f"{admin}/document/",
        f"{admin}/document/{desk.class_text.pk}/change/",
    ]


def test_no_admin_page_an_instructor_reaches_shows_a_students_email_ip_or_user_agent(desk):
    pages = admin_pages_reached(signed_in(desk.instructor), class_admin_pages(desk))

    # The crawl did reach the pages that hold the students' details for superusers.
    assert {urlsplit(url).path for url in pages} >= {
        urlsplit(url).path for url in class_admin_pages(desk)
    }
    assert any("Paranoia grew after victory." in html for html in pages.values())
    leaks = {url: [s for s in PERSONAL if s in html] for url, html in pages.items()}
    assert {url: found for url, found in leaks.items() if found} == {}


def test_the_spam_check_on_a_post_says_its_personal_fields_are_not_shown_to_instructors(desk):
    page = text_of(
        signed_in(desk.instructor).get(f"/admin/annotate/post/{desk.annotation.pk}/change/")
    )

    assert "(not shown to instructors)" in page
    assert "Paranoia grew after victory." in page  # what was sent, in the student's words


def test_a_superuser_sees_the_email_ip_user_agent_and_referrer_on_the_posts_page(desk):
    page = text_of(
        signed_in(desk.superuser).get(f"/admin/annotate/post/{desk.annotation.pk}/change/")
    )

    assert [value for value in [STUDENT_EMAIL, IP, USER_AGENT, REFERRER] if value in page] == [
        STUDENT_EMAIL, IP, USER_AGENT, REFERRER,
    ]  # fmt: skip


def test_a_site_moderator_sees_them_on_a_public_post_for_spam_work(desk):
    page = text_of(
        signed_in(desk.moderator).get(f"/admin/annotate/post/{desk.public_post.pk}/change/")
    )

    assert CLASSMATE_EMAIL in page and IP in page and USER_AGENT in page


def test_the_class_dashboard_links_no_export_that_holds_students_email_addresses(desk):
    client = signed_in(desk.instructor)
    dashboard = client.get(f"/admin/annotate/classroom/{desk.classroom.pk}/dashboard/")
    exports = [href for href in links_on(dashboard) if "/export/" in href]

    assert exports, "the dashboard links the class's exports"
    for href in exports:
        export = client.get(href)
        assert export.status_code == 200, href
        assert [s for s in PERSONAL if s in text_of(export)] == [], href


def test_the_history_of_a_class_names_people_without_their_email_addresses(desk):
    page = text_of(
        signed_in(desk.instructor).get(f"/admin/annotate/classroom/{desk.classroom.pk}/history/")
    )

    assert "Sue Super" in page and "Tess Teacher" in page
    assert "sue@example.com" not in page and "tess@example.com" not in page


SEARCHES = [
    ("/admin/annotate/post/", STUDENT_EMAIL, "Paranoia grew after victory."),
    ("/admin/annotate/flag/", CLASSMATE_EMAIL, "Not the text."),
    ("/admin/annotate/membership/", STUDENT_EMAIL, "Ada Author"),
]


@pytest.mark.parametrize(("changelist", "email", "found"), SEARCHES)
def test_an_instructor_searching_by_a_students_email_finds_nothing(desk, changelist, email, found):
    page = text_of(signed_in(desk.instructor).get(changelist, {"q": email}))

    assert "0 results" in page
    assert found not in page


@pytest.mark.parametrize(("changelist", "email", "found"), SEARCHES)
def test_a_superuser_searching_by_a_students_email_finds_their_rows(desk, changelist, email, found):
    page = text_of(signed_in(desk.superuser).get(changelist, {"q": email}))

    assert found in page
