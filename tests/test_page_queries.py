"""The reading page costs the same few queries for ten posts or a thousand."""

import random
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone

from annotate.anchoring import anchor_at
from annotate.models import Post
from annotate.rendering import render_markdown
from tests.factories import make_user

BODIES = [
    "A short note.",
    "**Strong** words with a [link](https://example.com/source).",
    "> Quoted back\n\nand answered.",
    "- one\n- two\n\n`code`",
]
BODY_HTML = {body: render_markdown(body) for body in BODIES}

# Measured: the document with its revision, then every visible post with its author.
ANONYMOUS_QUERIES = 2
# Measured: the same two, plus the session and the signed-in user.
SIGNED_IN_QUERIES = 4


def new_post(document, rng, people, **fields) -> Post:
    body = rng.choice(BODIES)
    return Post(
        document=document,
        author=rng.choice(people),
        body=body,
        body_html=BODY_HTML[body],
        created_at=timezone.now() - timedelta(minutes=rng.randint(1, 10_000)),
        **fields,
    )


def populate(document, people, reader, size: int, seed: int) -> None:
    """
    `size` annotations and `size` page comments with replies three levels
    deep; a tenth each edited, held for the reader, held for someone else,
    removed, and deleted.
    """
    rng = random.Random(seed)
    text = document.text
    revision = document.current_revision
    annotations = []
    for _ in range(size):
        start = rng.randrange(len(text) - 1)
        end = min(len(text), start + rng.randint(1, 120))
        while not text[start:end].strip():
            end += 1
        anchor = anchor_at(text, start, end)
        annotations.append(
            new_post(
                document,
                rng,
                people,
                revision=revision,
                exact=anchor.exact,
                prefix=anchor.prefix,
                suffix=anchor.suffix,
                start=anchor.start,
                end=anchor.end,
            )
        )
    comments = [new_post(document, rng, people) for _ in range(size)]
    roots = Post.objects.bulk_create(annotations + comments)

    parents = roots
    for depth in (1, 2, 3):
        replies = [
            new_post(document, rng, people, parent=parent, depth=depth)
            for parent in rng.sample(parents, len(parents) // 2)
        ]
        parents = Post.objects.bulk_create(replies)

    everything = list(Post.objects.filter(document=document).values_list("pk", flat=True))
    rng.shuffle(everything)
    tenth = max(1, len(everything) // 10)
    edited, held_for_reader, held_for_others, removed, deleted = (
        everything[i * tenth : (i + 1) * tenth] for i in range(5)
    )
    now = timezone.now()
    Post.objects.filter(pk__in=edited).update(edited_at=now)
    Post.objects.filter(pk__in=held_for_reader).update(author=reader, status=Post.Status.PENDING)
    Post.objects.filter(pk__in=held_for_others).update(author=people[0], status=Post.Status.SPAM)
    Post.objects.filter(pk__in=removed).update(status=Post.Status.REMOVED)
    Post.objects.filter(pk__in=deleted).update(body="", body_html="", deleted_at=now)


@pytest.fixture
def people(db):
    return [make_user(f"Reader {n}", f"reader{n}@example.com") for n in range(8)]


def articles_on(response) -> int:
    return len(BeautifulSoup(response.content, "html.parser").select("article.post"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signed_in", "expected"),
    [(False, ANONYMOUS_QUERIES), (True, SIGNED_IN_QUERIES)],
    ids=["anonymous", "signed in"],
)
def test_the_page_uses_the_same_few_queries_for_ten_or_a_thousand_posts(
    client,
    seeded,
    people,
    stranger,
    signed_in,
    expected,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    reader = stranger if signed_in else None
    if reader:
        client.force_login(reader)
    url = seeded.get_absolute_url()

    populate(seeded, people, stranger, size=10, seed=10)
    with django_assert_max_num_queries(expected) as small:
        small_page = client.get(url)
    few = articles_on(small_page)

    Post.objects.all().delete()
    populate(seeded, people, stranger, size=1000, seed=1000)
    with django_assert_num_queries(len(small.captured_queries)):
        large_page = client.get(url)
    many = articles_on(large_page)

    assert small_page.status_code == large_page.status_code == 200
    assert len(small.captured_queries) == expected
    assert few >= 10
    assert many >= 1000
    assert len(BeautifulSoup(large_page.content, "html.parser").select("a.hl")) > 100
    assert (b"awaiting moderation" in large_page.content) == signed_in


def test_a_permalink_and_a_reply_link_cost_no_extra_queries(
    client, seeded, people, stranger, django_assert_num_queries
):
    client.force_login(stranger)
    populate(seeded, people, stranger, size=200, seed=7)
    reply = Post.objects.filter(parent__isnull=False, status=Post.Status.PUBLISHED).first()

    with django_assert_num_queries(SIGNED_IN_QUERIES):
        response = client.get(seeded.get_absolute_url(), {"post": reply.pk, "replyto": reply.pk})

    assert response.status_code == 200


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed in"])
def test_the_annotation_collection_uses_the_same_few_queries_at_any_size(
    client, seeded, people, stranger, signed_in, django_assert_num_queries
):
    if signed_in:
        client.force_login(stranger)
    url = reverse("annotations_jsonld", args=[seeded.slug])
    expected = SIGNED_IN_QUERIES if signed_in else ANONYMOUS_QUERIES

    populate(seeded, people, stranger, size=10, seed=3)
    with django_assert_num_queries(expected):
        small = client.get(url).json()
    populate(seeded, people, stranger, size=500, seed=4)
    with django_assert_num_queries(expected):
        large = client.get(url).json()

    assert 10 < small["total"] < large["total"]
