"""
Seed texts: the files under seeds/ load into documents, idempotently, and the
reading page shows them word for word.
"""

from io import StringIO
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from annotate.models import Document, Revision

SEED_FILE = settings.BASE_DIR / "seeds" / "execute-the-pows.txt"
SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seed"

TITLE = "Execute the POW’s…"
SUBTITLE = "Stalin’s treatment of returning Soviet POWs"
CITATION = "Lynch, M. (2008) Stalin’s Russia, 1924-53. 4th Ed. London: Hodder Education."


def seed_file_paragraphs(path: Path) -> list[str]:
    """The paragraphs after the seed file's header, read the simplest way."""
    _header, body = path.read_text(encoding="utf-8").split("\n\n", 1)
    return [paragraph.strip() for paragraph in body.split("\n\n") if paragraph.strip()]


def load_seeds(*args: str) -> str:
    out = StringIO()
    call_command("load_seeds", *args, stdout=out)
    return out.getvalue()


def reading_page(client, slug: str = "execute-the-pows") -> BeautifulSoup:
    response = client.get(f"/texts/{slug}/")
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def write_seed(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# The real seed file


@pytest.mark.django_db
def test_the_seed_file_loads_as_a_document():
    output = load_seeds()

    assert output == "execute-the-pows: created\n"
    document = Document.objects.get(slug="execute-the-pows")
    assert document.title == TITLE
    assert document.subtitle == SUBTITLE
    assert document.citation == CITATION
    assert document.source.startswith("Lynch, M. (2008) Stalin’s Russia, 1924-53, p. 99")
    assert list(document.revisions.values_list("number", flat=True)) == [1]


def test_every_paragraph_of_the_seed_file_appears_verbatim_on_the_reading_page(client, seeded):
    page = reading_page(client)

    shown = [p.get_text() for p in page.select("#text p")]
    assert len(seed_file_paragraphs(SEED_FILE)) == 3
    assert shown == seed_file_paragraphs(SEED_FILE)


def test_the_reading_page_shows_the_seed_title_subtitle_and_citation(client, seeded):
    page = reading_page(client)

    assert page.h1.get_text(strip=True) == TITLE
    assert page.select_one("h2.reading-subtitle").get_text(strip=True) == SUBTITLE
    assert page.select_one("footer.citation").get_text(strip=True) == CITATION


def test_curly_quotes_the_ellipsis_and_the_authors_spelling_are_kept(client, seeded):
    page = reading_page(client)
    text = page.select_one("#text").get_text()

    assert page.h1.get_text(strip=True).endswith("POW\u2019s\u2026")
    assert "Stalin\u2019s insistence" in text
    assert "not only fightingmen." in text
    assert "Soviet labour camps.\u201d (Lynch, 2008, p.99)." in text
    assert "'" not in text
    assert "..." not in text


def test_the_shared_copy_of_the_reading_has_the_same_three_paragraphs(client, seeded):
    if not SHARED_SEEDS.is_dir():
        pytest.skip(f"{SHARED_SEEDS} is not there to compare with")
    shared_files = sorted(SHARED_SEEDS.glob("*.txt"))
    assert shared_files, f"no .txt files in {SHARED_SEEDS}"
    shown = [p.get_text() for p in reading_page(client).select("#text p")]

    for shared_file in shared_files:
        blocks = [
            block.strip()
            for block in shared_file.read_text(encoding="utf-8").split("\n\n")
            if block.strip()
        ]
        assert blocks[:2] == [TITLE, SUBTITLE]
        body = blocks[2 : blocks.index(CITATION)]
        assert body == shown
        assert body == seed_file_paragraphs(SEED_FILE)


# Loading again


def test_loading_the_same_seeds_again_changes_nothing(seeded):
    updated_at = seeded.updated_at
    revision_ids = list(Revision.objects.values_list("pk", flat=True))

    output = load_seeds()

    assert output == "execute-the-pows: unchanged\n"
    document = Document.objects.get(pk=seeded.pk)
    assert document.updated_at == updated_at
    assert document.current_revision_id == seeded.current_revision_id
    assert list(Revision.objects.values_list("pk", flat=True)) == revision_ids


@pytest.mark.django_db
def test_an_edited_seed_file_updates_the_document_and_keeps_the_old_revision(tmp_path):
    write_seed(
        tmp_path,
        "reading.txt",
        "Title: A reading\nSubtitle: First subtitle\n\nThe first text.\n\nIts second paragraph.\n",
    )
    assert load_seeds(str(tmp_path)) == "reading: created\n"

    write_seed(
        tmp_path,
        "reading.txt",
        "Title: A better reading\nSubtitle: Second subtitle\nCitation: Someone (2024)\n\n"
        "The first text, corrected.\n\nIts second paragraph.\n",
    )
    output = load_seeds(str(tmp_path))

    assert output == "reading: updated\n"
    document = Document.objects.with_text().get(slug="reading")
    assert document.title == "A better reading"
    assert document.subtitle == "Second subtitle"
    assert document.citation == "Someone (2024)"
    assert document.text == "The first text, corrected.\n\nIts second paragraph."
    assert document.current_revision.number == 2
    first = document.revisions.get(number=1)
    assert first.text == "The first text.\n\nIts second paragraph."


@pytest.mark.django_db
def test_a_seed_file_with_only_new_metadata_updates_it_without_a_new_revision(tmp_path):
    write_seed(tmp_path, "reading.txt", "Title: A reading\n\nThe text.\n")
    load_seeds(str(tmp_path))
    write_seed(tmp_path, "reading.txt", "Title: A reading\nSource: The library\n\nThe text.\n")

    output = load_seeds(str(tmp_path))

    assert output == "reading: updated\n"
    document = Document.objects.get(slug="reading")
    assert document.source == "The library"
    assert list(document.revisions.values_list("number", flat=True)) == [1]


@pytest.mark.django_db
def test_a_seed_file_with_windows_line_endings_loads_with_plain_newlines(tmp_path):
    write_seed(
        tmp_path,
        "windows.txt",
        b"Title: From Windows\r\nSubtitle: Saved in Notepad\r\n\r\n"
        b"First paragraph.\r\n\r\nSecond paragraph.\r\n",
    )

    load_seeds(str(tmp_path))

    document = Document.objects.with_text().get(slug="windows")
    assert document.title == "From Windows"
    assert document.subtitle == "Saved in Notepad"
    assert document.text == "First paragraph.\n\nSecond paragraph."


# Files the command refuses


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(
            "Subtitle: No title here\n\nSome text.\n",
            "broken.txt: the Title line is missing or empty.",
            id="missing title",
        ),
        pytest.param(
            "Title: A reading\nAuthor: Somebody\n\nSome text.\n",
            "broken.txt, line 2: expected one of Citation, Source, Subtitle, Title followed by "
            "a colon, got 'Author: Somebody'.",
            id="unknown header field",
        ),
        pytest.param(
            "Title: A reading\nSome text straight after the header.\n",
            "broken.txt: expected header lines, a blank line, then the text.",
            id="no blank line",
        ),
        pytest.param(
            "Title: A reading\nThe first paragraph, too close.\n\nThe second paragraph.\n",
            "broken.txt, line 2: expected one of Citation, Source, Subtitle, Title followed by "
            "a colon, got 'The first paragraph, too close.'.",
            id="no blank line before several paragraphs",
        ),
        pytest.param(
            "Just a paragraph, without any header.\n",
            "broken.txt: expected header lines, a blank line, then the text.",
            id="no header",
        ),
        pytest.param(
            b"Title: Caf\xe9 notes\n\nSome text.\n",
            "broken.txt: not UTF-8 text (invalid continuation byte at byte 10).",
            id="not utf-8",
        ),
        pytest.param(
            "Title: A reading\n\n   \n\n",
            "broken.txt: the text after the header is empty.",
            id="empty text",
        ),
    ],
)
def test_a_broken_seed_file_is_refused_with_its_name_and_the_problem(tmp_path, content, problem):
    write_seed(tmp_path, "broken.txt", content)

    with pytest.raises(CommandError) as error:
        load_seeds(str(tmp_path))

    assert str(error.value) == problem
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_one_broken_seed_file_stops_the_good_ones_from_loading(tmp_path):
    write_seed(tmp_path, "a-good-one.txt", "Title: Good\n\nFine text.\n")
    write_seed(tmp_path, "b-bad-one.txt", "Title: Bad\n")

    with pytest.raises(CommandError) as error:
        load_seeds(str(tmp_path))

    assert str(error.value) == "b-bad-one.txt: the text after the header is empty."
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_a_folder_without_seed_files_is_refused(tmp_path):
    with pytest.raises(CommandError) as error:
        load_seeds(str(tmp_path))

    assert str(error.value) == f"No .txt seed files in {tmp_path}."
