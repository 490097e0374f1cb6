"""
Becoming a teacher without a superuser's hand-work: an invitation (from
`manage.py invite_teacher` or the admin's button) or a school address at one of
TEACHER_EMAIL_DOMAINS makes an account a teacher with exactly what a teacher
needs, and a teacher moderates only their own classes.
"""

import io
import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from annotate.models import (
    MODERATORS_GROUP,
    OutboundEmail,
    Post,
    TeacherInvitation,
    User,
)
from annotate.scoping import is_site_moderator
from annotate.site import site_url
from tests.factories import PASSWORD, make_class, make_post, make_user

INVITATION_PATH = re.compile(r"/teaching/invitations/[\w-]+/")


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def words(element) -> str:
    return " ".join(element.get_text(" ").split()) if element is not None else ""


def messages_on(page: BeautifulSoup) -> list[str]:
    return [words(message) for message in page.select(".messages li, .messagelist li")]


def invitation_path_in(text: str) -> str:
    match = INVITATION_PATH.search(text)
    assert match, f"no invitation link in:\n{text}"
    return match.group(0)


def invite_from_the_command(email: str = "tess@school.edu") -> tuple[str, str]:
    """What `manage.py invite_teacher` prints, and the link in it."""
    out = io.StringIO()
    call_command("invite_teacher", email, stdout=out)
    printed = out.getvalue()
    return printed, invitation_path_in(printed)


def test_the_command_emails_the_invitation_and_prints_the_same_link(db):
    printed, path = invite_from_the_command()

    assert printed.startswith("Invitation emailed to tess@school.edu.")
    assert f"{site_url()}{path}" in printed
    [email] = OutboundEmail.objects.all()
    assert email.to == ["tess@school.edu"]
    assert email.subject == "[annotate] You are invited to teach"
    assert f"{site_url()}{path}" in email.body
    assert email.erase_body_when_sent


def test_the_command_refuses_something_that_is_not_an_address(db):
    with pytest.raises(CommandError, match=re.escape("'tess at school' is not an email address.")):
        call_command("invite_teacher", "tess at school")
    assert not TeacherInvitation.objects.exists()


def test_a_newcomer_with_the_link_is_asked_to_sign_up_or_sign_in_and_comes_back(client, db):
    _, path = invite_from_the_command()

    page = soup(client.get(path))

    assert words(page.h1) == "Teach on annotate"
    links = {words(link): link["href"] for link in page.select("#main a, .page a")}
    assert links["create an account"] == f"/accounts/signup/?next={path}"
    assert links["sign in"] == f"/accounts/login/?next={path}"


def test_accepting_makes_the_account_a_teacher_with_staff_and_the_moderators_group(client, author):
    _, path = invite_from_the_command()
    client.force_login(author)

    page = soup(client.get(path))
    response = client.post(path, follow=True)

    assert words(page.select_one("form button")) == "Accept and become a teacher"
    assert response.redirect_chain == [("/teaching/", 302)]
    assert messages_on(soup(response)) == ["Welcome: you are a teacher now. Start with a class."]
    author.refresh_from_db()
    assert (author.is_teacher, author.is_staff, author.is_superuser) == (True, True, False)
    assert list(author.groups.values_list("name", flat=True)) == [MODERATORS_GROUP]
    invitation = TeacherInvitation.objects.get()
    assert (invitation.accepted_by, invitation.accepted_at is not None) == (author, True)
    # The header leads to the teacher's home, which starts them on a class.
    teaching = soup(client.get("/teaching/"))
    assert soup(client.get("/privacy/")).select_one('header a[href="/teaching/"]')
    assert words(teaching.select_one(".empty")).startswith("You do not teach a class yet.")
    assert teaching.find("a", string="New class")["href"] == "/teaching/new-class/"
    assert client.get("/teaching/new-class/").status_code == 200
    assert client.get("/admin/annotate/classroom/add/").status_code == 200


def test_an_invitation_works_once(client, author, stranger):
    _, path = invite_from_the_command()
    client.force_login(author)
    client.post(path)
    client.force_login(stranger)

    response = client.post(path)

    assert response.status_code == 410
    assert words(soup(response).select_one(".form-error")).startswith(
        "This teacher invitation has been used already."
    )
    stranger.refresh_from_db()
    assert (stranger.is_teacher, stranger.is_staff) == (False, False)


def test_an_expired_invitation_says_so_and_changes_nothing(client, author):
    _, path = invite_from_the_command()
    TeacherInvitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(author)

    response = client.post(path)

    assert response.status_code == 410
    assert words(soup(response).select_one(".form-error")) == (
        "This teacher invitation has expired. Ask the site's administrator for a new one."
    )
    author.refresh_from_db()
    assert not author.is_teacher


def test_a_mistyped_link_says_what_to_do(client, db):
    response = client.get("/teaching/invitations/not-a-real-token/")

    assert response.status_code == 404
    assert words(soup(response).select_one(".form-error")).startswith(
        "This teacher invitation link is not valid."
    )


def test_an_invite_only_site_lets_an_invited_teacher_sign_up(client, settings, db):
    settings.SIGNUP_MODE = "invite"
    _, path = invite_from_the_command()
    closed = soup(client.get("/accounts/signup/"))
    client.get(path)

    opened = soup(client.get("/accounts/signup/"))

    assert not closed.select("input[name=password1]")
    assert opened.select_one("input[name=password1]")


def test_a_teacher_without_a_class_moderates_nothing_public(client, author, stranger, document):
    make_post(document, stranger, "A public post, held.", status=Post.Status.PENDING)
    author.become_teacher()
    client.force_login(author)

    changelist = soup(client.get("/admin/annotate/post/"))

    assert not is_site_moderator(author)
    assert changelist.select("#result_list tbody tr") == []


def test_a_teacher_moderates_their_own_class(client, author, stranger, document):
    author.become_teacher()
    classroom = make_class(instructor=author, students=[stranger], readings=[document])
    make_post(document, stranger, "A class post, held.", classroom=classroom, status="pending")
    client.force_login(author)

    rows = soup(client.get("/admin/annotate/post/")).select("#result_list tbody tr")

    assert len(rows) == 1


def test_a_superuser_invites_a_teacher_from_the_users_list(client, superuser):
    client.force_login(superuser)
    users = soup(client.get("/admin/annotate/user/"))
    button = users.find("a", string="Invite a teacher")

    response = client.post(button["href"], {"email": "tess@school.edu"}, follow=True)

    [message] = messages_on(soup(response))
    assert message.startswith("Invitation emailed to tess@school.edu.")
    [email] = OutboundEmail.objects.all()
    assert email.to == ["tess@school.edu"]
    assert invitation_path_in(message) == invitation_path_in(email.body)
    assert TeacherInvitation.objects.get().invited_by == superuser


def test_the_invitation_form_explains_a_bad_address(client, superuser):
    client.force_login(superuser)

    response = client.post("/admin/annotate/user/invite-teacher/", {"email": "tess"})

    assert response.status_code == 200
    assert "Enter a valid email address." in words(soup(response))
    assert not TeacherInvitation.objects.exists()


def test_only_superusers_invite_teachers(client, moderator):
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    client.force_login(moderator)

    response = client.post("/admin/annotate/user/invite-teacher/", {"email": "tess@school.edu"})

    assert response.status_code == 403
    assert not TeacherInvitation.objects.exists()


@pytest.fixture
def school_teachers(settings):
    settings.TEACHER_EMAIL_DOMAINS = ["school.edu"]


def test_a_confirmed_school_address_makes_itself_a_teacher(client, school_teachers, db):
    teacher = make_user("Tess Teacher", "tess@school.edu")
    client.force_login(teacher)

    page = soup(client.get("/teaching/"))
    response = client.post("/teaching/become-a-teacher/", follow=True)

    assert words(page.select_one("form button")) == "Become a teacher"
    assert messages_on(soup(response)) == ["Welcome: you are a teacher now. Start with a class."]
    teacher.refresh_from_db()
    assert (teacher.is_teacher, teacher.is_staff) == (True, True)


@pytest.mark.parametrize(
    ("email", "verified"),
    [("sam@elsewhere.org", True), ("tess@school.edu", False)],
    ids=["another domain", "an unconfirmed address"],
)
def test_other_addresses_are_told_to_ask_for_an_invitation(
    client, school_teachers, db, email, verified
):
    person = User.objects.create_user(email=email, password=PASSWORD, display_name="Someone")
    person.emailaddress_set.create(email=email, verified=verified, primary=True)
    client.force_login(person)

    page = soup(client.get("/teaching/"))
    response = client.post("/teaching/become-a-teacher/", follow=True)

    assert page.select("form") == []
    assert "ask this site’s administrator for a teacher invitation" in words(page)
    assert messages_on(soup(response))[0].startswith("Only a confirmed address")
    person.refresh_from_db()
    assert (person.is_teacher, person.is_staff) == (False, False)


# Starting a class from the site


@pytest.fixture
def teacher(db) -> User:
    teacher = make_user("Tess Teacher", "tess@school.edu")
    teacher.become_teacher()
    return teacher


def test_a_teacher_starts_a_class_from_the_site_and_teaches_it(client, teacher):
    client.force_login(teacher)
    form = soup(client.get("/teaching/new-class/")).select_one("form.class-form")
    labels = [words(label) for label in form.select("label")]

    response = client.post(
        "/teaching/new-class/",
        {
            "name": "Modern History",
            "term": "Spring 2027",
            "time_zone": "America/New_York",
            "description": "Stalin's Russia, read closely.",
            "allowed_domains": "school.edu",
            "member_limit": "30",
        },
        follow=True,
    )

    assert labels[:4] == ["Name:", "Term:", "Time zone:", "Description:"]
    assert response.redirect_chain == [("/classes/modern-history/", 302)]
    assert messages_on(soup(response))[0].startswith("Modern History is ready.")
    classroom = teacher.classrooms.get()
    assert (classroom.time_zone, classroom.member_limit, classroom.domains) == (
        "America/New_York",
        30,
        ["school.edu"],
    )
    assert classroom.memberships.get().role == "instructor"


def test_two_classes_of_the_same_name_get_their_own_addresses(client, teacher):
    client.force_login(teacher)
    data = {"name": "Modern History", "time_zone": "UTC"}

    first = client.post("/teaching/new-class/", data)
    second = client.post("/teaching/new-class/", data)

    assert first["Location"] == "/classes/modern-history/"
    assert second["Location"].startswith("/classes/modern-history-")
    assert second["Location"] != first["Location"]


def test_a_class_form_with_mistakes_says_which_and_creates_nothing(client, teacher):
    client.force_login(teacher)

    response = client.post("/teaching/new-class/", {"name": "", "time_zone": "Mars/Olympus"})

    assert response.status_code == 400
    errors = [words(error) for error in soup(response).select(".errorlist")]
    assert "This field is required." in errors
    assert any(error.startswith("Select a valid choice.") for error in errors)
    assert not teacher.classrooms.exists()


def test_only_teachers_start_classes_from_the_site(client, author):
    client.force_login(author)

    response = client.post("/teaching/new-class/", {"name": "Mine", "time_zone": "UTC"})

    assert response.status_code == 403
    assert not author.classrooms.exists()


def test_the_class_page_gives_the_join_link_to_copy_and_as_a_qr_code(client, teacher):
    classroom = make_class(instructor=teacher)
    client.force_login(teacher)

    page = soup(client.get(classroom.get_absolute_url()))
    projector = soup(client.get(f"/classes/{classroom.slug}/join-link/"))

    join_url = f"http://testserver{classroom.get_join_url()}"
    assert page.select_one("#join-url")["value"] == join_url
    assert page.select_one('button[data-copy="join-url"]')
    qr = page.select_one(".join-qr svg")
    assert words(qr.title) == f"Join link of {classroom.name}"
    assert qr.get("viewbox") or qr.get("viewBox")
    link = page.find("a", string="Show it large, for a projector")
    assert link["href"] == f"/classes/{classroom.slug}/join-link/"
    assert words(projector.select_one(".join-address")) == join_url
    assert projector.select_one(".join-qr-large svg")


def test_the_join_links_large_page_is_for_the_classs_instructors(client, teacher, author):
    classroom = make_class(instructor=teacher, students=[author])
    client.force_login(author)

    assert client.get(f"/classes/{classroom.slug}/join-link/").status_code == 404


def test_due_dates_on_the_class_page_are_in_the_classs_time_zone(client, teacher, document):
    from datetime import UTC, datetime

    classroom = make_class(instructor=teacher, time_zone="America/New_York")
    classroom.readings.create(document=document, due_at=datetime(2027, 1, 11, 17, 0, tzinfo=UTC))
    client.force_login(teacher)

    page = soup(client.get(classroom.get_absolute_url()))

    assert words(page.select("table.readings thead th")[1]) == "Due (America/New York time)"
    assert words(page.select_one("table.readings tbody time")) == "Mon 11 Jan, 12:00"
