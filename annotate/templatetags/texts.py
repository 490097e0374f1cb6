"""Addresses of a text's pages in the space (public, or a class) the reader is in."""

from django import template

from annotate.spaces import Space

register = template.Library()


@register.simple_tag
def revision_url(space: Space, number: int) -> str:
    return space.revision_url(number)


@register.simple_tag
def diff_url(space: Space, number: int) -> str:
    return space.diff_url(number)
