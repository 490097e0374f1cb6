"""
Readings from files: every fixture is made here, by the programs that make
such files (python-docx, reportlab, and zipfile for EPUBs), never checked in.
"""

import io
import zipfile

import docx
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate

from annotate.conversion import ConversionError, Converted, archives, base, convert, convert_text

MAX_BYTES = 20 * 1024 * 1024

SENTENCES = [
    "The river ran fast under the old stone bridge that morning.",
    "Nobody in the village could remember a spring with so much rain.",
    "Children stood at the railings and counted the branches going by.",
    "Their teacher said each branch had come from a different valley.",
    "By noon the water had reached the first step of the chapel.",
]


def prose(sentences: int, start: int = 0) -> str:
    return " ".join(SENTENCES[(start + n) % len(SENTENCES)] for n in range(sentences))


def paragraphs_of(result: Converted) -> list[str]:
    return result.text.split("\n\n")


def png(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# Word documents.


def make_docx(build, *, title: str = "") -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def essay(document) -> None:
    document.add_paragraph("Floods of the Upper Valley", style="Title")
    document.add_heading("Before the rain", level=1)
    paragraph = document.add_paragraph("The village stood on ")
    paragraph.add_run("high").bold = True
    paragraph.add_run(" ground.")
    document.add_picture(io.BytesIO(png()))
    document.add_heading("What the children saw", level=2)
    document.add_paragraph("Branches", style="List Bullet")
    document.add_paragraph("A door", style="List Bullet")
    document.add_paragraph("First they ran", style="List Number")
    document.add_paragraph("Then they stopped", style="List Number")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Day"
    table.cell(0, 1).text = "Rain"
    table.cell(1, 0).text = "Monday"
    table.cell(1, 1).text = "40 mm"
    verse = document.add_paragraph("Rain on the roof,")
    verse.add_run().add_break()
    verse.add_run("rain on the road.")


def test_docx_keeps_headings_paragraphs_lists_and_table_rows_in_order():
    result = convert("floods.docx", make_docx(essay, title="Floods"), max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == [
        "Floods of the Upper Valley",
        "Before the rain",
        "The village stood on high ground.",
        "What the children saw",
        "• Branches",
        "• A door",
        "1. First they ran",
        "2. Then they stopped",
        "Day | Rain",
        "Monday | 40 mm",
        "Rain on the roof,\nrain on the road.",
    ]
    assert result.title == "Floods"
    assert result.warnings == [
        "1 image was left out: a reading holds only text.",
        "Tables were flattened: each row is now one paragraph, its cells separated by “|”.",
    ]


def test_docx_without_a_title_in_its_properties_takes_its_first_heading():
    result = convert("floods.docx", make_docx(essay), max_bytes=MAX_BYTES)

    assert result.title == "Floods of the Upper Valley"


def test_docx_without_any_title_takes_its_file_name():
    def plain(document):
        document.add_paragraph("Just one paragraph.")

    result = convert("week_3-reading.docx", make_docx(plain), max_bytes=MAX_BYTES)

    assert result.title == "week 3 reading"
    assert result.text == "Just one paragraph."
    assert result.warnings == []


def with_footnote(data: bytes, after: str, note: str) -> bytes:
    """`data` with a footnote after the words `after` (python-docx cannot add one)."""
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            member = source.read(info)
            if info.filename == "word/document.xml":
                member = member.replace(
                    f"{after}</w:t></w:r>".encode(),
                    f'{after}</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r>'.encode(),
                )
            elif info.filename == "word/_rels/document.xml.rels":
                member = member.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rIdNotes" Type="{relationships}/footnotes" '
                    'Target="footnotes.xml"/></Relationships>'.encode(),
                )
            elif info.filename == "[Content_Types].xml":
                member = member.replace(
                    b"</Types>",
                    b'<Override PartName="/word/footnotes.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>',
                )
            archive.writestr(info, member)
        archive.writestr(
            "word/footnotes.xml",
            f'<w:footnotes xmlns:w="{ns}"><w:footnote w:id="1"><w:p><w:r><w:t>{note}</w:t>'
            "</w:r></w:p></w:footnote></w:footnotes>",
        )
    return buffer.getvalue()


def test_docx_footnotes_keep_their_marks_and_follow_the_text_as_a_numbered_list():
    def cited(document):
        document.add_paragraph("The bridge held.")
        document.add_paragraph("The chapel did not.")

    data = with_footnote(make_docx(cited), "The bridge held.", "Parish records, 1888.")

    result = convert("notes.docx", data, max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == [
        "The bridge held.[1]",
        "The chapel did not.",
        "1. Parish records, 1888.",
    ]


# PDFs.


def make_pdf(story, *, title: str = "", page_numbers: bool = False, **template) -> bytes:
    buffer = io.BytesIO()

    def number_page(pdf, page_template):
        if page_numbers:
            pdf.setFont("Helvetica", 9)
            pdf.drawCentredString(A4[0] / 2, 30, str(pdf.getPageNumber()))

    SimpleDocTemplate(buffer, pagesize=A4, title=title, **template).build(
        story, onFirstPage=number_page, onLaterPages=number_page
    )
    return buffer.getvalue()


STYLES = getSampleStyleSheet()


def test_pdf_keeps_headings_and_paragraphs_and_joins_a_paragraph_split_across_pages():
    long_paragraph = prose(60)  # longer than a page
    story = [
        Paragraph("The Flood of 1888", STYLES["Title"]),
        Paragraph("Before the rain", STYLES["Heading1"]),
        Paragraph(prose(3), STYLES["BodyText"]),
        Paragraph(long_paragraph, STYLES["BodyText"]),
        Paragraph("After the rain", STYLES["Heading2"]),
        Paragraph(prose(4, start=2), STYLES["BodyText"]),
    ]
    data = make_pdf(story, title="The Flood of 1888", page_numbers=True)

    result = convert("flood.pdf", data, max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == [
        "The Flood of 1888",
        "Before the rain",
        prose(3),
        long_paragraph,
        "After the rain",
        prose(4, start=2),
    ]
    assert result.title == "The Flood of 1888"
    assert result.warnings == ["Page numbers and running headers or footers were left out."]


def test_pdf_paragraphs_set_with_first_line_indents_and_no_spacing_are_told_apart():
    book = ParagraphStyle("book", STYLES["BodyText"], firstLineIndent=18, spaceBefore=0)
    story = [Paragraph(prose(4, start=n), book) for n in range(3)]

    result = convert("book.pdf", make_pdf(story), max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == [prose(4, start=n) for n in range(3)]


def test_pdf_title_comes_from_the_largest_type_on_its_first_page_without_metadata():
    story = [Paragraph("Letters Home", STYLES["Title"]), Paragraph(prose(2), STYLES["BodyText"])]

    result = convert("scan_0042.pdf", make_pdf(story), max_bytes=MAX_BYTES)

    assert result.title == "Letters Home"


def draw_pdf(pages: list[list[tuple[float, float, str]]], **options) -> bytes:
    """A PDF with each page's (x, y, text) lines drawn in 12-point Helvetica."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, **options)
    for lines in pages:
        pdf.setFont("Helvetica", 12)
        for x, y, text in lines:
            pdf.drawString(x, y, text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_pdf_words_broken_at_a_line_end_are_rejoined_where_the_text_knows_them():
    data = draw_pdf(
        [
            [
                (72, 700, "This well-known example shows a word broken at a line, an exam-"),
                (72, 686, "ple of what typesetters call hy-"),
                (72, 672, "phenation, which the reader never sees."),
            ]
        ]
    )

    result = convert("hyphens.pdf", data, max_bytes=MAX_BYTES)

    # "example" is in the text, so its hyphen goes; "hyphenation" is not, so its stays.
    assert result.text == (
        "This well-known example shows a word broken at a line, an example of what "
        "typesetters call hy-phenation, which the reader never sees."
    )


def test_pdf_bulleted_lines_are_paragraphs_of_their_own():
    data = draw_pdf(
        [
            [
                (72, 700, "We packed:"),
                (72, 686, "• bread and cheese"),
                (72, 672, "• a lamp"),
            ]
        ]
    )

    result = convert("list.pdf", data, max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == ["We packed:", "• bread and cheese", "• a lamp"]


def test_pdf_verse_keeps_its_line_breaks_and_its_stanzas():
    data = draw_pdf(
        [
            [
                (72, 700, "The rain came down on Tuesday,"),
                (72, 686, "it did not stop for days;"),
                (72, 672, "the river took the orchard"),
                (72, 658, "and the bridge, in its ways."),
                (72, 630, "We watched it from the chapel."),
                (72, 616, "We counted what was gone,"),
                (72, 602, "and in the spring we planted"),
                (72, 588, "and the village carried on."),
                (72, 560, "That is all the parish clerk wrote down in his book about the flood,"),
            ]
        ]
    )

    result = convert("verse.pdf", data, max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == [
        "The rain came down on Tuesday,\nit did not stop for days;\n"
        "the river took the orchard\nand the bridge, in its ways.",
        "We watched it from the chapel.\nWe counted what was gone,\n"
        "and in the spring we planted\nand the village carried on.",
        "That is all the parish clerk wrote down in his book about the flood,",
    ]


def test_pdf_metadata_title_that_names_a_file_gives_way_to_the_first_large_type():
    story = [Paragraph("Letters Home", STYLES["Title"]), Paragraph(prose(2), STYLES["BodyText"])]
    data = make_pdf(story, title="Microsoft Word - letters_final.docx")

    assert convert("letters.pdf", data, max_bytes=MAX_BYTES).title == "Letters Home"


def test_pdf_blank_pages_are_no_loss_and_get_no_warning():
    result = convert("blank.pdf", draw_pdf([[(72, 700, "Words.")], []]), max_bytes=MAX_BYTES)

    assert (result.text, result.warnings) == ("Words.", [])


def test_pdf_with_nothing_but_page_numbers_has_no_selectable_text():
    data = draw_pdf([[(300, 40, str(number))] for number in range(1, 4)])

    with pytest.raises(ConversionError) as error:
        convert("numbers.pdf", data, max_bytes=MAX_BYTES)

    assert str(error.value) == "This PDF has no selectable text; run it through OCR first."


def scanned_page(pdf) -> None:
    image = Image.new("L", (400, 560), 255)
    image.paste(0, (40, 40, 360, 60))  # a dark bar where a scanned line of text would be
    pdf.drawImage(ImageReader(image), 50, 200, width=400, height=560)


def test_pdf_without_selectable_text_asks_for_ocr():
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    scanned_page(pdf)
    pdf.showPage()
    pdf.save()

    with pytest.raises(ConversionError) as error:
        convert("scan.pdf", buffer.getvalue(), max_bytes=MAX_BYTES)

    assert str(error.value) == "This PDF has no selectable text; run it through OCR first."


def test_pdf_with_some_scanned_pages_keeps_the_text_and_names_the_pages_without():
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont("Helvetica", 12)
    pdf.drawString(72, 700, "The first page has words.")
    pdf.showPage()
    scanned_page(pdf)
    pdf.showPage()
    pdf.save()

    result = convert("mixed.pdf", buffer.getvalue(), max_bytes=MAX_BYTES)

    assert result.text == "The first page has words."
    assert result.warnings == [
        "Page 2 has no selectable text (it is probably a scanned image), so its words are "
        "missing; run the PDF through OCR first to include them."
    ]


def test_pdf_that_needs_a_password_is_refused():
    data = draw_pdf(
        [[(72, 700, "Secret words.")]],
        encrypt=StandardEncryption("reader-password", ownerPassword="owner", strength=128),
    )

    with pytest.raises(ConversionError) as error:
        convert("locked.pdf", data, max_bytes=MAX_BYTES)

    assert str(error.value) == (
        "This PDF is protected by a password. Save a copy without the password and upload that."
    )


def test_pdf_encrypted_only_against_changes_opens_without_a_password_and_is_read():
    data = draw_pdf(
        [[(72, 700, "Words anyone may read.")]],
        encrypt=StandardEncryption("", ownerPassword="owner", canModify=0, strength=128),
    )

    assert convert("restricted.pdf", data, max_bytes=MAX_BYTES).text == "Words anyone may read."


def test_damaged_pdf_says_so():
    with pytest.raises(ConversionError) as error:
        convert("broken.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 100, max_bytes=MAX_BYTES)

    assert str(error.value) == (
        "This file could not be read as a PDF; it may be damaged. "
        "Open it, save a new copy, and upload that."
    )


def test_pdf_reports_progress_page_by_page():
    story = [Paragraph(prose(100), STYLES["BodyText"])]
    seen = []

    convert("long.pdf", make_pdf(story), max_bytes=MAX_BYTES, progress=lambda *p: seen.append(p))

    assert seen == [(1, 2), (2, 2)]


@pytest.mark.slow  # making the PDF takes reportlab about 1.5 s
def test_a_few_megabyte_pdf_converts_whole():
    story = []
    for chapter in range(1, 401):
        story.append(Paragraph(f"Chapter {chapter}", STYLES["Heading1"]))
        story += [Paragraph(prose(9, start=n), STYLES["BodyText"]) for n in range(8)]
    data = make_pdf(story, pageCompression=0)  # uncompressed, for a file of a few MB
    assert len(data) > 2 * 1024 * 1024

    result = convert("big.pdf", data, max_bytes=MAX_BYTES)

    assert len(paragraphs_of(result)) == 400 * 9


# EPUB.


def make_epub(*, title: str = "The Valley in Spring") -> bytes:
    """
    A two-chapter EPUB 3, laid out as e-book programs write one: the mimetype
    first and stored, the package in EPUB/, a contents page (the nav) first in
    the spine, and the chapters in the manifest in the reverse of their order.
    """
    chapters = [("The Rain", prose(2)), ("The Bridge", prose(2, start=2))]
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" '
        'xmlns:epub="http://www.idpf.org/2007/ops" lang="en">'
        "<head><title>{title}</title></head><body>{body}</body></html>"
    )
    nav = xhtml.format(
        title=title,
        body='<nav epub:type="toc" id="id"><h2>Contents</h2><ol>'
        + "".join(
            f'<li><a href="chapter{number}.xhtml">{heading}</a></li>'
            for number, (heading, _) in enumerate(chapters, start=1)
        )
        + "</ol></nav>",
    )
    # The spine, not the manifest, gives the order.
    items = "".join(
        f'<item href="chapter{number}.xhtml" id="chapter_{number}" '
        'media-type="application/xhtml+xml"/>'
        for number in reversed(range(1, len(chapters) + 1))
    )
    itemrefs = "".join(
        f'<itemref idref="chapter_{number}"/>' for number in range(1, len(chapters) + 1)
    )
    package = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="id">valley-1888</dc:identifier><dc:title>{title}</dc:title>'
        "<dc:language>en</dc:language></metadata>"
        f'<manifest>{items}<item href="nav.xhtml" id="nav" '
        'media-type="application/xhtml+xml" properties="nav"/></manifest>'
        f'<spine><itemref idref="nav"/>{itemrefs}</spine></package>'
    )
    container = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
        '<rootfiles><rootfile full-path="EPUB/content.opf" '
        'media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("EPUB/content.opf", package)
        archive.writestr("EPUB/nav.xhtml", nav)
        for number, (heading, text) in enumerate(chapters, start=1):
            body = f"<h1>{heading}</h1><p>{text}</p><img src='x.png' alt=''/>"
            archive.writestr(f"EPUB/chapter{number}.xhtml", xhtml.format(title=heading, body=body))
    return buffer.getvalue()


def test_epub_chapters_come_in_reading_order_without_the_contents_page():
    result = convert("valley.epub", make_epub(), max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == ["The Rain", prose(2), "The Bridge", prose(2, start=2)]
    assert result.title == "The Valley in Spring"
    assert result.warnings == ["2 images were left out: a reading holds only text."]


def test_epub_reports_progress_chapter_by_chapter():
    seen = []

    convert("valley.epub", make_epub(), max_bytes=MAX_BYTES, progress=lambda *p: seen.append(p))

    assert seen == [(1, 2), (2, 2)]


def test_epub_with_drm_is_refused():
    source = zipfile.ZipFile(io.BytesIO(make_epub()))
    chapter = next(name for name in source.namelist() if name.endswith("chapter1.xhtml"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        archive.writestr(
            "META-INF/encryption.xml",
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
            f'<enc:CipherData><enc:CipherReference URI="{chapter}"/></enc:CipherData>'
            "</enc:EncryptedData></encryption>",
        )

    with pytest.raises(ConversionError) as error:
        convert("locked.epub", buffer.getvalue(), max_bytes=MAX_BYTES)

    assert str(error.value) == (
        "This e-book is protected by DRM (copy protection), so its text cannot be read."
    )


def test_epub_missing_a_chapter_keeps_the_others_and_says_which_is_missing():
    source = zipfile.ZipFile(io.BytesIO(make_epub()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            if not info.filename.endswith("chapter2.xhtml"):
                archive.writestr(info, source.read(info))

    result = convert("torn.epub", buffer.getvalue(), max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == ["The Rain", prose(2)]
    assert result.warnings[0] == (
        "Part of the book (EPUB/chapter2.xhtml) is missing from the file and was left out."
    )


# HTML, Markdown and plain text.


def test_html_keeps_blocks_and_drops_scripts_styles_menus_and_comments():
    html = """<!DOCTYPE html>
    <html><head><meta charset="utf-8"><title>Spring Floods &amp; Their Causes</title>
    <style>p { color: red }</style><script>alert("hello")</script></head>
    <body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
    <h1>Spring floods</h1>
    <p>The   river
       rose <em>fast</em>.<!-- a comment --> It&rsquo;s true.</p>
    <div>Reported by<br>the parish clerk</div>
    <ul><li>rain<ul><li>heavy rain</li></ul></li><li><p>melting snow</p></li></ul>
    <ol start="3"><li>third</li><li>fourth</li></ol>
    <blockquote>Water everywhere.</blockquote>
    <pre>line one
      line two</pre>
    <script>document.write("not text")</script><noscript>Please enable JavaScript</noscript>
    </body></html>"""

    result = convert("floods.html", html.encode(), max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == [
        "Spring floods",
        "The river rose fast. It’s true.",
        "Reported by\nthe parish clerk",
        "• rain",
        "◦ heavy rain",
        "• melting snow",
        "3. third",
        "4. fourth",
        "Water everywhere.",
        "line one\n      line two",
    ]
    assert result.title == "Spring Floods & Their Causes"
    assert result.warnings == []


def test_html_in_a_declared_legacy_encoding_is_read_in_it_as_a_browser_would():
    # Pages that declare ISO-8859-1 are read as Windows-1252, as browsers do,
    # since that is what their curly quotes (0x93, 0x94) are in.
    html = b'<meta charset="iso-8859-1"><p>\x93Caf\xe9 cr\xe8me\x94</p>'

    result = convert("menu.htm", html, max_bytes=MAX_BYTES)

    assert result.text == "“Café crème”"
    assert result.warnings == []


def test_markdown_headings_become_plain_paragraphs_and_its_raw_html_is_sanitised():
    markdown = (
        "---\ntitle: 'River Notes'\nauthor: A. Teacher\n---\n\n"
        "# The river\n\nIt rose *fast*, and\nthen **faster**.\n\n"
        "## What we saw\n\n- branches\n- a [door](https://example.com)\n\n"
        "<script>alert(1)</script>\n\n"
        "| Day | Rain |\n|---|---|\n| Mon | 40 mm |\n\n"
        "```\ncode stays\n  as it is\n```\n\n![a picture](river.png)\n"
    )

    result = convert("notes.md", markdown.encode(), max_bytes=MAX_BYTES)

    assert paragraphs_of(result) == [
        "The river",
        "It rose fast, and then faster.",
        "What we saw",
        "• branches",
        "• a door",
        "Day | Rain",
        "Mon | 40 mm",
        "code stays\n  as it is",
    ]
    assert result.title == "River Notes"
    assert result.warnings == [
        "1 image was left out: a reading holds only text.",
        "Tables were flattened: each row is now one paragraph, its cells separated by “|”.",
    ]


def test_markdown_without_front_matter_takes_its_first_heading_as_title():
    result = convert("notes.md", b"Intro line.\n\n# The Real Title\n\nText.", max_bytes=MAX_BYTES)

    assert result.title == "The Real Title"
    assert paragraphs_of(result) == ["Intro line.", "The Real Title", "Text."]


def test_utf8_text_keeps_its_lines_and_gets_the_sites_paragraph_layout():
    text = "\ufeffThe Rain\r\n\r\n\r\n\r\nIt fell   \r\nall night.\r\n\r\nCafe\u0301 closed.\r\n"

    result = convert("the_rain.txt", text.encode(), max_bytes=MAX_BYTES)

    assert result.text == "The Rain\n\nIt fell\nall night.\n\nCafé closed."
    assert result.title == "the rain"
    assert result.warnings == []


def test_text_in_a_legacy_windows_encoding_is_read_and_the_teacher_is_told():
    text = "“Déjà vu,” she said — twice."

    result = convert("quote.txt", text.encode("cp1252"), max_bytes=MAX_BYTES)

    assert result.text == text
    assert result.warnings == [
        "This file was not saved as UTF-8, so it was read as Windows Western European "
        "(cp1252); check that accented letters and quotation marks look right."
    ]


def test_utf16_text_with_a_byte_order_mark_is_read():
    result = convert("notes.txt", "Grüße aus Köln".encode("utf-16"), max_bytes=MAX_BYTES)

    assert result.text == "Grüße aus Köln"


def test_pasted_text_gets_the_sites_paragraph_layout():
    result = convert_text("  First.\r\n\r\n\r\nSecond\x07 line  \nstill second.\n\n")

    assert result == Converted(text="First.\n\nSecond line\nstill second.", title="")


def test_pasted_text_that_is_empty_is_refused():
    with pytest.raises(ConversionError) as error:
        convert_text(" \n\n \t")

    assert str(error.value) == "The pasted text is empty."


# Bad files: each gets a clear message.


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, member in members.items():
            archive.writestr(name, member)
    return buffer.getvalue()


def zip_bomb_docx() -> bytes:
    """A real .docx with 50 MB of zeros added, which deflate packs into some 50 KB."""
    source = zipfile.ZipFile(io.BytesIO(make_docx(essay)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        with archive.open("word/media/zeros.bin", "w") as member:
            for _ in range(50):
                member.write(bytes(1024 * 1024))
    return buffer.getvalue()


ZIP_BOMB = (
    "This file unpacks to far more data than a real document holds (it may be a “zip bomb”), "
    "so it was not opened."
)


def test_zip_bomb_in_a_docx_is_refused_before_it_is_unpacked():
    data = zip_bomb_docx()
    assert len(data) < 200 * 1024

    with pytest.raises(ConversionError) as error:
        convert("bomb.docx", data, max_bytes=MAX_BYTES)

    assert str(error.value) == ZIP_BOMB


def test_zip_that_declares_more_than_the_unpacked_limit_is_refused(monkeypatch):
    monkeypatch.setattr(archives, "MAX_UNPACKED_BYTES", 100_000)
    data = make_docx(lambda document: document.add_picture(io.BytesIO(png(300, 300))))

    with pytest.raises(ConversionError) as error:
        convert("big.docx", data, max_bytes=MAX_BYTES)

    assert str(error.value) == ZIP_BOMB


def test_epub_with_too_many_members_is_refused(monkeypatch):
    monkeypatch.setattr(archives, "MAX_ZIP_MEMBERS", 5)

    with pytest.raises(ConversionError) as error:
        convert("many.epub", make_epub(), max_bytes=MAX_BYTES)

    assert str(error.value) == ZIP_BOMB


@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.html", "empty.pdf", "e.docx"])
def test_empty_file_is_refused(name):
    with pytest.raises(ConversionError) as error:
        convert(name, b"", max_bytes=MAX_BYTES)

    assert str(error.value) == "This file is empty."


def test_file_of_blank_lines_has_no_text():
    with pytest.raises(ConversionError) as error:
        convert("blank.txt", b"\n \n\t\n", max_bytes=MAX_BYTES)

    assert str(error.value) == "No text was found in this file."


def test_file_over_the_size_limit_is_refused_before_it_is_read():
    data = b"%PDF-" + bytes(MAX_BYTES)  # one size-limit of zeros, and then some

    with pytest.raises(ConversionError) as error:
        convert("huge.pdf", data, max_bytes=MAX_BYTES)

    assert str(error.value) == ("This file is 20.1 MB; the largest file you can upload is 20 MB.")


def test_pdf_name_with_word_content_says_what_the_file_really_is():
    with pytest.raises(ConversionError) as error:
        convert("essay.pdf", make_docx(essay), max_bytes=MAX_BYTES)

    assert str(error.value) == (
        "This file’s name ends in .pdf, but it is a Word document (.docx). "
        "Rename it to end in .docx and upload it again."
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "essay.docx",
            b"%PDF-1.7 ...",
            "This file’s name ends in .docx, but it is a PDF. "
            "Rename it to end in .pdf and upload it again.",
        ),
        (
            "book.epub",
            "docx",
            "This file’s name ends in .epub, but it is a Word document (.docx). "
            "Rename it to end in .docx and upload it again.",
        ),
        (
            "notes.txt",
            b"%PDF-1.7 ...",
            "This file’s name ends in .txt, but it is a PDF. "
            "Rename it to end in .pdf and upload it again.",
        ),
        (
            "essay.docx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
            "This file’s name ends in .docx, but it is an older Word document (.doc), which "
            "cannot be read here. Save it as a Word document (.docx) or a PDF and upload that.",
        ),
        ("random.pdf", b"\x01\x02" * 100, "This file’s name ends in .pdf, but it is not a PDF."),
        (
            "photo.html",
            "png",
            "This file’s name ends in .html, but it is an image. A reading is made of text: "
            "upload the text itself (run a scanned page through OCR first).",
        ),
        (
            "essay.docx",
            zip_bytes({"notes.txt": b"hello"}),
            "This file’s name ends in .docx, but it is a zip archive, which cannot be read here. "
            "Save it as a Word document (.docx) or a PDF and upload that.",
        ),
    ],
)
def test_file_whose_contents_do_not_match_its_name_is_refused(name, data, message):
    data = {"docx": make_docx(essay), "png": png()}.get(data, data)

    with pytest.raises(ConversionError) as error:
        convert(name, data, max_bytes=MAX_BYTES)

    assert str(error.value) == message


def test_binary_file_named_as_text_is_refused():
    with pytest.raises(ConversionError) as error:
        convert("data.txt", bytes(range(256)) * 4, max_bytes=MAX_BYTES)

    assert str(error.value) == "This file’s name ends in .txt, but it is not text."


def test_text_in_no_encoding_that_can_be_worked_out_is_refused():
    with pytest.raises(ConversionError) as error:
        convert("odd.txt", b"caf\x81 \x8d\x8f\x90\x9d", max_bytes=MAX_BYTES)

    assert str(error.value) == (
        "This file’s text is in an encoding that could not be worked out. "
        "Save it as UTF-8 and upload it again."
    )


def test_damaged_docx_says_so():
    data = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<not-xml"})

    with pytest.raises(ConversionError) as error:
        convert("broken.docx", data, max_bytes=MAX_BYTES)

    assert str(error.value) == (
        "This file could not be read as a Word document (.docx); it may be damaged. "
        "Open it, save a new copy, and upload that."
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "slides.pptx",
            "Files ending in .pptx cannot be read here. Upload a .txt, .md, .docx, .html, .pdf "
            "or .epub file, or paste the text.",
        ),
        (
            "essay.doc",
            "Files ending in .doc cannot be read here. Save it as a Word document (.docx) or "
            "a PDF and upload that, or paste the text.",
        ),
        (
            "README",
            "This file’s name does not end in a type such as .docx or .pdf. Upload a .txt, .md, "
            ".docx, .html, .pdf or .epub file, or paste the text.",
        ),
    ],
)
def test_unknown_type_says_which_types_are_accepted(name, message):
    with pytest.raises(ConversionError) as error:
        convert(name, b"anything", max_bytes=MAX_BYTES)

    assert str(error.value) == message


def test_html_nested_absurdly_deep_is_refused_before_it_is_parsed():
    # html5ever alone would take about a minute on this.
    with pytest.raises(ConversionError) as error:
        convert("deep.html", b"<div>" * 100_000 + b"words", max_bytes=MAX_BYTES)

    assert str(error.value) == (
        "This file’s markup is nested more than 1,000 levels deep, which no real document "
        "is, so it was not read."
    )


def test_text_longer_than_any_reading_is_refused(monkeypatch):
    monkeypatch.setattr(base, "MAX_TEXT_CHARS", 1_000)

    with pytest.raises(ConversionError) as error:
        convert("long.txt", b"word " * 300, max_bytes=MAX_BYTES)

    assert str(error.value) == (
        "This text is longer than 1,000 characters; split it into several readings."
    )


def test_extension_is_matched_whatever_its_case():
    assert convert("NOTES.TXT", b"Loud name, quiet text.", max_bytes=MAX_BYTES).text == (
        "Loud name, quiet text."
    )


def test_title_that_is_too_long_for_a_document_is_shortened():
    title = "A" * 300
    result = convert("long.html", f"<title>{title}</title><p>x</p>".encode(), max_bytes=MAX_BYTES)

    assert len(result.title) == base.TITLE_MAX_LENGTH
    assert result.title.endswith("…")
