"""
LMS registrations (superusers only): django-lti's registration admin, with
the deployments active when added, the origins allowed to frame the site,
and the tool URLs and configuration to paste into the LMS.
"""

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from lti_tool.admin import LtiRegistrationAdmin as BaseRegistrationAdmin
from lti_tool.models import LtiDeployment, LtiRegistration

from ..lti.configuration import canvas_configuration, tool_urls
from ..models import LmsPlatform


class SuperusersOnly:
    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class DeploymentForm(forms.ModelForm):
    class Meta:
        model = LtiDeployment
        fields = ["deployment_id", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["is_active"].initial = True  # an added deployment is meant to launch


class DeploymentInline(SuperusersOnly, admin.TabularInline):
    model = LtiDeployment
    form = DeploymentForm
    extra = 1
    verbose_name = "deployment"
    verbose_name_plural = "deployments (launches from any other deployment ID are refused)"


class PlatformInline(SuperusersOnly, admin.StackedInline):
    model = LmsPlatform
    can_delete = False
    verbose_name_plural = "framing"


admin.site.unregister(LtiRegistration)


@admin.register(LtiRegistration)
class RegistrationAdmin(SuperusersOnly, BaseRegistrationAdmin):
    inlines = [DeploymentInline, PlatformInline]
    readonly_fields = ["tool_configuration"]
    fieldsets = [
        *BaseRegistrationAdmin.fieldsets,
        ("What to paste into the LMS", {"fields": ["tool_configuration"]}),
    ]

    @admin.display(description="tool URLs")
    def tool_configuration(self, registration: LtiRegistration) -> str:
        urls = tool_urls(registration=registration if registration.pk else None)
        rows = format_html_join(
            "", "<dt>{}</dt><dd><code>{}</code></dd>", ((name, url) for name, url in urls.items())
        )
        canvas = json.dumps(canvas_configuration(), indent=2)
        return format_html(
            "<dl>{}</dl><p>Canvas developer key (Paste JSON):</p><pre>{}</pre>", rows, canvas
        )
