"""A class's discussion for grading: CSV and W3C Web Annotation JSON-LD."""

import csv
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.core.validators import slug_re
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from .classes import get_classroom_for_instructor, get_classroom_for_staff
from .models import Classroom, Membership, Post
from .site import absolute
from .spaces import Space
from .webannotation import annotation_collection, jsonld_response, web_annotation
from .webannotation import collection as annotation_collection_of

# A cell that starts with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """Text for a spreadsheet cell, never run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _timestamp(moment, zone: ZoneInfo) -> str:
    """
    ISO 8601 in the class's time zone, with its UTC offset (2027-01-15T17:00:00+00:00):
    the hour a teacher expects, and still one exact instant for a spreadsheet.
    """
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else ""


def class_posts(classroom: Classroom, request: HttpRequest):
    """The class's posts, of one reading with ?reading=<slug>, deleted ones included."""
    posts = (
        Post.objects.filter(classroom=classroom)
        .select_related("author", "document", "revision", "classroom")
        .order_by("document__title", "created_at", "id")
    )
    if reading := request.GET.get("reading"):
        # No reading has a name that is not a slug, and PostgreSQL refuses some
        # (a NUL character is an error there, not a miss).
        posts = posts.filter(document__slug=reading) if slug_re.match(reading) else posts.none()
    return posts


def _csv_response(filename: str) -> tuple[HttpResponse, csv.writer]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8
    return response, csv.writer(response)


@require_safe
def discussion_csv(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom, _ = get_classroom_for_staff(request, class_slug)
    zone = classroom.zone
    posts = list(class_posts(classroom, request))
    # Deleted posts have no row of their own (their words are gone), but a
    # reply under a deleted annotation still belongs to its thread and passage.
    by_id = {post.pk: post for post in posts}

    def root_of(post: Post) -> Post:
        while post.parent_id and post.parent_id in by_id:
            post = by_id[post.parent_id]
        return post

    group_of = _groups_of_members(classroom)
    response, writer = _csv_response(f"{slugify(classroom.name)}-discussion.csv")
    writer.writerow(
        ["thread", "post", "reply_to", "kind", "reading", "author", "quoted_passage", "body",
         "posted", "edited", "status", "group"]
    )  # fmt: skip
    for post in posts:
        if post.is_deleted:
            continue
        root = root_of(post)
        writer.writerow(
            [
                root.pk,
                post.pk,
                post.parent_id or "",
                post.kind,
                cell(post.document.title),
                cell(post.author_name),
                cell(root.exact),
                cell(post.body),
                _timestamp(post.created_at, zone),
                _timestamp(post.edited_at, zone),
                post.status,
                cell(group_of.get(post.author_id, "")),
            ]
        )
    return response


def _groups_of_members(classroom: Classroom) -> dict[int, str]:
    """
    Each grouped student's group name, by user id: the group they are in now,
    which is the one whose discussion their posts show in (annotate/spaces.py).
    """
    return dict(classroom.memberships.exclude(group=None).values_list("user_id", "group__name"))


@require_safe
def discussion_jsonld(request: HttpRequest, class_slug: str) -> JsonResponse:
    classroom, _ = get_classroom_for_staff(request, class_slug)
    posts = list(
        class_posts(classroom, request).filter(status=Post.Status.PUBLISHED, deleted_at=None)
    )
    by_document = defaultdict(list)
    for post in posts:
        by_document[post.document].append(post)
    if len(by_document) == 1:
        document, document_posts = next(iter(by_document.items()))
        collection = annotation_collection(request, Space(document, classroom), document_posts)
    else:
        items = [
            web_annotation(request, absolute(Space(doc, classroom).url, request), post)
            for doc, document_posts in by_document.items()
            for post in document_posts
        ]
        collection = annotation_collection_of(
            absolute(request.get_full_path(), request),
            f"Discussion of {classroom}",
            items,
            page_id_suffix="#page1",
        )
    _name_audiences(classroom, by_document, collection["first"]["items"])
    response = jsonld_response(collection)
    response["Content-Disposition"] = (
        f'attachment; filename="{slugify(classroom.name)}-annotations.jsonld"'
    )
    return response


def _name_audiences(classroom: Classroom, by_document: dict, items: list[dict]) -> None:
    """
    On a reading discussed in groups, a student's post is written for their
    group: the Web Annotation model's `audience` (a schema.org Audience,
    which anno.jsonld's context defines) names it, so the export stays valid
    JSON-LD. `items` are in the order of `by_document`'s posts.
    """
    grouped = set(classroom.readings.filter(in_groups=True).values_list("document_id", flat=True))
    group_of = _groups_of_members(classroom)
    posts = (post for document_posts in by_document.values() for post in document_posts)
    for post, item in zip(posts, items, strict=True):
        if post.document_id in grouped and post.author_id in group_of:
            item["audience"] = {"type": "schema:Audience", "name": group_of[post.author_id]}


@require_safe
def students_csv(request: HttpRequest, class_slug: str) -> HttpResponse:
    """
    Per student: annotations, replies, comments, words, readings covered,
    first and last post. For instructors (and superusers) only: it gives each
    student's email address, to match the school's records when grading.
    """
    classroom = get_classroom_for_instructor(request, class_slug)
    zone = classroom.zone
    students = list(
        classroom.memberships.filter(role=Membership.Role.STUDENT)
        .select_related("user", "group")
        .order_by("user__display_name")
    )
    counted = Post.objects.filter(
        classroom=classroom,
        deleted_at=None,
        status__in=[Post.Status.PUBLISHED, Post.Status.PENDING],
    ).values_list("author_id", "parent_id", "start", "body", "document_id", "created_at")
    totals: dict[int, dict] = defaultdict(
        lambda: {"annotation": 0, "reply": 0, "comment": 0, "words": 0, "readings": set(),
                 "first": None, "last": None}
    )  # fmt: skip
    for author_id, parent_id, start, body, document_id, created_at in counted:
        row = totals[author_id]
        row[Post.kind_of(parent_id, start)] += 1
        row["words"] += len(body.split())
        row["readings"].add(document_id)
        row["first"] = min(row["first"] or created_at, created_at)
        row["last"] = max(row["last"] or created_at, created_at)
    response, writer = _csv_response(f"{slugify(classroom.name)}-students.csv")
    writer.writerow(
        ["student", "email", "annotations", "replies", "comments", "words", "readings_covered",
         "readings_assigned", "first_post", "last_post", "group"]
    )  # fmt: skip
    assigned = classroom.readings.count()
    for membership in students:
        row = totals[membership.user_id]
        writer.writerow(
            [
                cell(membership.user.display_name),
                cell(membership.user.email),
                row["annotation"],
                row["reply"],
                row["comment"],
                row["words"],
                len(row["readings"]),
                assigned,
                _timestamp(row["first"], zone),
                _timestamp(row["last"], zone),
                cell(membership.group.name if membership.group else ""),
            ]
        )
    return response
