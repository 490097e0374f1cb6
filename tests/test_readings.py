"""
Readings added and edited from the site (docs/readings.md): a teacher uploads
a file, pastes a text or picks one, checks the converted text, saves it, and
edits it later as revisions.
"""

import io
import itertools
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.tasks import default_task_backend
from django.urls import reverse
from django.utils import timezone
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from annotate import readings, tasks
from annotate.conversion import MAX_TEXT_CHARS
from annotate.models import Document, Membership, Post, Reading, Revision, TextUpload
from tests.factories import make_class, make_document, make_post, make_user
from tests.test_conversion import (
    STYLES,
    ZIP_BOMB,
    draw_pdf,
    essay,
    make_docx,
    make_epub,
    make_pdf,
    prose,
    scanned_page,
    zip_bomb_docx,
)

DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def teacher(db):
    return make_user("Tess Teacher", "tess@example.com", is_teacher=True)


@pytest.fixture
def other_teacher(db):
    return make_user("Otto Other", "otto@example.com", is_teacher=True)


@pytest.fixture
def classroom(teacher):
    return make_class(instructor=teacher, time_zone="America/New_York")


@pytest.fixture
def tasks_queued_not_run(settings):
    """A server's task backend, as far as a request can tell: work is queued, not done."""
    settings.TASKS = DUMMY_TASKS
    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()


@pytest.fixture
def convert_in_background(monkeypatch):
    """Every file goes the way a large one does: through tasks.convert_upload."""
    monkeypatch.setattr(readings, "CONVERT_IN_REQUEST_BYTES", 0)


def new_url(classroom) -> str:
    return reverse("new_reading", args=[classroom.slug])


def upload_file(client, classroom, name: str, data: bytes):
    return client.post(
        new_url(classroom), {"way": "upload", "file": SimpleUploadedFile(name, data)}
    )


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def text_of(response) -> str:
    return " ".join(page(response).get_text(" ").split())


def check_form_fields(response) -> dict:
    """The check page's fields, as the browser would send them back unchanged."""
    soup = page(response)
    fields = {}
    for element in soup.select("form.reading-form input, form.reading-form textarea"):
        name = element.get("name")
        if not name or element.get("type") == "checkbox":
            continue
        if element.name == "textarea":
            # A browser drops the newline that follows <textarea>, as Django writes it.
            fields[name] = element.text.removeprefix("\n")
        else:
            fields[name] = element.get("value", "")
    return fields


# Every format, from the file a teacher has to the check page.

HTML = b"""<!doctype html><html><head><title>The Flood</title><script>alert(1)</script>
</head><body><nav>Home | About</nav><h1>The Flood</h1><p>Water rose.</p><p>Then it fell.</p>
</body></html>"""
MARKDOWN = b"---\ntitle: Notes on Rain\n---\n# Rain\n\nIt rained.\n\nIt stopped.\n"


def epub_bytes() -> bytes:
    return make_epub(title="The Valley in Spring")


FILES = [
    ("week-3.txt", lambda: b"First paragraph.\n\nSecond paragraph.", "week 3", "Second paragraph."),
    ("notes.md", lambda: MARKDOWN, "Notes on Rain", "It stopped."),
    ("flood.html", lambda: HTML, "The Flood", "Then it fell."),
    ("essay.docx", lambda: make_docx(essay), "Floods of the Upper Valley", "high ground"),
    (
        "talk.pdf",
        lambda: make_pdf(
            [Paragraph("Rain Talk", STYLES["Title"]), Paragraph(prose(3), STYLES["BodyText"])],
            title="Rain Talk",
        ),
        "Rain Talk",
        "so much rain",
    ),
    ("valley.epub", epub_bytes, "The Valley in Spring", ""),
]


@pytest.mark.parametrize(("name", "build", "title", "words"), FILES, ids=[f[0] for f in FILES])
def test_each_format_is_converted_and_shown_for_checking_before_anything_is_saved(
    client, teacher, classroom, name, build, title, words
):
    client.force_login(teacher)

    response = upload_file(client, classroom, name, build())

    upload = TextUpload.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("reading_upload", args=[classroom.slug, upload.token])
    check = client.get(response.url)
    fields = check_form_fields(check)
    assert fields["title"] == title
    assert words in fields["text"]
    assert "Save the reading" in text_of(check)
    assert upload.status == TextUpload.Status.READY
    assert bytes(upload.data) == b""  # not kept once converted
    assert not Document.objects.exists()
    assert not Reading.objects.exists()


def test_saving_the_checked_text_makes_the_teachers_private_text_and_the_reading(
    client, teacher, classroom
):
    client.force_login(teacher)
    response = upload_file(client, classroom, "essay.docx", make_docx(essay))
    check = client.get(response.url)
    fields = check_form_fields(check)
    assert "Check these 1 image was left out: a reading holds only text." in text_of(check)

    fields.update(
        title="Floods, corrected",
        citation="Valley Press, 1931",
        source="https://example.org/floods",
        text=fields["text"].replace("high ground", "higher ground"),
        due_at="2027-03-01T17:00",
        instructions="Mark each flood.",
        in_groups="on",
    )
    saved = client.post(response.url, fields)

    document = Document.objects.get()
    reading = Reading.objects.get()
    assert saved.status_code == 302
    assert saved.url == reading.get_absolute_url()
    assert (document.title, document.citation, document.source) == (
        "Floods, corrected",
        "Valley Press, 1931",
        "https://example.org/floods",
    )
    assert document.owner == teacher
    assert document.is_public is False
    assert document.slug == "floods-corrected"
    assert "higher ground" in document.text
    assert document.current_revision.number == 1
    assert document.current_revision.created_by == teacher
    assert (reading.classroom, reading.instructions, reading.in_groups) == (
        classroom,
        "Mark each flood.",
        True,
    )
    assert reading.hide_until_posted is False
    upload = TextUpload.objects.get()
    assert upload.status == TextUpload.Status.SAVED
    assert bytes(upload.data) == b""
    # Saving twice (a double click, the back button) makes no second text.
    again = client.post(response.url, fields)
    assert again.status_code == 302
    assert Document.objects.count() == 1
    assert client.get(reading.get_absolute_url()).status_code == 200


def test_the_due_date_is_entered_in_the_class_zone_and_stored_as_that_instant(
    client, teacher, classroom
):
    client.force_login(teacher)
    response = client.post(new_url(classroom), {"way": "paste", "pasted": "Words.\n\nMore."})
    check = client.get(response.url)
    assert "Due (America/New York time)" in text_of(check)

    client.post(response.url, {"title": "Due soon", "text": "Words.", "due_at": "2027-03-01T17:00"})

    reading = Reading.objects.get()
    assert reading.due_at == datetime(2027, 3, 1, 22, 0, tzinfo=UTC)  # 17:00 EST
    edit = client.get(reverse("edit_reading", args=[classroom.slug, reading.document.slug]))
    assert page(edit).find("input", {"name": "due_at"})["value"] == "2027-03-01T17:00"


def test_a_time_that_does_not_exist_in_the_class_zone_is_refused_and_the_text_kept(
    client, teacher, classroom
):
    client.force_login(teacher)
    response = client.post(new_url(classroom), {"way": "paste", "pasted": "Words kept."})

    # Clocks in New York go from 02:00 to 03:00 on 14 March 2027.
    refused = client.post(
        response.url, {"title": "Gap", "text": "Words kept, edited.", "due_at": "2027-03-14T02:30"}
    )

    assert refused.status_code == 400
    assert "couldn’t be interpreted in time zone America/New_York" in text_of(refused)
    assert check_form_fields(refused)["text"] == "Words kept, edited."
    assert not Document.objects.exists()


# Pasted text.


def test_pasted_text_is_laid_out_shown_for_checking_and_saved_with_its_typed_title(
    client, teacher, classroom
):
    client.force_login(teacher)

    response = client.post(
        new_url(classroom), {"way": "paste", "pasted": "One line\r\n\r\n\r\nTwo   \r\n"}
    )
    check = client.get(response.url)
    fields = check_form_fields(check)
    assert fields["title"] == ""
    assert fields["text"].strip() == "One line\n\nTwo"
    assert "Your pasted text" in text_of(check)

    untitled = client.post(response.url, {**fields, "title": ""})
    assert untitled.status_code == 400
    assert "Give the text a title." in text_of(untitled)
    assert check_form_fields(untitled)["text"].strip() == "One line\n\nTwo"

    client.post(response.url, {**fields, "title": "Two lines"})
    assert Document.objects.get().text == "One line\n\nTwo"


def test_empty_pasted_text_is_refused_with_nothing_saved(client, teacher, classroom):
    client.force_login(teacher)

    response = client.post(new_url(classroom), {"way": "paste", "pasted": " \n\n \t"})

    assert response.status_code == 400
    assert "The pasted text is empty." in text_of(response)
    assert not TextUpload.objects.exists()


def test_an_emptied_text_on_the_check_page_is_refused(client, teacher, classroom):
    client.force_login(teacher)
    response = client.post(new_url(classroom), {"way": "paste", "pasted": "Words."})

    refused = client.post(response.url, {"title": "Nothing", "text": "\n \n"})

    assert refused.status_code == 400
    assert "The text is empty: it needs its words." in text_of(refused)
    assert not Document.objects.exists()


# Bad files: the form again, with the reason, and nothing saved.


def scanned_pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    scanned_page(pdf)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def locked_pdf() -> bytes:
    return draw_pdf(
        [[(72, 700, "Secret words.")]],
        encrypt=StandardEncryption("reader-password", ownerPassword="owner", strength=128),
    )


BAD_FILES = [
    ("scan.pdf", scanned_pdf, "This PDF has no selectable text; run it through OCR first."),
    (
        "locked.pdf",
        locked_pdf,
        "This PDF is protected by a password. Save a copy without the password and upload that.",
    ),
    (
        "essay.pdf",
        lambda: make_docx(essay),
        "This file’s name ends in .pdf, but it is a Word document (.docx).",
    ),
    ("bomb.docx", zip_bomb_docx, ZIP_BOMB),
    ("empty.txt", lambda: b"", "This file is empty."),
    ("slides.pptx", lambda: b"PK\x03\x04 not read", "Files ending in .pptx cannot be read here."),
    ("old.doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Save it as a Word document (.docx)"),
]


@pytest.mark.parametrize(("name", "build", "message"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_a_bad_file_gets_the_form_again_with_why_and_nothing_is_saved(
    client, teacher, classroom, name, build, message
):
    client.force_login(teacher)

    response = upload_file(client, classroom, name, build())

    assert response.status_code == 400
    assert message in text_of(response)
    assert page(response).find("input", {"type": "file", "name": "file"})
    assert not TextUpload.objects.exists()
    assert not Document.objects.exists()


def test_a_file_over_the_limit_is_refused_naming_the_limit_in_megabytes(
    client, teacher, classroom, settings
):
    settings.READING_UPLOAD_MAX_BYTES = 1024 * 1024
    client.force_login(teacher)

    response = upload_file(client, classroom, "long.txt", b"word " * 300_000)

    assert response.status_code == 400
    assert "This file is 1.5 MB; the largest file you can upload is 1 MB." in text_of(response)
    assert "up to 1 MB" in text_of(response)
    assert not TextUpload.objects.exists()


def test_the_default_limits_take_a_20_megabyte_upload_and_a_long_pasted_text(settings):
    from django.conf import settings as live

    assert live.READING_UPLOAD_MAX_BYTES == 20 * 1024 * 1024
    # The longest text conversion makes, in Latin script, reaches the form, not a 400.
    assert live.DATA_UPLOAD_MAX_MEMORY_SIZE > MAX_TEXT_CHARS + 1024 * 1024


def test_no_file_chosen_says_so(client, teacher, classroom):
    client.force_login(teacher)

    response = client.post(new_url(classroom), {"way": "upload"})

    assert response.status_code == 400
    assert "Choose a file to upload." in text_of(response)


# Large files: background work, with a progress page.


def long_pdf() -> bytes:
    return make_pdf(
        [Paragraph(prose(40, start), STYLES["BodyText"]) for start in range(12)],
        title="A Long Report",
    )


def test_a_large_file_waits_on_a_progress_page_until_the_background_work_reads_it(
    client, teacher, classroom, tasks_queued_not_run, convert_in_background, run_tasks
):
    client.force_login(teacher)

    response = run_tasks(upload_file, client, classroom, "report.pdf", long_pdf())

    upload = TextUpload.objects.get()
    assert response.url == reverse("reading_upload", args=[classroom.slug, upload.token])
    assert [result.task.name for result in tasks_queued_not_run.results] == ["convert_upload"]
    assert upload.status == TextUpload.Status.QUEUED
    assert bytes(upload.data)[:5] == b"%PDF-"
    waiting = client.get(response.url)
    assert waiting.status_code == 200
    assert page(waiting).find("meta", {"http-equiv": "refresh"})
    assert "Reading “report.pdf”" in text_of(waiting)
    assert "Waiting for its turn" in text_of(waiting)

    status_url = page(waiting).find(attrs={"data-upload-status": True})["data-upload-status"]
    assert client.get(status_url).json() == {
        "converting": True,
        "progress": 0,
        "message": "Waiting for its turn to be read…",
    }

    TextUpload.claim(upload.pk).record_progress(40)
    halfway = client.get(response.url)
    assert "40% done" in text_of(halfway)
    assert page(halfway).find("progress")["value"] == "40"
    assert client.get(status_url).json()["progress"] == 40

    TextUpload.objects.filter(pk=upload.pk).update(status=TextUpload.Status.QUEUED)
    assert tasks.convert_upload.call(upload.pk) == "ready"
    assert tasks.convert_upload.call(upload.pk) == "not waiting"  # a second worker does nothing

    upload.refresh_from_db()
    assert bytes(upload.data) == b""
    assert upload.progress == 100
    assert client.get(status_url).json()["converting"] is False
    ready = client.get(response.url)
    assert not page(ready).find("meta", {"http-equiv": "refresh"})
    assert check_form_fields(ready)["title"] == "A Long Report"


def test_the_conversion_reports_its_progress_in_steps(
    teacher, classroom, monkeypatch, convert_in_background
):
    monkeypatch.setattr(tasks, "UPLOAD_PROGRESS_SECONDS", 0)
    written = []
    monkeypatch.setattr(
        TextUpload, "record_progress", lambda upload, percent: written.append(percent)
    )
    upload = TextUpload.queue(
        owner=teacher, classroom=classroom, filename="report.pdf", data=long_pdf()
    )

    tasks.convert_upload.call(upload.pk)

    assert written, "a multi-page PDF reports progress"
    assert written == sorted(written)
    assert all(b - a >= tasks.UPLOAD_PROGRESS_STEP for a, b in itertools.pairwise(written))
    assert max(written) < 100  # 100 is the finished file, with its text


def test_a_laptops_immediate_backend_reads_a_large_file_during_the_upload(
    run_background_work, teacher, classroom, convert_in_background
):
    client = run_background_work
    client.force_login(teacher)

    response = upload_file(client, classroom, "report.pdf", long_pdf())

    assert TextUpload.objects.get().status == TextUpload.Status.READY
    assert check_form_fields(client.get(response.url))["title"] == "A Long Report"


def test_a_large_bad_file_fails_in_the_background_and_shows_why_with_the_form_again(
    client, teacher, classroom, tasks_queued_not_run, convert_in_background
):
    client.force_login(teacher)
    response = upload_file(client, classroom, "scan.pdf", scanned_pdf())
    upload = TextUpload.objects.get()

    assert tasks.convert_upload.call(upload.pk) == "failed"

    failed = client.get(response.url)
    assert "This PDF has no selectable text; run it through OCR first." in text_of(failed)
    assert "Nothing was saved" in text_of(failed)
    assert page(failed).find("input", {"type": "file", "name": "file"})
    upload.refresh_from_db()
    assert upload.status == TextUpload.Status.FAILED
    assert bytes(upload.data) == b""
    assert not Document.objects.exists()


def test_a_converter_bug_fails_the_upload_in_words_not_a_500(
    client, teacher, classroom, monkeypatch, tasks_queued_not_run, convert_in_background
):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(tasks, "convert", broken)
    client.force_login(teacher)
    response = upload_file(client, classroom, "essay.docx", make_docx(essay))

    tasks.convert_upload.call(TextUpload.objects.get().pk)

    assert "This file could not be read; it may be damaged." in text_of(client.get(response.url))


def test_a_conversion_whose_worker_died_says_so_after_a_while(
    client, teacher, classroom, tasks_queued_not_run, convert_in_background, time_machine
):
    time_machine.move_to(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    client.force_login(teacher)
    response = upload_file(client, classroom, "report.pdf", long_pdf())
    TextUpload.claim(TextUpload.objects.get().pk)

    time_machine.move_to(datetime(2027, 3, 1, 9, 30, tzinfo=UTC))
    stalled = client.get(response.url)

    assert "The conversion stopped before it finished." in text_of(stalled)
    assert TextUpload.objects.get().status == TextUpload.Status.FAILED


# Choosing a text already on the site.


def test_a_public_text_or_the_teachers_own_is_offered_and_another_teachers_private_one_never(
    client, teacher, other_teacher, classroom
):
    make_document(slug="public", title="Public essay")
    make_document(slug="mine", title="My notes", owner=teacher, is_public=False)
    theirs = make_document(slug="theirs", title="Their notes", owner=other_teacher, is_public=False)
    make_document(slug="site-private", title="Site's class-only text", is_public=False)
    client.force_login(teacher)

    offered = [
        option.get_text()
        for option in page(client.get(new_url(classroom))).select("select[name=document] option")
    ]
    assert offered == ["Choose a text…", "My notes (not public)", "Public essay"]

    refused = client.post(new_url(classroom), {"way": "pick", "document": theirs.pk})
    assert refused.status_code == 400
    assert "That text is not one you can assign" in text_of(refused)
    assert not Reading.objects.exists()


def test_picking_a_text_assigns_it_and_opens_its_reading_settings(client, teacher, classroom):
    public = make_document(slug="public", title="Public essay")
    client.force_login(teacher)

    response = client.post(new_url(classroom), {"way": "pick", "document": public.pk})

    assert Reading.objects.get().document == public
    assert response.url == reverse("edit_reading", args=[classroom.slug, "public"])
    assert "Public essay” is a reading of Modern History now" in text_of(client.get(response.url))
    # Read already: no longer offered.
    options = page(client.get(new_url(classroom))).select("select[name=document] option")
    assert "Public essay" not in [option.get_text() for option in options]


# Who may do what.


def test_only_the_uploader_opens_an_upload(client, teacher, other_teacher, classroom, superuser):
    client.force_login(teacher)
    url = client.post(new_url(classroom), {"way": "paste", "pasted": "Mine."}).url
    Membership.objects.create(
        classroom=classroom, user=other_teacher, role=Membership.Role.INSTRUCTOR
    )

    client.force_login(other_teacher)
    assert client.get(url).status_code == 404
    assert client.get(f"{url}status.json").status_code == 404
    assert client.post(url, {"title": "Taken", "text": "Taken."}).status_code == 404
    assert not Document.objects.exists()

    client.force_login(superuser)
    assert client.get(url).status_code == 200


def test_an_upload_is_opened_only_in_its_own_class(client, teacher, classroom):
    other_class = make_class("Geography", "geography", instructor=teacher)
    client.force_login(teacher)
    url = client.post(new_url(classroom), {"way": "paste", "pasted": "Mine."}).url
    token = TextUpload.objects.get().token

    assert client.get(reverse("reading_upload", args=[other_class.slug, token])).status_code == 404
    assert client.get(url).status_code == 200


def test_teaching_assistants_get_403_and_students_404(client, classroom, document):
    assistant = make_user("Ann Assistant", "ann@example.com")
    student = make_user("Stu Student", "stu@example.com")
    Membership.objects.create(classroom=classroom, user=assistant, role=Membership.Role.ASSISTANT)
    Membership.objects.create(classroom=classroom, user=student)
    Reading.objects.create(classroom=classroom, document=document)
    urls = [
        new_url(classroom),
        reverse("edit_reading", args=[classroom.slug, document.slug]),
        reverse("remove_reading", args=[classroom.slug, document.slug]),
    ]

    for user, status in ((assistant, 403), (student, 404)):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == status, (user, url)
            assert client.post(url, {"way": "paste", "pasted": "x"}).status_code == status
    assert Reading.objects.count() == 1
    assert not TextUpload.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, classroom):
    response = client.get(new_url(classroom))

    assert response.status_code == 302
    assert reverse("account_login") in response.url


# Editing and removing a reading.


@pytest.fixture
def own_reading(teacher, classroom):
    document = make_document(
        "The river rose in the night.\n\nBy morning the bridge was gone.",
        slug="river",
        title="The River",
        owner=teacher,
        is_public=False,
    )
    return Reading.objects.create(classroom=classroom, document=document)


def edit_url(reading) -> str:
    return reverse("edit_reading", args=[reading.classroom.slug, reading.document.slug])


def test_editing_the_words_records_a_revision_and_queues_moving_the_annotations(
    run_background_work, teacher, classroom, own_reading, tasks_queued_not_run
):
    client = run_background_work
    student = make_user("Stu Student", "stu@example.com")
    Membership.objects.create(classroom=classroom, user=student)
    document = own_reading.document
    make_post(document, student, "Gone?", classroom=classroom, passage="the bridge was gone")
    client.force_login(teacher)
    fields = check_form_fields(client.get(edit_url(own_reading)))
    assert fields["based_on"] == "1"

    response = client.post(
        edit_url(own_reading),
        {
            **fields,
            "title": "The River in Flood",
            "text": "At dusk the river rose.\n\nBy morning the bridge was gone.",
            "instructions": "Where does the water go?",
        },
    )

    document.refresh_from_db()
    revision = document.current_revision
    assert response.status_code == 302
    assert document.title == "The River in Flood"
    assert revision.number == 2
    assert revision.created_by == teacher
    assert revision.relocation == Revision.Relocation.QUEUED
    assert [result.task.name for result in tasks_queued_not_run.results] == ["relocate_annotations"]
    own_reading.refresh_from_db()
    assert own_reading.instructions == "Where does the water go?"
    message = text_of(client.get(response.url))
    assert "now revision 2. 1 annotation is being moved into it." in message
    assert Post.objects.get().revision.number == 1  # moved by the task, not the request


def test_saving_unchanged_words_records_no_revision(client, teacher, own_reading):
    client.force_login(teacher)
    fields = check_form_fields(client.get(edit_url(own_reading)))

    client.post(edit_url(own_reading), {**fields, "instructions": "Read it twice."})

    assert own_reading.document.revisions.count() == 1
    own_reading.refresh_from_db()
    assert own_reading.instructions == "Read it twice."


def test_a_change_made_meanwhile_is_not_overwritten_and_the_teachers_words_are_kept(
    client, teacher, own_reading
):
    client.force_login(teacher)
    fields = check_form_fields(client.get(edit_url(own_reading)))
    own_reading.document.revise("Someone else's version.")

    response = client.post(edit_url(own_reading), {**fields, "text": "My own version."})

    assert response.status_code == 400
    assert "The text was changed (revision 2) since you opened this page." in text_of(response)
    assert check_form_fields(response)["text"] == "My own version."
    assert own_reading.document.revisions.count() == 2


def test_an_instructor_who_does_not_own_the_text_changes_only_how_the_class_reads_it(
    client, teacher, classroom, document
):
    reading = Reading.objects.create(classroom=classroom, document=document)
    client.force_login(teacher)
    edit = client.get(edit_url(reading))
    assert not page(edit).find("textarea", {"name": "text"})
    assert "only the site’s administrators can change its words" in text_of(edit)

    client.post(
        edit_url(reading),
        {"title": "Hijacked", "text": "Other words.", "instructions": "Skim it."},
    )

    document.refresh_from_db()
    reading.refresh_from_db()
    assert document.title == "Sample text"
    assert document.revisions.count() == 1
    assert reading.instructions == "Skim it."


def test_removing_a_reading_keeps_the_text_and_the_class_posts(
    client, teacher, classroom, own_reading
):
    post = make_post(own_reading.document, teacher, "Kept.", classroom=classroom)
    client.force_login(teacher)
    remove = reverse("remove_reading", args=[classroom.slug, "river"])
    confirm = client.get(remove)
    assert "are kept, not deleted" in text_of(confirm)

    response = client.post(remove)

    assert response.url == classroom.get_absolute_url()
    assert not Reading.objects.exists()
    assert Document.objects.filter(slug="river").exists()
    assert Post.objects.filter(pk=post.pk).exists()
    assert "is no longer a reading of Modern History" in text_of(client.get(response.url))
    # Added again, its discussion is back as it was.
    client.post(new_url(classroom), {"way": "pick", "document": own_reading.document.pk})
    assert "Kept." in text_of(client.get(Reading.objects.get().get_absolute_url()))


# The class page.


def test_the_class_page_offers_instructors_add_a_reading_and_an_edit_link_per_reading(
    client, teacher, classroom, own_reading
):
    student = make_user("Stu Student", "stu@example.com")
    Membership.objects.create(classroom=classroom, user=student)
    client.force_login(teacher)

    soup = page(client.get(classroom.get_absolute_url()))

    assert soup.find("a", string="Add a reading")["href"] == new_url(classroom)
    assert soup.select_one("a.reading-edit-link")["href"] == edit_url(own_reading)
    client.force_login(student)
    soup = page(client.get(classroom.get_absolute_url()))
    assert not soup.find("a", string="Add a reading")
    assert not soup.select("a.reading-edit-link")


def test_an_empty_class_says_to_add_its_first_reading(client, teacher, classroom):
    client.force_login(teacher)

    response = client.get(classroom.get_absolute_url())

    assert "No readings have been assigned yet. Add the first" in text_of(response)
    assert "in the admin" not in text_of(response)


def test_the_zip_bomb_above_is_one_and_small_enough_to_be_refused_in_the_request():
    data = zip_bomb_docx()
    declared = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert declared > 40 * 1024 * 1024
    assert len(data) < readings.CONVERT_IN_REQUEST_BYTES


# In a browser: the pages look finished on a phone and a laptop, and pass axe.


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "screen",
    [{"width": 390, "height": 844}, {"width": 1366, "height": 768}],
    ids=["phone", "laptop"],
)
def test_a_teacher_uploads_a_word_file_checks_it_and_assigns_it_in_a_browser(
    new_context, screen, tmp_path
):
    from playwright.sync_api import expect

    from tests.browser import assert_no_axe_violations, sign_in

    teacher = make_user("Tess Teacher", "tess@example.com", is_teacher=True)
    classroom = make_class(instructor=teacher, time_zone="Europe/London")
    essay_file = tmp_path / "floods.docx"
    essay_file.write_bytes(make_docx(essay))
    page = new_context(viewport=screen).new_page()
    sign_in(page, teacher.email, next_path=classroom.get_absolute_url())

    page.get_by_role("link", name="Add a reading").click()
    assert_no_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= screen["width"]
    page.get_by_label("A file from your computer").set_input_files(essay_file)
    page.get_by_role("button", name="Upload and check").click()

    expect(page.get_by_role("heading", name="Check the text before saving")).to_be_visible()
    expect(page.get_by_label("Title:", exact=True)).to_have_value("Floods of the Upper Valley")
    expect(page.get_by_text("1 image was left out")).to_be_visible()
    assert_no_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= screen["width"]
    page.get_by_label("Citation:", exact=True).fill("Valley Press, 1931")
    page.get_by_label("Due (Europe/London time)").fill("2027-06-01T09:00")
    page.get_by_role("button", name="Save the reading").click()

    expect(page.get_by_text("is saved and assigned to Modern History")).to_be_visible()
    reading = Reading.objects.get()
    assert reading.due_at == datetime(2027, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
    page.goto(classroom.get_absolute_url())
    page.get_by_role("link", name="Edit Floods of the Upper Valley").click()
    assert_no_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= screen["width"]
    page.screenshot(path=f"/tmp/reading-edit-{screen['width']}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_progress_page_follows_the_background_work_and_opens_the_check_page(
    new_context, settings, convert_in_background
):
    from playwright.sync_api import expect

    from tests.browser import assert_no_axe_violations, sign_in

    settings.TASKS = DUMMY_TASKS
    teacher = make_user("Tess Teacher", "tess@example.com", is_teacher=True)
    classroom = make_class(instructor=teacher)
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, teacher.email, next_path=new_url(classroom))
    page.get_by_label("A file from your computer").set_input_files(
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": long_pdf()}
    )
    page.get_by_role("button", name="Upload and check").click()

    expect(page.get_by_role("status")).to_have_text("Waiting for its turn to be read…")
    assert_no_axe_violations(page)
    upload = TextUpload.objects.get()
    TextUpload.claim(upload.pk).record_progress(60)
    expect(page.get_by_role("status")).to_have_text("Reading the file: 60% done.")
    assert page.locator("progress").evaluate("bar => bar.value") == 60
    TextUpload.objects.filter(pk=upload.pk).update(status=TextUpload.Status.QUEUED)
    tasks.convert_upload.call(upload.pk)

    expect(page.get_by_role("heading", name="Check the text before saving")).to_be_visible()
    expect(page.get_by_label("Title:", exact=True)).to_have_value("A Long Report")


def test_the_sweep_drops_uploads_left_for_a_week_and_keeps_newer_ones(teacher, classroom):
    def upload(age: timedelta) -> TextUpload:
        return TextUpload.objects.create(
            owner=teacher,
            classroom=classroom,
            filename="notes.docx",
            data=b"x" * 1000,
            created_at=timezone.now() - age,
        )

    old, recent = upload(timedelta(days=8)), upload(timedelta(days=6))

    assert tasks.run_maintenance.call()["uploads_dropped"] == 1
    assert list(TextUpload.objects.all()) == [recent]
    assert not TextUpload.objects.filter(pk=old.pk).exists()
