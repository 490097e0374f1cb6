"""
An LMS for the tests, served on 127.0.0.1: RSA keys made in the test, its
JWKS, an OIDC authorization endpoint that answers with a signed id_token
form post, and a course page that opens the tool in an iframe. Tests
register it with the site (`register`), start launches (`login_params`,
`id_token`) and read what the tool sent back (`received`).
"""

import html
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse
from jwcrypto.jwk import JWK

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
INSTITUTION_STUDENT = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def new_key() -> tuple[bytes, dict]:
    """A private key (PEM) and its public JWK with a key ID."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = json.loads(JWK.from_pem(pem).export_public())
    public.update(alg="RS256", use="sig", kid=public.get("kid") or uuid.uuid4().hex)
    return pem, public


class Platform:
    """One LMS: an issuer, a client ID for the tool, a deployment, and its endpoints."""

    def __init__(self, host: str = "localhost"):
        self.private_key, self.public_jwk = new_key()
        self.client_id = "annotate-client-" + uuid.uuid4().hex[:6]
        self.deployment_id = "deployment-1"
        self.pending: dict[str, dict] = {}  # login_hint -> claims to send
        self.received: list[tuple[str, str, dict]] = []  # (method, path, form)
        self.tool_login_url = ""
        self.tool_jwks: dict | None = None  # the tool's public keys, to check its assertions
        self.members: list[dict] = []  # the course roster NRPS answers with
        self.page_size = 2  # members per NRPS page: the roster comes in pages
        self.scores: list[dict] = []  # what AGS received, in order
        self.tokens: dict[str, str] = {}  # access token -> scopes granted
        self.down = False  # True: every service endpoint answers 503
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.issuer = f"http://{host}:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # What the site registers ---------------------------------------------------

    @property
    def auth_url(self) -> str:
        return f"{self.issuer}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/token"

    @property
    def keyset_url(self) -> str:
        return f"{self.issuer}/jwks"

    def register(self, *, deployments=None, name="Test LMS"):
        """The site's registration of this LMS, its deployment active, and a tool key."""
        from lti_tool.models import LtiDeployment, LtiRegistration

        from annotate.lti.keys import signing_key

        registration = LtiRegistration.objects.create(
            name=name,
            issuer=self.issuer,
            client_id=self.client_id,
            auth_url=self.auth_url,
            token_url=self.token_url,
            keyset_url=self.keyset_url,
        )
        for deployment_id in deployments if deployments is not None else [self.deployment_id]:
            LtiDeployment.objects.create(
                registration=registration, deployment_id=deployment_id, is_active=True
            )
        signing_key()  # the tool's first key
        from lti_tool.models import Key

        self.tool_jwks = Key.objects.as_jwks()
        return registration

    # Launches ------------------------------------------------------------------

    def login_params(self, target_link_uri: str, *, login_hint="hint-1", **extra) -> dict:
        return {
            "iss": self.issuer,
            "login_hint": login_hint,
            "target_link_uri": target_link_uri,
            "lti_message_hint": "message-hint",
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
            **extra,
        }

    def claims(
        self,
        nonce: str,
        *,
        sub="student-1",
        roles=(LEARNER,),
        name="Ada Student",
        email="ada@school.example",
        context=None,
        resource_link=None,
        message_type="LtiResourceLinkRequest",
        custom=None,
        **overrides,
    ) -> dict:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            "name": name,
            "email": email,
            f"{CLAIM}deployment_id": self.deployment_id,
            f"{CLAIM}message_type": message_type,
            f"{CLAIM}version": "1.3.0",
            f"{CLAIM}roles": list(roles),
            f"{CLAIM}context": context or {"id": "course-1", "title": "History 101"},
            f"{CLAIM}target_link_uri": "",
        }
        if message_type == "LtiResourceLinkRequest":
            body[f"{CLAIM}resource_link"] = resource_link or {"id": "link-1", "title": "Week 1"}
        if custom is not None:
            body[f"{CLAIM}custom"] = custom
        body.update(overrides)
        return {key: value for key, value in body.items() if value is not None}

    def id_token(self, body: dict, *, key: bytes | None = None, kid: str | None = None) -> str:
        return jwt.encode(
            body,
            key or self.private_key,
            algorithm="RS256",
            headers={"kid": kid or self.public_jwk["kid"]},
        )

    def jwks(self) -> dict:
        return {"keys": [self.public_jwk]}

    @property
    def memberships_url(self) -> str:
        return f"{self.issuer}/nrps/course-1"

    def line_item_url(self, name: str = "column-1") -> str:
        return f"{self.issuer}/lineitems/{name}"

    def services_claims(self, *, line_item: str | None = None) -> dict:
        """The NRPS and AGS claims of a launch, as an LMS that offers both sends them."""
        ags = {
            "scope": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            ],
            "lineitems": f"{self.issuer}/lineitems",
        }
        if line_item:
            ags["lineitem"] = line_item
        return {
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.memberships_url,
                "service_versions": ["2.0"],
            },
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": ags,
        }

    def _token(self, form: dict) -> tuple[int, dict]:
        """The OAuth2 client-credentials grant, with the tool's JWT assertion checked."""
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_assertion_type")
            != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return 400, {"error": "unsupported_grant_type"}
        assertion = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(assertion)["kid"]
            key = jwt.PyJWKSet.from_dict(self.tool_jwks)[kid].key
            claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=self.token_url)
        except (jwt.InvalidTokenError, KeyError, TypeError) as error:
            return 401, {"error": "invalid_client", "error_description": str(error)}
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
            return 401, {"error": "invalid_client"}
        token = uuid.uuid4().hex
        self.tokens[token] = form.get("scope", "")
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def _authorized(self, headers, scope: str) -> bool:
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        return scope in self.tokens.get(token, "").split()

    # The HTTP side -------------------------------------------------------------

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                if url.path == "/jwks":
                    return self._send(200, json.dumps(platform.jwks()), "application/json")
                if url.path == "/auth":
                    return self._authorize(query)
                if url.path.startswith("/nrps/"):
                    return self._roster(query)
                if url.path.startswith("/course/"):
                    hint = url.path.removeprefix("/course/")
                    start = f"/start/{hint}"
                    page = (
                        "<!doctype html><title>Course</title><h1>History 101</h1>"
                        f'<iframe id="tool" src="{start}" width="100%" height="700" '
                        'allow="storage-access-by-user-activation"></iframe>'
                    )
                    return self._send(200, page, "text/html")
                if url.path.startswith("/start/"):
                    hint = url.path.removeprefix("/start/")
                    params = platform.login_params(platform.tool_login_url, login_hint=hint)
                    self.send_response(302)
                    self.send_header("Location", f"{platform.tool_login_url}?{urlencode(params)}")
                    self.end_headers()
                    return None
                return self._send(404, "not found", "text/plain")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.path == "/token":
                    form = {key: values[0] for key, values in parse_qs(raw).items()}
                    if platform.down:
                        return self._send(503, "down for maintenance", "text/plain")
                    status, body = platform._token(form)
                    return self._send(status, json.dumps(body), "application/json")
                if self.path.startswith("/lineitems/") and self.path.endswith("/scores"):
                    return self._score(raw)
                form = {key: values[0] for key, values in parse_qs(raw).items()}
                platform.received.append(("POST", self.path, form))
                return self._send(200, "<!doctype html><p>Received.</p>", "text/html")

            def _roster(self, query):
                if platform.down:
                    return self._send(503, "down for maintenance", "text/plain")
                if not platform._authorized(self.headers, NRPS_SCOPE):
                    return self._send(401, "no token", "text/plain")
                accept = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
                if self.headers.get("Accept") != accept:
                    return self._send(406, "not acceptable", "text/plain")
                start = int(query.get("page", 0))
                members = platform.members[start : start + platform.page_size]
                body = json.dumps({"id": platform.memberships_url, "members": members})
                self.send_response(200)
                if start + platform.page_size < len(platform.members):
                    following = f"{platform.memberships_url}?page={start + platform.page_size}"
                    self.send_header("Link", f'<{following}>; rel="next"')
                data = body.encode()
                self.send_header("Content-Type", accept)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None

            def _score(self, raw):
                if platform.down:
                    return self._send(503, "down for maintenance", "text/plain")
                if not platform._authorized(self.headers, SCORE_SCOPE):
                    return self._send(401, "no token", "text/plain")
                if self.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
                    return self._send(415, "unsupported media type", "text/plain")
                score = json.loads(raw)
                known = {member["user_id"] for member in platform.members}
                if platform.members and score.get("userId") not in known:
                    return self._send(422, "unknown user", "text/plain")
                platform.scores.append({**score, "lineitem": self.path.removesuffix("/scores")})
                return self._send(200, "{}", "application/json")

            def _authorize(self, query):
                claims = platform.pending.get(query.get("login_hint", ""))
                if claims is None or query.get("client_id") != platform.client_id:
                    return self._send(400, "unknown login", "text/plain")
                body = platform.claims(query["nonce"], **claims)
                token = platform.id_token(body)
                page = (
                    "<!doctype html><title>Signing in</title>"
                    f'<form id="f" method="post" action="{html.escape(query["redirect_uri"])}">'
                    f'<input type="hidden" name="id_token" value="{token}">'
                    f'<input type="hidden" name="state" value="{html.escape(query["state"])}">'
                    "</form><script>document.getElementById('f').submit()</script>"
                )
                return self._send(200, page, "text/html")

            def _send(self, status, body, content_type):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None

        return Handler


# Launches through the test client (the fixtures `lms` and `lms_registration` are in conftest) ----

LAUNCH = "http://testserver/lti/launch/"


def start(client, platform, **extra) -> tuple[str, str]:
    """Login initiation, as the LMS starts it: the state and nonce the tool sends on."""
    response = client.get(reverse("lti_login"), platform.login_params(LAUNCH, **extra))
    assert response.status_code == 200, response.content
    auth_url = html.unescape(
        re.search(r'data-auth-url="([^"]+)"', response.content.decode()).group(1)
    )
    assert auth_url.startswith(platform.auth_url)
    query = parse_qs(urlsplit(auth_url).query)
    assert query["redirect_uri"] == [LAUNCH]
    assert query["client_id"] == [platform.client_id]
    return query["state"][0], query["nonce"][0]


def launch(client, platform, **claims):
    state, nonce = start(client, platform)
    token = platform.id_token(platform.claims(nonce, **claims))
    return client.post(reverse("lti_launch"), {"id_token": token, "state": state})


def landed(response) -> str:
    assert response.status_code == 302, response.content
    return response["Location"]
