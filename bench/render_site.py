"""
The two pages bench/render.py compares the document page with, served beside
the site's own URLs: the same text with django-comments-xtd's stock comment
tree, and the floor, a bare loop over the same posts.
"""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import include, path

from annotate.anchoring import paragraph_spans
from annotate.models import Document, Post


def _document_and_paragraphs(slug: str) -> tuple[Document, list[str]]:
    document = get_object_or_404(Document.objects.with_text(), slug=slug)
    text = document.text
    return document, [text[start:end] for start, end in paragraph_spans(text)]


def xtd_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The text, then its comments as django-comments-xtd's docs show: tree, then form."""
    document, paragraphs = _document_and_paragraphs(slug)
    return render(request, "bench/xtd.html", {"document": document, "paragraphs": paragraphs})


def floor_page(request: HttpRequest, slug: str) -> HttpResponse:
    """
    The least any page showing these posts does: the same rows in one query,
    in a plain template loop, with no threading, highlights or actions.
    """
    document, paragraphs = _document_and_paragraphs(slug)
    posts = Post.objects.for_document(document).visible_to(AnonymousUser()).select_related("author")
    context = {"document": document, "paragraphs": paragraphs, "posts": posts}
    return render(request, "bench/floor.html", context)


urlpatterns = [
    path("bench/xtd/<slug:slug>/", xtd_page, name="bench_xtd"),
    path("bench/floor/<slug:slug>/", floor_page, name="bench_floor"),
    path("comments/", include("django_comments_xtd.urls")),
    path("", include("config.urls")),
]
