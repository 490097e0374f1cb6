"""
The teacher's journey in a real browser, as docs/teaching.md tells it: an
invited teacher signs up, starts a class, uploads a Word file and a PDF,
assigns both with due dates in the class's zone, shares the join link; two
students join, are split into two groups and post; each reads only their
group, the teacher reads both and exports.
"""

import csv
import io
import re
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import Page, expect
from reportlab.platypus import Paragraph

from annotate.models import Classroom, Document, Membership, Post, Reading, User
from tests.browser import assert_no_axe_violations, sign_in
from tests.factories import PASSWORD, make_user
from tests.test_conversion import STYLES, make_docx, make_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONE = "America/New_York"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth limits confirmation emails per address in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


def word_file(path) -> str:
    def build(document) -> None:
        document.add_heading("The Yalta Agreement", level=1)
        document.add_paragraph("Prisoners were to be returned to their own countries.")
        document.add_paragraph("Many of them did not want to go back.")

    path.write_bytes(make_docx(build, title="Yalta and the prisoners"))
    return str(path)


def pdf_file(path) -> str:
    story = [
        Paragraph("Returning Home", STYLES["Title"]),
        Paragraph("The camps received those who came back from Germany.", STYLES["Normal"]),
        Paragraph("Officers were questioned by the security services.", STYLES["Normal"]),
    ]
    path.write_bytes(make_pdf(story, title="Returning Home"))
    return str(path)


def link_in(message, pattern: str) -> str:
    """The path of the first link in `message` that matches `pattern`."""
    url = re.search(rf"https?://\S+{pattern}\S*", message.body).group()
    return urlsplit(url).path


def add_reading(page: Page, path: str, due: str) -> None:
    """Upload a file from the class page, check it, and assign it due at `due` (class time)."""
    page.get_by_role("link", name="Add a reading").first.click()
    upload = page.locator("section", has=page.get_by_role("heading", name="Upload a file"))
    upload.get_by_label("A file from your computer").set_input_files(path)
    upload.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name="Check the text before saving")).to_be_visible()
    page.get_by_label("Due (America/New York time)").fill(due)
    page.get_by_label("discussed in groups").check()
    page.get_by_role("button", name="Save the reading").click()


def post_comment(page: Page, words: str) -> None:
    respond = page.locator("#respond")
    respond.get_by_label("Comment").fill(words)
    respond.get_by_role("button", name="Post Comment").click()
    expect(page.locator("article.post", has_text=words)).to_be_visible()


def test_an_invited_teacher_runs_a_class_in_groups_from_sign_up_to_export(
    page: Page, new_context, tmp_path, capsys
):
    # Whoever runs the site invites the teacher; the email carries the link.
    call_command("invite_teacher", "tess@school.edu")
    assert "/teaching/invitations/" in capsys.readouterr().out
    [invitation] = mail.outbox
    page.goto(link_in(invitation, "/teaching/invitations/"))
    expect(page.get_by_role("heading", name="Teach on annotate")).to_be_visible()
    page.get_by_role("link", name="create an account").click()
    page.get_by_label("Display name").fill("Tess Teacher")
    page.get_by_label("Email").fill("tess@school.edu")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_role("button", name="Accept and become a teacher").click()
    expect(page.get_by_text("Welcome: you are a teacher now.")).to_be_visible()

    # A class, in New York time.
    page.get_by_role("link", name="New class").click()
    page.get_by_label("Name").fill("Soviet History")
    page.get_by_label("Term").fill("Spring 2027")
    page.get_by_label("Time zone").select_option(ZONE)
    page.get_by_role("button", name="Create the class").click()
    expect(page.get_by_role("heading", name="Soviet History", level=1)).to_be_visible()
    class_url = urlsplit(page.url).path

    # Two readings from the teacher's own files, due at 17:00 in the class's zone.
    add_reading(page, word_file(tmp_path / "yalta.docx"), "2027-03-01T17:00")
    expect(page.get_by_role("heading", name="Yalta and the prisoners", level=1)).to_be_visible()
    page.goto(class_url)
    add_reading(page, pdf_file(tmp_path / "returning-home.pdf"), "2027-03-08T17:00")
    page.goto(class_url)
    readings = page.locator("table.readings")
    expect(readings.get_by_role("link", name="Yalta and the prisoners", exact=True)).to_be_visible()
    expect(readings.get_by_role("link", name="Returning Home", exact=True)).to_be_visible()
    expect(readings.get_by_text("Mon 1 Mar, 17:00")).to_be_visible()
    classroom = Classroom.objects.get(name="Soviet History")
    yalta = Reading.objects.get(classroom=classroom, document__title="Yalta and the prisoners")
    assert yalta.due_at == datetime(2027, 3, 1, 17, tzinfo=ZoneInfo(ZONE))
    assert yalta.document.owner.email == "tess@school.edu"
    assert not yalta.document.is_public
    assert "Many of them did not want to go back." in yalta.document.text
    assert "Officers were questioned" in Document.objects.get(title="Returning Home").text
    join_url = page.get_by_label("Join link to share with students").input_value()
    assert_no_axe_violations(page)

    # Two students join by the link.
    students = {}
    for name, email in [("Ana Student", "ana@school.edu"), ("Ben Student", "ben@school.edu")]:
        make_user(name, email)
        student = new_context(viewport={"width": 390, "height": 844}).new_page()
        sign_in(student, email, next_path=urlsplit(join_url).path)
        student.get_by_role("button", name="Join Soviet History").click()
        expect(student.get_by_text("Welcome to Soviet History (Spring 2027).")).to_be_visible()
        students[name] = student

    # The teacher splits the class into two groups of one.
    page.reload()
    page.get_by_role("link", name="Groups").click()
    page.get_by_label("Students per group").fill("1")
    page.get_by_role("button", name=re.compile("Split 2 students at random")).click()
    expect(page.get_by_text("The class is split into 2 groups at random.")).to_be_visible()
    group_of = {
        membership.user.display_name: membership.group.name
        for membership in Membership.objects.filter(
            classroom=classroom, role=Membership.Role.STUDENT
        ).select_related("user", "group")
    }
    assert sorted(group_of.values()) == ["Group 1", "Group 2"]

    # Each student posts on the Word file's reading, and reads only their own group.
    for name, student in students.items():
        student.goto(class_url)
        student.get_by_role("link", name="Yalta and the prisoners", exact=True).click()
        expect(
            student.get_by_text(f"with your group, {group_of[name]}", exact=False)
        ).to_be_visible()
        post_comment(student, f"{name} thinks the agreement was a trap.")
    for name, student in students.items():
        other = next(other for other in students if other != name)
        student.reload()
        expect(student.get_by_text(f"{name} thinks the agreement was a trap.")).to_be_visible()
        expect(student.get_by_text(f"{other} thinks the agreement was a trap.")).to_have_count(0)
    assert Post.objects.filter(classroom=classroom, status=Post.Status.PUBLISHED).count() == 2

    # The teacher reads both, filters by group, and exports with the groups.
    page.goto(class_url)
    page.get_by_role("link", name="Yalta and the prisoners", exact=True).click()
    for name in students:
        expect(page.get_by_text(f"{name} thinks the agreement was a trap.")).to_be_visible()
    page.get_by_label("Discussed in groups. Show:").select_option(group_of["Ana Student"])
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Ana Student thinks the agreement was a trap.")).to_be_visible()
    expect(page.get_by_text("Ben Student thinks the agreement was a trap.")).to_have_count(0)

    page.goto(class_url)
    with page.expect_download() as download:
        page.get_by_role("link", name="Whole discussion (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    assert sorted((row["author"], row["group"]) for row in rows) == sorted(group_of.items())
    assert {row["reading"] for row in rows} == {"Yalta and the prisoners"}
    teacher = User.objects.get(email="tess@school.edu")
    assert teacher.is_teacher and teacher.is_staff and not teacher.is_superuser
