"""Classes in the admin: members, readings, the join link, and a dashboard per class."""

from collections import Counter

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ..adminsite import DirectViewOnSite
from ..models import Classroom, Document, Membership, Post, Reading
from ..scoping import documents_in_reach, taught_classrooms


class MembersOnlyFromJoinLinks:
    """
    Instructors change roles and remove members; people are added by the join
    link (or by a superuser), so that no instructor browses every account.
    """

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def get_autocomplete_fields(self, request):
        return ["user"] if request.user.is_superuser else []

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "user"]


class MembershipInline(MembersOnlyFromJoinLinks, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["joined_at"]


class ReadingForm(forms.ModelForm):
    class Meta:
        model = Reading
        fields = ["document", "due_at", "instructions", "hide_until_posted"]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 2, "cols": 40})}


class ReadingInline(admin.StackedInline):
    model = Reading
    form = ReadingForm
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "document" and not request.user.is_superuser:
            # Instructors assign the texts they can already reach, any public text
            # (whoever else reads it), and texts no class reads yet.
            kwargs["queryset"] = Document.objects.filter(
                documents_in_reach(request.user) | Q(is_public=True) | Q(readings=None)
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Classroom)
class ClassroomAdmin(DirectViewOnSite, admin.ModelAdmin):
    list_display = ["name", "term", "students", "readings_count", "dashboard_link"]
    search_fields = ["name", "term"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "term", "description"]}),
        (
            "Joining",
            {"fields": ["join_link", "join_expires_at", "member_limit", "allowed_domains"]},
        ),
    ]
    readonly_fields = ["join_link"]
    inlines = [ReadingInline, MembershipInline]
    actions = ["regenerate_join_links"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).filter(pk__in=taught_classrooms(request.user))
        return queryset.annotate(
            student_count=Count(
                "memberships", filter=Q(memberships__role=Membership.Role.STUDENT), distinct=True
            ),
            reading_count=Count("readings", distinct=True),
        )

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            # Whoever creates a class teaches it, so it stays within their reach.
            Membership.objects.get_or_create(
                classroom=obj, user=request.user, defaults={"role": Membership.Role.INSTRUCTOR}
            )

    @admin.display(description="students", ordering="student_count")
    def students(self, classroom: Classroom) -> int:
        return classroom.student_count

    @admin.display(description="readings", ordering="reading_count")
    def readings_count(self, classroom: Classroom) -> int:
        return classroom.reading_count

    @admin.display(description="dashboard")
    def dashboard_link(self, classroom: Classroom) -> str:
        url = reverse("admin:annotate_classroom_dashboard", args=[classroom.pk])
        return format_html('<a href="{}">Activity and queue</a>', url)

    @admin.display(description="join link")
    def join_link(self, classroom: Classroom) -> str:
        if not classroom.pk:
            return "Save the class to get its join link."
        return classroom.get_join_url()

    @admin.action(permissions=["change"], description="Make new join links (old ones stop working)")
    def regenerate_join_links(self, request, queryset) -> None:
        for classroom in queryset:
            classroom.regenerate_join_token()
        self.message_user(request, f"New join links for {queryset.count()} classes.")

    def get_urls(self):
        dashboard = self.admin_site.admin_view(self.dashboard_view)
        return [
            path("<path:object_id>/dashboard/", dashboard, name="annotate_classroom_dashboard"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Per-reading activity and the moderation queue of one class."""
        classroom = self.get_object(request, unquote(object_id))
        if classroom is None or not self.has_view_permission(request, classroom):
            raise Http404("No such class among yours.")
        posts = Post.objects.filter(classroom=classroom, deleted_at=None)
        by_status = Counter(posts.values_list("document_id", "status"))
        flagged = Counter(posts.filter(flag_count__gt=0).values_list("document_id", flat=True))
        student_ids = classroom.memberships.filter(role=Membership.Role.STUDENT).values("user_id")
        # order_by(): the default ordering would make DISTINCT count one row per post.
        writers = Counter(
            document_id
            for document_id, _ in posts.filter(status=Post.Status.PUBLISHED, author__in=student_ids)
            .order_by()
            .values_list("document_id", "author_id")
            .distinct()
        )
        students = classroom.memberships.filter(role=Membership.Role.STUDENT).count()
        readings = [
            {
                "reading": reading,
                "published": by_status[(reading.document_id, Post.Status.PUBLISHED)],
                "held": by_status[(reading.document_id, Post.Status.PENDING)]
                + by_status[(reading.document_id, Post.Status.SPAM)],
                "flagged": flagged[reading.document_id],
                "writers": writers[reading.document_id],
            }
            for reading in classroom.readings.select_related("document")
        ]
        queue = list(
            posts.filter(Q(status__in=Post.HELD_STATUSES) | Q(flag_count__gt=0))
            .select_related("author", "document")
            .order_by("-created_at")[:100]
        )
        changelist = reverse("admin:annotate_post_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"{classroom}: activity and moderation",
            "opts": self.model._meta,
            "classroom": classroom,
            "readings": readings,
            "students": students,
            "queue": queue,
            "class_posts_url": f"{changelist}?classroom__id__exact={classroom.pk}",
            "exports": export_links(classroom),
        }
        return TemplateResponse(request, "admin/annotate/classroom/dashboard.html", context)


@admin.register(Membership)
class MembershipAdmin(MembersOnlyFromJoinLinks, admin.ModelAdmin):
    list_display = ["user", "classroom", "role", "joined_at"]
    list_filter = ["role", ("classroom", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "classroom"]
    search_fields = ["user__display_name", "user__email", "classroom__name"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(classroom__in=taught_classrooms(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "classroom":
            kwargs["queryset"] = taught_classrooms(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def export_links(classroom: Classroom) -> dict[str, str]:
    return {
        "csv": reverse("export_discussion_csv", args=[classroom.slug]),
        "jsonld": reverse("export_discussion_jsonld", args=[classroom.slug]),
        "students": reverse("export_students_csv", args=[classroom.slug]),
    }
