"""
What a moderator may reach in the admin.

Superusers reach everything. An instructor or teaching assistant reaches the
posts, flags, texts, readings and members of the classes they teach, and
nothing of other classes. A moderator who teaches no class moderates the
public discussions; teachers and class staff never do.
"""

from django.db.models import Q

from .models import TEACHING_ROLES, Classroom, Document, Post, Reading


def taught_classrooms(user):
    if user.is_superuser:
        return Classroom.objects.all()
    return Classroom.objects.filter(memberships__user=user, memberships__role__in=TEACHING_ROLES)


def is_site_moderator(user) -> bool:
    """
    Superusers, and moderators who teach no class: they look after public
    discussions. A teacher never does, even before their first class, nor
    someone who joined a class's staff by link, even after leaving it.
    """
    if user.is_superuser:
        return True
    if getattr(user, "is_teacher", False) or getattr(user, "is_class_staff", False):
        return False
    # Asked several times per admin page: remember the answer for this request's user.
    if not hasattr(user, "_teaches_a_class"):
        user._teaches_a_class = taught_classrooms(user).exists()
    return not user._teaches_a_class


def sees_personal_details(user) -> bool:
    """
    Whether the admin shows `user` people's email addresses and the IP address,
    user agent and referrer sent to Akismet. Those are for spam work: superusers,
    and site moderators for the public discussions they look after. Instructors
    never see them: they teach their students, they do not investigate them.
    """
    return is_site_moderator(user)


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


def readings_in_reach(user):
    """The readings of the classes `user` teaches, in the order the admin picks one of them."""
    return Reading.objects.filter(classroom__in=taught_classrooms(user)).order_by(
        "classroom__name", "classroom__pk"
    )


def document_url_for(user, document: Document) -> str | None:
    """
    Where `user` reads `document` on the site: its public page, or for a
    class-only text its page in a class they teach. None when they read it nowhere.
    """
    if document.is_public or user.is_superuser:
        return document.get_absolute_url()
    reading = readings_in_reach(user).filter(document=document).select_related("classroom").first()
    return reading.get_absolute_url() if reading else None


def post_url_for(user, post: Post) -> str | None:
    """Where `user` reads `post` in its discussion, or None when no page of theirs shows it."""
    if post.classroom_id is None:
        readable = post.document.is_public or user.is_superuser
    else:
        # A class discusses a text on its reading: without the reading there is no page.
        readable = Reading.objects.filter(
            classroom_id=post.classroom_id, document_id=post.document_id
        ).exists()
    return post.get_absolute_url() if readable else None


def assignable_documents(user):
    """
    The texts `user` may make a reading of a class: public texts and their own
    (superusers: every text). Another teacher's private text is never among
    them, even when no class reads it yet.
    """
    if user.is_superuser:
        return Document.objects.all()
    return Document.objects.filter(Q(is_public=True) | Q(owner=user))
