"""
Texts in the admin: a text's details and words, and its revisions. Saving
changed words records a new revision and moves the annotations into it.
"""

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Q, Subquery
from django.utils.html import format_html

from ..adminsite import ViewOnSiteForViewer
from ..models import Document, Revision, discussion_url, revision_diff_url
from ..revisions import revise_document
from ..scoping import document_url_for, documents_in_reach, is_site_moderator, readings_in_reach


class DocumentForm(forms.ModelForm):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100}),
        strip=False,
        help_text="Paragraphs are separated by a blank line. Saving a changed text records "
        "a new revision; earlier revisions are kept.",
    )

    class Meta:
        model = Document
        fields = [
            "title", "slug", "subtitle", "citation", "source",
            "is_public", "premoderated", "discussion_closes_at",
        ]  # fmt: skip

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
    fields = [
        "number", "created_at", "author_name", "note", "characters", "annotations_moved",
        "changes",
    ]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    # By name: a link to the users' admin would refuse everyone but superusers.
    @admin.display(description="created by")
    def author_name(self, revision: Revision) -> str:
        return revision.created_by.display_name if revision.created_by else "—"

    @admin.display(description="characters")
    def characters(self, revision: Revision) -> int:
        return len(revision.text)

    @admin.display(description="annotations")
    def annotations_moved(self, revision: Revision) -> str:
        """Progress while annotations move in; then how many moved, changed or were orphaned."""
        if revision.relocation in (Revision.Relocation.QUEUED, Revision.Relocation.RUNNING):
            return (
                f"{revision.get_relocation_display()}: {revision.relocation_done} of "
                f"{revision.relocation_total} (reload to follow)"
            )
        if revision.relocation == Revision.Relocation.DONE:
            return (
                f"{revision.moved} moved, {revision.changed} with changed words, "
                f"{revision.orphaned} orphaned, of {revision.relocation_total}"
            )
        return "—"

    def get_queryset(self, request):
        # The class whose pages show a class-only text to this viewer: its
        # revisions are read and compared there, not at the public address.
        reading = readings_in_reach(request.user).filter(document=OuterRef("document"))
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .annotate(reader_class_slug=Subquery(reading.values("classroom__slug")[:1]))
        )

    def _class_slug(self, revision: Revision) -> str | None:
        """
        The class to read a class-only text in. None for a public text, and for
        a class-only text no class reads, which only superusers reach (and read
        at its own address).
        """
        return None if revision.document.is_public else revision.reader_class_slug

    def view_on_site(self, revision: Revision) -> str:
        return discussion_url(
            revision.document, self._class_slug(revision), revision=revision.number
        )

    @admin.display(description="what changed")
    def changes(self, revision: Revision) -> str:
        if revision.number == 1:
            return "first version"
        url = revision_diff_url(revision.document, self._class_slug(revision), revision.number)
        return format_html('<a href="{}">Compare with revision {}</a>', url, revision.number - 1)


@admin.register(Document)
class DocumentAdmin(ViewOnSiteForViewer, admin.ModelAdmin):
    form = DocumentForm
    list_display = ["title", "slug", "is_public", "revision_number", "updated_at"]
    list_filter = ["is_public", "premoderated"]
    list_select_related = ["current_revision", "owner"]
    # An id box with a lookup, not a list of every account: it is labelled
    # for screen readers, and only superusers see the field at all.
    raw_id_fields = ["owner"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [RevisionInline]

    def may_change(self, request, document: Document | None) -> bool:
        """
        A text's words and settings are changed by its owner, superusers, and
        site moderators for the site's own public texts. A teacher or teaching
        assistant reads a class's other texts here, but changes only their own.
        """
        user = request.user
        if document is None or user.is_superuser or document.owner_id == user.pk:
            return True
        return document.owner_id is None and document.is_public and is_site_moderator(user)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self.may_change(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self.may_change(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        # What they moderate, and their own texts before any class reads them;
        # another teacher's private text only as a reading of a class they teach.
        reach = documents_in_reach(request.user) | Q(owner=request.user)
        return queryset.filter(pk__in=Document.objects.filter(reach))

    def get_list_display(self, request):
        # Superusers look after the site's own texts (no owner) and everyone's:
        # a teacher's list holds only their own and their classes' texts anyway.
        if request.user.is_superuser:
            return [*self.list_display, "owner_name"]
        return self.list_display

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if "owner" in fields or "owner_name" in fields:
            return fields
        return [*fields, "owner" if request.user.is_superuser else "owner_name"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "owner_name"]

    def get_changeform_initial_data(self, request):
        # A superuser may empty it: then the text is the site's own.
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="owner", ordering="owner__display_name")
    def owner_name(self, document: Document) -> str:
        # By name: a link to the users' admin would refuse everyone but superusers.
        return document.owner.display_name if document.owner else "the site"

    def site_url_for(self, request, document: Document) -> str | None:
        return document_url_for(request.user, document)

    @admin.display(description="revision", ordering="current_revision__number")
    def revision_number(self, document: Document) -> int | None:
        return document.current_revision.number if document.current_revision else None

    def save_model(self, request, obj, form, change) -> None:
        if not change and not request.user.is_superuser:
            # A teacher's new text is theirs: they alone assign it while it is private.
            obj.owner = request.user
        super().save_model(request, obj, form, change)
        revision = revise_document(
            obj, form.cleaned_data["text"], by=request.user, note="Edited in the admin"
        )
        if revision and change:
            moving = (
                f" Moving {revision.relocation_total} annotations into it: see its progress "
                "under Revisions below."
                if revision.relocation_total
                else ""
            )
            self.message_user(
                request, f"The text changed: saved as revision {revision.number}.{moving}"
            )
