"""
People in the admin, for superusers: sign-in by email, a display name,
groups as checkboxes, and inviting a teacher.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from ..models import User
from ..site import absolute
from ..teaching import invite_teacher


class TeacherInvitationForm(forms.Form):
    email = forms.EmailField(
        label="The teacher's email address",
        help_text="The invitation goes there; its link works once, for two weeks.",
    )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "is_teacher", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_teacher", "is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "display_name"]
    fieldsets = [
        (None, {"fields": ["email", "display_name", "password"]}),
        (
            "Permissions",
            {
                "fields": [
                    "is_active",
                    "is_teacher",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ]
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "display_name", "password1", "password2"]})
    ]
    # Django's two-box picker names its filter boxes by an aria-label on a bare
    # span, which assistive technology may ignore (axe: aria-prohibited-attr).
    # A group is a checkbox instead; permissions are a plain list.
    filter_horizontal = []

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_urls(self):
        return [
            path(
                "invite-teacher/",
                self.admin_site.admin_view(self.invite_teacher_view),
                name="annotate_user_invite_teacher",
            ),
            *super().get_urls(),
        ]

    def invite_teacher_view(self, request: HttpRequest) -> HttpResponse:
        """Send a teacher invitation: nobody ticks staff or groups by hand for a teacher."""
        if not request.user.is_superuser:
            raise PermissionDenied
        form = TeacherInvitationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            invitation = invite_teacher(form.cleaned_data["email"], by=request.user)
            link = absolute(invitation.get_absolute_url(), request)
            self.message_user(
                request,
                f"Invitation emailed to {invitation.email}. Its link, to pass on another way "
                f"if need be: {link}",
                messages.SUCCESS,
            )
            return redirect("admin:annotate_user_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Invite a teacher",
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "admin/annotate/user/invite_teacher.html", context)
