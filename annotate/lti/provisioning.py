"""
What a checked launch makes of the person and the course: an account found
by the LMS's issuer and subject (never by email alone), the course's class
kept in step with the LMS (title, term), their role in it, and the link's
reading. Everything here runs after `launch.validated_launch` has accepted
the launch, and in one transaction: a launch either arrives whole or changes
nothing.
"""

import hashlib
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from lti_tool.lti_core.constants import ContextRole
from lti_tool.lti_core.utils import normalize_role
from lti_tool.models import LtiContext, LtiLaunch, LtiUser
from lti_tool.utils import sync_data_from_launch

from ..models import (
    TEACHING_ROLES,
    Classroom,
    LmsCourse,
    LmsLink,
    Membership,
    Reading,
    User,
)
from ..slugs import unique_class_slug
from .launch import CLAIM, DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST, Refused

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
INSTRUCTOR_ROLES = {
    role.value
    for role in (ContextRole.INSTRUCTOR, ContextRole.ADMINISTRATOR, ContextRole.CONTENT_DEVELOPER)
}
NO_ADDRESS_DOMAIN = "lti.invalid"


def site_role(roles: list[str]) -> str | None:
    """
    The class role for a person's LTI context roles: teaching assistants
    (the Instructor#TeachingAssistant sub-roles) assist; instructors,
    course administrators and content developers instruct; learners are
    students. Mentors and roles outside the course (institution, system)
    alone are not roles in a class.
    """
    normalized = {normalize_role(role) for role in roles if isinstance(role, str)}
    if any(role.startswith(f"{MEMBERSHIP}/Instructor#TeachingAssistant") for role in normalized):
        return Membership.Role.ASSISTANT
    if normalized & INSTRUCTOR_ROLES or any(
        role.startswith(f"{MEMBERSHIP}/Instructor#") for role in normalized
    ):
        return Membership.Role.INSTRUCTOR
    if ContextRole.LEARNER.value in normalized or any(
        role.startswith(f"{MEMBERSHIP}/Learner#") for role in normalized
    ):
        return Membership.Role.STUDENT
    return None


NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DEEP_LINKING_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
OPTIONAL_DICTS = [
    f"{CLAIM}custom",
    f"{CLAIM}tool_platform",
    f"{CLAIM}launch_presentation",
    f"{CLAIM}lti1p1",
    "https://purl.imsglobal.org/spec/lti/claim/platformnotificationservice",
    NRPS_CLAIM,
    AGS_CLAIM,
]


def _text(value, limit: int) -> str | None:
    """`value` if it is text the database can hold (cut to `limit`), else None."""
    return value.strip()[:limit] if isinstance(value, str) else None


def _url(value, limit: int = 200) -> str | None:
    return value if isinstance(value, str) and len(value) <= limit and "://" in value else None


def _keep(mapping: dict, key: str, value) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def tidied(claims: dict) -> None:
    """
    Make the launch's claims safe to store, in place: an optional claim of
    the wrong type or too long for its column is dropped or cut, so that an
    odd LMS costs a detail (a picture, a label), never the launch. The
    claims the site needs are checked after, in `checked_claims`.
    """
    for key, limit in (("name", 500), ("given_name", 500), ("family_name", 500)):
        _keep(claims, key, _text(claims.get(key), limit))
    email = claims.get("email")
    _keep(claims, "email", email.strip() if isinstance(email, str) and len(email) <= 254 else None)
    _keep(claims, "picture", _url(claims.get("picture")))
    for key in OPTIONAL_DICTS:
        if key in claims and not isinstance(claims[key], dict):
            del claims[key]
    for key in (f"{CLAIM}context", f"{CLAIM}resource_link"):
        part = claims.get(key)
        if isinstance(part, dict):
            _keep(part, "title", _text(part.get("title"), 500))
            _keep(part, "label", _text(part.get("label"), 255))
            _keep(part, "description", _text(part.get("description"), 10_000))
            if not isinstance(part.get("type", []), list):
                del part["type"]
    if isinstance(roles := claims.get(f"{CLAIM}roles"), list):
        claims[f"{CLAIM}roles"] = [role for role in roles if isinstance(role, str)]
    if (nrps := claims.get(NRPS_CLAIM)) and _url(nrps.get("context_memberships_url")) is None:
        del claims[NRPS_CLAIM]
    if ags := claims.get(AGS_CLAIM):
        _keep(ags, "lineitem", _url(ags.get("lineitem"), 500))
        _keep(ags, "lineitems", _url(ags.get("lineitems")))
        scopes = ags.get("scope")
        ags["scope"] = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []
    if platform := claims.get(f"{CLAIM}tool_platform"):
        if not (isinstance(platform.get("guid"), str) and len(platform["guid"]) <= 255):
            del claims[f"{CLAIM}tool_platform"]
        else:
            for key in ("name", "product_family_code", "version", "description"):
                _keep(platform, key, _text(platform.get(key), 500))
            _keep(platform, "url", _url(platform.get("url")))
            contact = platform.get("contact_email")
            _keep(platform, "contact_email", contact if _text(contact, 254) == contact else None)
    if pns := claims.get("https://purl.imsglobal.org/spec/lti/claim/platformnotificationservice"):
        _keep(
            pns,
            "platform_notification_service_url",
            _url(pns.get("platform_notification_service_url")) or "",
        )
        if not isinstance(pns.get("notice_types_supported", []), list):
            pns["notice_types_supported"] = []


MALFORMED = "Tell the LMS administrator: the launch's {} claim is not what LTI 1.3 says it is."


def checked_claims(claims: dict) -> str:
    """The person's class role, once the launch has everything the site needs; else `Refused`."""
    tidied(claims)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= 255:
        raise Refused(
            "The launch did not say who you are in a form the site can use.",
            MALFORMED.format("sub"),
            detail=f"sub {sub!r:.100}",
        )
    for key in (f"{CLAIM}context", f"{CLAIM}resource_link"):
        part = claims.get(key)
        if part is not None and not (
            isinstance(part, dict)
            and isinstance(part.get("id", ""), str)
            and len(part.get("id", "")) <= 255
        ):
            name = key.rsplit("/", 1)[-1]
            raise Refused(
                f"The launch's {name.replace('_', ' ')} could not be read.",
                MALFORMED.format(name),
                detail=f"{name} {part!r:.100}",
            )
    message_type = claims.get(f"{CLAIM}message_type")
    if message_type not in (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST):
        raise Refused(
            f"The site does not take “{message_type}” messages.",
            "Tell the LMS administrator: the tool takes resource link launches and deep "
            "linking requests only.",
            detail=f"message type {message_type!r}",
        )
    context = claims.get(f"{CLAIM}context") or {}
    if not context.get("id"):
        raise Refused(
            "The launch did not say which course it came from.",
            "Open the tool from inside a course: the site makes a class of each LMS course, "
            "so it needs the launch's context claim.",
            detail="no context id",
        )
    if message_type == RESOURCE_LINK_REQUEST and not (
        claims.get(f"{CLAIM}resource_link") or {}
    ).get("id"):
        raise Refused(
            "The launch did not say which assignment it opens.",
            "Tell the LMS administrator: the launch lacks its resource link claim.",
            detail="no resource link id",
        )
    if message_type == DEEP_LINKING_REQUEST and not _url(
        (claims.get(DEEP_LINKING_CLAIM) or {}).get("deep_link_return_url"), 2000
    ):
        raise Refused(
            "The LMS did not say where to send the chosen reading.",
            MALFORMED.format("deep_linking_settings") + " It needs a deep_link_return_url.",
            detail="no deep_link_return_url",
        )
    roles = claims.get(f"{CLAIM}roles")
    if not isinstance(roles, list):
        raise Refused(
            "The launch did not say what your role in the course is.",
            "Tell the LMS administrator: the launch lacks its roles claim.",
            detail="no roles claim",
        )
    role = site_role(roles)
    if role is None:
        raise Refused(
            "Your role in this course is not one the site knows.",
            "The site takes the course roles Instructor, Teaching Assistant, Administrator, "
            "Content Developer and Learner. Mentors, observers and people without a role in "
            "the course cannot open it: ask the course's instructor to enrol you.",
            status=403,
            detail=f"roles {roles!r}",
        )
    return role


def display_name(claims: dict) -> str:
    name = claims.get("name") or " ".join(
        part for part in (claims.get("given_name"), claims.get("family_name")) if part
    )
    return (str(name).strip() or "LMS user")[:50]


def separate_address(registration, sub: str) -> str:
    """An address in the reserved .invalid domain, for one the LMS gives none (or a taken one)."""
    digest = hashlib.sha256(f"{registration.pk}:{sub}".encode()).hexdigest()[:24]
    return f"lti-{digest}@{NO_ADDRESS_DOMAIN}"


def linked_user(registration, claims: dict) -> User | None:
    """The account an earlier launch of this person made or linked, if any."""
    lti_user = (
        LtiUser.objects.filter(registration=registration, sub=claims["sub"])
        .select_related("auth_user")
        .first()
    )
    return lti_user.auth_user if lti_user else None


def address_taken(claims: dict) -> str | None:
    """
    The LMS's address for the person when an account here has it already:
    whether to link the two is theirs to choose.
    """
    email = (claims.get("email") or "").strip()
    if email and User.objects.filter(email__iexact=email).exists():
        return email
    return None


@dataclass
class Arrival:
    user: User
    classroom: Classroom
    role: str
    link: LmsLink | None


def arrive(launch, role: str, *, user: User | None = None, separate: bool = False) -> Arrival:
    """
    Provision the launch: the person (`user` when they linked their account,
    a new account otherwise), the course's class and their role in it, the
    link. A first launch of two people at once can race on the course's
    rows; the loser runs again and finds them.
    """
    try:
        return _arrive(launch, role, user=user, separate=separate)
    except IntegrityError:
        return _arrive(launch, role, user=user, separate=separate)


@transaction.atomic
def _arrive(launch, role, *, user, separate) -> Arrival:
    lti_launch = LtiLaunch(launch)
    claims = launch.claims
    registration = lti_launch.registration
    sync_data_from_launch(lti_launch)
    lti_user = LtiUser.objects.select_for_update().get(registration=registration, sub=claims["sub"])
    if user is not None:
        lti_user.auth_user = user
    elif lti_user.auth_user is None:
        lti_user.auth_user = new_person(registration, claims, separate=separate)
    lti_user.save(update_fields=["auth_user", "datetime_modified"])
    person = lti_user.auth_user

    context = LtiContext.objects.select_for_update().get(pk=lti_launch.context.pk)
    classroom = class_for(context, claims)
    Membership.objects.update_or_create(
        classroom=classroom, user=person, defaults={"role": role, **_keep_group(role)}
    )
    if role in TEACHING_ROLES:
        person.join_class_staff()

    link = None
    if launch.is_resource_launch():
        link, _ = LmsLink.objects.get_or_create(resource_link=lti_launch.resource_link)
        line_item = (lti_launch.ags_claim or {}).get("lineitem", "")
        if line_item and link.line_item_url != line_item:
            link.line_item_url = line_item  # the gradebook column the LMS made for the link
            link.save(update_fields=["line_item_url"])
        if link.reading_id is None and (reading := _reading_named(classroom, claims)):
            link.reading = reading
            link.save(update_fields=["reading"])
    return Arrival(person, classroom, role, link)


def _keep_group(role: str) -> dict:
    # Only students are in groups: a student made an instructor in the LMS leaves theirs.
    return {} if role == Membership.Role.STUDENT else {"group": None}


def new_person(registration, claims: dict, *, separate: bool) -> User:
    email = (claims.get("email") or "").strip()
    if separate or not email or User.objects.filter(email__iexact=email).exists():
        email = separate_address(registration, claims["sub"])
    # They sign in through the LMS: no password works until they set one by resetting it.
    return User.objects.create(
        email=User.objects.normalize_email(email),
        display_name=display_name(claims),
        password=make_password(None),
    )


def class_for(context: LtiContext, claims: dict) -> Classroom:
    """The course's class, made on its first launch and renamed as the LMS renames it."""
    name = (context.title or context.label or "LMS course")[:200]
    custom = claims.get(f"{CLAIM}custom") or {}
    term = str(custom.get("term") or "").strip()[:100]
    if term.startswith("$"):  # the LMS left its substitution variable unexpanded
        term = ""
    course = LmsCourse.objects.select_related("classroom").filter(context=context).first()
    if course is None:
        classroom = Classroom.objects.create(name=name, term=term, slug=unique_class_slug(name))
        LmsCourse.objects.create(context=context, classroom=classroom)
        return classroom
    classroom = course.classroom
    changed = {"name": name, "term": term or classroom.term}
    if any(getattr(classroom, field) != value for field, value in changed.items()):
        for field, value in changed.items():
            setattr(classroom, field, value)
        classroom.save(update_fields=list(changed))
    return classroom


def _reading_named(classroom: Classroom, claims: dict) -> Reading | None:
    """The reading a deep link chose, named in the link's custom parameters."""
    custom = claims.get(f"{CLAIM}custom") or {}
    slug = custom.get("reading")
    if not isinstance(slug, str) or not slug:
        return None
    return classroom.readings.filter(document__slug=slug).first()
