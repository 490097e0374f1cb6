"""
LTI 1.3 launches against an LMS the tests run on 127.0.0.1 (tests/lti_platform.py):
login initiation, the signed id_token, provisioning by issuer and subject, the
course's class and roles, framing and cookies, deep linking, and every
refusal, each of which changes nothing.
"""

import html
import json
import logging
import re
import time
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from lti_tool.models import Key, LtiDeployment, LtiRegistration, LtiUser

from annotate.lti.keys import retire_superseded, signing_key
from annotate.models import (
    Classroom,
    LmsCourse,
    LmsLink,
    LmsPlatform,
    Membership,
    OutboundEmail,
    Reading,
    User,
)
from annotate.notifications import queue_email
from tests.factories import PASSWORD, make_document, make_user
from tests.lti_platform import (
    CLAIM,
    INSTITUTION_STUDENT,
    INSTRUCTOR,
    LAUNCH,
    MENTOR,
    TEACHING_ASSISTANT,
    landed,
    launch,
    new_key,
    start,
)

pytestmark = pytest.mark.django_db


def counts() -> dict:
    return {
        "users": User.objects.count(),
        "classes": Classroom.objects.count(),
        "memberships": Membership.objects.count(),
        "lti users": LtiUser.objects.count(),
        "links": LmsLink.objects.count(),
    }


# Arriving --------------------------------------------------------------------


def test_a_students_first_launch_makes_their_account_and_the_courses_class(
    client, platform, registration
):
    response = launch(client, platform)

    classroom = Classroom.objects.get()
    assert landed(response) == classroom.get_absolute_url()
    assert classroom.name == "History 101"
    assert LmsCourse.objects.get().classroom == classroom
    student = User.objects.get()
    assert (student.email, student.display_name) == ("ada@school.example", "Ada Student")
    assert not student.has_usable_password()
    assert Membership.objects.get(user=student).role == Membership.Role.STUDENT
    assert LtiUser.objects.get(sub="student-1").auth_user == student
    page = client.get(landed(response))
    assert page.status_code == 200
    assert page.context["user"] == student
    assert "has not chosen the reading" in page.content.decode()


def test_the_session_cookie_works_inside_the_lms_frame(client, platform, registration):
    response = launch(client, platform)

    cookie = response.cookies["sessionid"].output()
    assert "Secure" in cookie and "SameSite=None" in cookie and "Partitioned" in cookie
    page = client.get(landed(response))
    csrf = page.cookies.get("csrftoken")
    if csrf is not None:
        assert "Partitioned" in csrf.output()


def test_the_launch_state_cookie_is_partitioned(client, platform, registration):
    response = client.get(reverse("lti_login"), platform.login_params(LAUNCH))

    [state] = [morsel for key, morsel in response.cookies.items() if key.startswith("lti1p3-")]
    assert "Partitioned" in state.output() and "SameSite=None" in state.output()


def test_a_later_launch_keeps_the_class_in_step_and_finds_the_same_person(
    client, platform, registration
):
    launch(client, platform)
    client.logout()
    response = launch(
        client,
        platform,
        email="ada.new@school.example",
        context={"id": "course-1", "title": "History 101: Revolutions"},
        custom={"term": "Spring 2027"},
    )

    classroom = Classroom.objects.get()
    assert landed(response) == classroom.get_absolute_url()
    assert (classroom.name, classroom.term) == ("History 101: Revolutions", "Spring 2027")
    assert User.objects.get().email == "ada@school.example"  # found by issuer and subject


def test_an_unexpanded_term_variable_is_not_taken_for_a_term(client, platform, registration):
    launch(client, platform, custom={"term": "$Canvas.term.name"})

    assert Classroom.objects.get().term == ""


def test_each_deployment_and_course_is_its_own_class(client, platform, registration):
    LtiDeployment.objects.create(
        registration=registration, deployment_id="deployment-2", is_active=True
    )
    launch(client, platform)
    launch(client, platform, context={"id": "course-2", "title": "Geography"})
    launch(client, platform, **{f"{CLAIM}deployment_id": "deployment-2"})

    assert Classroom.objects.count() == 3
    assert sorted(Classroom.objects.values_list("name", flat=True)) == [
        "Geography",
        "History 101",
        "History 101",
    ]


@pytest.mark.parametrize(
    ("roles", "role"),
    [
        ([INSTRUCTOR], Membership.Role.INSTRUCTOR),
        (["Instructor"], Membership.Role.INSTRUCTOR),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"], "instructor"),
        ([INSTITUTION_STUDENT, TEACHING_ASSISTANT], Membership.Role.ASSISTANT),
        ([INSTRUCTOR, TEACHING_ASSISTANT], Membership.Role.ASSISTANT),
        ([INSTITUTION_STUDENT, "Learner"], Membership.Role.STUDENT),
    ],
)
def test_lms_roles_become_class_roles(client, platform, registration, roles, role):
    launch(client, platform, roles=roles)

    membership = Membership.objects.get()
    assert membership.role == role
    assert membership.user.is_class_staff == (role != Membership.Role.STUDENT)


def test_a_role_change_in_the_lms_follows_on_the_next_launch(client, platform, registration):
    launch(client, platform)
    launch(client, platform, roles=[TEACHING_ASSISTANT])

    assert Membership.objects.get().role == Membership.Role.ASSISTANT


def test_a_link_with_a_reading_lands_on_it(client, platform, registration):
    launch(client, platform, sub="teacher", roles=[INSTRUCTOR], email="t@school.example")
    classroom = Classroom.objects.get()
    reading = Reading.objects.create(classroom=classroom, document=make_document())
    LmsLink.objects.update(reading=reading)
    client.logout()

    response = launch(client, platform)

    assert landed(response) == reading.get_absolute_url()
    assert client.get(landed(response)).status_code == 200


def test_an_instructor_picks_the_reading_of_a_link_that_has_none(client, platform, registration):
    response = launch(client, platform, sub="teacher", roles=[INSTRUCTOR], email="t@s.example")
    assert landed(response) == reverse("lti_pick_reading")
    classroom = Classroom.objects.get()
    empty = client.get(reverse("lti_pick_reading"))
    assert "has no readings yet" in empty.content.decode()
    reading = Reading.objects.create(classroom=classroom, document=make_document())

    refused = client.post(reverse("lti_pick_reading"), {"reading": "9999"})
    assert refused.status_code == 400
    assert "Choose one of the class" in refused.content.decode()
    chosen = client.post(reverse("lti_pick_reading"), {"reading": reading.pk})

    assert landed(chosen) == reading.get_absolute_url()
    assert LmsLink.objects.get().reading == reading


def test_the_picker_is_for_the_classs_teaching_staff_only(client, platform, registration):
    launch(client, platform, sub="teacher", roles=[INSTRUCTOR], email="t@s.example")
    session = client.session
    picking = session["lti_picking"]
    client.logout()
    launch(client, platform)  # a student
    session = client.session
    session["lti_picking"] = picking
    session.save()

    assert client.get(reverse("lti_pick_reading")).status_code == 403


def test_a_new_reading_added_while_an_assignment_waits_returns_to_the_picker(
    client, platform, registration
):
    launch(client, platform, sub="teacher", roles=[INSTRUCTOR], email="t@s.example")
    classroom = Classroom.objects.get()
    document = make_document(is_public=True)

    response = client.post(
        reverse("new_reading", args=[classroom.slug]), {"way": "pick", "document": document.pk}
    )

    assert landed(response) == reverse("lti_pick_reading")


# Existing accounts are never merged by address ---------------------------------


def test_an_existing_address_is_offered_linking_never_merged(client, platform, registration):
    existing = make_user("Ada", "ada@school.example")
    before = counts()

    response = launch(client, platform)

    assert landed(response) == reverse("lti_link_account")
    assert counts() == before
    page = client.get(reverse("lti_link_account"))
    assert "ada@school.example" in page.content.decode()
    assert page.context["user"].is_anonymous

    wrong = client.post(
        reverse("lti_link_account"),
        {"choice": "link", "email": "ada@school.example", "password": "nope"},
    )
    assert wrong.status_code == 400
    assert "do not match" in wrong.content.decode()
    assert counts() == before

    linked = client.post(
        reverse("lti_link_account"),
        {"choice": "link", "email": "ada@school.example", "password": PASSWORD},
    )
    assert landed(linked) == Classroom.objects.get().get_absolute_url()
    assert LtiUser.objects.get().auth_user == existing
    assert Membership.objects.get().user == existing
    client.logout()
    again = launch(client, platform)
    assert landed(again) == Classroom.objects.get().get_absolute_url()


def test_a_person_can_keep_a_separate_account(client, platform, registration):
    existing = make_user("Ada", "ada@school.example")
    launch(client, platform)

    response = client.post(reverse("lti_link_account"), {"choice": "separate"})

    assert landed(response) == Classroom.objects.get().get_absolute_url()
    person = LtiUser.objects.get().auth_user
    assert person != existing
    assert person.email.endswith("@lti.invalid")
    assert User.objects.get(pk=existing.pk).email == "ada@school.example"


def test_the_link_page_needs_a_waiting_launch(client):
    response = client.get(reverse("lti_link_account"))

    assert response.status_code == 404


def test_a_person_without_an_address_gets_one_that_is_never_mailed(client, platform, registration):
    launch(client, platform, email=None)
    person = User.objects.get()

    assert person.email.endswith("@lti.invalid")
    assert queue_email(person, "Hello", "Body") is None
    assert not OutboundEmail.objects.exists()


# Framing ---------------------------------------------------------------------


def frame_ancestors(response) -> str:
    policy = response["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]+)", policy).group(1)


def test_pages_of_a_launched_session_may_be_framed_by_the_lms_alone(client, platform, registration):
    response = launch(client, platform)
    page = client.get(landed(response))

    assert frame_ancestors(page) == platform.issuer
    assert "X-Frame-Options" not in page
    admin = client.get(reverse("admin:index"))
    assert "X-Frame-Options" in admin and frame_ancestors(admin) == "'none'"
    account = client.get(reverse("account_change_password"))
    assert frame_ancestors(account) == "'none'"
    classroom = Classroom.objects.get()
    for name in ("class_settings", "delete_class", "join_link"):
        unframed = client.get(reverse(name, args=[classroom.slug]))
        assert frame_ancestors(unframed) == "'none'", name


def test_other_sessions_keep_their_pages_unframed(client, platform, registration):
    make_user("Bo", "bo@example.com")
    client.login(email="bo@example.com", password=PASSWORD)

    page = client.get(reverse("my_classes"))

    assert frame_ancestors(page) == "'none'"
    assert page["X-Frame-Options"] == "DENY"
    assert "Partitioned" not in str(page.cookies)


def test_the_login_page_may_be_framed_by_the_registered_origins(client, platform, registration):
    LmsPlatform.objects.create(
        registration=registration, frame_origins="https://school.instructure.com/\n"
    )

    response = client.get(reverse("lti_login"), platform.login_params(LAUNCH))

    assert frame_ancestors(response) == f"https://school.instructure.com {platform.issuer}"


def test_a_new_tab_goes_straight_to_the_lms(client, platform, registration):
    page = client.get(reverse("lti_login"), platform.login_params(LAUNCH))
    new_tab = html.unescape(
        re.search(r'href="([^"]+lti1p3_new_window[^"]*)"', page.content.decode()).group(1)
    )

    response = client.get(new_tab)

    assert landed(response).startswith(platform.auth_url)
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    nonce = parse_qs(urlsplit(response["Location"]).query)["nonce"][0]
    token = platform.id_token(platform.claims(nonce))
    arrived = client.post(reverse("lti_launch"), {"id_token": token, "state": state})
    assert landed(arrived) == Classroom.objects.get().get_absolute_url()


# Refused launches --------------------------------------------------------------


def refused_launch(client, platform, caplog, *, status, says, token_for=None, **claims):
    """A launch that must be refused with `status`, a page that `says`, a log line, no change."""
    before = counts()
    state, nonce = start(client, platform)
    body = platform.claims(nonce, **claims)
    token = token_for(body) if token_for else platform.id_token(body)
    with caplog.at_level(logging.WARNING, logger="annotate.lti"):
        response = client.post(reverse("lti_launch"), {"id_token": token, "state": state})
    assert response.status_code == status, response.content
    assert says in response.content.decode()
    assert "LTI launch refused" in caplog.text
    assert counts() == before
    assert "_auth_user_id" not in client.session
    return response


def test_a_replayed_launch_is_refused(client, platform, registration, caplog):
    state, nonce = start(client, platform)
    form = {"id_token": platform.id_token(platform.claims(nonce)), "state": state}
    assert client.post(reverse("lti_launch"), form).status_code == 302
    client.logout()
    before = counts()

    with caplog.at_level(logging.WARNING, logger="annotate.lti"):
        again = client.post(reverse("lti_launch"), form)

    assert again.status_code == 400
    assert "used already" in again.content.decode()
    assert counts() == before


def test_a_replayed_nonce_with_a_fresh_state_is_refused(client, platform, registration, caplog):
    state, nonce = start(client, platform)
    assert (
        client.post(
            reverse("lti_launch"),
            {"id_token": platform.id_token(platform.claims(nonce)), "state": state},
        ).status_code
        == 302
    )
    client.logout()
    fresh_state, _ = start(client, platform)

    response = client.post(
        reverse("lti_launch"),
        {"id_token": platform.id_token(platform.claims(nonce)), "state": fresh_state},
    )

    assert response.status_code == 400


def test_a_launch_without_the_login_cookie_is_refused(client, platform, registration, caplog):
    state, nonce = start(client, platform)
    client.cookies.clear()

    response = client.post(
        reverse("lti_launch"),
        {"id_token": platform.id_token(platform.claims(nonce)), "state": state},
    )

    assert response.status_code == 400
    assert "new tab" in response.content.decode()


def test_an_expired_launch_is_refused(client, platform, registration, caplog):
    old = int(time.time()) - 3600
    refused_launch(client, platform, caplog, status=400, says="expired", exp=old, iat=old - 60)


def test_a_launch_from_the_future_is_refused(client, platform, registration, caplog):
    later = int(time.time()) + 3600
    refused_launch(client, platform, caplog, status=400, says="future", iat=later, exp=later + 60)


def test_a_small_clock_difference_is_forgiven(client, platform, registration):
    soon = int(time.time()) + 20
    response = launch(client, platform, iat=soon, exp=soon + 300)

    assert response.status_code == 302


def test_a_launch_for_another_tool_is_refused(client, platform, registration, caplog):
    refused_launch(client, platform, caplog, status=403, says="not registered", aud="someone-else")


def test_a_launch_with_the_tool_among_audiences_needs_it_as_authorized_party(
    client, platform, registration, caplog
):
    refused_launch(
        client,
        platform,
        caplog,
        status=403,
        says="authorized for another tool",
        aud=[platform.client_id, "other"],
        azp="other",
    )


def test_a_launch_naming_another_issuer_is_refused(client, platform, registration, caplog):
    refused_launch(
        client, platform, caplog, status=403, says="not registered", iss="https://elsewhere.example"
    )


def test_a_launch_from_an_unknown_deployment_is_refused(client, platform, registration, caplog):
    refused_launch(
        client,
        platform,
        caplog,
        status=403,
        says="deployment",
        **{f"{CLAIM}deployment_id": "unknown"},
    )
    assert not LtiDeployment.objects.filter(deployment_id="unknown").exists()


def test_an_inactive_deployment_is_refused(client, platform, registration, caplog):
    LtiDeployment.objects.update(is_active=False)
    refused_launch(client, platform, caplog, status=403, says="deployment")


@pytest.mark.parametrize(
    ("kid", "says"),
    [
        ("unknown-kid", "key the site could not find"),  # a key the LMS's JWKS lacks
        (None, "signature does not match"),  # the JWKS's key ID, signed with another key
    ],
)
def test_a_launch_signed_with_a_key_the_lms_does_not_publish_is_refused(
    client, platform, registration, caplog, kid, says
):
    other, _ = new_key()
    refused_launch(
        client,
        platform,
        caplog,
        status=403,
        says=says,
        token_for=lambda body: platform.id_token(body, key=other, kid=kid),
    )


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({f"{CLAIM}context": {"title": "no id"}}, "which course"),
        ({f"{CLAIM}resource_link": {"title": "no id"}}, "Resource Link"),
        ({f"{CLAIM}roles": None}, "Roles"),
        ({"nonce": None}, "used already or has expired"),
    ],
)
def test_a_launch_missing_a_claim_is_refused(client, platform, registration, caplog, claims, says):
    overrides = dict(claims)
    body_overrides = {key: value for key, value in overrides.items() if value is not None}
    removed = [key for key, value in overrides.items() if value is None]

    def token_for(body):
        body.update(body_overrides)
        for key in removed:
            body.pop(key, None)
        return platform.id_token(body)

    refused_launch(client, platform, caplog, status=400, says=says, token_for=token_for)


@pytest.mark.parametrize("roles", [[MENTOR], [INSTITUTION_STUDENT], []])
def test_a_role_the_site_does_not_know_is_refused(client, platform, registration, caplog, roles):
    refused_launch(client, platform, caplog, status=403, says="not one the site knows", roles=roles)


def test_a_launch_without_a_token_is_refused(client, platform, registration):
    response = client.post(reverse("lti_launch"), {"state": "x"})

    assert response.status_code == 400
    assert "Open the assignment from the LMS" in response.content.decode()


def test_a_malformed_token_is_refused(client, platform, registration):
    state, _ = start(client, platform)

    response = client.post(reverse("lti_launch"), {"id_token": "not.a.jwt", "state": state})

    assert response.status_code == 400


def test_a_login_from_an_unregistered_lms_is_refused(client, platform, caplog):
    with caplog.at_level(logging.WARNING, logger="annotate.lti"):
        response = client.get(reverse("lti_login"), platform.login_params(LAUNCH))

    assert response.status_code == 403
    assert "register_lti_platform" in response.content.decode()
    assert "LTI launch refused" in caplog.text


def test_a_login_without_its_parameters_is_refused(client, platform, registration):
    assert client.get(reverse("lti_login")).status_code == 400
    params = platform.login_params(LAUNCH)
    del params["login_hint"]
    assert client.get(reverse("lti_login"), params).status_code == 400


def test_a_login_without_a_client_id_finds_the_issuers_only_registration(
    client, platform, registration
):
    params = platform.login_params(LAUNCH)
    del params["client_id"]

    assert client.get(reverse("lti_login"), params).status_code == 200
    by_address = reverse("lti_login_for", args=[registration.uuid])
    assert client.get(by_address, params).status_code == 200


def test_the_launch_answers_get_with_405(client):
    assert client.get(reverse("lti_launch")).status_code == 405


# Deep linking ----------------------------------------------------------------

DEEP_LINKING = {
    "deep_link_return_url": "",
    "accept_types": ["ltiResourceLink"],
    "accept_presentation_document_targets": ["iframe", "window"],
    "data": "opaque-platform-data",
}


def deep_link_launch(client, platform, **claims):
    settings_ = {**DEEP_LINKING, "deep_link_return_url": f"{platform.issuer}/deep-link-return"}
    return launch(
        client,
        platform,
        message_type="LtiDeepLinkingRequest",
        **{"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": settings_},
        **claims,
    )


def test_deep_linking_answers_a_resource_link_with_a_line_item(client, platform, registration):
    response = deep_link_launch(client, platform, sub="teacher", roles=[INSTRUCTOR], email="t@s.ex")
    assert landed(response) == reverse("lti_pick_reading")
    classroom = Classroom.objects.get()
    reading = Reading.objects.create(classroom=classroom, document=make_document(title="Lynch"))

    answer = client.post(reverse("lti_pick_reading"), {"reading": reading.pk})

    assert answer.status_code == 200
    page = answer.content.decode()
    assert f'action="{platform.issuer}/deep-link-return"' in page
    assert platform.issuer in answer["Content-Security-Policy"].split("form-action")[1]
    token = re.search(r'name="JWT" value="([^"]+)"', page).group(1)
    public = jwt.PyJWKSet.from_dict(client.get(reverse("lti_jwks")).json())
    kid = jwt.get_unverified_header(token)["kid"]
    message = jwt.decode(token, public[kid].key, algorithms=["RS256"], audience=platform.issuer)
    assert message["iss"] == platform.client_id
    assert message[f"{CLAIM}message_type"] == "LtiDeepLinkingResponse"
    assert message["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    [item] = message["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == LAUNCH
    assert item["custom"] == {"reading": reading.document.slug}
    assert item["lineItem"]["scoreMaximum"] == 10.0
    assert item["lineItem"]["label"] == "Lynch"

    # The LMS makes the link; its first launch, by a student, lands on the reading.
    client.logout()
    student = launch(client, platform, resource_link={"id": "new-link"}, custom=item["custom"])
    assert landed(student) == reading.get_absolute_url()


def test_students_cannot_deep_link(client, platform, registration, caplog):
    with caplog.at_level(logging.WARNING, logger="annotate.lti"):
        response = deep_link_launch(client, platform)

    assert response.status_code == 403
    assert "teaching staff" in response.content.decode()


# Registration and keys ---------------------------------------------------------


def test_register_lti_platform_registers_and_prints_what_to_paste(platform):
    out = StringIO()
    args = [
        "--name=Canvas at School",
        f"--issuer={platform.issuer}",
        f"--client-id={platform.client_id}",
        f"--auth-url={platform.auth_url}",
        f"--token-url={platform.token_url}",
        f"--keyset-url={platform.keyset_url}",
        "--deployment=deployment-1",
        "--frame-origin=https://school.instructure.com",
    ]
    call_command("register_lti_platform", *args, stdout=out)

    registration = LtiRegistration.objects.get()
    assert registration.deployments.get().is_active
    assert "https://school.instructure.com" in registration.platform.allowed_frame_origins()
    assert Key.objects.active().count() == 1
    printed = out.getvalue()
    for name in ("lti_launch", "lti_jwks"):
        assert reverse(name) in printed
    assert str(registration.uuid) in printed
    config = json.loads(printed[printed.index("{") :])
    assert config["oidc_initiation_url"].endswith(reverse("lti_login"))
    assert config["target_link_uri"].endswith(reverse("lti_launch"))

    call_command("register_lti_platform", *args[:-2], "--name=Renamed", stdout=StringIO())
    assert LtiRegistration.objects.get().name == "Renamed"


def test_register_lti_platform_refuses_a_bad_url(platform):
    with pytest.raises(CommandError, match="--auth-url"):
        call_command(
            "register_lti_platform",
            "--name=X",
            "--issuer=x",
            "--client-id=y",
            "--auth-url=not a url",
            "--token-url=https://x.example/token",
            "--keyset-url=https://x.example/jwks",
        )


def test_rotating_keys_serves_old_and_new_until_the_overlap_ends(
    client, platform, registration, settings
):
    old = Key.objects.get()
    call_command("rotate_lti_keys", stdout=StringIO())

    kids = {key["kid"] for key in client.get(reverse("lti_jwks")).json()["keys"]}
    assert len(kids) == 2 and str(old) in kids
    new = Key.objects.latest()
    assert signing_key() == old  # the new key is published first, and signs after the overlap
    settings.LTI_KEY_OVERLAP_DAYS = 0
    assert signing_key() == new
    settings.LTI_KEY_OVERLAP_DAYS = 7
    assert retire_superseded() == 0  # the new key is not yet published for the overlap
    assert retire_superseded(overlap_days=0) == 1
    assert [key["kid"] for key in client.get(reverse("lti_jwks")).json()["keys"]] != [str(old)]
    assert launch(client, platform).status_code == 302


def test_canvas_configuration_is_served(client):
    config = client.get(reverse("lti_canvas_config")).json()

    assert config["public_jwk_url"].endswith(reverse("lti_jwks"))
    placements = config["extensions"][0]["settings"]["placements"]
    assert {p["message_type"] for p in placements} == {"LtiDeepLinkingRequest"}


def test_superusers_register_lms_platforms_in_the_admin(client, platform, registration):
    admin = make_user("Root", "root@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)

    page = client.get(reverse("admin:lti_tool_ltiregistration_change", args=[registration.pk]))

    assert page.status_code == 200
    assert reverse("lti_launch") in page.content.decode()
    assert client.get(reverse("admin:lti_tool_ltiregistration_add")).status_code == 200


def test_teachers_do_not_see_lms_registrations(client, registration):
    teacher = make_user("Tea", "tea@example.com")
    teacher.become_teacher()
    client.force_login(teacher)

    page = client.get(reverse("admin:lti_tool_ltiregistration_changelist"))

    assert page.status_code == 403


def test_the_lti_libraries_are_the_pinned_ones_on_this_django():
    """CI runs this suite on the pins: a drift of the LTI stack or of Django shows here."""
    from importlib.metadata import version
    from pathlib import Path

    import django

    pins = dict(
        line.split("==")
        for line in (Path(__file__).parent.parent / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert django.VERSION[:2] == (6, 1)
    for package in ("django-lti", "PyLTI1p3", "PyJWT", "jwcrypto"):
        assert version(package) == pins[package]


def test_a_refusal_shows_in_the_lms_frame(client, platform, registration, caplog):
    refused = refused_launch(
        client, platform, caplog, status=403, says="not one the site knows", roles=[MENTOR]
    )
    assert frame_ancestors(refused) == platform.issuer
    assert "X-Frame-Options" not in refused

    unknown = client.get(reverse("lti_login"), {**platform.login_params(LAUNCH), "iss": "x"})
    assert unknown.status_code == 403
    assert frame_ancestors(unknown) == "*"  # whoever framed it learns only that it is refused


@pytest.mark.parametrize(
    "claims",
    [
        {"context": ["x"]},
        {f"{CLAIM}context": "course-1"},
        {"context": {"id": {"a": 1}}},
        {"context": {"id": "c", "title": ["a"]}},
        {"custom": ["a"]},
        {"custom": "term"},
        {"roles": [1, "Learner"]},
        {"email": 5},
        {"email": ["a@b.c"]},
        {"name": {"x": 1}},
        {"name": "x" * 5000, "email": "a" * 300 + "@school.example"},
        {"sub": 123},
        {"resource_link": "link"},
        {"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": ["x"]},
        {"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {"lineitem": 5}},
        {"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": "x"},
        {f"{CLAIM}tool_platform": "x"},
        {f"{CLAIM}deployment_id": ["deployment-1"]},
        {"message_type": "LtiDeepLinkingRequest", "roles": [INSTRUCTOR]},
    ],
)
def test_malformed_claims_get_a_clear_answer_never_a_500(client, platform, registration, claims):
    response = launch(client, platform, **claims)

    assert response.status_code in (302, 400, 403), response.content
    if response.status_code != 302:
        assert "could not be opened" in response.content.decode()


def test_a_launch_waiting_for_its_person_signs_out_whoever_was_signed_in(
    client, platform, registration
):
    launch(client, platform, sub="a", email="a@school.example")
    make_user("Bo", "bo@example.com")

    response = launch(client, platform, sub="b", email="bo@example.com")

    assert landed(response) == reverse("lti_link_account")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("fields", [{"is_superuser": True, "is_staff": True}, {"is_staff": True}])
def test_administrators_and_moderators_accounts_are_never_linked(
    client, platform, registration, fields
):
    make_user("Root", "root@school.example", **fields)
    launch(client, platform, email="root@school.example")

    response = client.post(
        reverse("lti_link_account"),
        {"choice": "link", "email": "root@school.example", "password": PASSWORD},
    )

    assert response.status_code == 400
    assert "are not linked to an LMS" in response.content.decode()
    assert not LtiUser.objects.exists() and not Membership.objects.exists()
