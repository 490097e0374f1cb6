"""
What a moderator may reach in the admin.

Superusers reach everything. An instructor reaches the posts, flags, texts,
readings and members of the classes they teach, and nothing of other
classes. A moderator who teaches no class moderates the public discussions.
"""

from django.db.models import Q

from .models import Classroom, Membership


def taught_classrooms(user):
    if user.is_superuser:
        return Classroom.objects.all()
    return Classroom.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.INSTRUCTOR
    )


def is_site_moderator(user) -> bool:
    """Superusers, and moderators who teach no class: they look after public discussions."""
    if user.is_superuser:
        return True
    # Asked several times per admin page: remember the answer for this request's user.
    if not hasattr(user, "_teaches_a_class"):
        user._teaches_a_class = taught_classrooms(user).exists()
    return not user._teaches_a_class


def posts_in_reach(user) -> Q:
    """A filter on Post for what `user` moderates."""
    if user.is_superuser:
        return Q()
    reach = Q(classroom__in=taught_classrooms(user))
    if is_site_moderator(user):
        reach |= Q(classroom=None)
    return reach


def documents_in_reach(user) -> Q:
    if user.is_superuser:
        return Q()
    reach = Q(readings__classroom__in=taught_classrooms(user))
    if is_site_moderator(user):
        reach |= Q(is_public=True)
    return reach
