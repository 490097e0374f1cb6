"""
Classes as docs/teaching.md promises them: joining, who may sign up, hiding
classmates' posts, the class pages, a reader's own pages, and the exports.
"""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotate.models import (
    Classroom,
    HeldReason,
    Membership,
    Post,
    Reading,
    User,
)
from annotate.notifications import unsubscribe_token
from tests.factories import make_class, make_moderator, make_post, make_user

PASSWORD = "a long unusual passphrase 73"
PASSAGE = "more paranoid at the end of the war"
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth counts sign-ups in the cache, across tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def optional_email_confirmation(settings):
    """New accounts are signed in at once, so flows can carry on to the join page."""
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"


@pytest.fixture
def teacher(db) -> User:
    """An instructor set up as docs/teaching.md says: staff, in the Moderators group."""
    return make_moderator("Tess Teacher", "tess@example.com")


@pytest.fixture
def classroom(teacher, seeded, document) -> Classroom:
    """Modern History reads the seed text (class-only, due on T0) and the public sample."""
    classroom = make_class(term="Spring 2027", instructor=teacher)
    seeded.is_public = False
    seeded.save(update_fields=["is_public"])
    Reading.objects.create(
        classroom=classroom, document=seeded, due_at=T0, instructions="Read closely."
    )
    Reading.objects.create(classroom=classroom, document=document)
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


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def words(element) -> str:
    return " ".join(element.get_text().split())


def page_text(response) -> str:
    return words(soup(response).main)


def messages_after(client, response) -> list[str]:
    page = soup(client.get(response["Location"]))
    return [words(item) for item in page.select(".messages li")]


def sign_up(client, path="/accounts/signup/", **fields):
    data = {
        "display_name": "Dana Reader",
        "email": "dana@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "website": "",
        **fields,
    }
    return client.post(path, data)


# Joining by the link


def test_signed_in_visitor_joins_by_the_link_as_a_student_and_lands_on_the_class_page(
    client, classroom, stranger
):
    client.force_login(stranger)

    page = client.get(classroom.get_join_url())
    response = client.post(classroom.get_join_url())

    assert page.status_code == 200
    assert soup(page).select_one("main form button").get_text() == "Join Modern History"
    assert response.status_code == 302
    assert response["Location"] == "/classes/history/"
    membership = Membership.objects.get(classroom=classroom, user=stranger)
    assert membership.role == Membership.Role.STUDENT
    assert messages_after(client, response) == ["Welcome to Modern History (Spring 2027)."]


def test_a_member_opening_the_link_again_is_sent_to_the_class(client, classroom, student):
    client.force_login(student)

    response = client.get(classroom.get_join_url())

    assert response["Location"] == "/classes/history/"
    assert messages_after(client, response) == [
        "You are already a member of Modern History (Spring 2027)."
    ]
    assert Membership.objects.filter(user=student).count() == 1


def test_an_expired_link_says_so_and_admits_nobody(client, classroom, stranger):
    classroom.join_expires_at = timezone.now() - timedelta(minutes=1)
    classroom.save()
    client.force_login(stranger)

    page = client.get(classroom.get_join_url())
    response = client.post(classroom.get_join_url())

    for refused in (page, response):
        assert refused.status_code == 403
        assert "This join link has expired. Ask your instructor for a new one." in page_text(
            refused
        )
        assert not soup(refused).select("main form")
    assert not Membership.objects.filter(user=stranger).exists()


def test_a_link_that_expires_later_still_admits(client, classroom, stranger):
    classroom.join_expires_at = timezone.now() + timedelta(days=1)
    classroom.save()
    client.force_login(stranger)

    response = client.post(classroom.get_join_url())

    assert response.status_code == 302
    assert Membership.objects.filter(user=stranger, classroom=classroom).exists()


def test_a_full_class_refuses_the_link_and_instructors_do_not_count(
    client, classroom, student, stranger
):
    classroom.member_limit = 1
    classroom.save()
    client.force_login(stranger)

    response = client.post(classroom.get_join_url())

    assert response.status_code == 403
    assert "This class is full. Ask your instructor to make room." in page_text(response)
    assert not Membership.objects.filter(user=stranger).exists()

    classroom.memberships.filter(user=student).delete()  # the teacher alone is left
    response = client.post(classroom.get_join_url())

    assert response.status_code == 302
    assert Membership.objects.filter(user=stranger, classroom=classroom).exists()


def test_a_new_join_link_turns_off_the_old_one_and_works_itself(
    client, classroom, teacher, stranger
):
    old_url = classroom.get_join_url()
    client.force_login(teacher)

    response = client.post("/classes/history/new-join-link/")

    assert response["Location"] == "/classes/history/"
    assert messages_after(client, response) == [
        "A new join link is ready; the old one no longer works."
    ]
    classroom.refresh_from_db()
    new_url = classroom.get_join_url()
    assert new_url != old_url
    # The class page shows the new link to share.
    class_page = soup(client.get("/classes/history/"))
    assert class_page.select_one("#join-url")["value"] == f"http://testserver{new_url}"

    client.force_login(stranger)
    old = client.post(old_url)
    assert old.status_code == 404
    assert (
        "This join link is not valid: it may have been replaced by a new one. "
        "Ask your instructor for the current link." in page_text(old)
    )
    assert not Membership.objects.filter(user=stranger).exists()
    assert client.post(new_url).status_code == 302
    assert Membership.objects.filter(user=stranger, classroom=classroom).exists()


def test_anonymous_visitor_is_invited_to_sign_up_or_in_and_comes_back_to_join(client, classroom):
    join_url = classroom.get_join_url()

    page = soup(client.get(join_url))

    links = {words(link): link["href"] for link in page.select("main p a")}
    assert links["create an account"] == f"/accounts/signup/?next={join_url}"
    assert links["sign in"] == f"/accounts/login/?next={join_url}"
    assert not page.select("main form")

    response = sign_up(client, links["create an account"])

    assert response.status_code == 302
    assert response["Location"] == join_url
    assert client.post(join_url)["Location"] == "/classes/history/"
    dana = User.objects.get(email="dana@example.com")
    assert classroom.memberships.get(user=dana).role == Membership.Role.STUDENT


def test_signing_in_from_the_join_page_comes_back_to_it(client, classroom, stranger):
    join_url = classroom.get_join_url()

    response = client.post(
        f"/accounts/login/?next={join_url}",
        {"login": stranger.email, "password": "correct horse 42", "next": join_url},
    )

    assert response["Location"] == join_url


# Joining by email domain


@pytest.fixture
def school_class(db) -> Classroom:
    return make_class(
        "Open Seminar", "seminar", allowed_domains="school.example\n@Students.School.Example"
    )


def test_a_person_at_an_allowed_domain_sees_the_class_and_joins_without_the_link(
    client, school_class
):
    lee = make_user("Lee Learner", "lee@students.school.example")
    client.force_login(lee)

    offered = soup(client.get("/classes/"))
    response = client.post("/classes/seminar/join/")

    heading = offered.find("h2", string="Classes open to your school address")
    assert heading is not None
    assert words(heading.find_next("ul")) == "Open Seminar Join Open Seminar"
    assert response["Location"] == "/classes/seminar/"
    assert school_class.memberships.get(user=lee).role == Membership.Role.STUDENT
    # Once a member, the class is among theirs and no longer offered.
    page = soup(client.get("/classes/"))
    assert page.find("h2", string="Classes open to your school address") is None
    assert words(page.select_one(".card h2")) == "Open Seminar"


def test_a_person_at_another_domain_is_neither_offered_the_class_nor_admitted(
    client, school_class, stranger
):
    client.force_login(stranger)

    offered = soup(client.get("/classes/"))
    response = client.post("/classes/seminar/join/")

    assert offered.find("h2", string="Classes open to your school address") is None
    assert response.status_code == 404
    assert not Membership.objects.filter(user=stranger).exists()


def test_an_unconfirmed_school_address_is_neither_offered_the_class_nor_admitted(
    client, school_class
):
    lee = make_user("Lee Learner", "lee@students.school.example")
    lee.emailaddress_set.update(verified=False)
    client.force_login(lee)

    offered = soup(client.get("/classes/"))
    response = client.post("/classes/seminar/join/")

    assert offered.find("h2", string="Classes open to your school address") is None
    assert response.status_code == 404
    assert not Membership.objects.filter(user=lee).exists()


# Who can sign up


def test_open_sign_up_lets_anyone_create_an_account(client, settings, db):
    settings.SIGNUP_MODE = "open"

    form = client.get("/accounts/signup/")
    response = sign_up(client)

    assert soup(form).select_one("input[name=display_name]")
    assert response.status_code == 302
    assert User.objects.filter(email="dana@example.com").exists()


def test_invite_only_sign_up_is_closed_without_a_join_link(client, settings, db):
    settings.SIGNUP_MODE = "invite"

    page = client.get("/accounts/signup/")
    response = sign_up(client)

    assert words(soup(page).h1) == "Sign-up is by invitation"
    assert not soup(page).select("input[name=password1]")
    assert "Sign-up is by invitation" in words(soup(response))
    assert not User.objects.filter(email="dana@example.com").exists()


def test_invite_only_sign_up_opens_after_a_valid_join_link(client, settings, classroom):
    settings.SIGNUP_MODE = "invite"
    client.get(classroom.get_join_url())

    form = client.get("/accounts/signup/")
    response = sign_up(client)

    assert soup(form).select_one("input[name=password1]")
    assert response.status_code == 302
    assert User.objects.filter(email="dana@example.com").exists()


def test_invite_only_sign_up_stays_closed_after_an_expired_link(client, settings, classroom):
    settings.SIGNUP_MODE = "invite"
    classroom.join_expires_at = timezone.now() - timedelta(days=1)
    classroom.save()
    client.get(classroom.get_join_url())

    page = client.get("/accounts/signup/")
    sign_up(client)

    assert words(soup(page).h1) == "Sign-up is by invitation"
    assert not User.objects.filter(email="dana@example.com").exists()


def test_invite_only_sign_up_closes_when_the_link_is_replaced(client, settings, classroom):
    settings.SIGNUP_MODE = "invite"
    client.get(classroom.get_join_url())
    classroom.regenerate_join_token()

    page = client.get("/accounts/signup/")

    assert words(soup(page).h1) == "Sign-up is by invitation"


def test_domain_sign_up_refuses_other_addresses_with_a_clear_error(client, settings, db):
    settings.SIGNUP_MODE = "domains"
    settings.SIGNUP_EMAIL_DOMAINS = ["school.example", "students.school.example"]

    refused = sign_up(client, email="dana@example.com")
    accepted = sign_up(client, email="dana@students.school.example")

    assert refused.status_code == 200
    errors = words(soup(refused).select_one(".errorlist"))
    assert errors == (
        "Sign up with your school email address (ending in @school.example, "
        "@students.school.example)."
    )
    assert not User.objects.filter(email="dana@example.com").exists()
    assert accepted.status_code == 302
    assert User.objects.filter(email="dana@students.school.example").exists()


# Hide until posted


@pytest.fixture
def hidden_reading(classroom, student, classmate, teacher, seeded) -> dict[str, Post]:
    Reading.objects.filter(classroom=classroom, document=seeded).update(hide_until_posted=True)
    return {
        "teacher": make_post(
            seeded, teacher, "Start with the first paragraph.", classroom=classroom
        ),
        "classmate": make_post(
            seeded, classmate, "Cal sees paranoia.", classroom=classroom, passage=PASSAGE
        ),
        "classmate_comment": make_post(
            seeded, classmate, "Cal comments on the page.", classroom=classroom
        ),
    }


NOTICE = "Your classmates’ notes appear here once you have posted your own."
READING = "/classes/history/texts/execute-the-pows/"


def test_before_posting_a_student_sees_only_their_own_and_the_instructors_posts(
    client, hidden_reading, student
):
    # A post they deleted does not count as having posted.
    make_post(
        hidden_reading["teacher"].document,
        student,
        "Ada's draft.",
        classroom=hidden_reading["teacher"].classroom,
    ).delete_by_author()
    client.force_login(student)

    page = page_text(client.get(READING))
    annotations = client.get(READING + "annotations.jsonld").json()

    assert NOTICE in page
    assert "Start with the first paragraph." in page
    assert "Cal sees paranoia." not in page
    assert "Cal comments on the page." not in page
    assert [item["body"]["value"] for item in annotations["first"]["items"]] == [
        "Start with the first paragraph."
    ]


def test_a_hidden_classmate_post_cannot_be_read_through_its_own_addresses(
    client, hidden_reading, student
):
    hidden = hidden_reading["classmate"]
    client.force_login(student)

    assert client.get(f"/posts/{hidden.pk}/").status_code == 404
    assert client.get(f"/posts/{hidden.pk}/report/").status_code == 404
    shown = hidden_reading["teacher"]
    assert client.get(f"/posts/{shown.pk}/report/").status_code == 200


def test_after_posting_a_student_sees_classmates_posts(client, hidden_reading, student):
    client.force_login(student)

    response = client.post(READING + "posts/", {"body": "My own first thought."})
    page = page_text(client.get(READING))

    assert response.status_code == 302
    assert NOTICE not in page
    assert "Cal sees paranoia." in page
    assert "Cal comments on the page." in page
    assert "My own first thought." in page
    hidden = hidden_reading["classmate"]
    assert client.get(f"/posts/{hidden.pk}/report/").status_code == 200


def test_instructors_see_every_post_without_posting(client, hidden_reading, teacher, classmate):
    Post.objects.filter(author=teacher).delete()
    client.force_login(teacher)

    page = page_text(client.get(READING))

    assert NOTICE not in page
    assert "Cal sees paranoia." in page
    assert "Cal comments on the page." in page


def test_a_reading_without_hiding_shows_everything_at_once(client, classroom, student, classmate):
    seeded = classroom.readings.get(document__slug="execute-the-pows").document
    make_post(seeded, classmate, "Cal sees paranoia.", classroom=classroom, passage=PASSAGE)
    client.force_login(student)

    page = page_text(client.get(READING))

    assert NOTICE not in page
    assert "Cal sees paranoia." in page


# My classes and the class page


def test_my_classes_lists_each_membership_with_term_role_and_readings(
    client, classroom, student, teacher
):
    client.force_login(student)
    student_page = soup(client.get("/classes/"))
    client.force_login(teacher)
    teacher_page = soup(client.get("/classes/"))

    card = student_page.select_one(".card")
    assert words(card.h2) == "Modern History"
    assert card.h2.a["href"] == "/classes/history/"
    assert words(card.select_one(".meta")) == "Spring 2027 · Student · 2 readings"
    assert words(teacher_page.select_one(".card .meta")) == "Spring 2027 · Instructor · 2 readings"


def test_my_classes_without_a_class_says_how_to_join(client, stranger, classroom):
    client.force_login(stranger)

    page = soup(client.get("/classes/"))

    assert not page.select(".card")
    assert words(page.select_one(".empty")) == (
        "You have not joined a class yet. Open the join link your instructor gave you."
    )


def reading_rows(response) -> list[list[str]]:
    page = soup(response)
    return [
        [words(cell) for cell in row.select("th, td")]
        for row in page.select("table.readings tbody tr")
    ]


def reading_counts_shown(response) -> list[list[str]]:
    """Each reading's posts, my posts and unanswered questions, by heading.

    The teaching staff's table has a "Students posted" column the students'
    has not; reading the cells by heading lets one test read both.
    """
    page = soup(response)
    headings = [words(cell) for cell in page.select("table.readings thead th")]
    columns = [headings.index(name) for name in ("Posts", "My posts", "Unanswered questions")]
    return [[row[i] for i in columns] for row in reading_rows(response)]


def test_class_page_counts_posts_my_posts_and_unanswered_questions_per_reading(
    client, classroom, student, classmate, teacher, seeded, document
):
    def post(author, body, **fields):
        return make_post(seeded, author, body, classroom=classroom, **fields)

    mine = post(student, "My reading of it.", passage=PASSAGE)
    post(student, "Held thought?", status=Post.Status.PENDING, held_reason=HeldReason.LINKS)
    post(student, "Removed words.", status=Post.Status.REMOVED)
    post(student, "Gone?").delete_by_author()
    post(classmate, "Is that so?", parent=mine)  # a reply asking is not a question thread
    post(classmate, "Why did Stalin fear them?")  # unanswered
    answered = post(classmate, "What is a filtration camp?")
    post(teacher, "A screening camp.", parent=answered)
    waiting = post(classmate, "Who decided?")
    post(teacher, "Held answer.", parent=waiting, status=Post.Status.PENDING)
    withdrawn = post(classmate, "Is this biased?")
    post(teacher, "Withdrawn answer.", parent=withdrawn).delete_by_author()
    post(classmate, "Removed question?", status=Post.Status.REMOVED)
    post(classmate, "A statement, not a question.")
    # Elsewhere: the public discussion of the sample and another class's.
    other = make_class("Other", "other")
    make_post(document, classmate, "Public question?")
    make_post(seeded, classmate, "Other class question?", classroom=other)
    client.force_login(student)

    rows = reading_rows(client.get("/classes/history/"))

    # Published: mine, the reply to it, four questions, one answer, the statement.
    assert rows == [
        ["Execute the POW’s… Read closely.", "Mon 1 Mar, 09:00", "8", "2", "3"],
        ["Sample text", "—", "0", "0", "0"],
    ]


def test_class_page_tells_the_teaching_staff_how_many_students_have_posted(
    client, classroom, student, classmate, teacher, seeded
):
    make_post(seeded, student, "Published.", classroom=classroom)
    make_post(seeded, student, "And again.", classroom=classroom)
    make_post(
        seeded, classmate, "Held.", classroom=classroom,
        status=Post.Status.PENDING, held_reason=HeldReason.LINKS,
    )  # fmt: skip
    make_post(seeded, teacher, "The instructor's own.", classroom=classroom)
    client.force_login(teacher)

    page = soup(client.get("/classes/history/"))

    headers = [words(cell) for cell in page.select("table.readings thead th")]
    assert headers[2:4] == ["Posts", "Students posted"]
    first, second = page.select("table.readings tbody tr")
    assert words(first.select("td")[2]) == "2 of 2"
    assert first.select("td")[2].a["href"] == "/classes/history/texts/execute-the-pows/#roll"
    assert words(second.select("td")[2]) == "0 of 2"
    client.force_login(student)
    student_headers = words(soup(client.get("/classes/history/")).select_one("thead"))
    assert "Students posted" not in student_headers


def test_the_instructors_class_page_costs_the_same_queries_for_any_class_size(
    client, classroom, student, teacher, seeded, document, django_assert_num_queries
):
    make_post(seeded, student, "A first thought?", classroom=classroom)
    client.force_login(teacher)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/classes/history/").status_code == 200

    for number in range(30):
        user = make_user(f"Student {number}", f"s{number}@example.com")
        Membership.objects.create(classroom=classroom, user=user)
        for text in (seeded, document):
            first = make_post(text, user, f"Why {number}?", classroom=classroom)
            make_post(text, teacher, "Because.", classroom=classroom, parent=first)
    with django_assert_num_queries(len(small.captured_queries)):
        page = soup(client.get("/classes/history/"))
    assert words(page.select("table.readings tbody tr")[1].select("td")[2]) == "30 of 31"


def test_class_page_gives_each_reading_its_link_and_due_date(client, classroom, student):
    client.force_login(student)

    page = soup(client.get("/classes/history/"))

    first = page.select_one("table.readings tbody tr")
    assert first.th.a["href"] == "/classes/history/texts/execute-the-pows/"
    assert first.time["datetime"] == "2027-03-01T09:00:00+00:00"


def test_class_page_shows_students_no_instructor_tools(client, classroom, student, teacher):
    client.force_login(student)
    student_page = soup(client.get("/classes/history/"))
    client.force_login(teacher)
    teacher_page = soup(client.get("/classes/history/"))

    assert student_page.select_one(".instructor-tools") is None
    assert classroom.join_token not in str(student_page)
    tools = teacher_page.select_one(".instructor-tools")
    assert "1 student." in words(tools)
    assert {link["href"] for link in tools.select("a")} >= {
        "/classes/history/export/discussion.csv",
        "/classes/history/export/discussion.jsonld",
        "/classes/history/export/students.csv",
        "/classes/history/export/discussion.csv?reading=execute-the-pows",
        "/classes/history/export/discussion.jsonld?reading=sample",
    }


# My activity, preferences, unsubscribing


def test_my_activity_lists_my_posts_newest_first_with_their_status(
    client, classroom, student, classmate, seeded, document
):
    def post(body, minutes, **fields):
        return make_post(
            seeded,
            student,
            body,
            classroom=classroom,
            created_at=T0 + timedelta(minutes=minutes),
            **fields,
        )

    post("Published words.", 1, passage=PASSAGE)
    post("Held words.", 2, status=Post.Status.PENDING, held_reason=HeldReason.LINKS)
    post("Spam words.", 3, status=Post.Status.SPAM)
    post("Removed words.", 4, status=Post.Status.REMOVED)
    post("Deleted words.", 5).delete_by_author()
    make_post(document, student, "On the public text.", created_at=T0 + timedelta(minutes=6))
    make_post(seeded, classmate, "Someone else's words.", classroom=classroom)
    client.force_login(student)

    page = soup(client.get("/activity/"))

    items = [
        (words(item.select_one(".prose")), words(item.select_one(".status")))
        for item in page.select(".activity-item")
    ]
    assert items == [
        ("On the public text.", "published"),
        ("Removed words.", "removed by a moderator"),
        ("Spam words.", "awaiting moderation"),
        ("Held words.", "awaiting moderation"),
        ("Published words.", "published"),
    ]
    first_class_post = page.select(".activity-item")[-1]
    assert "annotation on Execute the POW’s… (Modern History)" in words(first_class_post)
    assert words(first_class_post.blockquote) == PASSAGE
    link = first_class_post.select_one(".meta a")["href"]
    assert link.startswith("/classes/history/texts/execute-the-pows/?post=")


def test_my_activity_without_posts_says_how_to_start(client, stranger):
    client.force_login(stranger)

    page = soup(client.get("/activity/"))

    assert not page.select(".activity-item")
    assert words(page.select_one(".empty")) == (
        "You have not posted anything yet. Open a reading, select a passage and share what "
        "you think."
    )


def test_preferences_save_the_display_name_and_email_switches(client, student):
    client.force_login(student)

    form = soup(client.get("/preferences/"))
    response = client.post("/preferences/", {"display_name": "  Ada   Lovelace "})

    assert form.select_one("input[name=email_on_reply]").has_attr("checked")
    assert not form.select("input[name=moderation_digest]")  # for those who moderate
    assert response["Location"] == "/preferences/"
    assert messages_after(client, response) == ["Your preferences are saved."]
    student.refresh_from_db()
    assert student.display_name == "Ada Lovelace"
    assert student.email_on_reply is False
    assert student.moderation_digest is False


def test_instructors_choose_a_daily_digest_in_their_preferences(client, classroom, teacher):
    client.force_login(teacher)

    form = soup(client.get("/preferences/"))
    client.post(
        "/preferences/",
        {"display_name": "Tess Teacher", "email_on_reply": "on", "moderation_digest": "on"},
    )

    assert form.select_one("input[name=moderation_digest]")
    teacher.refresh_from_db()
    assert (teacher.email_on_reply, teacher.moderation_digest) == (True, True)


def test_preferences_refuse_a_display_name_with_an_email_address(client, student):
    client.force_login(student)

    response = client.post("/preferences/", {"display_name": "ada@example.com"})

    assert response.status_code == 400
    assert "A display name cannot contain “@”" in words(soup(response).select_one(".field-error"))
    student.refresh_from_db()
    assert student.display_name == "Ada Author"
    assert student.email_on_reply is True


def test_the_unsubscribe_link_turns_reply_emails_off_without_signing_in(client, author):
    url = f"/unsubscribe/{unsubscribe_token(author)}/"
    assert words(soup(client.get(url)).h1) == "Stop reply emails?"

    response = client.post(url)

    assert response.status_code == 200
    assert words(soup(response).h1) == "You are unsubscribed"
    author.refresh_from_db()
    assert author.email_on_reply is False


def test_a_mail_program_s_one_click_unsubscribe_post_works_without_cookies(author):
    # RFC 8058: the mail program POSTs "List-Unsubscribe=One-Click", with no session or
    # CSRF token, to the link in the List-Unsubscribe header.
    mail_program = Client(enforce_csrf_checks=True)

    response = mail_program.post(
        f"/unsubscribe/{unsubscribe_token(author)}/", {"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 200
    author.refresh_from_db()
    assert author.email_on_reply is False


def test_a_link_checker_s_head_request_unsubscribes_nobody(client, author):
    response = client.head(f"/unsubscribe/{unsubscribe_token(author)}/")

    assert response.status_code == 405
    author.refresh_from_db()
    assert author.email_on_reply is True


def test_a_tampered_unsubscribe_link_changes_nothing_and_says_so(client, author, stranger):
    token = unsubscribe_token(author)
    signature = token.rsplit(":", 1)[1]
    forged = unsubscribe_token(stranger).rsplit(":", 1)[0] + ":" + signature

    for bad in (token[:-2] + "xx", forged, "nonsense"):
        response = client.get(f"/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert words(soup(response).h1) == "That link did not work"
    for user in (author, stranger):
        user.refresh_from_db()
        assert user.email_on_reply is True


# Exports


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


DISCUSSION_HEADER = [
    "thread", "post", "reply_to", "kind", "reading", "author", "quoted_passage", "body",
    "posted", "edited", "status", "group",
]  # fmt: skip


@pytest.fixture
def discussion(classroom, student, teacher, seeded, document) -> dict[str, Post]:
    note = make_post(
        seeded,
        student,
        "Paranoia grew.",
        classroom=classroom,
        passage=PASSAGE,
        created_at=T0,
        edited_at=T0 + timedelta(hours=1),
    )
    question = make_post(
        seeded,
        teacher,
        "Why, though?",
        classroom=classroom,
        parent=note,
        created_at=T0 + timedelta(hours=2),
    )
    formula = make_post(
        seeded,
        student,
        "=cmd|' /C calc'!A0",
        classroom=classroom,
        parent=question,
        created_at=T0 + timedelta(hours=3),
    )
    comment = make_post(
        document,
        student,
        "A page comment.",
        classroom=classroom,
        created_at=T0 + timedelta(hours=1),
        status=Post.Status.PENDING,
        held_reason=HeldReason.LINKS,
    )
    make_post(seeded, student, "Deleted.", classroom=classroom).delete_by_author()
    other = make_class("Other", "other")
    make_post(seeded, student, "Another class.", classroom=other)
    make_post(document, student, "The public discussion.")
    return {"note": note, "question": question, "formula": formula, "comment": comment}


def test_discussion_csv_has_a_row_per_post_with_thread_and_quoted_passage(
    client, teacher, discussion
):
    note, question, formula, comment = discussion.values()
    client.force_login(teacher)

    response = client.get("/classes/history/export/discussion.csv")

    assert response["Content-Disposition"] == 'attachment; filename="modern-history-discussion.csv"'
    title = "Execute the POW’s…"
    assert csv_rows(response) == [
        DISCUSSION_HEADER,
        [str(note.pk), str(note.pk), "", "annotation", title, "Ada Author", PASSAGE,
         "Paranoia grew.", iso(T0), iso(T0 + timedelta(hours=1)), "published", ""],
        [str(note.pk), str(question.pk), str(note.pk), "reply", title, "Tess Teacher", PASSAGE,
         "Why, though?", iso(T0 + timedelta(hours=2)), "", "published", ""],
        [str(note.pk), str(formula.pk), str(question.pk), "reply", title, "Ada Author", PASSAGE,
         "'=cmd|' /C calc'!A0", iso(T0 + timedelta(hours=3)), "", "published", ""],
        [str(comment.pk), str(comment.pk), "", "comment", "Sample text", "Ada Author", "",
         "A page comment.", iso(T0 + timedelta(hours=1)), "", "pending", ""],
    ]  # fmt: skip


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_cells_that_look_like_formulas_are_escaped(client, teacher, classroom, seeded, start):
    make_post(seeded, teacher, f"{start}1+2", classroom=classroom)
    client.force_login(teacher)

    [_, row] = csv_rows(client.get("/classes/history/export/discussion.csv"))

    assert row[7] == f"'{start}1+2"


def test_discussion_csv_of_one_reading(client, teacher, discussion):
    client.force_login(teacher)

    rows = csv_rows(client.get("/classes/history/export/discussion.csv?reading=sample"))

    assert [row[1] for row in rows[1:]] == [str(discussion["comment"].pk)]


def test_a_reply_to_a_deleted_annotation_keeps_its_thread_and_passage_in_the_csv(
    client, teacher, discussion
):
    note = discussion["note"]
    note.delete_by_author()
    client.force_login(teacher)

    rows = csv_rows(client.get("/classes/history/export/discussion.csv?reading=execute-the-pows"))

    assert [(row[0], row[1], row[6]) for row in rows[1:]] == [
        (str(note.pk), str(discussion["question"].pk), PASSAGE),
        (str(note.pk), str(discussion["formula"].pk), PASSAGE),
    ]


def test_discussion_json_ld_is_a_collection_of_the_class_s_published_posts(
    client, teacher, discussion
):
    client.force_login(teacher)

    response = client.get("/classes/history/export/discussion.jsonld")

    assert response["Content-Type"].startswith("application/ld+json")
    collection = response.json()
    assert collection["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert collection["type"] == "AnnotationCollection"
    items = collection["first"]["items"]
    assert collection["total"] == len(items) == 3
    assert [item["id"] for item in items] == [
        f"http://testserver/posts/{discussion[name].pk}/"
        for name in ("note", "question", "formula")
    ]
    note = items[0]
    assert note["target"]["source"] == "http://testserver/classes/history/texts/execute-the-pows/"
    assert note["target"]["selector"][0] == {
        "type": "TextQuoteSelector",
        "exact": PASSAGE,
        "prefix": "",
        "suffix": "",
    }
    assert items[1]["target"] == f"http://testserver/posts/{discussion['note'].pk}/"


def test_discussion_json_ld_of_one_reading(client, teacher, discussion):
    client.force_login(teacher)

    collection = client.get(
        "/classes/history/export/discussion.jsonld?reading=execute-the-pows"
    ).json()

    assert collection["type"] == "AnnotationCollection"
    assert collection["label"] == "Annotations on “Execute the POW’s…”"
    assert collection["total"] == 3


STUDENTS_HEADER = [
    "student", "email", "annotations", "replies", "comments", "words", "readings_covered",
    "readings_assigned", "first_post", "last_post", "group",
]  # fmt: skip


def test_students_csv_sums_up_each_student_s_posts(
    client, classroom, student, classmate, teacher, seeded, document
):
    def post(document, body, days, **fields):
        return make_post(
            document,
            student,
            body,
            classroom=classroom,
            created_at=T0 + timedelta(days=days),
            **fields,
        )

    note = post(seeded, "Three words here.", 0, passage=PASSAGE)
    post(seeded, "Two words.", 1, parent=note)
    post(document, "A comment of five words.", 2)
    post(document, "Held.", 3, status=Post.Status.PENDING, held_reason=HeldReason.LINKS)
    post(document, "Spam spam spam.", 4, status=Post.Status.SPAM)
    post(document, "Removed by a moderator.", 5, status=Post.Status.REMOVED)
    post(seeded, "Deleted by me.", 6).delete_by_author()
    other = make_class("Other", "other")
    make_post(seeded, student, "Another class.", classroom=other, created_at=T0 - timedelta(9))
    make_post(seeded, teacher, "The teacher's words.", classroom=classroom)
    client.force_login(teacher)

    response = client.get("/classes/history/export/students.csv")

    assert response["Content-Disposition"] == 'attachment; filename="modern-history-students.csv"'
    assert csv_rows(response) == [
        STUDENTS_HEADER,
        ["Ada Author", "ada@example.com", "1", "1", "2", "11", "2", "2",
         iso(T0), iso(T0 + timedelta(days=3)), ""],
        ["Cal Classmate", "cal@example.com", "0", "0", "0", "0", "0", "2", "", "", ""],
    ]  # fmt: skip


# The class in the admin


def test_admin_dashboard_shows_activity_per_reading_and_the_class_queue(
    client, classroom, student, classmate, teacher, seeded
):
    note = make_post(seeded, student, "Published note.", classroom=classroom, passage=PASSAGE)
    make_post(seeded, teacher, "The teacher answers.", classroom=classroom, parent=note)
    reported = make_post(seeded, student, "Reported note.", classroom=classroom, flag_count=1)
    held = make_post(
        seeded,
        classmate,
        "Held note.",
        classroom=classroom,
        status=Post.Status.PENDING,
        held_reason=HeldReason.LINKS,
    )
    other = make_class("Other", "other")
    make_post(seeded, classmate, "Other class held.", classroom=other, status=Post.Status.PENDING)
    client.force_login(teacher)

    response = client.get(f"/admin/annotate/classroom/{classroom.pk}/dashboard/")

    page = soup(response)
    tables = page.select("#content-main table")
    readings = [
        [words(cell) for cell in row.select("th, td")] for row in tables[0].tbody.select("tr")
    ]
    assert readings == [
        ["Execute the POW’s…", "1 Mar 2027 09:00", "3", "1", "1", "1 of 2"],
        ["Sample text", "—", "0", "0", "0", "0 of 2"],
    ]
    queue = [words(row.th) for row in tables[1].tbody.select("tr")]
    assert queue == [f"comment #{held.pk}", f"comment #{reported.pk}"]
    assert "Other class held." not in words(page)
    assert "2 students" in words(page.select_one("#content-main p"))


def admin_form(response, form_id: str) -> dict:
    """What the admin form on the page would send back as it stands."""
    form = soup(response).select_one(f"form#{form_id}")
    data = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        if field.name == "textarea":
            data[field["name"]] = field.get_text()
        elif field.name == "select":
            chosen = field.select_one("option[selected]")
            data[field["name"]] = chosen["value"] if chosen else ""
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data[field["name"]] = field.get("value", "on")
        elif field.get("type") not in ("submit", "button", "file"):
            data[field["name"]] = field.get("value", "")
    return data


def test_an_instructor_who_creates_a_class_in_the_admin_teaches_it(client, teacher, db):
    client.force_login(teacher)
    data = admin_form(client.get("/admin/annotate/classroom/add/"), "classroom_form")
    data |= {"name": "New Seminar", "slug": "new-seminar", "term": "Fall 2027"}

    response = client.post("/admin/annotate/classroom/add/", data)

    assert response.status_code == 302, page_text(response)
    created = Classroom.objects.get(slug="new-seminar")
    assert created.memberships.get().user == teacher
    assert created.memberships.get().role == Membership.Role.INSTRUCTOR
    # It is within their reach at once: in their list, on their class page.
    assert "New Seminar" in words(soup(client.get("/admin/annotate/classroom/")))
    assert soup(client.get("/classes/new-seminar/")).select_one(".instructor-tools")


def test_a_superuser_who_creates_a_class_does_not_become_a_member(client, superuser):
    client.force_login(superuser)
    data = admin_form(client.get("/admin/annotate/classroom/add/"), "classroom_form")
    data |= {"name": "Run By Others", "slug": "others"}

    client.post("/admin/annotate/classroom/add/", data)

    assert not Classroom.objects.get(slug="others").memberships.exists()
