"""A text that changes: annotations follow their passage, orphans are kept, old revisions read."""

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.core.management import call_command

from annotate.models import AnchorPlacement, PostEvent, Revision
from tests.factories import annotate, make_document, saved_post

TEXT = (
    "The victors agreed at Yalta that prisoners would return home.\n\n"
    "Many were terrified at the prospect of what awaited them.\n\n"
    "Stalin treated returning prisoners with contempt."
)


def edit_in_admin(client, document, text: str):
    return client.post(
        f"/admin/annotate/document/{document.pk}/change/",
        {
            "title": document.title,
            "slug": document.slug,
            "subtitle": "",
            "citation": "",
            "source": "",
            "is_public": "on",
            "text": text,
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
            "revisions-MIN_NUM_FORMS": "0",
            "revisions-MAX_NUM_FORMS": "1000",
        },
    )


def highlighted(html: str) -> dict[str, str]:
    """Highlighted words by post id, as the page shows them."""
    soup = BeautifulSoup(html, "html.parser")
    words: dict[str, str] = {}
    for mark in soup.select("#text a.hl"):
        for post_id in mark["data-posts"].split():
            words[post_id] = words.get(post_id, "") + mark.get_text()
    return words


@pytest.fixture
def document(db):
    return make_document(TEXT, slug="yalta", title="Yalta")


def test_editing_the_text_in_the_admin_moves_highlights_and_keeps_orphans(
    client, document, author, superuser, run_tasks
):
    client.force_login(author)
    moved = saved_post(annotate(client, document, "terrified at the prospect", "Fear."))
    changed = saved_post(annotate(client, document, "treated returning prisoners", "Contempt."))
    doomed = saved_post(annotate(client, document, "agreed at Yalta", "The conference."))

    client.force_login(superuser)
    new_text = (
        "A new opening paragraph comes first now.\n\n"
        "The victors met in Crimea and decided that prisoners would return home.\n\n"
        "Many were terrified at the prospect of what awaited them.\n\n"
        "Stalin treated the returning prisoners with contempt."
    )
    response = run_tasks(edit_in_admin, client, document, new_text)
    assert response.status_code == 302

    revision = Revision.objects.get(document=document, number=2)
    assert revision.relocation == Revision.Relocation.DONE
    assert (revision.moved, revision.changed, revision.orphaned) == (1, 1, 1)

    page = client.get(document.get_absolute_url()).content.decode()
    words = highlighted(page)
    assert words[str(moved.pk)] == "terrified at the prospect"
    assert words[str(changed.pk)] == "treated the returning prisoners"
    assert str(doomed.pk) not in words
    soup = BeautifulSoup(page, "html.parser")
    orphans = soup.select_one("section.orphans")
    assert "Notes on passages that have changed" in orphans.get_text()
    assert "agreed at Yalta" in orphans.get_text()  # its original quote, still readable
    assert "The conference." in orphans.get_text()

    changed.refresh_from_db()
    assert changed.quote_changed and changed.original_exact == "treated returning prisoners"
    assert changed.events.filter(kind=PostEvent.Kind.QUOTE_CHANGED).exists()
    doomed.refresh_from_db()
    assert doomed.orphaned_at is not None
    assert doomed.events.filter(kind=PostEvent.Kind.ORPHANED).exists()
    [email] = [message for message in mail.outbox if "changed" in message.subject]
    assert email.to == [author.email]
    assert "agreed at Yalta" in email.body

    admin_page = client.get(f"/admin/annotate/document/{document.pk}/change/").content.decode()
    assert "1 moved, 1 with changed words, 1 orphaned, of 3" in admin_page


def test_an_earlier_revision_reads_with_its_annotations_where_they_were(
    client, document, author, superuser, run_tasks
):
    client.force_login(author)
    note = saved_post(annotate(client, document, "terrified at the prospect", "Fear."))
    client.force_login(superuser)
    run_tasks(edit_in_admin, client, document, "Inserted first.\n\n" + TEXT)

    client.logout()
    current = client.get(document.get_absolute_url()).content.decode()
    assert "You are reading an earlier version" not in current
    earlier = client.get(f"{document.get_absolute_url()}?revision=1").content.decode()
    assert "You are reading an earlier version" in earlier
    assert "revision 1 of 2" in earlier
    assert "Inserted first." not in earlier
    assert highlighted(earlier)[str(note.pk)] == "terrified at the prospect"
    soup = BeautifulSoup(earlier, "html.parser")
    assert soup.select_one("#respond") is None  # no posting on an earlier version
    placements = AnchorPlacement.objects.filter(post=note).order_by("revision__number")
    assert [p.start for p in placements] == [
        TEXT.index("terrified"),
        ("Inserted first.\n\n" + TEXT).index("terrified"),
    ]


def test_the_diff_shows_added_and_removed_words(client, document, superuser, run_tasks):
    client.force_login(superuser)
    run_tasks(edit_in_admin, client, document, TEXT.replace("contempt", "disdain"))
    page = client.get(f"/texts/{document.slug}/revisions/2/").content.decode()
    soup = BeautifulSoup(page, "html.parser")
    assert [tag.get_text() for tag in soup.select(".diff del")] == ["contempt"]
    assert [tag.get_text() for tag in soup.select(".diff ins")] == ["disdain"]
    assert client.get(f"/texts/{document.slug}/revisions/1/").status_code == 404
    assert client.get(f"/texts/{document.slug}/revisions/9/").status_code == 404


def test_an_unknown_revision_number_is_a_404_not_an_error(client, document):
    assert client.get(f"{document.get_absolute_url()}?revision=7").status_code == 404
    assert client.get(f"{document.get_absolute_url()}?revision=abc").status_code == 200


def test_reloading_a_changed_seed_file_moves_annotations_too(
    client, author, tmp_path, run_tasks, seeded, settings
):
    client.force_login(author)
    note = saved_post(annotate(client, seeded, "fightingmen", "One word in the source."))
    seed_file = tmp_path / "execute-the-pows.txt"
    original = (settings.BASE_DIR / "seeds" / "execute-the-pows.txt").read_text(encoding="utf-8")
    seed_file.write_text(original.replace("In spite of his", "Despite his"), encoding="utf-8")

    run_tasks(call_command, "load_seeds", str(tmp_path), verbosity=0)

    note.refresh_from_db()
    seeded.refresh_from_db()
    assert seeded.current_revision.number == 2
    assert note.revision_id == seeded.current_revision_id
    assert seeded.current_revision.text[note.start : note.end] == "fightingmen"


def test_asking_for_a_revision_of_a_text_without_words_yet_is_not_an_error(client, db):
    empty = make_document("", slug="empty", title="Empty")
    assert client.get(f"/texts/{empty.slug}/?revision=1").status_code == 200
