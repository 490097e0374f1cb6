"""
The admin site itself: Django's, with the generic "view on site" redirect
closed to staff, and people's addresses shown only to those who do spam work.
"""

from functools import wraps

from django.contrib import admin
from django.http import Http404, HttpRequest

from .scoping import sees_personal_details


def superusers_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise Http404("Use the “View on site” links of the pages you moderate.")
        return view(request, *args, **kwargs)

    return wrapper


class AnnotateAdminSite(admin.AdminSite):
    site_header = "annotate moderation"
    site_title = "annotate admin"

    def each_context(self, request: HttpRequest) -> dict:
        # Templates (a history page's "User" column) name people by address only for these.
        user = request.user
        shown = user.is_active and user.is_staff and sees_personal_details(user)
        return {**super().each_context(request), "shows_personal_details": shown}

    def get_urls(self):
        urls = super().get_urls()
        for pattern in urls:
            if getattr(pattern, "name", None) == "view_on_site":
                # Django's generic "view on site" redirect would tell any staff
                # member where any object lives, including other classes' posts.
                pattern.callback = superusers_only(pattern.callback)
        return urls


class DirectViewOnSite:
    """“View on site” links straight to the object's page, not through the redirect."""

    def view_on_site(self, obj) -> str:
        return obj.get_absolute_url()


class ViewOnSiteForViewer:
    """
    “View on site” links to the page the viewer can open: a class-only text in
    the class they teach, never its public address (a 404 for them), and no
    link at all when no page of theirs shows the object.
    """

    view_on_site = False  # Django's own link cannot know the viewer; render_change_form adds ours

    def site_url_for(self, request: HttpRequest, obj) -> str | None:
        raise NotImplementedError

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add, change, form_url, obj)
        url = self.site_url_for(request, obj) if obj is not None and obj.pk else None
        response.context_data |= {"has_absolute_url": url is not None, "absolute_url": url}
        return response
