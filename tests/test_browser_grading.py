"""
Issue 14's teacher in a real browser: on a reading's page they find who has
not posted and remind them, on its insights where the class is stuck (and
follow a thread from there), then set the rubric, override one student's
score with a private comment and download the gradebook. Then the same
pages on a phone, with axe.

Background work (scores, email) runs as on a laptop install: the immediate
task backend, right after each request's transaction commits.
"""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from annotate.models import Membership, OutboundEmail, Reading, Score
from tests.browser import assert_no_axe_violations, sign_in
from tests.factories import make_class, make_document, make_post, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}

TEXT = (
    "The prisoners were returned home under the agreement signed at Yalta.\n\n"
    "Many of them did not want to go back at all, and some resisted."
)
STUCK = "returned home"
# Long enough to count under the default rubric (15 words an annotation).
ADA_ASKS = "Why were they returned home at all, when so many of them feared what was waiting?"
BEN_ASKS = "Who decided that home meant the Soviet Union, and did anyone ask the prisoners first?"
ADA_NOTES = (
    "This sentence shows how little the agreement cared about what the prisoners themselves "
    "wanted for their future."
)
BEN_REPLIES = "I agree with this reading of the sentence."
COMMENT = "Led the seminar discussion on this reading."


@pytest.fixture
def course(db):
    """
    A class of four students on two readings: Ada and Ben post on the first
    (two questions on one passage, nobody answering them; a note on the
    other paragraph that Ben replies to), Cara and Dan post nothing.
    """
    teacher = make_user("Tess Teacher", "tess@school.edu")
    ada = make_user("Ada Asker", "ada@school.edu")
    ben = make_user("Ben Replier", "ben@school.edu")
    cara = make_user("Cara Quiet", "cara@school.edu")
    dan = make_user("Dan Silent", "dan@school.edu")
    returning = make_document(TEXT, slug="returning-home", title="Returning home")
    camps = make_document("The camps.\n\nThe questions.", slug="the-camps", title="The camps")
    classroom = make_class(
        "Soviet History",
        "soviet-history",
        instructor=teacher,
        students=[ada, ben, cara, dan],
        readings=[returning, camps],
    )
    reading = Reading.objects.get(classroom=classroom, document=returning)
    reading.due_at = timezone.now() + timedelta(days=3)
    reading.save(update_fields=["due_at"])

    def post(author, body, **fields):
        return make_post(returning, author, body, classroom=classroom, **fields)

    ada_asks = post(ada, ADA_ASKS, passage=STUCK, context=True, minutes_ago=60)
    ben_asks = post(ben, BEN_ASKS, passage=STUCK, context=True, minutes_ago=50)
    ada_notes = post(ada, ADA_NOTES, passage="did not want to go back", minutes_ago=40)
    post(ben, BEN_REPLIES, parent=ada_notes, minutes_ago=30)
    return {
        "teacher": teacher,
        "students": {"ada": ada, "ben": ben, "cara": cara, "dan": dan},
        "classroom": classroom,
        "reading": reading,
        "questions": [ada_asks, ben_asks],
    }


def roll_list(page: Page, heading: str) -> list[str]:
    """The names under one of the roll's two headings ("Posted", "Not posted yet")."""
    column = page.locator(".roll-lists > div", has=page.locator(".roll-heading", has_text=heading))
    return [name.split(" (")[0] for name in column.locator("li").all_inner_texts()]


def gradebook_cells(page: Page) -> dict[str, list[str]]:
    """The gradebook table as a teacher reads it: each student's cells, by name."""
    table = page.get_by_role("table", name=re.compile("Participation points of each student"))
    return {
        row.get_by_role("rowheader").inner_text(): [
            " ".join(text.split()) for text in row.get_by_role("cell").all_inner_texts()
        ]
        for row in table.locator("tbody tr").all()
    }


def test_a_teacher_finds_who_has_not_posted_where_the_class_is_stuck_and_grades_it(
    page: Page, course
):
    students, reading = course["students"], course["reading"]
    page.set_viewport_size(LAPTOP["viewport"])
    sign_in(page, course["teacher"].email, next_path=course["classroom"].get_absolute_url())
    class_url = page.url

    # Who hasn't posted: the roll on the reading's page, then the reminder.
    page.get_by_role("link", name="Returning home", exact=True).click()
    expect(page.get_by_role("heading", name="Returning home", level=1)).to_be_visible()
    page.locator("#roll summary").click()
    expect(page.locator("#roll summary")).to_have_text("2 of 4 students have posted")
    assert roll_list(page, "Posted (2)") == ["Ada Asker", "Ben Replier"]
    assert roll_list(page, "Not posted yet (2)") == ["Cara Quiet", "Dan Silent"]
    remind = page.get_by_role("button", name=re.compile("Remind those who haven.t posted"))
    expect(remind).to_have_text(re.compile(r"\(2\)$"))
    remind.click()
    expect(page.get_by_text("Reminded 2 students who had not posted yet.")).to_be_visible()
    assert sorted(email.to[0] for email in mail.outbox) == ["cara@school.edu", "dan@school.edu"]
    for email in mail.outbox:
        assert "“Returning home” in Soviet History" in email.subject
        assert reading.get_absolute_url() in email.body
    assert OutboundEmail.objects.filter(sent_at=None).count() == 0
    page.locator("#roll summary").click()
    expect(remind).to_be_disabled()
    expect(page.locator("#remind-note")).to_contain_text("Last reminded")

    # Where the class is stuck: the insights, and a thread followed from there.
    page.get_by_role("link", name="Insights on this reading").click()
    expect(page.get_by_role("heading", name="Insights: Returning home")).to_be_visible()
    unanswered = page.locator(
        ".stuck-lists > div", has=page.get_by_role("heading", name="Most unanswered questions")
    )
    [stuck] = unanswered.locator("li").all()
    expect(stuck.locator(".insights-quote")).to_have_text(f"“{STUCK}”")
    expect(stuck.locator(".stuck-counts")).to_have_text("2 questions, 2 unanswered")
    # Annotated but asking nothing: in the ranked table, in neither stuck list.
    expect(page.get_by_text("“did not want to go back”", exact=True)).to_have_count(1)
    first_question = course["questions"][0]
    stuck.get_by_role("link", name=f"Thread 1 on “{STUCK}”").click()
    expect(page).to_have_url(re.compile(rf"\?post={first_question.pk}#post-{first_question.pk}$"))
    expect(page.locator(f"#post-{first_question.pk}")).to_contain_text(ADA_ASKS)

    # The rubric: three points an annotation, said back in plain words.
    page.goto(class_url)
    page.get_by_role("link", name="Rubric", exact=True).click()
    expect(page.get_by_role("heading", name="Participation rubric")).to_be_visible()
    rule = page.locator(".score-rule")
    expect(rule).to_contain_text("Each reading is worth up to 10 points.")
    page.get_by_label("Points per annotation").fill("3")
    page.get_by_role("button", name="Save the rubric").click()
    expect(
        page.get_by_text("The rubric is saved. Every score of the class is being worked out again.")
    ).to_be_visible()
    expect(rule).to_contain_text("Each reading is worth up to 13 points.")
    expect(rule).to_contain_text(
        "Annotations: 3 points for each annotation of at least 15 words, for up to 3."
    )
    expect(page.get_by_label("Points per annotation")).to_have_value("3.00")

    # The gradebook, scored by the new rubric: Ada 3 + 3 + spread 1 + Ben's reply 1;
    # Ben 3 + his reply 1 + half the spread.
    page.get_by_role("link", name="Gradebook").first.click()
    expect(page.get_by_role("heading", name="Gradebook", level=1)).to_be_visible()
    assert gradebook_cells(page) == {
        "Ada Asker": ["8", "0", "8"],
        "Ben Replier": ["4.50", "0", "4.50"],
        "Cara Quiet": ["0", "0", "0"],
        "Dan Silent": ["0", "0", "0"],
    }

    # Ben led the discussion in class: the teacher gives him 6, privately saying why.
    page.get_by_role("link", name="Ben Replier").click()
    expect(page.get_by_role("heading", name="Ben Replier", level=1)).to_be_visible()
    section = page.locator(f"#reading-{reading.pk}")
    expect(section.get_by_role("heading", level=2)).to_have_text("Returning home: 4.50 points")
    section.locator("summary", has_text="Set a different score").click()
    section.get_by_label("Score to give instead").fill("6")
    section.get_by_label("Private comment").fill(COMMENT)
    section.get_by_role("button", name="Save the score").click()
    expect(page.get_by_text("Your score for Returning home is saved.")).to_be_visible()
    expect(section.get_by_role("heading", level=2)).to_have_text("Returning home: 6 points")
    expect(section.locator(".score-override")).to_contain_text("Set by Tess Teacher on")
    expect(section.locator(".score-override")).to_contain_text("the rubric gives 4.50.")
    expect(section.locator(".score-comment")).to_have_text(f"Private comment: {COMMENT}")
    score = Score.objects.get(reading=reading, student=students["ben"])
    assert score.override == Decimal("6") and score.computed == Decimal("4.5")
    assert score.override_comment == COMMENT and score.overridden_by == course["teacher"]

    page.get_by_role("link", name="Gradebook").click()
    assert gradebook_cells(page)["Ben Replier"] == ["6* (set by an instructor)", "0", "6"]

    # The download: a row a student, a column a reading, the total; Ben's 6 in it.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the gradebook (CSV)").click()
    assert download.value.suggested_filename == "soviet-history-gradebook.csv"
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    assert list(rows[0]) == ["student", "email", "Returning home", "The camps", "total"]
    by_student = {
        row["student"]: (Decimal(row["Returning home"]), Decimal(row["total"])) for row in rows
    }
    assert by_student == {
        "Ada Asker": (Decimal(8), Decimal(8)),
        "Ben Replier": (Decimal(6), Decimal(6)),
        "Cara Quiet": (Decimal(0), Decimal(0)),
        "Dan Silent": (Decimal(0), Decimal(0)),
    }
    assert {row["email"] for row in rows} == {f"{name}@school.edu" for name in students}


def test_the_grading_pages_fit_a_phone_and_axe_finds_nothing(new_context, course):
    classroom, reading = course["classroom"], course["reading"]
    ben = Membership.objects.get(classroom=classroom, user=course["students"]["ben"])
    pages = [
        reading.get_absolute_url(),
        reverse("reading_insights", args=[classroom.slug, reading.document.slug]),
        reverse("class_rubric", args=[classroom.slug]),
        reverse("gradebook", args=[classroom.slug]),
        reverse("student_scores", args=[classroom.slug, ben.pk]),
    ]
    page = new_context(**PHONE).new_page()
    sign_in(page, course["teacher"].email, next_path=pages[0])
    for path in pages:
        page.goto(path)
        page.wait_for_load_state()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["viewport"]["width"], f"{path} is {width} px wide on a phone"
        assert_no_axe_violations(page)
