"""Classes in the admin: members, readings, the join link, and a dashboard per class."""

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import unquote
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from ..adminsite import DirectViewOnSite
from ..models import TEACHING_ROLES, Classroom, Document, Membership, Post, Reading
from ..scoping import (
    assignable_documents,
    posts_in_reach,
    sees_personal_details,
    taught_classrooms,
)
from ..site import absolute
from .moderation import FLAGGED, HELD, NOT_DELETED


def instructs(user, classroom_id: int | None) -> bool:
    """Whether `user` may change the class: superusers and its instructors, not its assistants."""
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, classroom_id=classroom_id, role=Membership.Role.INSTRUCTOR
    ).exists()


def assists_a_class(user) -> bool:
    if user.is_superuser:
        return False
    # Asked for each model of the admin's menu: once per request's user is enough.
    if not hasattr(user, "_assists_a_class"):
        user._assists_a_class = Membership.objects.filter(
            user=user, role=Membership.Role.ASSISTANT
        ).exists()
    return user._assists_a_class


class OnlyInstructorsChange:
    """
    A class's teaching assistants see it here, with its readings and members,
    open its dashboard and moderate its posts; only its instructors change
    them or delete it.
    """

    def classroom_id_of(self, obj) -> int:
        return obj.classroom_id

    def instructs_obj(self, request, obj) -> bool:
        # None is the list as a whole (or a new class): each object is checked as it is opened.
        return obj is None or instructs(request.user, self.classroom_id_of(obj))

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self.instructs_obj(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self.instructs_obj(request, obj)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        # Actions are checked against the list as a whole, not each class they
        # reach: none for anyone who assists a class, lest they reach it.
        if assists_a_class(request.user):
            return {}
        return super().get_actions(request, action_location=action_location)


class OnlyInstructorsChangeRows(OnlyInstructorsChange):
    """The same for a class's inline rows, whose `obj` is the class (None: a new one)."""

    def classroom_id_of(self, classroom: Classroom) -> int:
        return classroom.pk

    def has_add_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj) and self.instructs_obj(request, obj)


class MembersOnlyFromJoinLinks:
    """
    Instructors change roles and remove members; people are added by the join
    link (or by a superuser), so that no instructor browses every account.
    """

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def get_autocomplete_fields(self, request):
        return ["user"] if request.user.is_superuser else []

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if request.user.is_superuser:
            return fields
        # Members by the name they show: the users' admin, with everyone's
        # address, is for superusers only.
        return ["member" if name == "user" else name for name in fields]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "member"]

    @admin.display(description="member", ordering="user__display_name")
    def member(self, membership: Membership) -> str:
        return membership.user.display_name


class MemberRowsFormSet(BaseInlineFormSet):
    """
    Each row's controls named after its member: in a table, the column heading
    alone does not tell a screen reader whose role or removal a control is.
    """

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        member = form.instance.user.display_name if form.instance.user_id else "new member"
        for field in form.fields.values():
            field.widget.attrs.setdefault("aria-label", f"{field.label}: {member}")

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or not self.instance.pk:
            return
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        had_one = self.instance.memberships.filter(role=Membership.Role.INSTRUCTOR).exists()
        if had_one and not any(
            form.cleaned_data.get("role") == Membership.Role.INSTRUCTOR for form in kept
        ):
            raise forms.ValidationError(LEFT_WITHOUT_INSTRUCTOR)


LEFT_WITHOUT_INSTRUCTOR = (
    "The class would be left without an instructor: keep one, or make someone else an "
    "instructor first. Nothing was saved."
)


class MembershipForm(forms.ModelForm):
    """One membership: the class keeps an instructor, as on its roster page."""

    class Meta:
        model = Membership
        fields = ["classroom", "user", "role", "joined_at"]

    def clean(self):
        cleaned = super().clean()
        was = self.instance
        if was.pk and was.role == Membership.Role.INSTRUCTOR:
            moved = cleaned.get("classroom") not in (None, was.classroom)
            demoted = cleaned.get("role", was.role) != Membership.Role.INSTRUCTOR
            others = was.classroom.memberships.filter(role=Membership.Role.INSTRUCTOR)
            if (moved or demoted) and not others.exclude(pk=was.pk).exists():
                raise forms.ValidationError(LEFT_WITHOUT_INSTRUCTOR)
        return cleaned


def give_staff_what_moderating_needs(memberships) -> None:
    """A member made an instructor or assistant here gets the admin, as by the roster."""
    for membership in memberships:
        if membership.role in TEACHING_ROLES:
            membership.user.join_class_staff()


class MembershipInline(OnlyInstructorsChangeRows, MembersOnlyFromJoinLinks, admin.TabularInline):
    model = Membership
    formset = MemberRowsFormSet
    extra = 0
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["joined_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class ReadingForm(forms.ModelForm):
    class Meta:
        model = Reading
        fields = ["document", "due_at", "instructions", "hide_until_posted", "in_groups"]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 2, "cols": 40})}


class ReadingInline(OnlyInstructorsChangeRows, DirectViewOnSite, admin.StackedInline):
    model = Reading
    form = ReadingForm
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "document" and not request.user.is_superuser:
            # Public texts and the teacher's own. Another teacher's private text
            # is never offered (read by some class or not), except on a reading
            # this class has already: a co-instructor's text, which must stay
            # a valid choice when the class is saved.
            class_id = request.resolver_match.kwargs.get("object_id", "")
            this_class = Reading.objects.filter(
                classroom__in=taught_classrooms(request.user).filter(
                    pk=int(class_id) if class_id.isdigit() else None
                )
            )
            kwargs["queryset"] = Document.objects.filter(
                Q(pk__in=assignable_documents(request.user).values("pk"))
                | Q(pk__in=this_class.values("document_id"))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if "due_at" in formset.form.base_fields:
            # In the zone ClassroomAdmin.change_view makes current: the class's.
            zone = timezone.get_current_timezone_name().replace("_", " ")
            formset.form.base_fields["due_at"].label = f"Due ({zone} time)"
        return formset


@admin.register(Classroom)
class ClassroomAdmin(OnlyInstructorsChange, DirectViewOnSite, admin.ModelAdmin):
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

    def classroom_id_of(self, classroom: Classroom) -> int:
        return classroom.pk

    def has_add_permission(self, request) -> bool:
        # Someone who joined a class's staff by its link helps teach it; only
        # teachers start classes, here as on the site (teaching.new_class).
        user = request.user
        if user.is_class_staff and not (user.is_teacher or user.is_superuser):
            return False
        return super().has_add_permission(request)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            # Whoever creates a class teaches it, so it stays within their reach.
            Membership.objects.get_or_create(
                classroom=obj, user=request.user, defaults={"role": Membership.Role.INSTRUCTOR}
            )

    def save_formset(self, request, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            give_staff_what_moderating_needs(
                [*formset.new_objects, *(saved for saved, _ in formset.changed_objects)]
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        classroom = self.get_object(request, unquote(object_id))
        # Due dates are entered and shown in the class's zone, as on its page.
        # Rendered inside, since the widgets convert the times as they render.
        with timezone.override(classroom.zone if classroom else None):
            response = super().change_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()
        return response

    def get_object(self, request, object_id, from_field=None):
        classroom = super().get_object(request, object_id, from_field)
        if classroom is not None:
            # Instructors paste the join link into email and course pages: the full address.
            classroom.absolute_join_url = absolute(classroom.get_join_url(), request)
        return classroom

    @admin.display(description="join link")
    def join_link(self, classroom: Classroom) -> str:
        if not classroom.pk:
            return "Save the class to get its join link."
        return render_to_string(
            "admin/annotate/classroom/join_link.html", {"join_url": classroom.absolute_join_url}
        )

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
        # The posts the list of posts shows this viewer for the class, less
        # those their authors deleted: every count below is a filter of these.
        posts = Post.objects.filter(posts_in_reach(request.user), NOT_DELETED, classroom=classroom)
        tallies = {
            row["document_id"]: row
            for row in posts.order_by()
            .values("document_id")
            .annotate(
                **{name: Count("pk", filter=count.condition) for name, count in COUNTS.items()}
            )
        }
        student_ids = classroom.memberships.filter(role=Membership.Role.STUDENT).values("user_id")
        # order_by(): the default ordering would make DISTINCT count one row per post.
        writers = Counter(
            document_id
            for document_id, _ in posts.filter(status=Post.Status.PUBLISHED, author__in=student_ids)
            .order_by()
            .values_list("document_id", "author_id")
            .distinct()
        )
        readings = [
            {
                "reading": reading,
                "counts": [
                    {
                        "label": count.label,
                        "count": tallies.get(reading.document_id, {}).get(name, 0),
                        "url": class_posts_url(
                            classroom, document__id__exact=reading.document_id, **count.query
                        ),
                    }
                    for name, count in COUNTS.items()
                ],
                "writers": writers[reading.document_id],
            }
            for reading in classroom.readings.select_related("document")
        ]
        queue = list(
            posts.filter(HELD | FLAGGED)
            .select_related("author", "document")
            .order_by("-created_at")[:100]
        )
        members = reverse("admin:annotate_membership_changelist")
        students_query = {"classroom__id__exact": classroom.pk, "role__exact": "student"}
        context = {
            **self.admin_site.each_context(request),
            "title": f"{classroom}: activity and moderation",
            "opts": self.model._meta,
            "classroom": classroom,
            "readings": readings,
            "count_labels": [count.label for count in COUNTS.values()],
            "students": student_ids.count(),
            "students_url": f"{members}?{urlencode(students_query)}",
            "queue": queue,
            "class_posts_url": class_posts_url(classroom),
            "join_url": classroom.absolute_join_url,
            "exports": export_links(classroom, request.user),
        }
        return TemplateResponse(request, "admin/annotate/classroom/dashboard.html", context)


@dataclass(frozen=True)
class ReadingCount:
    """A count per reading on a class's dashboard, and the filters of the list it links to."""

    label: str
    condition: Q  # on the class's posts that are not deleted
    query: dict[str, str]  # the list of posts' filters that pick out exactly those


COUNTS = {
    "published": ReadingCount(
        "Published", Q(status=Post.Status.PUBLISHED), {"status__exact": "published"}
    ),
    "held": ReadingCount("Held", HELD, {"held": "yes"}),
    "flagged": ReadingCount("Flagged", FLAGGED, {"flagged": "yes"}),
}


def class_posts_url(classroom: Classroom, **query) -> str:
    """The list of a class's posts, less deleted ones when filtered further."""
    changelist = reverse("admin:annotate_post_changelist")
    params = {"classroom__id__exact": classroom.pk}
    if query:
        params |= {**query, "deleted": "no"}
    return f"{changelist}?{urlencode(params)}"


@admin.register(Membership)
class MembershipAdmin(OnlyInstructorsChange, MembersOnlyFromJoinLinks, admin.ModelAdmin):
    list_display = ["member", "classroom", "role", "joined_at"]
    list_filter = ["role", ("classroom", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "classroom"]
    search_fields = ["user__display_name", "classroom__name"]
    fields = ["classroom", "user", "role", "joined_at"]
    form = MembershipForm

    def get_queryset(self, request):
        return super().get_queryset(request).filter(classroom__in=taught_classrooms(request.user))

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        give_staff_what_moderating_needs([obj])

    def get_search_fields(self, request):
        # Searching by address would tell who has which one.
        if sees_personal_details(request.user):
            return [*self.search_fields, "user__email"]
        return self.search_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "classroom":
            # Only where they instruct: a teaching assistant never places anyone
            # in the class they assist, however a membership's form is posted.
            kwargs["queryset"] = instructed_classrooms(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def instructed_classrooms(user):
    if user.is_superuser:
        return Classroom.objects.all()
    return Classroom.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.INSTRUCTOR
    )


def export_links(classroom: Classroom, user) -> dict[str, str]:
    links = {
        "csv": reverse("export_discussion_csv", args=[classroom.slug]),
        "jsonld": reverse("export_discussion_jsonld", args=[classroom.slug]),
    }
    if sees_personal_details(user):
        # It lists each student's email address: the admin shows those to nobody else.
        links["students"] = reverse("export_students_csv", args=[classroom.slug])
    return links
