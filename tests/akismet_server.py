"""
A local stand-in for Akismet's REST API, for tests that need real HTTP.

It answers like rest.akismet.com does (text bodies, the discard pro-tip
header, JSON for usage-limit), records every request's form fields, and can
be switched into the ways Akismet fails: too slow, an error status, an answer
that is neither true nor false, a rejected key, or no server at all.
"""

import json
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache

SUBMISSION_THANKS = "Thanks for making the web a better place."
VERDICTS = {"ham", "spam", "discard"}
FAULTS = {"slow", "error500", "garbage", "invalid_key", "refused"}
MODES = VERDICTS | FAULTS
# What real Akismet always calls spam, and always calls ham.
GUARANTEED_SPAM_AUTHOR = "akismet-guaranteed-spam"
USAGE = {"limit": 350000, "usage": 7463, "percentage": "2.13", "throttled": False}


@dataclass(frozen=True)
class Recorded:
    method: str
    endpoint: str  # e.g. "comment-check"
    fields: dict[str, str]


class AkismetServer:
    """
    Serves /1.1/comment-check, submit-spam, submit-ham, verify-key and
    /1.2/usage-limit on 127.0.0.1. `mode` is one of MODES; "refused" closes
    the listening socket so that connections are refused, and switching to
    any other mode opens it again on the same port.
    """

    def __init__(self, *, slow_seconds: float = 1.0) -> None:
        self.slow_seconds = slow_seconds
        self.delay_seconds = 0.0
        """How long every answer takes (a real service's latency); "slow" mode times out."""
        self.requests: list[Recorded] = []
        self._mode = "ham"
        self._lock = threading.Lock()  # guards `requests`
        self._switching = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # Life cycle

    def start(self) -> "AkismetServer":
        self._listen()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in "slow" mode
        self._close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {sorted(MODES)}")
        with self._switching:
            if mode == "refused":
                self._close()
            elif self._httpd is None:
                self._listen()
            self._mode = mode

    def _listen(self) -> None:
        server = self

        class Handler(AkismetHandler):
            akismet = server

        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self.port = httpd.server_address[1]
        self._httpd = httpd
        # A short poll interval: "refused" shuts the server down, often.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def _close(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = None

    # What was sent

    def received(self, endpoint: str | None = None) -> list[Recorded]:
        with self._lock:
            requests = list(self.requests)
        return [r for r in requests if endpoint is None or r.endpoint == endpoint]

    def comment_checks(self) -> list[dict[str, str]]:
        return [r.fields for r in self.received("comment-check")]

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def _sleep(self) -> None:
        self._stopping.wait(self.slow_seconds)


class AkismetHandler(BaseHTTPRequestHandler):
    akismet: AkismetServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # quiet: pytest shows stderr on failure
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self._handle("GET", url.path, parse_qs(url.query, keep_blank_values=True))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        self._handle("POST", urlsplit(self.path).path, parse_qs(body, keep_blank_values=True))

    def _handle(self, method: str, path: str, form: dict[str, list[str]]) -> None:
        fields = {name: values[-1] for name, values in form.items()}
        endpoint = path.rsplit("/", 1)[-1]
        self.akismet._record(Recorded(method, endpoint, fields))
        mode = self.akismet.mode
        if self.akismet.delay_seconds:
            self.akismet._stopping.wait(self.akismet.delay_seconds)
        known = {
            "/1.1/comment-check",
            "/1.1/submit-spam",
            "/1.1/submit-ham",
            "/1.1/verify-key",
            "/1.2/usage-limit",
        }
        if path not in known:
            return self._reply("Not found", status=HTTPStatus.NOT_FOUND)
        if mode == "slow":
            self.akismet._sleep()
            mode = "ham"  # answers, but after the client has given up
        if mode == "error500":
            return self._reply("Internal Server Error", status=HTTPStatus.INTERNAL_SERVER_ERROR)
        if mode == "garbage":
            return self._reply("maybe")
        if endpoint == "verify-key":
            return self._reply("invalid" if mode == "invalid_key" else "valid")
        if mode == "invalid_key":
            return self._reply("invalid", headers={"X-akismet-debug-help": "Invalid key."})
        if endpoint == "usage-limit":
            return self._reply(json.dumps(USAGE), content_type="application/json")
        if endpoint in ("submit-spam", "submit-ham"):
            return self._reply(SUBMISSION_THANKS)
        return self._comment_check(mode, fields)

    def _comment_check(self, mode: str, fields: dict[str, str]) -> None:
        if fields.get("comment_author") == GUARANTEED_SPAM_AUTHOR:
            mode = "spam"
        elif fields.get("user_role") == "administrator":
            mode = "ham"
        if mode == "discard":
            return self._reply("true", headers={"X-akismet-pro-tip": "discard"})
        return self._reply("true" if mode == "spam" else "false")

    def _reply(
        self,
        body: str,
        *,
        status: HTTPStatus = HTTPStatus.OK,
        headers: dict[str, str] | None = None,
        content_type: str = "text/plain; charset=utf-8",
    ) -> None:
        data = body.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up ("slow" mode)


@pytest.fixture(name="akismet_server")
def akismet_server_fixture(settings):
    """
    A running local Akismet, with the site's settings pointing at it. Test
    modules import this function; tests ask for `akismet_server`.
    """
    server = AkismetServer(slow_seconds=1.0).start()
    settings.AKISMET_API_KEY = "local-test-key"
    settings.AKISMET_API_URL = server.base_url
    settings.AKISMET_TIMEOUT = 0.3
    # The once-a-minute sweep after posts is remembered in the cache; start afresh.
    cache.clear()
    yield server
    server.stop()
