"""A local static server that behaves like GitHub Pages for a project site.

The site is served only under its subpath (``/equity-sel/``), so a link that forgets the
base path gets a 404 here just as it would in production.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}


def content_type(path: Path) -> str:
    """The Content-Type GitHub Pages would send for ``path`` (by extension)."""
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def normalise_subpath(subpath: str) -> str:
    """``equity-sel`` → ``/equity-sel/``: always a leading and a trailing slash."""
    stripped = subpath.strip("/")
    return f"/{stripped}/" if stripped else "/"


class _SiteHandler(BaseHTTPRequestHandler):
    """Serves files from ``root`` under ``subpath``; both are set on a per-server subclass."""

    root: ClassVar[Path]
    subpath: ClassVar[str]
    server_version = "microsite-test"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: pytest output is for failures, not access logs."""

    def _respond(self, *, send_body: bool) -> None:
        url_path = unquote(urlsplit(self.path).path)
        if url_path + "/" == self.subpath:
            self._redirect(self.subpath)
            return
        if not url_path.startswith(self.subpath):
            body = b"outside the site's subpath\n"
            self._send(HTTPStatus.NOT_FOUND, body, "text/plain", send_body)
            return
        relative = url_path[len(self.subpath) :]
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root):
            self._send(HTTPStatus.NOT_FOUND, b"outside the site\n", "text/plain", send_body)
            return
        if target.is_dir():
            if not url_path.endswith("/"):
                # GitHub Pages redirects /dir to /dir/ so relative links inside resolve correctly.
                self._redirect(url_path + "/")
                return
            target /= "index.html"
        if target.is_file():
            self._send(HTTPStatus.OK, target.read_bytes(), content_type(target), send_body)
            return
        not_found_page = self.root / "404.html"
        if not_found_page.is_file():
            body = not_found_page.read_bytes()
            self._send(HTTPStatus.NOT_FOUND, body, content_type(not_found_page), send_body)
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", send_body)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: HTTPStatus, body: bytes, ctype: str, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        # Tests rebuild and reload the same URLs; a cached copy would hide the change.
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(body)


@contextmanager
def serve_directory(root: Path, subpath: str = "/") -> Iterator[str]:
    """Serve ``root`` at ``http://127.0.0.1:PORT{subpath}`` and yield that base URL.

    Like GitHub Pages: ``dir/`` serves ``dir/index.html``, ``dir`` redirects to ``dir/``,
    and a missing file gets ``404.html`` (when present) with status 404. Paths outside
    ``subpath`` are 404. The server stops when the ``with`` block ends.
    """
    prefix = normalise_subpath(subpath)
    site_root = root.resolve()

    class Handler(_SiteHandler):
        root = site_root
        subpath = prefix

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # shutdown() waits up to one poll interval; the default 0.5 s would dominate short tests.
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="serve_directory", daemon=True
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
