"""Short addresses for new classes and texts, made from their names."""

from django.utils.crypto import get_random_string
from django.utils.text import slugify

from .models import Classroom


def unique_slug(model, words: str, fallback: str) -> str:
    """
    A short address for a new class or text from its name, made unique among
    `model`'s with a random suffix if need be.
    """
    base = slugify(words)[:80] or fallback
    slug = base
    while model.objects.filter(slug=slug).exists():
        slug = f"{base}-{get_random_string(4, 'abcdefghijkmnpqrstuvwxyz23456789')}"
    return slug


def unique_class_slug(name: str) -> str:
    return unique_slug(Classroom, name, "class")
