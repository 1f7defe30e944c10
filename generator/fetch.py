"""The network side of feed embeds: one bounded HTTP GET per feed, and the last good copies.

:class:`HttpFetcher` never trusts the server: connect and read timeouts, a deadline for the
whole download (checked between chunks, so a slow drip cannot outlast it), a cap on the bytes
received and on the bytes they unpack to (gzip/deflate are inflated here, bounded, so a bomb
costs at most the cap in memory), at most :data:`MAX_REDIRECTS` redirects with loops spotted,
http(s) only, also after a redirect. It asks only for gzip and deflate; any other encoding is a
failure. Failures are :class:`FetchError` with the reason in plain English.

:class:`FeedCache` keeps each feed's last good body and its validators (ETag, Last-Modified,
when it was fetched) as two files under the cache folder, each written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import ssl
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from . import __version__

PROJECT_URL = "https://github.com/campaign-microsite/campaign-microsite"
MAX_BYTES = 2 * 1024 * 1024
GRACE = 0.5  # lets a fetcher report its own reason before fetch_all stops waiting for it
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
_ACCEPT = ("application/rss+xml, application/atom+xml, application/xml;q=0.9, "
           "text/xml;q=0.9, */*;q=0.1")
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def user_agent() -> str:
    """The User-Agent every feed request sends, naming the project so admins can reach us."""
    return f"campaign-microsite/{__version__} (+{PROJECT_URL})"


def seconds(value: float) -> str:
    """``15 s``, ``1.5 s``: durations as a writer reads them."""
    return f"{round(value, 1):g} s"


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last good copy says about itself, for a conditional GET."""

    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful response: the body, or ``None`` when the server said 304 Not Modified."""

    body: bytes | None
    url: str  # after redirects; relative links in the feed resolve against it
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""


class FetchError(Exception):
    """A fetch that failed; ``str(exc)`` is the reason, e.g. ``timed out after 15 s``."""


class Fetcher(Protocol):
    """Fetches one URL within ``timeout`` seconds, or raises :class:`FetchError`."""

    def __call__(self, url: str, validators: Validators, timeout: float) -> Fetched: ...


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


def fetch_all(jobs: Sequence[tuple[str, str, Validators]], fetcher: Fetcher,
              deadline: float) -> dict[str, Fetched | FetchError]:
    """Fetch ``(id, url, validators)`` jobs at once; by ``deadline`` seconds all have answered.

    Each job runs on its own daemon thread: one stuck where no timeout reaches (a DNS lookup,
    headers sent a byte at a time) is left behind rather than holding up the build or the exit,
    and counts as timed out.
    """
    answers: queue.SimpleQueue[tuple[str, Fetched | FetchError]] = queue.SimpleQueue()

    def run(feed_id: str, url: str, validators: Validators) -> None:
        try:
            answer: Fetched | FetchError = fetcher(url, validators, deadline)
        except FetchError as exc:
            answer = exc
        except Exception as exc:  # a fetcher's bug must not break the build either
            answer = FetchError(f"it failed unexpectedly: {type(exc).__name__}: {exc}")
        answers.put((feed_id, answer))

    until = time.monotonic() + deadline + GRACE
    for job in jobs:
        threading.Thread(target=run, args=job, name=f"feed {job[0]}", daemon=True).start()
    outcomes: dict[str, Fetched | FetchError] = {}
    while len(outcomes) < len(jobs):
        try:
            feed_id, answer = answers.get(timeout=max(0.0, until - time.monotonic()))
        except queue.Empty:
            break
        outcomes[feed_id] = answer
    for feed_id, _, _ in jobs:
        outcomes.setdefault(feed_id, FetchError(f"timed out after {seconds(deadline)}"))
    return outcomes


@dataclass(frozen=True, slots=True)
class CachedCopy:
    """A feed's last good body, where it came from and when."""

    url: str  # as configured: the copy is only reused for the same URL
    location: str  # after redirects: the feed's relative links resolve against it
    body: bytes
    content_type: str
    fetched_at: datetime
    validators: Validators


@dataclass(frozen=True, slots=True)
class FeedCache:
    """Last good copies under ``folder``: ``<id>.feed`` (the bytes) and ``<id>.json``."""

    folder: Path

    def _paths(self, feed_id: str) -> tuple[Path, Path]:
        name = feed_id if _SAFE_NAME.match(feed_id) else hashlib.sha256(
            feed_id.encode()).hexdigest()
        return self.folder / f"{name}.feed", self.folder / f"{name}.json"

    def load(self, feed_id: str, url: str) -> CachedCopy | None:
        """The copy saved for this feed, if there is one, intact and from this same URL."""
        body_path, meta_path = self._paths(feed_id)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
            if meta["url"] != url or meta["sha256"] != hashlib.sha256(body).hexdigest():
                return None
            return CachedCopy(url, str(meta.get("location", url)), body,
                              str(meta.get("content_type", "")),
                              datetime.fromisoformat(meta["fetched_at"]),
                              Validators(str(meta.get("etag", "")),
                                         str(meta.get("last_modified", ""))))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, feed_id: str, copy: CachedCopy, *, body_changed: bool = True) -> None:
        """Write the copy (raises OSError); the body first, so metadata never outruns it."""
        body_path, meta_path = self._paths(feed_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        if body_changed:
            _write_atomically(body_path, copy.body)
        meta = {"url": copy.url, "location": copy.location, "etag": copy.validators.etag,
                "last_modified": copy.validators.last_modified,
                "fetched_at": copy.fetched_at.isoformat(), "content_type": copy.content_type,
                "sha256": hashlib.sha256(copy.body).hexdigest()}
        _write_atomically(meta_path, json.dumps(meta, indent=1, sort_keys=True).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    # A unique temporary name per writer, so a dev server and a build can both save safely.
    # No fsync: a copy torn by a power cut fails its checksum and is simply not used.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
