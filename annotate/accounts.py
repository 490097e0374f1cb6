"""How django-allauth creates and names our users."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.forms import SignupForm as AllauthSocialSignupForm
from django import forms
from django.conf import settings
from django.db.models import Q

from .models import Classroom, User
from .notifications import queue_email
from .site import SITE_NAME, absolute, site_domain

JOIN_SESSION_KEY = "annotate:join_token"


def has_open_join_link(request) -> bool:
    """Whether this visitor came through a class's join link that still admits people."""
    token = request.session.get(JOIN_SESSION_KEY)
    classroom = Classroom.objects.filter(join_token=token).first() if token else None
    return classroom is not None and classroom.why_link_is_closed() is None


STAFF_SESSION_KEY = "annotate:staff_token"


def has_open_staff_link(request) -> bool:
    """Whether this visitor came through a class's co-instructor or teaching assistant link."""
    token = request.session.get(STAFF_SESSION_KEY)
    return bool(token) and classes_with_staff_token(token).exists()


def classes_with_staff_token(token: str):
    """The class (one at most: the tokens are unique) whose staff link carries `token`."""
    return Classroom.objects.filter(Q(instructor_token=token) | Q(assistant_token=token))


def has_verified_email(user) -> bool:
    """A school address admits its owner only once they have shown it is theirs."""
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


DISPLAY_NAME_HELP = "Shown on everything you post. Your email address is never shown."


def display_name_field() -> forms.CharField:
    return forms.CharField(
        label="Display name",
        max_length=50,
        # The field strips spaces, so a blank name never reaches clean_display_name.
        error_messages={"required": "Choose a display name: it is shown on your posts."},
        help_text=DISPLAY_NAME_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )


def clean_display_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise forms.ValidationError("Choose a display name: it is shown on your posts.")
    if "@" in name:
        raise forms.ValidationError(
            "A display name cannot contain “@”: it is shown to everyone, so keep your email "
            "address out of it."
        )
    return name


class SignupForm(AllauthSignupForm):
    display_name = display_name_field()
    field_order = ["display_name", "email", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # allauth hides its honeypot with an inline style, which our
        # Content-Security-Policy blocks (leaving the field visible); the site
        # stylesheet's class hides it the same way.
        honeypot = self.fields.get(account_settings.SIGNUP_FORM_HONEYPOT_FIELD or "")
        if honeypot:
            honeypot.widget.attrs.pop("style", None)
            honeypot.widget.attrs["class"] = "visually-hidden"

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data["display_name"])


class SocialSignupForm(AllauthSocialSignupForm):
    display_name = display_name_field()

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data["display_name"])


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up modes (SIGNUP_MODE): open, invite-only, or restricted to email domains."""

    def is_open_for_signup(self, request) -> bool:
        if settings.SIGNUP_MODE == "invite":
            # A class's join link or staff link, or a teacher invitation, lets its holder in.
            from .teaching import has_open_invitation

            return (
                has_open_join_link(request)
                or has_open_staff_link(request)
                or has_open_invitation(request)
            )
        return super().is_open_for_signup(request)

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        if settings.SIGNUP_MODE == "domains":
            domain = email.rsplit("@", 1)[-1].lower()
            if domain not in settings.SIGNUP_EMAIL_DOMAINS:
                allowed = ", ".join(f"@{name}" for name in settings.SIGNUP_EMAIL_DOMAINS)
                raise forms.ValidationError(
                    f"Sign up with your school email address (ending in {allowed})."
                )
        return email

    def save_user(self, request, user, form, commit=True):
        user.display_name = form.cleaned_data.get("display_name") or user.display_name
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """
        Account email (confirmations, password resets, address changes) goes
        through the outbox like every other email: a mail server that is down
        delays it instead of failing the sign-up, and the sweep sends it later.
        Its links point at the site's own address, and it says the site's name.
        """
        context = {
            "request": allauth_context.request,
            "email": email,
            **context,
            "current_site": SiteIdentity(name=SITE_NAME, domain=site_domain()),
        }
        for key, value in context.items():
            if key.endswith("_url") and isinstance(value, str) and "://" in value:
                context[key] = on_this_site(value)
        message = self.render_mail(template_prefix, email, context)
        recipient = context.get("user")
        queue_email(
            recipient if isinstance(recipient, User) else None,
            message.subject,
            message.body,
            to=email,
            erase_body_when_sent=True,
        )


@dataclass(frozen=True)
class SiteIdentity:
    """What allauth's email templates print as `current_site`."""

    name: str
    domain: str


def on_this_site(url: str) -> str:
    """A link that allauth built from the request, moved onto the site's own address."""
    parts = urlsplit(url)
    return absolute(parts.path + (f"?{parts.query}" if parts.query else ""))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        user.display_name = " ".join((name or "").split())[:50]
        return user

    def is_auto_signup_allowed(self, request, sociallogin):
        # Without a name from the provider, ask for one instead of inventing it.
        if not sociallogin.user.display_name:
            return False
        return super().is_auto_signup_allowed(request, sociallogin)
