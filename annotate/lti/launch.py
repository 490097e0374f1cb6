"""
Checking an LTI 1.3 launch before anything is saved: PyLTI1p3 validates the
OIDC state, the id_token's signature against the platform's JWKS, the
registration, the deployment and the message; this module closes what it
leaves open (state and nonce used once, the audience, authorized party and
times checked with a small leeway, unknown deployments refused rather than
created) and turns every failure into a `Refused` that says, in words for an
LMS administrator, what went wrong.
"""

import logging
from dataclasses import dataclass

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from lti_tool.models import LtiDeployment, LtiRegistration
from lti_tool.utils import DjangoToolConfig
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch
from pylti1p3.contrib.django.cookie import DjangoCookieService
from pylti1p3.contrib.django.request import DjangoRequest
from pylti1p3.contrib.django.session import DjangoSessionService
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, OIDCException

from .keys import tool_registration

logger = logging.getLogger("annotate.lti")

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"


@dataclass
class Refused(Exception):
    """
    A launch, login or deep link the site will not act on. `reason` says what
    was wrong to the person in front of the LMS; `advice` what to tell the
    LMS's administrator; `detail` goes to the log only.
    """

    reason: str
    advice: str
    status: int = 400
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.reason} ({self.detail})" if self.detail else self.reason

    def log(self, request) -> None:
        logger.warning(
            "LTI launch refused: %s %s [from %s]",
            self.reason,
            self.detail,
            request.META.get("REMOTE_ADDR", "?"),
        )


RETRY = "Open the assignment again from the LMS. If it happens again, tell the LMS administrator."
REGISTRATION = (
    "Tell the LMS administrator: the site has no active registration for this LMS's issuer "
    "and client ID. They register it in the site's admin (LTI registrations) or with "
    "`manage.py register_lti_platform`."
)


def refusal_for(error: Exception) -> Refused:
    """What a PyLTI1p3 error means, for the people who can do something about it."""
    message = str(error)
    if message.startswith(("State not found", "Missing state param", "Missing %s cookie")):
        return Refused(
            "The launch could not be matched to this browser: its sign-in step was "
            "missing, had expired, or was used already.",
            "If your browser blocks cookies inside the LMS's page, open the assignment in a "
            "new tab. " + RETRY,
            detail=message,
        )
    if message.startswith(("Invalid Nonce", '"nonce" is empty')):
        return Refused("This launch was used already or has expired.", RETRY, detail=message)
    if message.startswith(
        ("Registration not found", "Client id not registered", "Could not find registration")
    ):
        return Refused(
            "This LMS is not registered with the site.", REGISTRATION, status=403, detail=message
        )
    if message.startswith("Unable to find deployment"):
        return Refused(
            "This deployment of the tool in the LMS is not registered with the site.",
            "Tell the LMS administrator the deployment ID shown in the LMS's tool settings: "
            "it must be added (and marked active) under the platform's registration in the "
            "site's admin, or with `manage.py register_lti_platform --deployment`.",
            status=403,
            detail=message,
        )
    if message.startswith(("Unable to find public key", "JWT KID not found", "Error during fetch")):
        return Refused(
            "The LMS signed the launch with a key the site could not find in the LMS's "
            "published keys.",
            "Tell the LMS administrator to check the keyset (JWKS) URL registered for this "
            "LMS in the site's admin.",
            status=403,
            detail=message,
        )
    if message.startswith(("Could not find issuer", "Could not find login hint")):
        return Refused(
            "The LMS's sign-in request was incomplete.",
            "Tell the LMS administrator that the login initiation request lacked its "
            "`iss` or `login_hint` parameter.",
            detail=message,
        )
    return Refused(
        "The LMS's launch message could not be read.",
        "Tell the LMS administrator: " + message + ".",
        detail=message,
    )


# What each way an id_token fails means, most particular first (PyJWT's errors
# subclass one another): why it was refused, what to tell the LMS administrator,
# and the status. Advice in a callable is written when the refusal is.
TOKEN_REFUSALS = [
    (
        jwt.ExpiredSignatureError,
        "The launch message has expired.",
        "Open the assignment again. If it keeps happening, tell the LMS administrator that "
        "the LMS's clock and the site's disagree, or that launches take too long to arrive.",
        400,
    ),
    (
        jwt.ImmatureSignatureError,
        "The launch message is dated in the future.",
        lambda error: (
            "Tell the LMS administrator that the LMS's clock is ahead of the site's "
            f"by more than {settings.LTI_CLOCK_LEEWAY} seconds."
        ),
        400,
    ),
    (
        jwt.InvalidAudienceError,
        "The launch message was meant for another tool.",
        "Tell the LMS administrator that the id_token's audience is not this tool's client ID.",
        403,
    ),
    (
        jwt.InvalidIssuerError,
        "The launch message names another LMS as its issuer.",
        REGISTRATION,
        403,
    ),
    (
        jwt.InvalidSignatureError,
        "The launch message's signature does not match the LMS's published key.",
        "Tell the LMS administrator to check the keyset (JWKS) URL registered for this LMS, "
        "and that the LMS signs with the key it publishes there.",
        403,
    ),
    (
        jwt.InvalidTokenError,
        "The launch message is incomplete or malformed.",
        lambda error: f"Tell the LMS administrator: {error}.",
        400,
    ),
]


def token_refusal(error: jwt.InvalidTokenError) -> Refused:
    # The table ends with InvalidTokenError itself, so every error finds its line.
    _, reason, advice, status = next(line for line in TOKEN_REFUSALS if isinstance(error, line[0]))
    advice = advice(error) if callable(advice) else advice
    return Refused(reason, advice, status=status, detail=str(error))


class PartitionedCookieService(DjangoCookieService):
    """
    The launch's state cookie, readable inside the LMS's cross-site frame:
    Secure and SameSite=None, and partitioned by the LMS's site, which is the
    only kind of third-party cookie browsers still send there.
    """

    def update_response(self, response):
        from .framing import partition  # framing imports this module's names

        for key, data in self._cookie_data_to_set.items():
            response.set_cookie(
                key,
                data["value"],
                max_age=data["exp"],
                secure=True,
                httponly=True,
                samesite="None",
                path="/",
            )
            partition(response, key)


class CacheStorage(DjangoCacheDataStorage):
    """
    Launch state and nonces in Django's cache, keyed without a session cookie
    (which a cross-site frame may not have): the state cookie and the nonce,
    each used once, are what ties a launch to its browser.
    """

    def get_session_cookie_name(self):
        return None


class PlatformSession(requests.Session):
    """Requests to an LMS (its JWKS, token and service endpoints) that give up in time."""

    TIMEOUT = 10

    def __init__(self):
        super().__init__()
        self.headers["User-Agent"] = "annotate (LTI 1.3 tool)"

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self.TIMEOUT)
        return super().request(*args, **kwargs)


class ToolConfig(DjangoToolConfig):
    """django-lti's tool configuration, refusing deployments it does not know."""

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        if client_id is None:
            # Some LMSs send no client ID with login initiation: the registration's own
            # login address names it, or the issuer's only active registration does.
            found = LtiRegistration.objects.active().filter(issuer=iss)
            if self.registration_uuid is not None:
                found = found.filter(uuid=self.registration_uuid)
            found = list(found[:2])
            if len(found) != 1:
                return None
            self.registration = found[0]
            return tool_registration(self.registration)
        lookups = {"issuer": iss, "client_id": client_id}
        if self.registration_uuid is not None:
            lookups["uuid"] = self.registration_uuid
        self.registration = LtiRegistration.objects.active().filter(**lookups).first()
        return tool_registration(self.registration) if self.registration else None

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        return self.find_registration_by_params(iss, None)

    def find_deployment(self, iss, deployment_id):
        return self._known_deployment(
            registration__uuid=self.registration_uuid,
            registration__issuer=iss,
            deployment_id=deployment_id,
        )

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        lookups = {
            "registration__issuer": iss,
            "registration__client_id": client_id,
            "deployment_id": deployment_id,
        }
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        return self._known_deployment(**lookups)

    def _known_deployment(self, **lookups):
        self.deployment = (
            LtiDeployment.objects.filter(is_active=True, registration__is_active=True, **lookups)
            .select_related("registration")
            .first()
        )
        if self.deployment is None:
            return None
        return Deployment().set_deployment_id(self.deployment.deployment_id)


class MessageLaunch(DjangoMessageLaunch):
    """PyLTI1p3's launch, with the checks it leaves to the tool."""

    def __init__(self, request, tool_config, **kwargs):
        wrapped = DjangoRequest(request, post_only=True)
        super().__init__(
            wrapped,
            tool_config,
            session_service=DjangoSessionService(request),
            cookie_service=PartitionedCookieService(wrapped),
            launch_data_storage=CacheStorage(),
            requests_session=PlatformSession(),
        )

    def validate_state(self):
        # The library also accepts a state it has seen with this id_token before,
        # which is what a replay is. Only the cookie the login set counts here.
        state = self._get_request_param("state")
        if not state:
            raise LtiException("Missing state param")
        if self._cookie_service.get_cookie(state) != state:
            raise LtiException("State not found")
        return self

    def validate_jwt_signature(self):
        """The signature, and the times, audience and issuer the library does not check."""
        public_key, algorithm = self.get_public_key()
        registration = self._registration
        client_id = registration.get_client_id()
        try:
            body = jwt.decode(
                self._get_id_token(),
                public_key,
                algorithms=[algorithm],
                audience=client_id,
                issuer=registration.get_issuer(),
                leeway=settings.LTI_CLOCK_LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
            )
        except jwt.InvalidTokenError as error:
            raise token_refusal(error) from error
        audiences = body["aud"] if isinstance(body["aud"], list) else [body["aud"]]
        authorized_party = body.get("azp")
        if (len(audiences) > 1 or authorized_party is not None) and authorized_party != client_id:
            raise Refused(
                "The launch message was authorized for another tool.",
                "Tell the LMS administrator that the id_token's authorized party (azp) is not "
                "this tool's client ID.",
                status=403,
                detail=f"azp {authorized_party!r}, client id {client_id!r}",
            )
        return self

    def validate(self):
        super().validate()
        self._use_once()
        return self

    def _use_once(self):
        """Each state and nonce opens one launch: a second post of the same form is refused."""
        state = self._get_request_param("state")
        nonce = self._get_jwt_body()["nonce"]
        # Both are atomic on every cache backend: of two concurrent posts, one wins.
        fresh_state = cache.add(f"lti-used-state-{state}", True, timeout=24 * 60 * 60)
        fresh_nonce = cache.delete(f"lti1p3-nonce-{nonce}")
        if not (fresh_state and fresh_nonce):
            raise LtiException("Invalid Nonce: used already")

    @property
    def claims(self) -> dict:
        return self._get_jwt_body()


def validated_launch(request) -> MessageLaunch:
    """The launch in `request`'s form post, validated, or `Refused`."""
    if not request.POST.get("id_token"):
        raise Refused(
            "This address is where the LMS sends a launch; it was opened without one.",
            "Open the assignment from the LMS.",
            detail="no id_token",
        )
    launch = MessageLaunch(request, ToolConfig())
    try:
        launch.validate()
    except (LtiException, OIDCException) as error:
        raise refusal_for(error) from error
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        # A claim of the wrong type (a list for a deployment ID, say) that the library trips on.
        raise Refused(
            "The LMS's launch message could not be read.",
            "Tell the LMS administrator: a claim of the launch is not what LTI 1.3 says it is.",
            detail=f"{type(error).__name__}: {error}",
        ) from error
    return launch


def registration_for(launch: MessageLaunch) -> LtiRegistration:
    return launch.get_tool_conf().registration
