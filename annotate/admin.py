from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Document, Post, Revision, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "display_name"]
    fieldsets = [
        (None, {"fields": ["email", "display_name", "password"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "display_name", "password1", "password2"]})
    ]


class DocumentForm(forms.ModelForm):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100}),
        strip=False,
        help_text="Paragraphs are separated by a blank line. Saving a changed text records "
        "a new revision; earlier revisions are kept.",
    )

    class Meta:
        model = Document
        fields = ["title", "slug", "subtitle", "citation", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["text"].initial = self.instance.text

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError("A document needs some text.")
        return text


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ["number", "created_at", "created_by", "note", "characters"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="characters")
    def characters(self, revision: Revision) -> int:
        return len(revision.text)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    form = DocumentForm
    list_display = ["title", "slug", "revision_number", "updated_at"]
    list_select_related = ["current_revision"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [RevisionInline]

    @admin.display(description="revision", ordering="current_revision__number")
    def revision_number(self, document: Document) -> int | None:
        return document.current_revision.number if document.current_revision else None

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        revision = obj.revise(
            form.cleaned_data["text"], by=request.user, note="Edited in the admin"
        )
        if revision and change:
            self.message_user(request, f"The text changed: saved as revision {revision.number}.")


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "document", "author", "created_at", "excerpt"]
    list_filter = ["status", "document"]
    list_select_related = ["author", "document"]
    search_fields = ["body", "exact", "author__display_name", "author__email"]
    readonly_fields = [
        "document", "author", "parent", "revision", "exact", "prefix", "suffix", "start", "end",
        "body", "created_at", "edited_at", "deleted_at",
    ]  # fmt: skip
    fields = ["status", *readonly_fields]

    @admin.display(description="excerpt")
    def excerpt(self, post: Post) -> str:
        return post.body[:80]

    def has_add_permission(self, request) -> bool:
        return False
