"""
The tool's side of LTI 1.3: login initiation, the launch, the choice
between linking an existing account and a separate one, the reading picker
(for a link without a reading, and for deep linking), the JWKS, and the
configuration an LMS asks for.
"""

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from lti_tool.models import Key, LtiLaunch
from pylti1p3.contrib.django import DjangoOIDCLogin
from pylti1p3.contrib.django.request import DjangoRequest
from pylti1p3.exception import LtiException, OIDCException

from ..accounts import has_verified_email
from ..models import TEACHING_ROLES, LmsLink, LmsPlatform, Membership, Reading, origin_of
from ..site import absolute
from . import deep_linking
from .framing import SESSION_KEY
from .launch import (
    CacheStorage,
    MessageLaunch,
    PartitionedCookieService,
    Refused,
    ToolConfig,
    refusal_for,
    registration_for,
    validated_launch,
)
from .provisioning import Arrival, address_taken, arrive, checked_claims, linked_user

PENDING_KEY = "lti_pending"  # a launch waiting for the person to link an account or not
PICKING_KEY = "lti_picking"  # what the reading picker will answer: a link, or a deep link


def refused(request: HttpRequest, refusal: Refused, *, origins=None) -> HttpResponse:
    """
    The page a refused launch shows inside the LMS, logged; nothing was
    changed. It shows in the frame of the registered LMS that sent the
    launch, or, when the launch could not be traced to one (the refusal may
    be that it is not registered), in any frame: it offers nothing to act on
    and holds no session, so there is nothing to hijack by framing it.
    """
    refusal.log(request)
    response = render(
        request, "annotate/lti/refused.html", {"refusal": refusal}, status=refusal.status
    )
    response.lti_frame_origins = origins or ["*"]
    return response


# Login initiation -----------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def login_initiation(request: HttpRequest, registration_uuid=None) -> HttpResponse:
    """
    Step one of a launch (OIDC third-party-initiated login): the LMS sends
    the browser here; the site sets its state cookie and sends the browser
    to the LMS's authorization endpoint, which posts the id_token to the
    launch. In a frame whose cookies the browser blocks, the page offers to
    go on in a new tab.
    """
    params = request.POST if request.method == "POST" else request.GET
    if not params.get("target_link_uri"):
        return refused(
            request,
            Refused(
                "This address starts a launch from an LMS; it was opened without one.",
                "Open the assignment from the LMS. LMS administrators: the login initiation "
                "request must carry iss, login_hint and target_link_uri.",
                detail="no target_link_uri",
            ),
        )
    tool_config = ToolConfig(registration_uuid)
    wrapped = DjangoRequest(request)
    cookies = PartitionedCookieService(wrapped)
    oidc = DjangoOIDCLogin(
        wrapped, tool_config, cookie_service=cookies, launch_data_storage=CacheStorage()
    )
    try:
        authorization = oidc.get_redirect_object(absolute(reverse("lti_launch"), request))
    except (LtiException, OIDCException) as error:
        return refused(request, refusal_for(error))
    origins = LmsPlatform.origins_for(tool_config.registration)
    auth_url = authorization.get_redirect_url()
    if params.get("lti1p3_new_window"):
        response = redirect(auth_url)
    else:
        new_tab = f"{request.path}?{urlencode({**params.dict(), 'lti1p3_new_window': '1'})}"
        response = render(
            request, "annotate/lti/cookie_check.html", {"auth_url": auth_url, "new_tab": new_tab}
        )
        response.lti_frame_origins = origins
    cookies.update_response(response)
    return response


# The launch -----------------------------------------------------------------------


@csrf_exempt
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    """The LMS's form post of the id_token: checked, then the person arrives in their class."""
    try:
        message = validated_launch(request)
    except Refused as refusal:
        return refused(request, refusal)
    registration = registration_for(message)
    origins = LmsPlatform.origins_for(registration)
    try:
        role = checked_claims(message.claims)
    except Refused as refusal:
        return refused(request, refusal, origins=origins)
    if message.is_deep_link_launch() and role not in TEACHING_ROLES:
        return refused(
            request,
            Refused(
                "Only the course's teaching staff add this tool to the course.",
                "Ask the course's instructor to add the assignment.",
                status=403,
                detail="deep linking by a student",
            ),
            origins=origins,
        )
    user = linked_user(registration, message.claims)
    if user is None and (email := address_taken(message.claims)):
        # Whoever was signed in here is not this person until they sign in themselves.
        logout(request)
        request.session[PENDING_KEY] = {"launch": message.get_launch_id(), "email": email}
        request.session[SESSION_KEY] = {"origins": origins}
        return redirect("lti_link_account")
    return _arrived(request, message, arrive(message, role, user=user), origins)


def _arrived(request: HttpRequest, message, arrival: Arrival, origins: list[str]) -> HttpResponse:
    """Sign the person in, in a session the LMS may frame, and take them to their reading."""
    login(request, arrival.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_KEY] = {"origins": origins}
    request.session.pop(PICKING_KEY, None)  # an earlier launch's picker is not this one's
    classroom = arrival.classroom
    if message.is_deep_link_launch():
        request.session[PICKING_KEY] = {"deep_link": message.get_launch_id(), "class": classroom.pk}
        return redirect("lti_pick_reading")
    link = arrival.link
    if link.reading_id is not None:
        return redirect(link.reading)
    if arrival.role == Membership.Role.INSTRUCTOR:
        request.session[PICKING_KEY] = {"link": link.pk, "class": classroom.pk}
        return redirect("lti_pick_reading")
    messages.info(
        request,
        "Your instructor has not chosen the reading for this assignment yet. Here are "
        "your class's readings meanwhile.",
    )
    return redirect(classroom)


def restored(launch_id: str, request: HttpRequest):
    """
    A launch checked earlier in this session, from the cache; None once it
    has expired, or its registration or deployment has been turned off since.
    """
    try:
        message = MessageLaunch.from_cache(launch_id, request, ToolConfig())
    except LtiException:
        return None
    deployment = LtiLaunch(message).deployment
    if not (deployment.is_active and deployment.registration.is_active):
        return None
    return message


def _pending_launch(request: HttpRequest):
    pending = request.session.get(PENDING_KEY)
    if not pending:
        raise Http404("There is no launch waiting here. Open the assignment from the LMS again.")
    message = restored(pending["launch"], request)
    if message is None:
        del request.session[PENDING_KEY]
        raise Http404("This launch has expired. Open the assignment from the LMS again.")
    return pending, message


@require_http_methods(["GET", "POST"])
def link_account(request: HttpRequest) -> HttpResponse:
    """
    An account here already has the address the LMS gave: the person signs
    in to it to link it (their launches open it from now on), or goes on
    with a separate account. Nothing is merged on the address alone.
    """
    pending, message = _pending_launch(request)
    origins = request.session[SESSION_KEY]["origins"]  # kept when the launch was put off
    email, error = pending["email"], None
    if request.method == "POST":
        choice = request.POST.get("choice")
        if choice == "separate":
            del request.session[PENDING_KEY]
            arrival = arrive(message, checked_claims(message.claims), separate=True)
            return _arrived(request, message, arrival, origins)
        if choice == "link":
            email = request.POST.get("email", "").strip()
            password = request.POST.get("password", "")
            if not ratelimit.consume(request, action="login_failed", key=email.lower()):
                error = "Too many failed attempts. Wait a while and try again."
            elif (user := authenticate(request, email=email, password=password)) is None:
                error = "That address and password do not match an account here."
            elif user.is_superuser or (
                user.is_staff and not (user.is_teacher or user.is_class_staff)
            ):
                # An LMS can let its administrators act as anyone: never as the site's
                # administrators or moderators, whose reach goes beyond any class.
                error = (
                    "The site's administrators' and moderators' accounts are not linked to an "
                    "LMS. Go on with a separate account for it."
                )
            elif not has_verified_email(user):
                error = (
                    "Confirm that account's email address first (the confirmation email, or "
                    "sign in on the site to send it again), then open the assignment again."
                )
            else:
                del request.session[PENDING_KEY]
                role = checked_claims(message.claims)
                return _arrived(request, message, arrive(message, role, user=user), origins)
        else:
            error = "Choose one: link your account, or go on with a separate one."
    context = {
        "email": email,
        "error": error,
        "lms_name": registration_for(message).name,
    }
    return render(request, "annotate/lti/link_account.html", context, status=400 if error else 200)


# The reading picker ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def pick_reading(request: HttpRequest) -> HttpResponse:
    """
    For an instructor: which of the class's readings an LMS link opens (a
    link launched before it had one), or which reading a deep link adds to
    the course, with its gradebook column.
    """
    picking = request.session.get(PICKING_KEY)
    if not picking:
        raise Http404(
            "There is no LMS assignment waiting for a reading. Open it from the LMS again."
        )
    membership = Membership.objects.filter(
        classroom_id=picking["class"], user=request.user, role__in=TEACHING_ROLES
    ).select_related("classroom")
    membership = membership.first()
    if membership is None:
        raise PermissionDenied("Only the class's teaching staff choose its assignments' readings.")
    classroom = membership.classroom
    readings = list(classroom.readings.select_related("document"))
    error = None
    if request.method == "POST":
        reading = next((r for r in readings if str(r.pk) == request.POST.get("reading", "")), None)
        if reading is None:
            error = "Choose one of the class's readings."
        elif "deep_link" in picking:
            return _answer_deep_link(request, picking, reading)
        else:
            link = get_object_or_404(LmsLink, pk=picking["link"])
            link.reading = reading
            link.save(update_fields=["reading"])
            del request.session[PICKING_KEY]
            messages.success(
                request, f"This assignment opens “{reading.document.title}” from now on."
            )
            return redirect(reading)
    context = {
        "classroom": classroom,
        "readings": readings,
        "error": error,
        "deep_link": "deep_link" in picking,
        "add_url": reverse("new_reading", args=[classroom.slug]),
    }
    return render(request, "annotate/lti/pick_reading.html", context, status=400 if error else 200)


def _answer_deep_link(request: HttpRequest, picking: dict, reading: Reading) -> HttpResponse:
    message = restored(picking["deep_link"], request)
    if message is None:
        del request.session[PICKING_KEY]
        messages.error(request, "This request from the LMS has expired. Add the tool again.")
        return redirect(reading.classroom)
    answer = deep_linking.answer(message, reading, absolute(reverse("lti_launch"), request))
    del request.session[PICKING_KEY]
    response = render(request, "annotate/lti/deep_link_answer.html", answer)
    # The answer is a form the browser posts to the LMS.
    form_action = [*settings.SECURE_CSP["form-action"], origin_of(answer["return_url"])]
    response._csp_config = {**settings.SECURE_CSP, "form-action": form_action}
    return response


def picking_for(request: HttpRequest, classroom) -> str | None:
    """Where to go once a new reading is saved, when an LMS assignment waits for one."""
    picking = request.session.get(PICKING_KEY) or {}
    return reverse("lti_pick_reading") if picking.get("class") == classroom.pk else None


# What an LMS fetches --------------------------------------------------------------


@require_safe
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys, which LMSs check its signed messages and token requests with."""
    response = JsonResponse(Key.objects.as_jwks())
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def canvas_config(request: HttpRequest) -> JsonResponse:
    """The JSON a Canvas administrator pastes into a new LTI developer key."""
    from .configuration import canvas_configuration

    return JsonResponse(canvas_configuration(request), json_dumps_params={"indent": 2})
