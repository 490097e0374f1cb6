"""
Whose text: every text has an owner (or is the site's own). A teacher sees and
assigns public texts and their own private ones; another teacher's private
text is invisible to them everywhere, unless a class they teach reads it.
"""

import csv
import io

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from annotate.models import MODERATORS_GROUP, Classroom, Document, Membership, Reading, User
from annotate.scoping import assignable_documents
from tests.factories import make_class, make_document, make_moderator, make_post, make_user

CLASS_ADMIN = "/admin/annotate/classroom/{}/change/"
TEXTS_ADMIN = "/admin/annotate/document/"


def make_teacher(display_name: str, email: str, classroom: Classroom) -> User:
    """An instructor of `classroom`, set up as docs/teaching.md says."""
    teacher = make_moderator(display_name, email)
    Membership.objects.create(classroom=classroom, user=teacher, role=Membership.Role.INSTRUCTOR)
    return teacher


@pytest.fixture
def ours(db) -> Classroom:
    return make_class("Our Seminar", "ours")


@pytest.fixture
def theirs(db) -> Classroom:
    return make_class("Their Seminar", "theirs")


@pytest.fixture
def teacher(ours) -> User:
    return make_teacher("Tess Teacher", "tess@example.com", ours)


@pytest.fixture
def other_teacher(theirs) -> User:
    return make_teacher("Otto Other", "otto@example.com", theirs)


@pytest.fixture
def texts(teacher, other_teacher, theirs) -> dict[str, Document]:
    """A public text, a private text of each teacher, and one that the other's class reads."""
    texts = {
        "public": make_document(slug="public-text", title="Public text"),
        "mine": make_document(slug="my-draft", title="My draft", is_public=False, owner=teacher),
        "their_draft": make_document(
            slug="their-draft", title="Their draft", is_public=False, owner=other_teacher
        ),
        "their_reading": make_document(
            "Words only their class reads.",
            slug="their-reading",
            title="Their reading",
            is_public=False,
            owner=other_teacher,
        ),
    }
    Reading.objects.create(classroom=theirs, document=texts["their_reading"])
    return texts


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def words(response) -> str:
    return " ".join(soup(response).get_text().split())


def reading_choices(client: Client, classroom: Classroom) -> set[str]:
    """The texts the admin's "add another reading" picker offers on the class's page."""
    page = soup(client.get(CLASS_ADMIN.format(classroom.pk)))
    picker = page.select_one("select[name='readings-__prefix__-document']")
    return {option.get_text() for option in picker.select("option") if option["value"]}


def admin_form(response) -> dict:
    """What the class's admin form would send back as it stands."""
    form = soup(response).select_one("form#classroom_form")
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


def add_reading(client: Client, classroom: Classroom, document: Document):
    url = CLASS_ADMIN.format(classroom.pk)
    data = admin_form(client.get(url))
    count = int(data["readings-TOTAL_FORMS"])
    data["readings-TOTAL_FORMS"] = str(count + 1)
    data[f"readings-{count}-document"] = str(document.pk)
    data[f"readings-{count}-classroom"] = str(classroom.pk)
    return client.post(url, data)


# Assigning


def test_a_teacher_may_assign_public_texts_and_their_own_and_nothing_of_another_teacher(
    teacher, texts, ours
):
    assert set(assignable_documents(teacher)) == {texts["public"], texts["mine"]}
    assert reading_choices(signed_in(teacher), ours) == {"Public text", "My draft"}


def test_a_superuser_may_assign_every_text(texts, ours):
    superuser = make_user("Sue Super", "sue@example.com", is_staff=True, is_superuser=True)

    assert set(assignable_documents(superuser)) == set(texts.values())
    assert reading_choices(signed_in(superuser), ours) == {
        "Public text", "My draft", "Their draft", "Their reading",
    }  # fmt: skip


@pytest.mark.parametrize("text", ["their_draft", "their_reading"])
def test_a_teacher_cannot_assign_another_teachers_private_text_read_by_a_class_or_not(
    teacher, texts, ours, text
):
    response = add_reading(signed_in(teacher), ours, texts[text])

    assert response.status_code == 200  # the form again, saying why
    assert "Select a valid choice" in words(response)
    assert not ours.readings.exists()


def test_a_teacher_assigns_their_own_private_text(teacher, texts, ours):
    response = add_reading(signed_in(teacher), ours, texts["mine"])

    assert response.status_code == 302, words(response)
    assert ours.readings.get().document == texts["mine"]


def test_a_co_instructors_private_text_stays_a_reading_when_the_class_is_saved(
    teacher, other_teacher, texts, theirs
):
    # Tess co-teaches their seminar: Otto's text is a reading of a class she teaches.
    Membership.objects.create(classroom=theirs, user=teacher, role=Membership.Role.INSTRUCTOR)
    client = signed_in(teacher)
    url = CLASS_ADMIN.format(theirs.pk)

    response = client.post(url, admin_form(client.get(url)))

    assert response.status_code == 302, words(response)
    assert theirs.readings.get().document == texts["their_reading"]
    # Otto's other private text is still not hers to assign.
    assert "Their draft" not in reading_choices(client, theirs)


# The texts' admin


def test_a_teacher_lists_their_own_texts_and_their_classes_and_no_other_private_text(
    teacher, texts, ours
):
    Reading.objects.create(classroom=ours, document=texts["public"])

    listed = words(signed_in(teacher).get(TEXTS_ADMIN))

    assert "My draft" in listed  # before any class reads it
    assert "Public text" in listed  # their class reads it
    assert "Their draft" not in listed
    assert "Their reading" not in listed


@pytest.mark.parametrize("text", ["their_draft", "their_reading"])
def test_another_teachers_private_text_is_not_found_in_the_texts_admin(teacher, texts, text):
    client = signed_in(teacher)

    assert client.get(f"{TEXTS_ADMIN}{texts[text].pk}/change/").status_code == 302  # not found
    assert "Their" not in words(client.get(f"{TEXTS_ADMIN}?q=Their"))


def test_a_teacher_sees_whose_text_it_is_but_cannot_change_it(teacher, texts):
    response = signed_in(teacher).get(f"{TEXTS_ADMIN}{texts['mine'].pk}/change/")

    page = soup(response)
    assert page.select_one("[name=owner]") is None
    assert "Tess Teacher" in page.select_one(".field-owner_name").get_text()
    # The list names no owner to teachers: theirs is the only one they could see.
    assert soup(signed_in(teacher).get(TEXTS_ADMIN)).select_one(".column-owner_name") is None


def test_a_text_a_teacher_adds_in_the_admin_is_theirs_whatever_the_form_says(
    teacher, other_teacher
):
    teacher.user_permissions.add(Permission.objects.get(codename="add_document"))
    client = signed_in(teacher)
    data = {
        "title": "Fresh text",
        "slug": "fresh-text",
        "text": "A paragraph.",
        "owner": other_teacher.pk,  # not a field of theirs: ignored
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
    }

    response = client.post(f"{TEXTS_ADMIN}add/", data)

    assert response.status_code == 302, words(response)
    assert Document.objects.get(slug="fresh-text").owner == teacher


def test_a_superuser_lists_owners_and_may_leave_a_new_text_to_the_site(texts):
    superuser = make_user("Sue Super", "sue@example.com", is_staff=True, is_superuser=True)
    client = signed_in(superuser)

    listing = soup(client.get(TEXTS_ADMIN))
    assert listing.select_one(".column-owner_name")
    owners = {cell.get_text() for cell in listing.select("td.field-owner_name")}
    assert owners == {"the site", "Tess Teacher", "Otto Other"}

    form = soup(client.get(f"{TEXTS_ADMIN}add/"))
    assert form.select_one("input[name=owner]")["value"] == str(superuser.pk)
    data = {
        "title": "Site text",
        "slug": "site-text",
        "text": "A paragraph.",
        "is_public": "on",
        "owner": "",
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
    }
    response = client.post(f"{TEXTS_ADMIN}add/", data)

    assert response.status_code == 302, words(response)
    assert Document.objects.get(slug="site-text").owner is None


def test_a_superuser_gives_a_text_to_a_teacher(texts, teacher):
    superuser = make_user("Sue Super", "sue@example.com", is_staff=True, is_superuser=True)
    client = signed_in(superuser)
    url = f"{TEXTS_ADMIN}{texts['public'].pk}/change/"
    data = {
        "title": "Public text",
        "slug": "public-text",
        "text": texts["public"].text,
        "is_public": "on",
        "owner": teacher.pk,
        "revisions-TOTAL_FORMS": "1",
        "revisions-INITIAL_FORMS": "1",
        "revisions-0-id": texts["public"].current_revision_id,
        "revisions-0-document": texts["public"].pk,
    }

    response = client.post(url, data)

    assert response.status_code == 302, words(response)
    texts["public"].refresh_from_db()
    assert texts["public"].owner == teacher


# Outside the admin


def test_an_export_never_carries_another_teachers_private_text(teacher, other_teacher, texts):
    theirs = Classroom.objects.get(slug="theirs")
    student = make_user("Stu Dent", "stu@example.com")
    Membership.objects.create(classroom=theirs, user=student)
    make_post(texts["their_reading"], student, "A secret note.", classroom=theirs)
    client = signed_in(teacher)

    for query in ("", "?reading=their-reading", "?reading=their-draft"):
        response = client.get(f"/classes/ours/export/discussion.csv{query}")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) == 1, rows  # the header alone
        jsonld = client.get(f"/classes/ours/export/discussion.jsonld{query}")
        assert jsonld.status_code == 200
        assert "Their reading" not in jsonld.content.decode()
        assert "secret" not in jsonld.content.decode()
    # And their class's own exports are theirs alone.
    assert client.get("/classes/theirs/export/discussion.csv").status_code == 404


@pytest.mark.parametrize("who", ["teacher", "stranger", "anonymous"])
def test_a_private_text_shows_nowhere_outside_the_classes_that_read_it(texts, teacher, who):
    client = Client()
    if who == "teacher":
        client.force_login(teacher)
    elif who == "stranger":
        client.force_login(make_user("Sam Stranger", "sam@example.com"))

    home = words(client.get("/"))
    assert "Their draft" not in home
    assert "Their reading" not in home
    assert "My draft" not in home  # even its owner's home lists public texts only
    for slug in ("their-draft", "their-reading"):
        assert client.get(f"/texts/{slug}/").status_code in (302, 404)
        assert client.get(f"/texts/{slug}/annotations.jsonld").status_code in (302, 404)


def test_seed_texts_are_the_sites_own(db):
    call_command("load_seeds", verbosity=0)

    assert Document.objects.exists()
    assert not Document.objects.exclude(owner=None).exists()


def test_a_co_instructor_reads_a_colleague_s_text_in_the_admin_but_only_its_owner_changes_it(
    texts, theirs
):
    # Teachers change their texts on the site; a site that also lets them do it
    # in the admin (by giving the group the permission) still keeps to owners.
    Group.objects.get(name=MODERATORS_GROUP).permissions.add(
        Permission.objects.get(codename="change_document")
    )
    co_instructor = make_teacher("Cora Coteacher", "cora@example.com", theirs)
    text = texts["their_reading"]
    change_url = f"{TEXTS_ADMIN}{text.pk}/change/"
    client = signed_in(co_instructor)

    page = client.get(change_url)
    refused = client.post(change_url, {"title": "Renamed", "slug": text.slug, "text": "New words."})

    assert page.status_code == 200
    assert not soup(page).select("input[name=title]")  # read-only: shown, not editable
    assert refused.status_code == 403
    text.refresh_from_db()
    assert (text.title, text.current_revision.number) == ("Their reading", 1)
    owner_page = signed_in(text.owner).get(change_url)
    assert soup(owner_page).select("input[name=title]")
