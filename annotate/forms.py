from django import forms

from .rendering import MAX_BODY_LENGTH


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
            },
        )
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 5, "maxlength": MAX_BODY_LENGTH}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if "\x00" in value:
            raise forms.ValidationError("The text contains a NUL character; remove it and retry.")
        return value


class PostForm(forms.Form):
    """A new annotation, page comment or reply: one form, one view."""

    body = BodyField()
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    start = forms.IntegerField(required=False, widget=forms.HiddenInput)
    end = forms.IntegerField(required=False, widget=forms.HiddenInput)
    exact = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    prefix = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    suffix = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    def has_anchor(self) -> bool:
        data = self.cleaned_data
        return data.get("start") is not None or data.get("end") is not None or bool(data["exact"])

    def clean(self):
        data = super().clean()
        if self.has_anchor() and data.get("parent"):
            raise forms.ValidationError("A reply cannot also annotate a passage.")
        if self.has_anchor() and (data.get("start") is None or data.get("end") is None):
            raise forms.ValidationError("The selection is incomplete. Select the words again.")
        return data


class EditForm(forms.Form):
    body = BodyField()
