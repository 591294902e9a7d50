"""An HTTP transport for JSON APIs: retries with backoff inside a deadline, a bounded pool.

Only the standard library (urllib, a thread pool), so a tracker read over HTTP needs no
client library installed. One `JsonClient` calls one server:

- a 5xx answer (and 429), a refused or dropped connection and a timeout are retried with
  exponential backoff (0.2 s, 0.4 s, ... at most 2 s apart) until the request's deadline
  (`timeout`); then `TrackerUnavailable` names the URI and says what went wrong;
- 401 and 403 are not retried: a SourceError says which credentials to set;
- an unresolvable host and a refused TLS certificate are not retried either;
- any other HTTP error is an `HttpStatusError` carrying the status and the service's
  error code, for the tracker to decide (an endpoint missing on an older server, say).

A tracker's client subclasses it to say what the service is called and how it is
credentialed (`authorization`, `secrets`, `credentials_hint`, `tls_context`) and how its
error bodies read (`error_fields`). The credentials are asked for on every request and
never kept: not on the client, not in a message (`scrub` masks them).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, TypeVar

from ..errors import SourceError, TrackerUnavailable

# Backoff between attempts: 0.2 s, 0.4 s, 0.8 s, ... never more than 2 s, so a server
# that comes back is noticed quickly while the deadline bounds the whole wait.
BACKOFF_FIRST = 0.2
BACKOFF_CAP = 2.0
# 500 is retried too: a SQLite-backed server answers "database is locked" with it.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Json = dict[str, Any]
_T = TypeVar("_T")
_R = TypeVar("_R")


class NotJson(SourceError):
    """The server answered 200 with something that is not the service's JSON (a web page)."""


class HttpStatusError(SourceError):
    """The server refused a request (a 4xx other than 401/403, or a 5xx to the deadline)."""

    def __init__(
        self, message: str, *, status: int, code: str | None, source: str, hint: str | None = None
    ) -> None:
        super().__init__(message, source=source, hint=hint)
        self.status = status
        self.code = code


class JsonClient:
    """Calls one server: JSON in and out, retries, deadlines, at most `workers` at a time."""

    # How messages name the server, e.g. "the MLflow server".
    service: ClassVar[str] = "the server"
    user_agent: ClassVar[str] = "labbook"
    # What a refused request raises: a service's own subclass, for its callers to catch.
    status_error_class: ClassVar[type[HttpStatusError]] = HttpStatusError

    def __init__(self, base_url: str, uri: str, *, timeout: float, workers: int) -> None:
        self.base_url = base_url
        self.uri = uri
        self.timeout = timeout
        self.workers = workers
        # Built once: loading the CA bundle per request would cost more than the request.
        self._tls = self.tls_context() if base_url.startswith("https:") else None
        # Set once the server did not answer within the deadline (see `call`).
        self.unavailable: TrackerUnavailable | None = None

    # -- what a service says about itself ------------------------------------------------

    def authorization(self) -> str | None:
        """Gives the Authorization header value to send, or None (asked on every request)."""
        return None

    def secrets(self) -> list[str]:
        """Gives the credential strings that must never appear in a message."""
        return []

    def credentials_hint(self, status: int) -> str:
        """Gives what to set after a 401 or 403 (names of settings, never their values)."""
        return "Check the credentials labbook runs with"

    def tls_context(self) -> ssl.SSLContext:
        """Gives the TLS context for https."""
        return ssl.create_default_context()

    def tls_hint(self) -> str:
        """Gives what to do about a TLS certificate that was not accepted."""
        return "Install the server's CA certificate where Python finds it"

    def error_fields(self, body: bytes) -> tuple[str | None, str]:
        """Gives (the service's error code or None, a short message) of an error answer."""
        return None, excerpt(body)

    def not_json(self, endpoint: str) -> NotJson:
        """Gives the error for a 200 answer that is not JSON."""
        return NotJson(f"the answer to {endpoint} is not JSON", source=self.uri)

    def status_error(
        self, endpoint: str, status: int, code: str | None, message: str
    ) -> HttpStatusError:
        """Gives the error for a refused request; `message` is already scrubbed."""
        detail = ": ".join(part for part in (code, message) if part)
        return self.status_error_class(
            f"{self.service} refused {endpoint} (HTTP {status}"
            + (f", {detail})" if detail else ")"),
            status=status,
            code=code,
            source=self.uri,
        )

    # -- requests ------------------------------------------------------------------------

    def get_json(
        self, path: str, params: Mapping[str, object] | Sequence[tuple[str, object]], endpoint: str
    ) -> Json:
        """Gives the decoded answer to a GET of `path` (under the base URL) with query parameters."""
        query = urllib.parse.urlencode(params, doseq=True)
        answer: Json = self.call("GET", endpoint, f"{self.base_url}{path}?{query}", None)
        return answer

    def post_json(self, path: str, body: Json, endpoint: str) -> Json:
        """Gives the decoded answer to a POST of a JSON body to `path`."""
        data = json.dumps(body).encode("utf-8")
        answer: Json = self.call("POST", endpoint, f"{self.base_url}{path}", data)
        return answer

    def parallel(self, function: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        """Gives function(item) for every item, at most `workers` requests at a time, in order."""
        if len(items) <= 1:
            return [function(item) for item in items]
        pool = ThreadPoolExecutor(
            max_workers=min(self.workers, len(items)), thread_name_prefix="labbook-http"
        )
        try:
            futures = [pool.submit(function, item) for item in items]
            return [future.result() for future in futures]
        finally:
            # On the first error, drop what has not started instead of waiting for it.
            pool.shutdown(wait=False, cancel_futures=True)

    def get_bytes(
        self, path: str, params: Mapping[str, object] | Sequence[tuple[str, object]], endpoint: str
    ) -> bytes:
        """Gives the raw answer to a GET (a file's bytes), with the same retries and errors."""
        query = urllib.parse.urlencode(params, doseq=True)
        raw: bytes = self.call("GET", endpoint, f"{self.base_url}{path}?{query}", None, raw=True)
        return raw

    def call(
        self, method: str, endpoint: str, url: str, data: bytes | None, *, raw: bool = False
    ) -> Any:
        """Gives the decoded answer (the bytes with `raw`), retrying 5xx and connection errors
        until the deadline.

        Once a request found the server not answering within its deadline, every later
        request (the build's other reports, the other threads) fails at once with it.
        """
        if self.unavailable is not None:
            raise self.unavailable
        deadline = time.monotonic() + self.timeout
        delay = BACKOFF_FIRST
        attempts = 0
        problem = "no attempt made"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if self.unavailable is None:
                    self.unavailable = self._no_answer(problem, attempts)
                raise self.unavailable
            attempts += 1
            request = urllib.request.Request(url, data=data, method=method)
            request.add_header("Accept", "*/*" if raw else "application/json")
            request.add_header("User-Agent", self.user_agent)
            if data is not None:
                request.add_header("Content-Type", "application/json")
            auth = self.authorization()
            if auth:
                # Unredirected: a redirect to another host must not carry the credentials.
                request.add_unredirected_header("Authorization", auth)
            try:
                with urllib.request.urlopen(
                    request, timeout=remaining, context=self._tls
                ) as response:
                    payload = response.read()
                return payload if raw else self._decode(payload, endpoint)
            except urllib.error.HTTPError as err:
                body = _read_error_body(err)
                if err.code in (401, 403):
                    raise SourceError(
                        f"authentication failed (HTTP {err.code} on {endpoint})",
                        source=self.uri,
                        hint=self.credentials_hint(err.code),
                    ) from None
                code, message = self.error_fields(body)
                if err.code not in RETRY_STATUSES:
                    raise self.status_error(endpoint, err.code, code, self.scrub(message)) from None
                problem = f"HTTP {err.code}" + (f": {message}" if message else "")
            except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
                reason = err.reason if isinstance(err, urllib.error.URLError) else err
                if isinstance(reason, socket.gaierror):
                    # A misspelt host will not resolve on the next attempt either.
                    raise SourceError(
                        f"cannot resolve the server's host ({describe(reason)})",
                        source=self.uri,
                        hint="Check the host name in the URI",
                    ) from None
                if isinstance(reason, ssl.SSLCertVerificationError):
                    raise SourceError(
                        f"the server's TLS certificate was not accepted ({reason.verify_message})",
                        source=self.uri,
                        hint=self.tls_hint(),
                    ) from None
                problem = describe(reason)
            pause = min(delay, deadline - time.monotonic())
            if pause > 0:
                time.sleep(pause)
            delay = min(delay * 2, BACKOFF_CAP)

    def scrub(self, text: str) -> str:
        """Gives the text with every credential masked."""
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text

    def _decode(self, payload: bytes, endpoint: str) -> Json:
        try:
            decoded = json.loads(payload) if payload.strip() else {}
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            raise self.not_json(endpoint)
        return decoded

    def _no_answer(self, problem: str, attempts: int) -> TrackerUnavailable:
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        return TrackerUnavailable(
            f"{self.service} did not answer within {self.timeout:g} s "
            f"({self.scrub(problem)}; {tries})",
            source=self.uri,
            hint="Check that the server is running and that the URI's host and port are right",
        )


def _read_error_body(err: urllib.error.HTTPError) -> bytes:
    try:
        return err.read()
    except (OSError, http.client.HTTPException):
        return b""
    finally:
        err.close()


def excerpt(body: bytes, width: int = 200) -> str:
    """Gives a short, tag-free excerpt of an answer that is not the service's JSON."""
    text = re.sub(r"<[^>]*>", " ", body.decode("utf-8", "replace"))
    return " ".join(text.split())[:width]


def describe(reason: object) -> str:
    """Gives a short human description of why a connection failed."""
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
