"""
A class's readings, added and edited from the site by its instructors.

Adding one takes a file, pasted text, or a text already on the site. A file
becomes a TextUpload: a small one (or one that fails at once) is converted in
the request; a larger one by tasks.convert_upload while the teacher watches
the progress page. Either way the teacher then sees the converted text on the
check page, corrects it, and saving makes the text (owned by them, not
public, its words through revisions.revise_document) and the reading in one
transaction. A bad file changes nothing: the form says why.

Editing a reading changes how the class reads it; its owner (or a
superuser) may also change the text, which records a revision and moves the
annotations into it, as the admin's edits do.
"""

import logging
import posixpath
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_safe

from . import tasks
from .background import enqueue
from .classes import get_classroom_for_instructor
from .conversion import (
    ACCEPTED_EXTENSIONS,
    FORMATS,
    MAX_TEXT_CHARS,
    ConversionError,
    Converted,
    _size,
    convert,
    convert_text,
)
from .lti.views import picking_for
from .models import Classroom, Document, Reading, TextUpload, normalize_text
from .revisions import revise_document
from .scoping import assignable_documents
from .slugs import unique_slug

logger = logging.getLogger(__name__)

# Files up to this size are converted while the teacher waits for the page
# (well under a second, docs/readings.md's "Speed"); larger ones as background
# work, with a progress page. Plain text is only decoded, so it never waits.
CONVERT_IN_REQUEST_BYTES = 256 * 1024
# A conversion still unfinished after this long lost its worker.
CONVERSION_STALLED_AFTER = timedelta(minutes=15)
PROGRESS_REFRESH_SECONDS = 2

NUL_REMOVED = "\x00"
PASTED = "pasted text"  # a TextUpload's file name when the words were pasted


# Forms ----------------------------------------------------------------------


class TextAreaField(forms.CharField):
    """A reading's words: kept as typed (no strip), NULs dropped rather than refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strip", False)
        kwargs.setdefault("max_length", MAX_TEXT_CHARS)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 20, "class": "reading-text"}))
        super().__init__(**kwargs)

    def to_python(self, value) -> str:
        # Pasted from a PDF viewer, a NUL is noise the teacher cannot see to remove.
        return super().to_python(value).replace(NUL_REMOVED, "")


def accepted_types() -> str:
    return ", ".join(ACCEPTED_EXTENSIONS[:-1]) + " or " + ACCEPTED_EXTENSIONS[-1]


def size_limit() -> str:
    return _size(settings.READING_UPLOAD_MAX_BYTES)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="A file from your computer",
        max_length=TextUpload._meta.get_field("filename").max_length,
        error_messages={
            "required": "Choose a file to upload.",
            "empty": "This file is empty.",
            "invalid": "No file arrived. Choose the file again.",
            "max_length": "This file’s name is too long: shorten it and upload it again.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(FORMATS)}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "file"
        ].help_text = (
            f"A {accepted_types()} file (a PDF needs selectable text), up to {size_limit()}."
        )

    def clean_file(self):
        file = self.cleaned_data["file"]
        # Checked before the file is read into memory: the limit exists for that.
        if file.size > settings.READING_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"This file is {_size(file.size, up=True)}; the largest file you can upload is "
                f"{size_limit()}."
            )
        return file


class PasteForm(forms.Form):
    pasted = TextAreaField(
        label="The text",
        help_text="Paragraphs separated by a blank line. You give it a title next.",
        error_messages={
            "required": "Paste the text first.",
            "max_length": "This text is longer than %(limit_value)s characters (it has "
            "%(show_value)s); split it into several readings.",
        },
        widget=forms.Textarea(attrs={"rows": 10}),
    )


class PickForm(forms.Form):
    document = forms.ModelChoiceField(
        queryset=Document.objects.none(),
        label="A text on the site",
        empty_label="Choose a text…",
        error_messages={
            "required": "Choose a text from the list.",
            "invalid_choice": "That text is not one you can assign: choose one from the list.",
        },
    )

    def __init__(self, *args, user, classroom: Classroom, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["document"]
        field.queryset = (
            assignable_documents(user)
            .exclude(current_revision=None)
            .exclude(readings__classroom=classroom)
            .order_by("title", "pk")
        )
        field.label_from_instance = lambda document: (
            document.title if document.is_public else f"{document.title} (not public)"
        )
        field.help_text = "Public texts, and the texts you added to your classes."


class TextForm(forms.Form):
    """A text's details and words, as its owner sees and corrects them."""

    title = forms.CharField(
        max_length=Document._meta.get_field("title").max_length,
        error_messages={"required": "Give the text a title."},
    )
    subtitle = forms.CharField(
        max_length=Document._meta.get_field("subtitle").max_length,
        required=False,
        help_text="Optional: the author, or a part of a longer work.",
    )
    citation = forms.CharField(
        max_length=Document._meta.get_field("citation").max_length,
        required=False,
        help_text="Optional: how students should cite it.",
    )
    source = forms.CharField(
        max_length=Document._meta.get_field("source").max_length,
        required=False,
        help_text="Optional: where the text comes from, a web address or a reference.",
    )
    text = TextAreaField(
        label="The text",
        help_text="One blank line between paragraphs. Delete anything that is not the reading "
        "(page headers, menus, notes to yourself).",
        error_messages={
            "required": "The text is empty: it needs its words.",
            "max_length": "This text is longer than %(limit_value)s characters (it has "
            "%(show_value)s); split it into several readings.",
        },
    )
    # The revision the teacher started from, so that a change made meanwhile is not overwritten.
    based_on = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not normalize_text(text):
            raise forms.ValidationError("The text is empty: it needs its words.")
        return text


class ReadingForm(forms.ModelForm):
    """How a class reads a text. The due date is entered and shown in the class's time zone."""

    class Meta:
        model = Reading
        fields = ["due_at", "instructions", "hide_until_posted", "in_groups"]
        widgets = {
            "due_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "instructions": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {"instructions": "Optional: shown above the text, e.g. what to look for."}
        error_messages = {
            "due_at": {"invalid": "Enter the due date and time, e.g. 2027-03-01 17:00."}
        }

    def __init__(self, *args, classroom: Classroom, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = classroom.zone
        due = self.fields["due_at"]
        due.label = f"Due ({classroom.zone_name} time)"
        due.help_text = "Optional. The class’s time zone, whatever your computer’s."
        due.input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        if self.instance.due_at and not self.is_bound:
            # Shown as the class's wall-clock time, not the server's.
            local = timezone.localtime(self.instance.due_at, self.zone)
            self.initial["due_at"] = local.replace(tzinfo=None)

    def full_clean(self):
        # A date typed without a zone means the class's zone (a nonexistent
        # time in a DST gap gets Django's own error, not a guess).
        with timezone.override(self.zone):
            super().full_clean()


# Access ----------------------------------------------------------------------


def get_upload_for_owner(request: HttpRequest, classroom: Classroom, token: str) -> TextUpload:
    """The upload, for whoever uploaded it (and superusers); 404 for everyone else."""
    upload = TextUpload.objects.defer("data").filter(token=token, classroom=classroom).first()
    if upload is None or not (upload.owner_id == request.user.pk or request.user.is_superuser):
        raise Http404("No such upload: it may belong to someone else.")
    return upload


def get_reading(classroom: Classroom, slug: str) -> Reading:
    return get_object_or_404(
        Reading.objects.select_related("document__current_revision", "document__owner"),
        classroom=classroom,
        document__slug=slug,
    )


def may_edit_text(user, document: Document) -> bool:
    """A text's words change for every class that reads it: its owner's call, or a superuser's."""
    return user.is_superuser or (document.owner_id is not None and document.owner_id == user.pk)


def upload_url(upload: TextUpload) -> str:
    return reverse("reading_upload", args=[upload.classroom.slug, upload.token])


# Adding a reading -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def new_reading(request: HttpRequest, class_slug: str) -> HttpResponse:
    """One page, three ways in: a file, pasted text, or a text already on the site."""
    classroom = get_classroom_for_instructor(request, class_slug)
    forms_ = {
        "upload": UploadForm(),
        "paste": PasteForm(),
        "pick": PickForm(user=request.user, classroom=classroom),
    }
    way = request.POST.get("way")
    if request.method == "POST" and way == "upload":
        forms_["upload"] = form = UploadForm(request.POST, request.FILES)
        if form.is_valid() and (upload := receive_file(request, classroom, form)):
            return redirect(upload_url(upload))
    elif request.method == "POST" and way == "paste":
        forms_["paste"] = form = PasteForm(request.POST)
        if form.is_valid():
            try:
                result = convert_text(form.cleaned_data["pasted"])
            except ConversionError as error:
                form.add_error("pasted", str(error))
            else:
                upload = keep_converted(request, classroom, PASTED, 0, result)
                return redirect(upload_url(upload))
    elif request.method == "POST" and way == "pick":
        forms_["pick"] = form = PickForm(request.POST, user=request.user, classroom=classroom)
        if form.is_valid():
            document = form.cleaned_data["document"]
            Reading.objects.get_or_create(classroom=classroom, document=document)
            if picker := picking_for(request, classroom):
                # An LMS assignment waits for its reading: back to choosing it.
                messages.success(
                    request, f"“{document.title}” is a reading of {classroom.name} now."
                )
                return redirect(picker)
            messages.success(
                request,
                f"“{document.title}” is a reading of {classroom.name} now. Give it a due "
                "date and instructions here, or leave them empty.",
            )
            return redirect("edit_reading", classroom.slug, document.slug)
    elif request.method == "POST":
        messages.error(request, "Choose one of the three ways below to add a reading.")
    return render_new_reading(request, classroom, forms_)


def render_new_reading(
    request: HttpRequest, classroom: Classroom, forms_: dict, *, failed: TextUpload | None = None
) -> HttpResponse:
    errors = any(form.errors for form in forms_.values())
    context = {"classroom": classroom, **forms_, "failed": failed, "size_limit": size_limit()}
    return render(request, "annotate/reading_new.html", context, status=400 if errors else 200)


def receive_file(request: HttpRequest, classroom: Classroom, form: UploadForm) -> TextUpload | None:
    """
    The upload, converted already or queued for conversion; None when the
    file was refused, with the reason on the form.
    """
    file = form.cleaned_data["file"]
    data = file.read()
    extension = posixpath.splitext(file.name)[1].lower()
    quick = (
        len(data) <= CONVERT_IN_REQUEST_BYTES
        or FORMATS.get(extension) in (None, "text")  # refused at once, or only decoded
    )
    if not quick:
        upload = TextUpload.queue(
            owner=request.user, classroom=classroom, filename=file.name, data=data
        )
        enqueue(tasks.convert_upload, upload.pk)
        return upload
    try:
        result = convert(file.name, data, max_bytes=settings.READING_UPLOAD_MAX_BYTES)
    except ConversionError as error:
        form.add_error("file", str(error))
        return None
    except Exception:  # a converter's bug: the teacher gets words, not a 500
        logger.exception("Upload %s could not be converted", file.name)
        form.add_error("file", tasks.UNREADABLE_FILE)
        return None
    return keep_converted(request, classroom, file.name, len(data), result)


def keep_converted(
    request: HttpRequest, classroom: Classroom, filename: str, size: int, result: Converted
) -> TextUpload:
    return TextUpload.converted(
        owner=request.user,
        classroom=classroom,
        filename=filename,
        size=size,
        title=result.title,
        text=result.text,
        warnings=result.warnings,
    )


@require_http_methods(["GET", "POST"])
@login_required
def upload(request: HttpRequest, class_slug: str, token: str) -> HttpResponse:
    """
    An upload's page, whatever its state: the progress of its conversion,
    why it failed (with the upload form again), or the check page where the
    teacher corrects the text and saves it as a reading.
    """
    classroom = get_classroom_for_instructor(request, class_slug)
    upload = get_upload_for_owner(request, classroom, token)
    if upload.status == TextUpload.Status.SAVED:
        messages.info(request, f"“{upload.title or upload.filename}” is saved already.")
        return redirect(classroom)
    fail_if_stalled(upload)
    if upload.converting:
        context = {
            "classroom": classroom,
            "upload": upload,
            "message": progress_message(upload),
            "refresh_seconds": PROGRESS_REFRESH_SECONDS,
        }
        return render(request, "annotate/reading_progress.html", context)
    if upload.status == TextUpload.Status.FAILED:
        form = UploadForm()
        forms_ = {
            "upload": form,
            "paste": PasteForm(),
            "pick": PickForm(user=request.user, classroom=classroom),
        }
        return render_new_reading(request, classroom, forms_, failed=upload)
    return check_upload(request, classroom, upload)


@require_safe
@login_required
def upload_status(request: HttpRequest, class_slug: str, token: str) -> JsonResponse:
    """How far the conversion is, for the progress page's script."""
    classroom = get_classroom_for_instructor(request, class_slug)
    upload = get_upload_for_owner(request, classroom, token)
    fail_if_stalled(upload)
    return JsonResponse(
        {
            "converting": upload.converting,
            "progress": upload.progress,
            "message": progress_message(upload),
        }
    )


def progress_message(upload: TextUpload) -> str:
    if upload.status == TextUpload.Status.QUEUED:
        return "Waiting for its turn to be read…"
    return f"Reading the file: {upload.progress}% done."


def fail_if_stalled(upload: TextUpload) -> None:
    if upload.converting and upload.created_at < timezone.now() - CONVERSION_STALLED_AFTER:
        upload.fail(
            "The conversion stopped before it finished. Upload the file again; if it stops "
            "again, save it in another format (a PDF, or .docx) or paste its text."
        )


def check_upload(request: HttpRequest, classroom: Classroom, upload: TextUpload) -> HttpResponse:
    initial = {"title": upload.title, "text": upload.text}
    text_form = TextForm(request.POST or None, initial=initial)
    reading_form = ReadingForm(request.POST or None, classroom=classroom)
    if request.method == "POST" and text_form.is_valid() & reading_form.is_valid():
        reading = save_reading(request, classroom, upload, text_form, reading_form)
        if reading is None:
            messages.info(request, "This text was saved already.")
            return redirect(classroom)
        messages.success(
            request,
            format_html(
                '“{}” is saved and assigned to {}. <a href="{}">Edit it</a> any time.',
                reading.document.title,
                classroom.name,
                reverse("edit_reading", args=[classroom.slug, reading.document.slug]),
            ),
        )
        # An LMS assignment waiting for its reading gets this one offered first.
        return redirect(picking_for(request, classroom) or reading)
    context = {
        "classroom": classroom,
        "upload": upload,
        "pasted": upload.filename == PASTED and not upload.size,
        "text_form": text_form,
        "reading_form": reading_form,
    }
    status = 400 if text_form.errors or reading_form.errors else 200
    return render(request, "annotate/reading_check.html", context, status=status)


@transaction.atomic
def save_reading(
    request: HttpRequest,
    classroom: Classroom,
    upload: TextUpload,
    text_form: TextForm,
    reading_form: ReadingForm,
) -> Reading | None:
    """The text and its reading, from a checked upload; None if it was saved already."""
    # Locked, so that a double click saves one text, not two.
    upload = TextUpload.objects.select_for_update().defer("data").get(pk=upload.pk)
    if upload.status != TextUpload.Status.READY:
        return None
    details = text_form.cleaned_data
    document = Document.objects.create(
        slug=unique_slug(Document, details["title"], "text"),
        title=details["title"],
        subtitle=details["subtitle"],
        citation=details["citation"],
        source=details["source"],
        owner=request.user,
        is_public=False,
    )
    note = "Pasted on the site" if upload.filename == PASTED else f"Uploaded as {upload.filename}"
    revise_document(document, details["text"], by=request.user, note=note[:200])
    reading = reading_form.save(commit=False)
    reading.classroom = classroom
    reading.document = document
    reading.save()
    upload.mark_saved()
    return reading


# Editing and removing a reading -----------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def edit_reading(request: HttpRequest, class_slug: str, slug: str) -> HttpResponse:
    classroom = get_classroom_for_instructor(request, class_slug)
    reading = get_reading(classroom, slug)
    document = reading.document
    data = request.POST if request.method == "POST" else None
    reading_form = ReadingForm(data, instance=reading, classroom=classroom)
    text_form = None
    if may_edit_text(request.user, document):
        current = document.current_revision
        text_form = TextForm(
            data,
            initial={
                "title": document.title,
                "subtitle": document.subtitle,
                "citation": document.citation,
                "source": document.source,
                "text": document.text,
                "based_on": current.number if current else None,
            },
        )
    forms_valid = reading_form.is_valid() & (text_form is None or text_form.is_valid())
    if data is not None and forms_valid and text_form is not None:
        check_not_changed_meanwhile(document, text_form)
        forms_valid = text_form.is_valid()
    if data is not None and forms_valid:
        with transaction.atomic():
            reading_form.save()
            revision = save_text(request, document, text_form) if text_form else None
        tell_what_changed(request, classroom, reading, revision)
        return redirect(classroom)
    context = {
        "classroom": classroom,
        "reading": reading,
        "document": document,
        "reading_form": reading_form,
        "text_form": text_form,
        "other_classes": document.readings.exclude(classroom=classroom).count(),
    }
    status = 400 if reading_form.errors or (text_form and text_form.errors) else 200
    return render(request, "annotate/reading_edit.html", context, status=status)


def check_not_changed_meanwhile(document: Document, form: TextForm) -> None:
    """Someone else saved a new revision since the teacher opened the page: say so, keep theirs."""
    current = document.current_revision
    based_on = form.cleaned_data.get("based_on")
    if current is None or based_on in (None, current.number):
        return
    if normalize_text(form.cleaned_data["text"]) != current.text:
        form.add_error(
            "text",
            f"The text was changed (revision {current.number}) since you opened this page. "
            "Your words are still below: copy them, reload the page, and make your change "
            "again.",
        )


def save_text(request: HttpRequest, document: Document, form: TextForm):
    details = form.cleaned_data
    fields = ["title", "subtitle", "citation", "source"]
    for name in fields:
        setattr(document, name, details[name])
    document.save(update_fields=[*fields, "updated_at"])
    return revise_document(document, details["text"], by=request.user, note="Edited on the site")


def tell_what_changed(request: HttpRequest, classroom: Classroom, reading: Reading, revision):
    title = reading.document.title
    if revision is None:
        messages.success(request, f"“{title}” is saved.")
        return
    moving = ""
    if total := revision.relocation_total:
        moving = f" {total} annotation{'s are' if total != 1 else ' is'} being moved into it."
    messages.success(
        request,
        format_html(
            "“{}” is saved: its text changed, and is now revision {}.{} "
            '<a href="{}">Read the reading</a>.',
            title,
            revision.number,
            moving,
            reading.get_absolute_url(),
        ),
    )


@require_http_methods(["GET", "POST"])
@login_required
def remove_reading(request: HttpRequest, class_slug: str, slug: str) -> HttpResponse:
    """Take a reading out of the class. The text and the class's posts on it are kept."""
    classroom = get_classroom_for_instructor(request, class_slug)
    reading = get_reading(classroom, slug)
    if request.method == "POST":
        reading.delete()
        messages.success(
            request,
            f"“{reading.document.title}” is no longer a reading of {classroom.name}. The text "
            "and the class’s posts on it are kept: add it again to bring them back.",
        )
        return redirect(classroom)
    context = {"classroom": classroom, "reading": reading}
    return render(request, "annotate/reading_remove.html", context)
