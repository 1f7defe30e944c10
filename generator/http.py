"""One bounded HTTP GET per feed, on httpx (see :mod:`generator.fetch` for the rules)."""

from __future__ import annotations

import ssl
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from .fetch import (
    _ACCEPT,
    CONNECT_TIMEOUT,
    MAX_BYTES,
    MAX_REDIRECTS,
    READ_TIMEOUT,
    Fetched,
    FetchError,
    Validators,
    seconds,
    user_agent,
)


def _size(limit: int) -> str:
    return f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


class _Inflater:
    """gzip or zlib-wrapped (or, as some servers send it, raw) deflate, at most ``limit`` out."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # 32: gzip or zlib header, detected
        self._started = False

    def feed(self, data: bytes, limit: int) -> bytes:
        try:
            out = self._z.decompress(data, limit)
        except zlib.error:
            if self._started:
                raise
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._z.decompress(data, limit)
        self._started = True
        return out

    def flush(self) -> bytes:
        return self._z.flush()


@dataclass(frozen=True, slots=True)
class HttpFetcher:
    """The default :class:`Fetcher`, on httpx; limits are fields so tests can shrink them."""

    max_bytes: int = MAX_BYTES
    max_redirects: int = MAX_REDIRECTS
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    agent: str = ""
    # Made once: loading the CA bundle for every feed costs ~20 ms of CPU each.
    tls: ssl.SSLContext = field(default_factory=httpx.create_ssl_context, repr=False,
                                compare=False)

    def __call__(self, url: str, validators: Validators, timeout: float) -> Fetched:
        until = time.monotonic() + timeout
        headers = {"User-Agent": self.agent or user_agent(), "Accept": _ACCEPT,
                   "Accept-Encoding": "gzip, deflate"}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        try:
            httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FetchError(f"the address is not valid: {exc}") from exc
        try:
            with httpx.Client(headers=headers, verify=self.tls, follow_redirects=False) as client:
                return self._follow(client, url, until, timeout, bool(validators.etag or
                                                                      validators.last_modified))
        except httpx.TimeoutException as exc:
            raise FetchError(self._timeout_reason(exc, until, timeout)) from exc
        except httpx.ConnectError as exc:
            raise FetchError(_connect_reason(exc, url)) from exc
        except httpx.InvalidURL as exc:  # the first URL was valid, so a redirect was not
            raise FetchError("it redirects to something that is not a web address") from exc
        except httpx.RemoteProtocolError as exc:
            if "location header" in str(exc):
                raise FetchError("it redirects to something that is not a web address") from exc
            raise FetchError(f"the server broke the HTTP rules: {exc}") from exc
        except (httpx.HTTPError, zlib.error) as exc:
            raise FetchError(f"the download failed: {exc or type(exc).__name__}") from exc

    def _follow(self, client: httpx.Client, url: str, until: float, timeout: float,
                conditional: bool) -> Fetched:
        seen = [url]
        for _hop in range(self.max_redirects + 1):
            remaining = max(0.01, until - time.monotonic())
            limits = httpx.Timeout(min(self.read_timeout, remaining),
                                   connect=min(self.connect_timeout, remaining))
            with client.stream("GET", seen[-1], timeout=limits) as response:
                status = response.status_code
                location = response.headers.get("location", "")
                if status in (301, 302, 303, 307, 308) and location:
                    target = urljoin(seen[-1], location.strip())
                    if urlsplit(target).scheme not in ("http", "https"):
                        raise FetchError(f"it redirects to {target[:80]!r}, "
                                         "which is not a web address")
                    if target in seen:
                        raise FetchError(f"it redirects in a loop: {' → '.join(seen)} → "
                                         f"{target}")
                    seen.append(target)
                    continue
                if status == 304 and conditional:
                    return Fetched(None, seen[-1], etag=response.headers.get("etag", ""),
                                   last_modified=response.headers.get("last-modified", ""))
                if not 200 <= status < 300:
                    raise FetchError(f"the server answered {status} {response.reason_phrase}"
                                     .rstrip())
                body = self._read(response, until, timeout)
                return Fetched(body, seen[-1], response.headers.get("content-type", ""),
                               response.headers.get("etag", ""),
                               response.headers.get("last-modified", ""))
        raise FetchError(f"it redirects more than {self.max_redirects} times")

    def _read(self, response: httpx.Response, until: float, timeout: float) -> bytes:
        too_big = f"the feed is larger than {_size(self.max_bytes)}"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(too_big)
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise FetchError(f"the server packed the feed as {encoding!r}, which we did not "
                             "ask for")
        inflater = None if encoding in ("identity", "") else _Inflater()
        body = bytearray()
        received = 0
        # Raw chunks, inflated here: httpx would inflate a whole network read at once, unbounded.
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > self.max_bytes:
                raise FetchError(too_big)
            room = self.max_bytes - len(body) + 1
            body += inflater.feed(chunk, room) if inflater else chunk
            if len(body) > self.max_bytes:
                raise FetchError(f"the feed unpacks to more than {_size(self.max_bytes)}"
                                 if inflater else too_big)
            if time.monotonic() > until:
                raise FetchError(f"the server sent the feed too slowly and was cut off after "
                                 f"{seconds(timeout)}")
        if inflater:
            body += inflater.flush()
        if len(body) > self.max_bytes:
            raise FetchError(f"the feed unpacks to more than {_size(self.max_bytes)}")
        return bytes(body)

    def _timeout_reason(self, exc: httpx.TimeoutException, until: float,
                        timeout: float) -> str:
        if time.monotonic() >= until - 0.05:
            return f"timed out after {seconds(timeout)}"
        if isinstance(exc, httpx.ConnectTimeout):
            return f"could not connect within {seconds(self.connect_timeout)}"
        return f"the server stopped answering for {seconds(self.read_timeout)}"


def _connect_reason(exc: httpx.ConnectError, url: str) -> str:
    text = str(exc)
    try:
        host = exc.request.url.host  # after a redirect, not the configured one
    except RuntimeError:  # httpx raises when the error carries no request
        host = urlsplit(url).hostname or url
    if any(s in text for s in ("Name or service not known", "nodename nor servname",
                               "Temporary failure in name resolution", "No address associated",
                               "getaddrinfo failed")):
        return f"the server name '{host}' could not be found"
    if "Connection refused" in text:
        return f"'{host}' refused the connection"
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return f"the secure connection to '{host}' failed: {text}"
    return f"could not connect to '{host}': {text or type(exc).__name__}"
