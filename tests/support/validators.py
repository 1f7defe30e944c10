"""Real validators and a real feed reader, run on files the build wrote.

* ``vnu_errors``: the Nu HTML Checker (``vnu.jar`` from npm, run with Java).
* ``jing_errors``: Debian's ``jing`` against a RELAX NG compact schema (Atom's is in
  ``shared/oracles/atom.rnc``, beside the checkout).
* ``newsboat_reads``: Debian's ``newsboat`` fetches a feed over HTTP, as a subscriber would.

A missing tool skips the test locally and fails it in CI (see ``tests.support``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

from . import missing_tool, repo_root
from .httpserver import serve_directory

TOOL_TIMEOUT_SECONDS = 300
# The checker's schema needs a deep stack; C1-only JIT and the serial GC start faster,
# which matters more than peak speed for the few dozen pages a site has (measured: 1.0 s
# instead of 2.2 s for a two-file batch, no slower for sixty pages).
VNU_JAVA_OPTIONS = ("-Xss8m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")


class ToolError(Exception):
    """An external tool ran but could not do its job (crashed, or could not read its input)."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry as newsboat stored it after reading a feed."""

    title: str
    url: str
    author: str


def vnu_jar() -> Path:
    """``vnu.jar`` installed by ``npm ci``, or skip/fail the test."""
    jar = repo_root() / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not jar.is_file():
        missing_tool("vnu.jar", "run `npm ci --ignore-scripts` in the repository root")
    return jar


def java() -> str:
    """The ``java`` executable, or skip/fail the test."""
    found = shutil.which("java")
    if found is None:
        missing_tool("Java", "apt-get install default-jre-headless")
    return found


def vnu_errors(paths: Sequence[Path]) -> list[str]:
    """Every HTML, SVG and CSS error in ``paths`` as ``file:line: message``.

    All HTML and SVG files go to one Java run; CSS files, if any, to a second one, because
    ``--also-check-css`` makes vnu 26.9 report HTML line numbers one too low.
    """
    stylesheets = [p for p in paths if p.suffix.lower() == ".css"]
    documents = [p for p in paths if p.suffix.lower() != ".css"]
    errors = _run_vnu(documents, "--also-check-svg") if documents else []
    return errors + (_run_vnu(stylesheets, "--also-check-css") if stylesheets else [])


def _run_vnu(paths: Sequence[Path], *flags: str) -> list[str]:
    command = [java(), *VNU_JAVA_OPTIONS, "-jar", str(vnu_jar())]
    command += ["--errors-only", "--format", "json", "--exit-zero-always", *flags]
    done = subprocess.run(
        [*command, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )
    try:
        report = json.loads(done.stderr)
    except json.JSONDecodeError as exc:
        raise ToolError(f"vnu.jar did not report JSON:\n{done.stderr}{done.stdout}") from exc
    shown = {p.resolve(): p for p in paths}
    return [_format_vnu_message(message, shown) for message in report["messages"]]


def _format_vnu_message(message: dict[str, object], shown: dict[Path, Path]) -> str:
    url = str(message.get("url", ""))
    path = Path(url2pathname(urlsplit(url).path)) if url else None
    where = str(shown.get(path.resolve(), path)) if path else "vnu"
    line = message.get("lastLine") or message.get("firstLine")
    kind = "" if message.get("type") == "error" else f"{message.get('type')}: "
    location = f"{where}:{line}" if line else where
    return f"{location}: {kind}{message.get('message', '')}"


def atom_schema() -> Path:
    """The Atom RELAX NG schema in ``shared/oracles/`` beside the checkout, or skip/fail."""
    schema = repo_root().parent / "shared" / "oracles" / "atom.rnc"
    if not schema.is_file():
        missing_tool(str(schema), "the shared/ folder is laid beside the checkout")
    return schema


def jing_errors(rnc: Path, xml_files: Sequence[Path]) -> list[str]:
    """Every error in ``xml_files`` against the compact schema ``rnc``, as ``file:line:col: …``."""
    if not xml_files:
        return []
    jing = shutil.which("jing")
    if jing is None:
        missing_tool("jing", "apt-get install jing")
    done = subprocess.run(
        [jing, "-c", str(rnc), *map(str, xml_files)],
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )
    errors = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 and not errors:
        raise ToolError(f"jing failed without reporting an error:\n{done.stderr}")
    return errors


@contextmanager
def _feed_url(feed: str | Path) -> Iterator[str]:
    # newsboat only fetches over HTTP, so a file is served from its own folder.
    if isinstance(feed, str):
        yield feed
        return
    with serve_directory(feed.parent) as base:
        yield base + quote(feed.name)


def newsboat_items(feed: str | Path) -> list[FeedItem]:
    """The items newsboat stores after reloading ``feed`` (an http URL or a file), in feed order.

    Raises :class:`ToolError` with newsboat's own message when it cannot fetch or parse it.
    """
    newsboat = shutil.which("newsboat")
    if newsboat is None:
        missing_tool("newsboat", "apt-get install newsboat")
    with tempfile.TemporaryDirectory(prefix="newsboat-") as scratch, _feed_url(feed) as url:
        home = Path(scratch)
        (home / "urls").write_text(url + "\n", encoding="utf-8")
        (home / "config").write_text("reload-threads 1\ndownload-timeout 10\n", encoding="utf-8")
        cache, log = home / "cache.db", home / "errors.log"
        command = [newsboat, "-u", str(home / "urls"), "-c", str(cache), "-C", str(home / "config")]
        # Log level 1 records only "user errors": a failed download or an unparsable feed,
        # which newsboat otherwise reports nowhere (it exits 0 either way).
        command += ["-l", "1", "-d", str(log), "-x", "reload"]
        env = {**os.environ, "HOME": scratch, "XDG_CONFIG_HOME": scratch}
        env |= {"XDG_DATA_HOME": scratch, "LC_ALL": "C.UTF-8"}
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        problems = log.read_text(encoding="utf-8").strip() if log.exists() else ""
        if done.returncode != 0 or problems:
            raise ToolError(f"newsboat could not read {url}: {problems}{done.stderr}".strip())
        with closing(sqlite3.connect(cache)) as db:
            # newsboat inserts a feed's items last to first, so the newest id is the first item.
            rows = db.execute(
                "SELECT title, url, author FROM rss_item WHERE feedurl = ? ORDER BY id DESC",
                (url,),
            ).fetchall()
    return [FeedItem(str(title), str(link), str(author)) for title, link, author in rows]


def newsboat_reads(feed: str | Path) -> list[str]:
    """The item titles newsboat shows for ``feed`` (an http URL or a file), in feed order."""
    return [item.title for item in newsboat_items(feed)]
