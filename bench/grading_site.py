"""
The floors bench/grading.py measures the teaching staff's pages against,
served beside the site's own URLs: the least a page showing the same rows
does, one plain query each, with the same request, session and middleware.
"""

import csv
from collections import Counter

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import include, path
from django.utils.html import escape

from annotate.classes import asks_something
from annotate.models import Classroom, Post, Score


def class_floor(request: HttpRequest, class_slug: str) -> HttpResponse:
    """The class's posts, the same columns as the class page reads, counted per text."""
    classroom = get_object_or_404(Classroom, slug=class_slug)
    rows = list(
        Post.objects.filter(classroom=classroom)
        .annotate(asks=asks_something())
        .values_list("pk", "parent_id", "document_id", "author_id", "status", "deleted_at", "asks")
    )
    counts = Counter(row[2] for row in rows)
    items = "".join(f"<li>{document}: {count}</li>" for document, count in sorted(counts.items()))
    return HttpResponse(f"<!doctype html><title>{escape(classroom.name)}</title><ul>{items}</ul>")


def gradebook_floor(request: HttpRequest, class_slug: str) -> HttpResponse:
    """The class's scores with each student's name and address, a CSV row each."""
    classroom = get_object_or_404(Classroom, slug=class_slug)
    response = HttpResponse(content_type="text/csv")
    writer = csv.writer(response)
    writer.writerows(
        Score.objects.filter(reading__classroom=classroom).values_list(
            "student__display_name", "student__email", "reading_id", "computed", "override"
        )
    )
    return response


urlpatterns = [
    path("bench/class/<slug:class_slug>/", class_floor, name="bench_class_floor"),
    path("bench/gradebook/<slug:class_slug>/", gradebook_floor, name="bench_gradebook_floor"),
    path("", include("config.urls")),
]
