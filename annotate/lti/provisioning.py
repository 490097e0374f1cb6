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
from lti_tool.lti_core.utils import normalize_role
from lti_tool.models import LtiContext, LtiLaunch, LtiUser
from lti_tool.utils import sync_data_from_launch

from ..models import (
    TEACHING_ROLES,
    Classroom,
    LmsCourse,
    LmsLink,
    LmsPlatform,
    Membership,
    Reading,
    User,
)
from ..slugs import unique_class_slug
from .launch import CLAIM, DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST, Refused

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
INSTRUCTOR_ROLES = {f"{MEMBERSHIP}#{name}" for name in ("Instructor", "Administrator")} | {
    f"{MEMBERSHIP}#ContentDeveloper"
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
    if f"{MEMBERSHIP}#Learner" in normalized or any(
        role.startswith(f"{MEMBERSHIP}/Learner#") for role in normalized
    ):
        return Membership.Role.STUDENT
    return None


def checked_claims(claims: dict) -> str:
    """The person's class role, once the launch has everything the site needs; else `Refused`."""
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
    origins: list[str]


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
    platform, _ = LmsPlatform.objects.get_or_create(registration=registration)
    return Arrival(person, classroom, role, link, platform.allowed_frame_origins())


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
    if not slug:
        return None
    return classroom.readings.filter(document__slug=slug).first()
