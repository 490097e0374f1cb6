"""The W3C Web Annotation Data Model view of a document's discussion."""

from collections.abc import Iterable

from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from .models import Post
from .site import absolute

CONTEXT = "http://www.w3.org/ns/anno.jsonld"


def annotation_collection(request: HttpRequest, space, posts: Iterable[Post]) -> dict:
    """`space` is the discussion (annotate.spaces.Space) the posts belong to."""
    document_url = absolute(space.url, request)
    items = [web_annotation(request, document_url, post) for post in posts]
    return collection(
        absolute(space.jsonld_url, request),
        f"Annotations on “{space.document.title}”",
        items,
        page_id_suffix="?page=1",
    )


def collection(collection_url: str, label: str, items: list[dict], *, page_id_suffix: str) -> dict:
    """An AnnotationCollection holding `items` in a single AnnotationPage."""
    return {
        "@context": CONTEXT,
        "id": collection_url,
        "type": "AnnotationCollection",
        "label": label,
        "total": len(items),
        "first": {
            "id": collection_url + page_id_suffix,
            "type": "AnnotationPage",
            "startIndex": 0,
            "items": items,
        },
    }


def jsonld_response(data: dict) -> JsonResponse:
    return JsonResponse(
        data,
        content_type=f'application/ld+json; profile="{CONTEXT}"',
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )


def post_iri(request: HttpRequest, post_id: int) -> str:
    return absolute(reverse("post", args=[post_id]), request)


def web_annotation(request: HttpRequest, document_url: str, post: Post) -> dict:
    annotation = {
        "id": post_iri(request, post.pk),
        "type": "Annotation",
        "motivation": "replying" if post.parent_id else "commenting",
        "created": post.created_at.isoformat(),
        "creator": {"type": "Person", "name": post.author_name},
        "body": {
            "type": "TextualBody",
            "value": post.body,
            "format": "text/markdown",
        },
    }
    if post.edited_at:
        annotation["modified"] = post.edited_at.isoformat()
    if post.parent_id:
        annotation["target"] = post_iri(request, post.parent_id)
    elif post.is_annotation:
        annotation["target"] = {
            "source": document_url,
            "state": {
                "type": "HttpRequestState",
                "value": f"revision={post.revision.number}",
            },
            "selector": [
                {
                    "type": "TextQuoteSelector",
                    "exact": post.exact,
                    "prefix": post.prefix,
                    "suffix": post.suffix,
                },
                {"type": "TextPositionSelector", "start": post.start, "end": post.end},
            ],
        }
    else:
        annotation["target"] = document_url
    return annotation
