"""The class page's staff links, as full addresses to copy (annotate/roster.py)."""

from django import template
from django.urls import reverse

from annotate.models import Classroom
from annotate.site import absolute

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_link(context, classroom: Classroom, role: str) -> str:
    """The address of the link that makes its holder the class's co-instructor or assistant."""
    token = classroom.instructor_token if role == "instructor" else classroom.assistant_token
    return absolute(reverse("join_staff", args=[token]), context.get("request"))
