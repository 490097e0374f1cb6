"""
The database side of bench/load.py and bench/akismet.py, run as a child process
against the benchmark's own database (DATABASE_URL in its environment), after
`migrate` and `load_seeds`:

    python bench/load/prepare.py prepare --users 2000 --seed-posts 60 --out data.tsv
    python bench/load/prepare.py count --marker bench-1234-sqlite

`prepare` makes readers with a known password and a verified address, each
with a signed-in session (and --login-users more without one, to sign in
through the form), a discussion to read, and writes what the load script needs as
tab-separated lines. `count` prints (as JSON) what the database holds of the
posts whose body carries the marker: each one's id and token (the marker and
what follows it), statuses, spam-check attempts and task results.
"""

import argparse
import json
import os
import random
import re
import secrets
import string
import sys
from collections import Counter
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.base import VALID_KEY_CHARS  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from annotate.anchoring import anchor_at  # noqa: E402
from annotate.models import Document, ModerationSettings, Post, SpamCheck, User  # noqa: E402
from annotate.rendering import render_markdown  # noqa: E402

PASSWORD = "bench-reader-password-2026"
"""Every benchmark reader's password (one hash for all: hashing is slow on purpose)."""
CSRF_CHARS = string.ascii_letters + string.digits
SENTENCE = (
    "the prisoners returned to a country that distrusted them and the archive "
    "shows how orders travelled from Moscow to the camps in a few weeks"
)


def reader_email(number: int) -> str:
    return f"bench-reader-{number}@example.org"


def prepare(users: int, login_users: int, seed_posts: int, anchors: int, out: Path) -> dict:
    rng = random.Random(20261127)
    document = Document.objects.select_related("current_revision").order_by("pk").first()
    if document is None or document.current_revision is None:
        raise SystemExit("No text to read: run load_seeds first.")
    text = document.current_revision.text
    rules = ModerationSettings.load()

    password_hash = make_password(PASSWORD)
    with transaction.atomic():
        readers = User.objects.bulk_create(
            User(email=reader_email(n), display_name=f"Reader {n}", password=password_hash)
            for n in range(1, users + login_users + 1)
        )
        readers, login_readers = readers[:users], readers[users:]
        # bulk_create sets primary keys on PostgreSQL and SQLite alike.
        EmailAddress.objects.bulk_create(
            EmailAddress(user=reader, email=reader.email, verified=True, primary=True)
            for reader in readers + login_readers
        )
        store_class = import_module(settings.SESSION_ENGINE).SessionStore
        expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
        sessions = []
        for reader in readers:
            # Exactly what django.contrib.auth.login() stores.
            data = {
                SESSION_KEY: str(reader.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: reader.get_session_auth_hash(),
            }
            key = get_random_string(32, VALID_KEY_CHARS)
            sessions.append(
                Session(
                    session_key=key, session_data=store_class().encode(data), expire_date=expires
                )
            )
        Session.objects.bulk_create(sessions)

        word_spans = [(m.start(), m.end()) for m in re.finditer(r"\w[\w’'-]*", text)]

        def random_anchor():
            first = rng.randrange(len(word_spans) - 8)
            start, _ = word_spans[first]
            _, end = word_spans[first + rng.randint(0, 7)]
            return anchor_at(text, start, end)

        roots: list[Post] = []
        for n in range(seed_posts):
            author = rng.choice(readers)
            words = rng.choices(SENTENCE.split(), k=rng.randint(8, 40))
            body = f"Seeded note {n}: {' '.join(words)}"
            post = Post(
                document=document,
                author=author,
                body=body,
                body_html=render_markdown(body),
                status=Post.Status.PUBLISHED,
                # An older discussion: no reader is held back by flood control at the start.
                created_at=timezone.now() - timedelta(days=1, minutes=seed_posts - n),
            )
            if roots and n % 3 == 2:
                post.parent = rng.choice(roots)
                post.depth = post.parent.depth + 1
            elif n % 3 == 1:
                anchor = random_anchor()
                post.revision = document.current_revision
                post.exact, post.prefix, post.suffix = anchor.exact, anchor.prefix, anchor.suffix
                post.start, post.end = anchor.start, anchor.end
            post.save()
            if post.parent is None:
                roots.append(post)

    lines = [f"path\t{document.get_absolute_url()}"]
    for reader, session in zip(readers, sessions, strict=True):
        csrf = "".join(secrets.choice(CSRF_CHARS) for _ in range(32))
        lines.append(f"user\t{session.session_key}\t{csrf}\t{reader.display_name}\t{reader.email}")
    lines += [f"login\t{reader.display_name}\t{reader.email}" for reader in login_readers]
    lines += [f"parent\t{post.pk}" for post in roots]
    for _ in range(anchors):
        anchor = random_anchor()
        fields = {
            "revision": document.current_revision.pk,
            "start": anchor.start,
            "end": anchor.end,
            "exact": anchor.exact,
            "prefix": anchor.prefix,
            "suffix": anchor.suffix,
        }
        lines.append(f"anchor\t{urlencode(fields)}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "document": document.slug,
        "path": document.get_absolute_url(),
        "users": len(readers),
        "seeded_posts": Post.objects.count(),
        "flood_seconds": rules.flood_seconds,
        "password": PASSWORD,
    }


def count(marker: str) -> dict:
    posts = Post.objects.filter(body__contains=marker)
    token = re.compile(re.escape(marker) + r"-[\w-]*\w")
    statuses = Counter(posts.values_list("status", "held_reason"))
    attempts = Counter(SpamCheck.objects.filter(post__in=posts).values_list("attempts", flat=True))
    return {
        "tokens": [
            [pk, match.group() if (match := token.search(body)) else ""]
            for pk, body in posts.order_by("pk").values_list("pk", "body")
        ],
        "statuses": {
            f"{status}/{reason}".rstrip("/"): n for (status, reason), n in statuses.items()
        },
        "check_attempts": {str(k): v for k, v in attempts.items()},
        "tasks": dict(Counter(DBTaskResult.objects.values_list("status", flat=True))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prepare_parser = commands.add_parser("prepare")
    prepare_parser.add_argument("--users", type=int, default=2000)
    prepare_parser.add_argument("--login-users", type=int, default=0)
    prepare_parser.add_argument("--seed-posts", type=int, default=60)
    prepare_parser.add_argument("--anchors", type=int, default=200)
    prepare_parser.add_argument("--out", type=Path, required=True)
    count_parser = commands.add_parser("count")
    count_parser.add_argument("--marker", required=True)
    args = parser.parse_args()
    if args.command == "prepare":
        result = prepare(args.users, args.login_users, args.seed_posts, args.anchors, args.out)
    else:
        result = count(args.marker)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
