import re
import zoneinfo

from django import forms
from django.conf import settings
from django.utils import timezone

from .accounts import clean_display_name
from .models import Classroom, Flag, User
from .rendering import MAX_BODY_LENGTH

# Django's CharField already refuses NUL characters; these say so in our words.
NUL_IN_TEXT = "The text contains a NUL character; remove it and retry."
NUL_IN_SELECTION = "The selection contains a NUL character. Select the words again."

BLANK_LINES_FIRST = re.compile(r"\A(?:[^\S\n]*\n)+")


class BodyField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Your note")
        kwargs.setdefault("max_length", MAX_BODY_LENGTH)
        kwargs.setdefault(
            "error_messages",
            {
                "required": "Write something before posting.",
                "max_length": (
                    "Keep it under %(limit_value)s characters (this has %(show_value)s)."
                ),
                "null_characters_not_allowed": NUL_IN_TEXT,
            },
        )
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 5, "maxlength": MAX_BODY_LENGTH}))
        kwargs["strip"] = False
        super().__init__(**kwargs)

    def to_python(self, value) -> str:
        """
        The Markdown as written, less what Markdown ignores: blank lines before
        the first line and blank space after the last. A plain strip() would
        also take the first line's indentation, turning a leading indented
        code block into a paragraph.
        """
        return BLANK_LINES_FIRST.sub("", super().to_python(value)).rstrip()


class SelectorField(forms.CharField):
    """Quoted words or their context, exactly as the browser measured them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("error_messages", {"null_characters_not_allowed": NUL_IN_SELECTION})
        super().__init__(**kwargs)


class PostForm(forms.Form):
    """A new annotation, page comment or reply: one form, one view."""

    body = BodyField()
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    start = forms.IntegerField(required=False, widget=forms.HiddenInput)
    end = forms.IntegerField(required=False, widget=forms.HiddenInput)
    exact = SelectorField()
    prefix = SelectorField()
    suffix = SelectorField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The honeypot, named as on the sign-up form: hidden from people, filled in by bots.
        self.fields[settings.ACCOUNT_SIGNUP_FORM_HONEYPOT_FIELD] = forms.CharField(
            required=False, strip=False
        )

    @property
    def honeypot(self) -> forms.BoundField:
        return self[settings.ACCOUNT_SIGNUP_FORM_HONEYPOT_FIELD]

    def honeypot_filled(self) -> bool:
        return bool(self.cleaned_data.get(self.honeypot.name))

    def has_anchor(self) -> bool:
        # Fields that failed their own validation are missing from cleaned_data.
        data = self.cleaned_data
        return (
            data.get("start") is not None or data.get("end") is not None or bool(data.get("exact"))
        )

    def selection(self) -> dict | None:
        """The selected passage, as lifecycle.draft takes it; None for a comment or reply."""
        if not self.has_anchor():
            return None
        data = self.cleaned_data
        names = ("revision", "exact", "start", "end", "prefix", "suffix")
        return {name: data[name] for name in names}

    def clean(self):
        data = super().clean()
        if self.has_anchor() and data.get("parent"):
            raise forms.ValidationError("A reply cannot also annotate a passage.")
        if self.has_anchor() and (data.get("start") is None or data.get("end") is None):
            raise forms.ValidationError("The selection is incomplete. Select the words again.")
        return data


class EditForm(forms.Form):
    body = BodyField()


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label="What is wrong with this post?",
        choices=Flag.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a reason for your report."},
    )
    note = forms.CharField(
        label="Anything a moderator should know? (optional)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
    )


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "email_on_reply", "moderation_digest"]

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data["display_name"])


def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, by name ("Europe/London"), as a select offers them."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class ClassroomForm(forms.ModelForm):
    """A new class, as a teacher starts one from the site."""

    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        help_text="Where the class meets: its times are given in this zone.",
    )

    class Meta:
        model = Classroom
        fields = [
            "name", "term", "time_zone", "description",
            "allowed_domains", "member_limit",
        ]  # fmt: skip
        labels = {
            "name": "Name",
            "allowed_domains": "School email domains that may join without the link (optional)",
            "member_limit": "Most students (optional)",
        }
        help_texts = {
            "term": "Optional, e.g. Spring 2027.",
            "allowed_domains": "One a line, e.g. school.edu. Anyone may join with the link.",
            "member_limit": "Empty: no limit.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "allowed_domains": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = settings.TIME_ZONE


class ClassSettingsForm(ClassroomForm):
    """A class's settings, as its instructors change them; the join link's expiry in its zone."""

    class Meta(ClassroomForm.Meta):
        fields = [*ClassroomForm.Meta.fields, "join_expires_at"]
        labels = {**ClassroomForm.Meta.labels, "join_expires_at": "Join link expires (optional)"}
        help_texts = {
            **ClassroomForm.Meta.help_texts,
            "join_expires_at": "Empty: the link works until you make a new one.",
        }
        widgets = {
            **ClassroomForm.Meta.widgets,
            "join_expires_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }
        error_messages = {
            "join_expires_at": {"invalid": "Enter a date and time, e.g. 2027-03-01 17:00."}
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read in the zone the class has now; a new zone applies from the next save.
        self.zone = self.instance.zone
        expiry = self.fields["join_expires_at"]
        expiry.label = f"Join link expires ({self.instance.zone_name} time, optional)"
        expiry.input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        if self.instance.join_expires_at and not self.is_bound:
            local = timezone.localtime(self.instance.join_expires_at, self.zone)
            self.initial["join_expires_at"] = local.replace(tzinfo=None)

    def full_clean(self):
        # The expiry is read in the zone being saved, when the same form changes it.
        zone = self.zone
        if self.is_bound and self.data.get("time_zone") in zoneinfo.available_timezones():
            zone = zoneinfo.ZoneInfo(self.data["time_zone"])
        with timezone.override(zone):
            super().full_clean()


class DeleteClassForm(forms.Form):
    """Deleting a class deletes its discussions: the teacher types its name to be sure."""

    name = forms.CharField(label="Type the class’s name to confirm", max_length=200)

    def __init__(self, *args, classroom, **kwargs):
        super().__init__(*args, **kwargs)
        self.classroom = classroom

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name.strip() != self.classroom.name.strip():
            raise forms.ValidationError(
                f"That is not the class’s name. Type “{self.classroom.name}” exactly, or go "
                "back: nothing has been deleted."
            )
        return name
