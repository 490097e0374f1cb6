"""
A class's roster on the site, as docs/teaching.md promises it: the members,
their roles and removal, invitations by email through the outbox, the staff
links that make a co-instructor or a teaching assistant, and what a teaching
assistant may and may not do, on the site and in the admin.
"""

import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.utils import timezone

from annotate.models import MODERATORS_GROUP, ClassGroup, Membership, OutboundEmail, Post, User
from annotate.notifications import moderators_of, send_digests
from annotate.roster import MAX_INVITATIONS
from annotate.scoping import is_site_moderator
from annotate.spam import user_role
from tests.factories import (
    PASSWORD,
    make_class,
    make_document,
    make_moderator,
    make_post,
    make_user,
    post_comment,
)
from tests.test_classes import admin_form

ROSTER = "/classes/history/roster/"
STUDENT, ASSISTANT, INSTRUCTOR = "student", "assistant", "instructor"


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def words(element) -> str:
    return " ".join(element.get_text(" ").split()) if element is not None else ""


def messages_on(page: BeautifulSoup) -> list[str]:
    return [words(item) for item in page.select(".messages li")]


def messages_after(client, response) -> list[str]:
    assert response.status_code == 302, response.content.decode()[:2000]
    return messages_on(soup(client.get(response["Location"])))


def roster_rows(page: BeautifulSoup) -> list[list[str]]:
    """Each member's row as it reads: name, role (the chosen one, in a form), joined."""
    rows = []
    for row in page.select(".roster-table tbody tr"):
        chosen = row.select_one("select option[selected]")
        role = words(chosen) if chosen else words(row.select("td")[0])
        rows.append([words(row.th), role])
    return rows


def link_in(body: str) -> str:
    """The path of the one link on this site in an email's body."""
    [url] = re.findall(r"https?://\S+", body)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def teacher(db) -> User:
    user = make_moderator("Tess Teacher", "tess@example.com")
    user.is_teacher = True
    user.save()
    return user


@pytest.fixture
def student(db) -> User:
    return make_user("Stu Student", "stu@example.com")


@pytest.fixture
def assistant(db) -> User:
    return make_user("Tara Assistant", "tara@example.com")


@pytest.fixture
def classroom(teacher, student, assistant):
    classroom = make_class(instructor=teacher, students=[student])
    Membership.objects.create(classroom=classroom, user=assistant, role=ASSISTANT)
    assistant.join_class_staff()
    return classroom


def membership(classroom, user) -> Membership:
    return Membership.objects.get(classroom=classroom, user=user)


def role_url(classroom, member) -> str:
    return f"{ROSTER}{membership(classroom, member).pk}/role/"


def remove_url(classroom, member) -> str:
    return f"{ROSTER}{membership(classroom, member).pk}/remove/"


# The roster page


def test_the_roster_lists_each_member_with_role_and_joined_date_instructors_first(
    client, teacher, classroom
):
    client.force_login(teacher)

    page = soup(client.get(ROSTER))

    assert words(page.h1) == "Roster"
    assert roster_rows(page) == [
        ["Tess Teacher (you)", "Instructor"],
        ["Tara Assistant", "Teaching assistant"],
        ["Stu Student", "Student"],
    ]
    assert words(page.select_one(".meta")).startswith(
        "1 instructor, 1 teaching assistant, 1 student"
    )
    assert page.select_one(".roster-table time")["datetime"].startswith(
        f"{timezone.now():%Y-%m-%d}"
    )


def test_the_roster_shows_no_email_address_to_an_instructor_but_a_superuser_sees_them(
    client, teacher, classroom, superuser
):
    client.force_login(teacher)
    for_instructor = client.get(ROSTER).content.decode()
    client.force_login(superuser)
    for_superuser = client.get(ROSTER).content.decode()

    assert "stu@example.com" not in for_instructor
    assert "tara@example.com" not in for_instructor
    assert "stu@example.com" in for_superuser


def test_each_rows_controls_are_named_for_its_member(client, teacher, classroom):
    client.force_login(teacher)

    page = soup(client.get(ROSTER))

    row = next(row for row in page.select(".roster-table tbody tr") if "Stu" in words(row.th))
    select = row.select_one("select[name=role]")
    assert words(page.select_one(f"label[for={select['id']}]")) == "Role of Stu Student"
    assert words(row.select_one(".roster-role-form button")) == "Change the role of Stu Student"
    assert words(row.select_one(".roster-remove summary")) == "Remove Stu Student"
    assert words(row.select_one(".roster-remove button")) == "Remove Stu Student"
    assert len({tag["id"] for tag in page.select("[id]")}) == len(page.select("[id]"))


def test_a_teaching_assistant_reads_the_roster_without_its_controls(client, assistant, classroom):
    client.force_login(assistant)

    page = soup(client.get(ROSTER))

    assert [name for name, _ in roster_rows(page)] == [
        "Tess Teacher",
        "Tara Assistant (you)",
        "Stu Student",
    ]
    assert page.select(".roster-table form, .roster-table select") == []
    assert page.select_one(".roster-invite") is None
    assert words(page.select_one(".roster-table tbody td")) == "Instructor"
    assert "Only the class’s instructors change roles" in words(page)


def test_students_and_strangers_find_no_roster_and_visitors_are_asked_to_sign_in(
    client, student, stranger, classroom
):
    anonymous = client.get(ROSTER)
    client.force_login(student)
    as_student = client.get(ROSTER)
    client.force_login(stranger)
    as_stranger = client.get(ROSTER)

    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert (as_student.status_code, as_stranger.status_code) == (404, 404)


def test_the_roster_asks_the_database_the_same_number_of_times_however_many_members(
    client, teacher, classroom, django_assert_max_num_queries
):
    client.force_login(teacher)
    client.get(ROSTER)  # sessions and the like, once
    with django_assert_max_num_queries(12) as few:
        client.get(ROSTER)
    for number in range(40):
        Membership.objects.create(
            classroom=classroom, user=make_user(f"Student {number}", f"s{number}@example.com")
        )

    with django_assert_max_num_queries(len(few.captured_queries)):
        page = soup(client.get(ROSTER))

    assert len(roster_rows(page)) == 43


# Changing roles


def test_an_instructor_makes_a_student_a_teaching_assistant_who_gets_what_moderating_needs(
    client, teacher, student, classroom
):
    group = ClassGroup.objects.create(classroom=classroom, name="Table 1")
    Membership.objects.filter(user=student).update(group=group)
    client.force_login(teacher)

    response = client.post(role_url(classroom, student), {"role": ASSISTANT})

    assert messages_after(client, response) == [
        "Stu Student is now a teaching assistant of Modern History."
    ]
    promoted = membership(classroom, student)
    assert (promoted.role, promoted.group) == (ASSISTANT, None)
    student.refresh_from_db()
    assert (student.is_staff, student.is_class_staff, student.is_teacher) == (True, True, False)
    assert list(student.groups.values_list("name", flat=True)) == [MODERATORS_GROUP]
    assert not is_site_moderator(student)


def test_a_second_instructor_can_be_made_and_then_either_can_step_down(
    client, teacher, student, classroom
):
    client.force_login(teacher)
    client.post(role_url(classroom, student), {"role": INSTRUCTOR})

    response = client.post(role_url(classroom, teacher), {"role": ASSISTANT})

    assert response.status_code == 302
    assert response["Location"] == "/classes/history/"  # no longer theirs to change
    assert membership(classroom, student).role == INSTRUCTOR
    assert membership(classroom, teacher).role == ASSISTANT


def test_the_last_instructor_cannot_be_demoted_nor_removed(client, teacher, classroom):
    client.force_login(teacher)

    demoted = client.post(role_url(classroom, teacher), {"role": STUDENT})
    demoted_messages = messages_after(client, demoted)
    removed = client.post(remove_url(classroom, teacher))

    expected = (
        "Tess Teacher is the class’s only instructor: make someone else an instructor first, "
        "so that the class always has one. Nothing was changed."
    )
    assert demoted_messages == [expected]
    assert messages_after(client, removed) == [expected]
    assert membership(classroom, teacher).role == INSTRUCTOR


def test_a_role_that_is_not_one_changes_nothing_and_says_so(client, teacher, student, classroom):
    client.force_login(teacher)

    response = client.post(role_url(classroom, student), {"role": "superuser"})

    assert messages_after(client, response) == [
        "Nothing was changed: choose student, teaching assistant or instructor."
    ]
    assert membership(classroom, student).role == STUDENT


def test_another_classs_member_is_out_of_reach_of_this_classs_roster(client, teacher, classroom):
    other = make_class("Other", "other", students=[make_user("Olga Other", "olga@example.com")])
    theirs = other.memberships.get()
    client.force_login(teacher)

    changed = client.post(f"{ROSTER}{theirs.pk}/role/", {"role": INSTRUCTOR})
    changed_messages = messages_after(client, changed)
    removed = client.post(f"{ROSTER}{theirs.pk}/remove/")

    gone = "That person is no longer a member of this class: someone may have just removed them."
    assert changed_messages == [gone]
    assert messages_after(client, removed) == [gone]
    theirs.refresh_from_db()
    assert theirs.role == STUDENT


# Removing


def test_removing_a_student_keeps_their_posts(client, teacher, student, classroom):
    document = make_document()
    classroom.readings.create(document=document)
    post = make_post(document, student, "My thoughts.", classroom=classroom)
    client.force_login(teacher)

    response = client.post(remove_url(classroom, student))

    assert messages_after(client, response) == [
        "Stu Student is no longer a member of Modern History. Their posts stay in its discussions."
    ]
    assert not Membership.objects.filter(classroom=classroom, user=student).exists()
    assert Post.objects.get(pk=post.pk).body == "My thoughts."
    client.force_login(student)
    assert client.get("/classes/history/").status_code == 404


def test_an_instructor_who_removes_themselves_lands_on_their_classes(
    client, teacher, student, classroom
):
    Membership.objects.filter(user=student).update(role=INSTRUCTOR)
    client.force_login(teacher)

    response = client.post(remove_url(classroom, teacher))

    assert response["Location"] == "/classes/"
    assert messages_after(client, response) == ["You are no longer a member of Modern History."]


def test_a_get_changes_nothing(client, teacher, student, classroom):
    client.force_login(teacher)

    assert client.get(remove_url(classroom, student)).status_code == 405
    assert client.get(role_url(classroom, student)).status_code == 405
    assert membership(classroom, student).role == STUDENT


# What a teaching assistant may not do on the site


@pytest.mark.parametrize(
    "path, data",
    [
        ("role/{student}", {"role": INSTRUCTOR}),
        ("remove/{student}", {}),
        ("invite", {"addresses": "new@example.com", "role": STUDENT}),
        ("staff-links", {}),
    ],
)
def test_a_teaching_assistant_gets_a_403_that_says_why_and_a_student_a_404(
    client, assistant, student, classroom, path, data
):
    urls = {
        "role/{student}": role_url(classroom, student),
        "remove/{student}": remove_url(classroom, student),
        "invite": f"{ROSTER}invite/",
        "staff-links": "/classes/history/new-staff-links/",
    }
    tokens = (classroom.instructor_token, classroom.assistant_token)
    client.force_login(assistant)

    as_assistant = client.post(urls[path], data)
    client.force_login(student)
    as_student = client.post(urls[path], data)

    assert as_assistant.status_code == 403
    assert "only its instructors change its settings, readings and members" in words(
        soup(as_assistant)
    )
    assert as_student.status_code == 404
    assert membership(classroom, student).role == STUDENT
    assert not OutboundEmail.objects.exists()
    classroom.refresh_from_db()
    assert (classroom.instructor_token, classroom.assistant_token) == tokens


# Inviting by email


def invite(client, addresses: str, role: str = STUDENT):
    return client.post(f"{ROSTER}invite/", {"addresses": addresses, "role": role})


def test_invited_students_get_the_join_link_by_email_and_join_with_it(
    run_background_work, teacher, classroom
):
    client = run_background_work
    client.force_login(teacher)

    response = invite(client, "ana@school.edu, ben@school.edu\nana@school.edu")

    assert messages_after(client, response) == [
        "2 invitations to join as students sent: ana@school.edu, ben@school.edu."
    ]
    assert sorted(email.to[0] for email in mail.outbox) == ["ana@school.edu", "ben@school.edu"]
    email = mail.outbox[0]
    assert email.subject == "[annotate] Join Modern History as a student"
    assert "Tess Teacher invites you to join “Modern History”" in email.body
    assert link_in(email.body) == classroom.get_join_url()
    # Sent, the link is not kept in the outbox.
    assert not OutboundEmail.objects.filter(body__contains=classroom.join_token).exists()

    ana = make_user("Ana", "ana@school.edu")
    newcomer = Client()
    newcomer.force_login(ana)
    joined = newcomer.post(link_in(email.body))
    assert joined["Location"] == "/classes/history/"
    assert membership(classroom, ana).role == STUDENT


@pytest.mark.parametrize(
    "role, subject, welcome",
    [
        (ASSISTANT, "as a teaching assistant", "teaching assistant"),
        (INSTRUCTOR, "as a co-instructor", "co-instructor"),
    ],
)
def test_invited_staff_get_their_roles_link_and_join_the_class_in_that_role(
    run_background_work, teacher, classroom, role, subject, welcome
):
    client = run_background_work
    client.force_login(teacher)

    invite(client, "<dora@school.edu>", role)

    [email] = mail.outbox
    assert email.subject == f"[annotate] Join Modern History {subject}"
    token = classroom.assistant_token if role == ASSISTANT else classroom.instructor_token
    path = link_in(email.body)
    assert path == f"/join/staff/{token}/"
    dora = make_user("Dora Newcomer", "dora@school.edu")
    invited = Client()
    invited.force_login(dora)
    page = soup(invited.get(path))
    assert words(page.h1) == "Help teach Modern History"
    assert words(page.select_one("form button")) == f"Join as {welcome}"
    response = invited.post(path)
    assert response["Location"] == "/classes/history/"
    assert messages_after(invited, response) == [f"Welcome to Modern History, as its {welcome}."]
    assert membership(classroom, dora).role == role
    dora.refresh_from_db()
    assert (dora.is_staff, dora.is_class_staff) == (True, True)


def test_bad_addresses_are_named_and_kept_to_correct_while_the_good_ones_go(
    client, teacher, classroom
):
    client.force_login(teacher)

    response = invite(client, "ana@school.edu, not-an-address\nben@@school.edu ben@school.edu")

    page = soup(response)
    assert response.status_code == 400
    assert messages_on(page) == [
        "2 invitations to join as students sent: ana@school.edu, ben@school.edu."
    ]
    assert words(page.select_one(".roster-invite .errorlist")) == (
        "Not sent: “not-an-address”, “ben@@school.edu” are not email addresses. "
        "Correct them and send again."
    )
    assert page.select_one("textarea[name=addresses]").get_text() == (
        "\nnot-an-address\nben@@school.edu"
    )
    assert page.select_one("input[name=role][checked]")["value"] == STUDENT
    assert sorted(email.to[0] for email in OutboundEmail.objects.all()) == [
        "ana@school.edu",
        "ben@school.edu",
    ]


def test_only_bad_addresses_send_nothing_and_keep_the_text(client, teacher, classroom):
    client.force_login(teacher)

    response = invite(client, "ana at school", ASSISTANT)

    page = soup(response)
    assert response.status_code == 400
    assert "Not sent: “ana”, “at”, “school” are not email addresses." in words(page)
    assert page.select_one("textarea[name=addresses]").get_text() == "\nana at school"
    assert page.select_one("input[name=role][checked]")["value"] == ASSISTANT
    assert not OutboundEmail.objects.exists()


def test_an_empty_box_or_a_made_up_role_is_refused_with_a_clear_message(client, teacher, classroom):
    client.force_login(teacher)

    empty = soup(invite(client, "  \n "))
    made_up = soup(invite(client, "ana@school.edu", "principal"))

    assert "Paste or type at least one email address." in words(empty)
    assert "Choose students, teaching assistants or co-instructors." in words(made_up)
    assert made_up.select_one("textarea[name=addresses]").get_text() == "\nana@school.edu"
    assert not OutboundEmail.objects.exists()


def test_people_already_in_the_class_are_not_invited_and_the_instructor_is_told(
    client, teacher, student, classroom
):
    client.force_login(teacher)

    response = invite(client, "STU@example.com new@school.edu")

    assert messages_after(client, response) == [
        "1 invitation to join as students sent: new@school.edu.",
        "Not invited, already in the class: STU@example.com. Change a member’s role in the list "
        "instead.",
    ]
    assert [email.to for email in OutboundEmail.objects.all()] == [["new@school.edu"]]


def test_more_than_the_cap_sends_nothing_and_keeps_the_list(client, teacher, classroom):
    addresses = " ".join(f"s{number}@school.edu" for number in range(MAX_INVITATIONS + 1))
    client.force_login(teacher)

    response = invite(client, addresses)

    page = soup(response)
    assert response.status_code == 400
    assert (
        f"That is {MAX_INVITATIONS + 1} addresses: invite at most {MAX_INVITATIONS} at a time."
        in words(page)
    )
    assert page.select_one("textarea[name=addresses]").get_text() == "\n" + addresses
    assert not OutboundEmail.objects.exists()


def test_students_are_not_invited_to_a_join_link_that_admits_nobody(client, teacher, classroom):
    classroom.join_expires_at = timezone.now() - timedelta(days=1)
    classroom.save()
    client.force_login(teacher)

    page_before = soup(client.get(ROSTER))
    response = invite(client, "ana@school.edu")
    staff = invite(client, "tom@school.edu", ASSISTANT)

    assert "The join link admits nobody now" in words(page_before.select_one(".notice"))
    assert response.status_code == 400
    assert "Nothing was sent: make a new join link" in words(soup(response))
    assert staff.status_code == 302  # staff links do not expire with the join link
    assert [email.to for email in OutboundEmail.objects.all()] == [["tom@school.edu"]]


# Staff links


def test_the_class_page_shows_both_staff_links_to_instructors_only(
    client, teacher, assistant, classroom
):
    client.force_login(teacher)
    for_instructor = soup(client.get("/classes/history/"))
    client.force_login(assistant)
    for_assistant = soup(client.get("/classes/history/"))

    links = {
        words(label): for_instructor.select_one(f"#{label['for']}")["value"]
        for label in for_instructor.select(".staff-links label")
    }
    assert links == {
        "Co-instructor link": f"http://testserver/join/staff/{classroom.instructor_token}/",
        "Teaching assistant link": f"http://testserver/join/staff/{classroom.assistant_token}/",
    }
    copy_buttons = for_instructor.select(".staff-links button[data-copy]")
    assert [button["data-copy"] for button in copy_buttons] == ["instructor-url", "assistant-url"]
    assert for_instructor.select_one(f'a[href="{ROSTER}"]')
    assert for_assistant.select_one(f'a[href="{ROSTER}"]')
    assert for_assistant.select_one(".staff-links") is None
    assert classroom.assistant_token not in str(for_assistant)


def test_new_staff_links_turn_off_the_old_ones(client, teacher, stranger, classroom):
    old = f"/join/staff/{classroom.assistant_token}/"
    client.force_login(teacher)

    response = client.post("/classes/history/new-staff-links/")

    assert messages_after(client, response)[0].startswith(
        "New co-instructor and teaching assistant links are ready; the old ones no longer work."
    )
    client.force_login(stranger)
    closed = client.get(old)
    assert closed.status_code == 404
    assert "This staff link is not valid" in words(soup(closed))
    assert client.post(old).status_code == 404
    assert not Membership.objects.filter(user=stranger).exists()


def test_a_wrong_token_is_a_404_that_says_so(client, stranger, classroom):
    client.force_login(stranger)

    response = client.get("/join/staff/not-a-token/")
    nul = client.get("/join/staff/a%00b/")

    assert response.status_code == 404
    assert "This staff link is not valid" in words(soup(response))
    assert nul.status_code == 404


def test_a_visitor_with_a_staff_link_is_asked_to_sign_up_or_in_and_comes_back(client, classroom):
    path = f"/join/staff/{classroom.instructor_token}/"

    page = soup(client.get(path))

    assert "This link makes you the class’s co-instructor." in words(page)
    links = {words(link): link["href"] for link in page.select(".page a")}
    assert links["create an account"] == f"/accounts/signup/?next={path}"
    assert links["sign in"] == f"/accounts/login/?next={path}"


def test_an_invite_only_site_lets_a_staff_link_holder_sign_up(client, settings, classroom):
    settings.SIGNUP_MODE = "invite"
    closed = soup(client.get("/accounts/signup/"))
    client.get(f"/join/staff/{classroom.assistant_token}/")

    opened = soup(client.get("/accounts/signup/"))
    client.post(
        "/accounts/signup/",
        {
            "display_name": "Nina New",
            "email": "nina@school.edu",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert not closed.select("input[name=password1]")
    assert opened.select_one("input[name=password1]")
    assert User.objects.filter(email="nina@school.edu").exists()


def test_a_student_who_opens_the_assistant_link_becomes_a_teaching_assistant(
    client, student, classroom
):
    path = f"/join/staff/{classroom.assistant_token}/"
    client.force_login(student)

    page = soup(client.get(path))
    client.post(path)

    assert "You are a student of this class: accepting makes you its teaching assistant." in (
        words(page)
    )
    assert membership(classroom, student).role == ASSISTANT


def test_an_instructor_who_opens_the_assistant_link_stays_an_instructor(
    client, teacher, assistant, classroom
):
    client.force_login(teacher)
    response = client.post(f"/join/staff/{classroom.assistant_token}/")
    told = messages_after(client, response)
    client.force_login(assistant)
    again = client.get(f"/join/staff/{classroom.assistant_token}/")

    assert told == ["You are an instructor of Modern History already."]
    assert membership(classroom, teacher).role == INSTRUCTOR
    assert messages_after(client, again) == [
        "You are a teaching assistant of Modern History already."
    ]


def test_a_teaching_assistant_who_opens_the_instructor_link_becomes_an_instructor(
    client, assistant, classroom
):
    client.force_login(assistant)

    client.post(f"/join/staff/{classroom.instructor_token}/")

    assert membership(classroom, assistant).role == INSTRUCTOR


# Teaching assistants everywhere they should be


def test_the_teaching_page_lists_the_classes_someone_instructs_or_assists_with_their_role(
    client, teacher, assistant, classroom
):
    make_class("Latin", "latin", instructor=assistant)
    client.force_login(assistant)

    page = soup(client.get("/teaching/"))

    cards = [(words(card.h2), words(card.select_one(".meta"))) for card in page.select(".card")]
    assert cards == [("Latin", "Instructor"), ("Modern History", "Teaching assistant")]
    assert page.find("a", string="New class") is None
    assert "You help teach these classes." in words(page)


def test_a_held_post_emails_the_teaching_assistant_as_it_does_the_instructor(
    client, teacher, assistant, student, classroom, run_tasks
):
    document = make_document(premoderated=True)
    classroom.readings.create(document=document)
    client.force_login(student)

    run_tasks(post_comment, client, document, "Held for the staff.", classroom=classroom)

    assert Post.objects.get().status == Post.Status.PENDING
    assert sorted(email.to[0] for email in mail.outbox) == [assistant.email, teacher.email]


def test_the_digest_reaches_a_teaching_assistant_who_chose_it(
    teacher, assistant, student, classroom, run_tasks, time_machine
):
    time_machine.move_to("2027-03-01 09:00Z", tick=False)
    assistant.moderation_digest = True
    assistant.save()
    document = make_document()
    classroom.readings.create(document=document)
    post = make_post(document, student, "Reported.", classroom=classroom)
    assert assistant in moderators_of(post)
    from annotate.notifications import notify_moderators

    run_tasks(notify_moderators, post, "reported")
    time_machine.move_to("2027-03-02 10:00Z", tick=False)

    run_tasks(send_digests)

    assert [email.to for email in mail.outbox] == [[teacher.email], [assistant.email]]
    assert "Daily moderation digest (1)" in mail.outbox[1].subject


def test_akismet_hears_of_a_teaching_assistant_as_an_editor(assistant, student, classroom):
    # Staff are editors whatever their role: take that away, so the class role alone decides.
    User.objects.filter(pk=assistant.pk).update(is_staff=False)
    assistant.refresh_from_db()
    assistant.groups.clear()

    assert user_role(assistant, classroom.pk) == "editor"
    assert user_role(student, classroom.pk) == "subscriber"


# The admin


ADMIN = "/admin/annotate/"


def test_a_teaching_assistant_moderates_the_classs_posts_and_opens_its_dashboard(
    client, assistant, student, classroom
):
    document = make_document()
    classroom.readings.create(document=document)
    held = make_post(document, student, "Held.", classroom=classroom, status=Post.Status.PENDING)
    client.force_login(assistant)

    dashboard = client.get(f"{ADMIN}classroom/{classroom.pk}/dashboard/")
    post_page = client.get(f"{ADMIN}post/{held.pk}/change/")

    assert dashboard.status_code == 200
    assert post_page.status_code == 200
    changelist = soup(client.get(f"{ADMIN}post/"))
    assert changelist.select_one(f'#result_list a[href*="/post/{held.pk}/change/"]')


def test_a_teaching_assistant_sees_the_class_in_the_admin_but_cannot_change_or_delete_it(
    client, assistant, student, classroom
):
    client.force_login(assistant)
    change = f"{ADMIN}classroom/{classroom.pk}/change/"

    page = soup(client.get(change))
    saved = client.post(change, {"name": "Renamed", "slug": "renamed"})
    deleted = client.post(f"{ADMIN}classroom/{classroom.pk}/delete/", {"post": "yes"})
    member = membership(classroom, student)
    member_saved = client.post(
        f"{ADMIN}membership/{member.pk}/change/", {"classroom": classroom.pk, "role": INSTRUCTOR}
    )
    member_deleted = client.post(f"{ADMIN}membership/{member.pk}/delete/", {"post": "yes"})
    changelist = soup(client.get(f"{ADMIN}classroom/"))

    assert page.select_one("input[name=_save]") is None
    assert page.select_one("input[name=name]") is None  # read-only fields
    assert (saved.status_code, deleted.status_code) == (403, 403)
    assert (member_saved.status_code, member_deleted.status_code) == (403, 403)
    assert changelist.select("select[name=action]") == []
    assert client.get(f"{ADMIN}classroom/add/").status_code == 403
    classroom.refresh_from_db()
    assert (classroom.name, membership(classroom, student).role) == ("Modern History", STUDENT)


def test_an_instructor_still_changes_the_class_in_the_admin(client, teacher, classroom):
    client.force_login(teacher)

    page = soup(client.get(f"{ADMIN}classroom/{classroom.pk}/change/"))

    assert page.select_one("input[name=_save]")
    assert page.select_one("input[name=name]")


def test_the_admin_keeps_the_classs_last_instructor_too(client, teacher, student, classroom):
    client.force_login(teacher)
    change = f"{ADMIN}membership/{membership(classroom, teacher).pk}/change/"
    data = admin_form(client.get(change), "membership_form") | {"role": STUDENT}
    class_page = f"{ADMIN}classroom/{classroom.pk}/change/"
    rows = admin_form(client.get(class_page), "classroom_form")
    teacher_row = next(
        name.removesuffix("-id")
        for name, value in rows.items()
        if re.fullmatch(r"memberships-\d+-id", name)
        and value == str(membership(classroom, teacher).pk)
    )

    refused = client.post(change, data)
    refused_inline = client.post(class_page, rows | {f"{teacher_row}-role": STUDENT})

    expected = "The class would be left without an instructor"
    assert refused.status_code == 200 and expected in words(soup(refused))
    assert refused_inline.status_code == 200 and expected in words(soup(refused_inline))
    assert membership(classroom, teacher).role == INSTRUCTOR


def test_a_member_made_an_assistant_in_the_admin_gets_the_admin(
    client, teacher, student, classroom
):
    client.force_login(teacher)
    change = f"{ADMIN}membership/{membership(classroom, student).pk}/change/"
    data = admin_form(client.get(change), "membership_form") | {"role": ASSISTANT}

    response = client.post(change, data)

    assert response.status_code == 302
    student.refresh_from_db()
    assert (student.is_staff, student.is_class_staff) == (True, True)


def test_a_site_moderator_who_joins_as_an_assistant_stops_moderating_the_public(client, classroom):
    moderator = make_moderator("Mia Mod", "mia@example.com")
    assert is_site_moderator(moderator)
    client.force_login(moderator)

    client.post(f"/join/staff/{classroom.assistant_token}/")

    fresh = User.objects.get(pk=moderator.pk)
    assert membership(classroom, fresh).role == ASSISTANT
    assert not is_site_moderator(fresh)
    assert Group.objects.get(name=MODERATORS_GROUP).user_set.filter(pk=fresh.pk).exists()


# In a browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_the_roster_fits_the_screen_and_passes_axe_on_a_phone_and_a_laptop(page, width):
    from playwright.sync_api import expect

    from tests.browser import assert_no_axe_violations, sign_in

    teacher = make_moderator("Tess Teacher", "tess@example.com", is_teacher=True)
    students = [make_user(f"Student Number {n}", f"s{n}@example.com") for n in range(3)]
    classroom = make_class(instructor=teacher, students=students)
    Membership.objects.create(
        classroom=classroom, user=make_user("Tara Assistant", "tara@example.com"), role=ASSISTANT
    )
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "tess@example.com", next_path=ROSTER)

    page.get_by_label("Email addresses").fill("ana@school.edu, not-an-address")
    page.get_by_role("button", name="Send invitations").click()

    expect(page.locator(".roster-invite .errorlist")).to_contain_text("“not-an-address”")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_no_axe_violations(page)
    page.screenshot(path=f"/tmp/roster-{width}.png", full_page=True)
    page.get_by_text("Remove Student Number 0").first.click()  # the summary opens its form
    expect(page.get_by_role("button", name="Remove Student Number 0")).to_be_visible()
    page.goto("/classes/history/")
    expect(page.get_by_role("button", name="Copy the teaching assistant link")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_no_axe_violations(page)
    page.locator(".staff-links").screenshot(path=f"/tmp/staff-links-{width}.png")
