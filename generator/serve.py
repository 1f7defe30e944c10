"""``microsite serve``: a live preview that rebuilds on save and reloads open browsers.

How it fits together:

* The livereload package (tornado) serves ``output/`` and nothing else: its own handlers
  (``/livereload`` websocket, ``/livereload.js``) plus ours below. Requests that would leave
  ``output/`` (``../``, ``%2e%2e/``, absolute paths, symlinks) get a 404.
* We watch, not livereload. Its watcher polls every 0.8 s, and ``LiveReloadHandler.poll_tasks``
  drops any change seen less than ``DEFAULT_RELOAD_TIME`` (3 s) after the last reload; the
  watcher has already recorded the new mtime by then, so that save is never acted on. So its
  watcher is switched off (:class:`_NoPolling`), and :class:`_Session` looks at the content
  folder and the theme folders whenever inotify says something there changed (every 50 ms
  where there is no inotify), waits until 50 ms have passed since the newest save with
  nothing else changing (a burst of saves gives one build), runs
  :func:`generator.build.build` in a thread (the build is incremental by itself), then calls
  ``LiveReloadHandler.reload_waiters`` on the event loop, which has no such window. Every
  build, failed or not, reloads open pages.
* Errors reach the browser through ``/__microsite/status.json``, made from memory by
  :class:`_StatusHandler` (nothing is added to ``output/``, which a failed build leaves as it
  was): ``{"ok": bool, "problems": ["path:line: message", ...], "built": n}``. The theme's
  ``assets/live.js`` fetches it on every page load and shows the problems in an overlay.
* Each page response carries ``Server-Timing: microsite-build;desc="n"``, the build the page
  came from; live.js reloads a page older than the status says, in case the reload was sent
  before the page's livereload socket was connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import html
import json
import logging
import os
import re
import signal
import stat
import struct
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from livereload import Server
from livereload.handlers import LiveReloadHandler
from livereload.watcher import Watcher
from tornado import web

from .build import BuildOptions, BuildReport, BuildState, build, prepare_spare
from .config import load_config
from .errors import BuildError, Problem
from .output import check_replaceable
from .render import DEFAULT_THEME, theme_dirs

POLL_SECONDS = 0.05  # without inotify
SAFETY_SECONDS = 1.0  # with inotify, a look this often all the same
QUIET_SECONDS = 0.05  # a burst of saves closer together than this gives one build
SLOW_BUILD_SECONDS = 2.0  # after this, the build's progress messages are printed
log = logging.getLogger(__name__)
STATUS_URL = "/__microsite/status.json"
_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules"})
# Editors' swap, backup, lock and test files; dotfiles are skipped as the build skips them.
_LITTER = re.compile(r"(~|\.sw[a-px]|\.tmp|___jb_(tmp|old)___|\.crswap)$|^(#.*#|4913)$")

Say = Callable[[str], None]
Signature = tuple[int, int, int]  # mtime (ns), size, inode


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The files the build may read, with their signatures, and the folders they are in."""

    files: Mapping[str, Signature]
    folders: tuple[str, ...]


def is_litter(name: str) -> bool:
    """True for files an editor writes while saving, which the build never reads."""
    return name.startswith(".") or _LITTER.search(name) is not None


def snapshot(roots: Iterable[Path], skip_dir: Callable[[str], bool] = lambda _path: False
             ) -> Snapshot:
    """Every file under ``roots`` but editors' litter, and every folder but skipped ones."""
    files: dict[str, Signature] = {}
    folders: list[str] = []
    pending = [str(root) for root in roots]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:  # removed or renamed while we looked; the next look sees the result
            continue
        folders.append(folder)
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in _SKIPPED_DIRS and not skip_dir(entry.path):
                        pending.append(entry.path)
                elif not is_litter(entry.name):
                    info = entry.stat()
                    files[entry.path] = (info.st_mtime_ns, info.st_size, info.st_ino)
            except OSError:
                continue
    return Snapshot(files, tuple(folders))


def changed_paths(old: Snapshot, new: Snapshot) -> list[Path]:
    """Files added, removed or modified between two snapshots, sorted."""
    before, after = old.files, new.files
    return sorted(Path(p) for p in before.keys() | after.keys() if before.get(p) != after.get(p))


# inotify(7): the changes that can alter what a build reads.
_IN_EVENTS = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800
_IN_ONLYDIR = 0x01000000
# A watched folder deleted or moved (0x400, 0x800), unmounted, its watch gone (0x8000),
# events lost (0x4000), or an event about a folder in it (0x40000000): a full look.
_IN_FULL_LOOK = 0x400 | 0x800 | 0x2000 | 0x4000 | 0x8000 | 0x40000000
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name


class Wakeups:
    """When to look at the files again, and where: on an inotify event (Linux), else every
    50 ms.

    inotify names the files that changed, so a look stats those alone (``take``); anything
    it cannot vouch for (a folder created, removed or moved, lost events, a look every
    SAFETY_SECONDS without events for file systems that send none) asks for a full look,
    which compares whole snapshots.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, *, inotify: bool = True) -> None:
        self._loop = loop
        self._event = asyncio.Event()
        self._fd: int | None = None
        self._folders: dict[int, str] = {}  # watch descriptor → folder
        self._touched: set[str] = set()
        self._full = True  # the first look is a full one
        libc = ctypes.CDLL(None, use_errno=True)
        if inotify and hasattr(libc, "inotify_init1") and hasattr(libc, "inotify_add_watch"):
            self._add_watch = libc.inotify_add_watch
            self._add_watch.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
            fd = int(libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
            if fd >= 0:
                self._fd = fd
                loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        if self._drain():
            self._event.set()

    def _drain(self) -> bool:
        """Read the events waiting; True if there were any."""
        assert self._fd is not None
        seen = False
        with contextlib.suppress(BlockingIOError):
            while data := os.read(self._fd, 65536):
                seen = True
                self._note(data)
        return seen

    def _note(self, data: bytes) -> None:
        at = 0
        while at + _EVENT.size <= len(data):
            wd, mask, _, length = _EVENT.unpack_from(data, at)
            name = data[at + _EVENT.size:at + _EVENT.size + length].rstrip(b"\0")
            at += _EVENT.size + length
            folder = self._folders.get(wd)
            if folder is None or mask & _IN_FULL_LOOK or not name:
                self._full = True
            else:
                self._touched.add(os.path.join(folder, os.fsdecode(name)))  # noqa: PTH118

    def follow(self, folders: Iterable[str]) -> None:
        """Be woken by changes in ``folders`` (again, for one replaced since; new ones too)."""
        if self._fd is not None:
            for folder in folders:
                wd = self._add_watch(self._fd, os.fsencode(folder), _IN_EVENTS | _IN_ONLYDIR)
                if wd >= 0:
                    self._folders[wd] = folder

    async def next(self) -> None:
        """Return when something may have changed."""
        if self._fd is None:
            await asyncio.sleep(POLL_SECONDS)
            return
        try:
            await asyncio.wait_for(self._event.wait(), SAFETY_SECONDS)
        except TimeoutError:
            self._full = True  # no event for a while: look everywhere all the same
        self._event.clear()

    def take(self) -> set[str] | None:
        """The files inotify saw change since the last call, or None when only a full look
        will do (always, when polling)."""
        if self._fd is None:
            return None
        self._drain()  # events already queued for saves made just now
        touched, full = self._touched, self._full
        self._touched, self._full = set(), False
        return None if full else touched

    @property
    def notified(self) -> bool:
        """True when inotify wakes us; False when we poll."""
        return self._fd is not None

    def close(self) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = None


def updated(old: Snapshot, paths: Iterable[str]) -> Snapshot | None:
    """``old`` with ``paths`` looked at again (those in its folders); None when one of
    them is now a folder (then only a full snapshot will do)."""
    files = dict(old.files)
    folders = set(old.folders)
    for path in paths:
        folder, name = os.path.split(path)
        if is_litter(name) or folder not in folders:  # litter, or a folder no longer watched
            continue
        try:
            info = os.stat(path)  # noqa: PTH116
        except OSError:
            files.pop(path, None)
            continue
        if stat.S_ISDIR(info.st_mode):
            return None
        files[path] = (info.st_mtime_ns, info.st_size, info.st_ino)
    return Snapshot(files, old.folders)


@dataclass(frozen=True, slots=True)
class Status:
    """The last build's outcome, as ``live.js`` reads it."""

    ok: bool
    problems: tuple[str, ...]
    built: int  # builds finished since the server started

    def to_json(self) -> bytes:
        """What ``/__microsite/status.json`` answers."""
        return json.dumps({"ok": self.ok, "problems": list(self.problems),
                           "built": self.built}).encode()


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def describe_changes(paths: Sequence[Path], root: Path) -> str:
    """``posts/a.md changed`` or ``posts/a.md and 3 more changed``."""
    if not paths:
        return ""
    first = _shown(paths[0], root)
    return f"{first} changed" if len(paths) == 1 else f"{first} and {len(paths) - 1} more changed"


def summary(report: BuildReport, changes: str) -> str:
    """The one line printed after a successful build."""
    scheduled = f", {report.scheduled} scheduled" if report.scheduled else ""
    why = f" ({changes})" if changes else ""
    return (f"{time.strftime('%H:%M:%S')} Built {report.posts} posts{scheduled}: "
            f"{report.rendered} file{'s' * (report.rendered != 1)} written, "
            f"{report.reused} unchanged, "
            f"in {report.seconds:.2f} s{why}.")


def failure(problems: Sequence[str], changes: str) -> str:
    """The line printed after a failed build (its problems are printed just before)."""
    count = len(problems)
    why = f" ({changes})" if changes else ""
    return (f"{time.strftime('%H:%M:%S')} Build failed{why}: {count} problem"
            f"{'s' * (count != 1)} to fix; the preview keeps the last good build.")


class SlowBuildNotice:
    """build()'s ``progress``: silent until :meth:`wake` says the build is slow, then loud."""

    def __init__(self, say: Say) -> None:
        self._say = say
        self._lock = threading.Lock()
        self._latest = "Building…"
        self._loud = False
        self._done = False

    def __call__(self, message: str) -> None:
        with self._lock:
            self._latest = message
            if self._loud and not self._done:
                self._say(f"  {message}")

    def wake(self) -> None:
        """Called once the build is slow: show where it is, and everything after."""
        with self._lock:
            if not self._done:
                self._loud = True
                self._say(f"  Still building… {self._latest}")

    def finish(self) -> None:
        """The build is over: say nothing more, even if :meth:`wake` comes late."""
        with self._lock:
            self._done = True


class _Session:
    """One preview: the options, the last status, and the watch → build → reload loop."""

    def __init__(self, options: BuildOptions, say: Say, root: Path) -> None:
        self.options = options
        self.state = BuildState()  # caches kept in memory between rebuilds
        self.say = say
        self.root = root  # paths in messages are shown relative to this (the working folder)
        self.status = Status(ok=True, problems=(), built=0)
        self._warnings: tuple[str, ...] = ()
        output = options.output_dir.resolve()
        self._skipped = frozenset({str(output), str(options.cache_dir.resolve())})
        # The build's half-written and outgoing copies of output/ (see generator.output).
        self._temporary = str(output.parent / f".{output.name}.")
        self._roots: tuple[Path, ...] = (options.content_dir.resolve(), DEFAULT_THEME)
        self._last: Snapshot | None = None  # the files at the last look

    def _watched(self) -> None:
        """Watch the content folder and the site's theme chain (as was, if site.yaml fails)."""
        with contextlib.suppress(BuildError):
            cfg = load_config(self.options.content_dir, self.options.base_url)
            roots = (self.options.content_dir.resolve(), *theme_dirs(cfg))
            if roots != self._roots:
                self._roots, self._last = roots, None  # the next look is a full one

    def _scan(self, wakeups: Wakeups) -> Snapshot:
        """The files now: the last look's, with the files inotify named looked at again;
        else every file looked at (10000 files take ~0.1 s)."""
        touched = wakeups.take()
        found = updated(self._last, touched) if touched is not None and self._last else None
        if found is None:
            found = snapshot(self._roots, lambda path: path in self._skipped
                             or path.startswith(self._temporary))
            wakeups.follow(found.folders)
        self._last = found
        return found

    async def watch(self) -> None:
        """Build now, then again each time the watched files have changed and gone quiet."""
        wakeups = Wakeups(asyncio.get_running_loop())
        try:
            self._watched()
            seen = self._scan(wakeups)
            await self._rebuild([])
            if self.status.ok:  # while the writer reads: saves meanwhile are seen after it
                await asyncio.to_thread(self._prepare)
            while True:
                # Not looking during a build: a save made meanwhile differs from ``seen`` all
                # the same, and is seen by the look after it.
                await wakeups.next()
                current = self._scan(wakeups)
                if current.files != seen.files:
                    current = await self._settle(seen, current, wakeups)
                    changes, seen = changed_paths(seen, current), current
                    if changes:  # not a save that was undone before it settled
                        await self._rebuild(changes)
                        self._watched()  # site.yaml may have switched themes
        finally:
            wakeups.close()

    def _prepare(self) -> None:
        """Copy output/ into the spare tree now, so the first rebuild only updates files."""
        try:
            prepare_spare(self.options)
        except OSError as exc:  # only the first rebuild is slower for it
            log.debug("no spare tree prepared: %s", exc)

    async def _settle(self, seen: Snapshot, current: Snapshot, wakeups: Wakeups) -> Snapshot:
        """The files once nothing has changed for QUIET_SECONDS since the newest save."""
        while True:
            saved = max((current.files[str(p)][0] for p in changed_paths(seen, current)
                         if str(p) in current.files), default=0) / 1e9
            # Counted from the save itself (its mtime), not from when it was noticed.
            wait = saved + QUIET_SECONDS - time.time()
            await asyncio.sleep(min(QUIET_SECONDS, max(POLL_SECONDS, wait)))
            again = self._scan(wakeups)
            if again.files == current.files:
                return again
            current = again

    async def _rebuild(self, changes: Sequence[Path]) -> None:
        loop = asyncio.get_running_loop()
        notice = SlowBuildNotice(self.say)
        timer = loop.call_later(SLOW_BUILD_SECONDS, notice.wake)
        done: asyncio.Future[Status] = loop.create_future()

        def deliver(status: Status) -> None:
            if not done.done():  # not cancelled by Ctrl-C meanwhile
                done.set_result(status)

        def work() -> None:
            status = self._build(changes, notice)
            notice.finish()
            with contextlib.suppress(RuntimeError):  # the loop closed: the server is stopping
                loop.call_soon_threadsafe(deliver, status)

        # A daemon thread, so Ctrl-C never waits for a long build (an interrupted build
        # leaves output/ as it was; the next one clears its leftovers).
        threading.Thread(target=work, name="microsite-build", daemon=True).start()
        try:
            self.status = await done
        finally:
            timer.cancel()
        LiveReloadHandler.reload_waiters("*")

    def _build(self, changes: Sequence[Path], progress: SlowBuildNotice) -> Status:
        """One build, in the build thread; prints its summary and returns the new status."""
        why = describe_changes(changes, self.root)
        built = self.status.built + 1
        try:
            report = build(self.options, progress=progress, state=self.state)
            # What the preview keeps between builds (its caches, a whole site's records) is
            # long-lived and freed by reference counting: leave it out of the cycle
            # collector's scans, which otherwise pause a large site's next rebuild for ~1 s.
            gc.freeze()
        except BuildError as exc:
            problems = tuple(p.format(self.root) for p in exc.problems)
        except jinja2.TemplateSyntaxError as exc:  # build() lets these through unlocated
            where = Path(exc.filename) if exc.filename else None
            problems = (Problem(where, exc.lineno, f"template error: {exc.message}")
                        .format(self.root),)
        except Exception as exc:  # a crash must not stop the preview; the next save retries
            self.say(traceback.format_exc().rstrip())
            problems = (f"the build stopped unexpectedly: {type(exc).__name__}: {exc}",)
        else:
            warnings = tuple(w.format(self.root) for w in report.warnings)
            if warnings != self._warnings:  # not the same list again on every save
                for line in warnings:
                    self.say(line)
                self._warnings = warnings
            self.say(summary(report, why))
            return Status(ok=True, problems=(), built=built)
        for line in problems:
            self.say(line)
        self.say(failure(problems, why))
        return Status(ok=False, problems=problems, built=built)


class _StatusHandler(web.RequestHandler):
    def initialize(self, session: _Session) -> None:
        self.session = session

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.write(self.session.status.to_json())


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font:1.125rem/1.5 system-ui,sans-serif;color:#111;background:#fff;margin:2rem">
<main{role}><h1>{title}</h1><p>{text}</p>{problems}</main></body></html>
"""


class _OutputFiles(web.StaticFileHandler):
    """``output/`` as it is now: never cached, never anything outside it."""

    def initialize(self, path: str, default_filename: str | None = None,
                   allowed_symlink_directory: str | list[str] | None = None, *,
                   session: _Session | None = None) -> None:
        super().initialize(path, default_filename, allowed_symlink_directory)
        assert session is not None
        self.session = session

    def prepare(self) -> None:
        # Taken before the file is read, so a page is never newer than its stamp says.
        self.set_header("Server-Timing", f'microsite-build;desc="{self.session.status.built}"')
        self.set_header("Cache-Control", "no-store")

    async def get(self, path: str, include_body: bool = True) -> None:
        try:
            self.path = self.parse_url_path(path)
            found = self.validate_absolute_path(
                self.root, self.get_absolute_path(self.root, self.path))
        except web.HTTPError as exc:
            # Outside output/ or a folder without index.html: the same answer as a missing file.
            raise web.HTTPError(404 if exc.status_code == 403 else exc.status_code) from None
        except ValueError:  # e.g. a NUL byte in the path
            raise web.HTTPError(400) from None
        if found is None:  # answered already (a folder's address without its slash)
            return
        # The file in one read, not its size first and its bytes later: a build may swap
        # output/ in between, and the answer must not mix two builds (nor lose the connection).
        try:
            with open(found, "rb") as handle:  # noqa: PTH123 (a str path from tornado)
                data = handle.read()
        except OSError:
            raise web.HTTPError(404) from None
        self.absolute_path = found
        self.set_header("Content-Type", self.get_content_type())
        self.set_header("Content-Length", len(data))
        if include_body:
            self.write(data)

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        found = super().validate_absolute_path(root, absolute_path)
        real_root = os.path.realpath(root)
        if found is not None and not os.path.realpath(found).startswith(real_root + os.sep):
            raise web.HTTPError(404)
        return found

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        status = self.session.status
        if not status.ok:
            title, text, role = "The site could not be built", (
                "Fix these problems and save; this page reloads by itself."), ' role="alert"'
        elif status.built == 0:
            title, text, role = "Building the site…", "This page reloads when it is ready.", ""
        else:
            title, role = ("Not found" if status_code == 404 else self._reason), ""
            where = _shown(Path(self.root), self.session.root)
            text = f"Nothing in {where}/ answers {self.request.path}."
        items = "".join(f"<li><code>{html.escape(p)}</code></li>" for p in status.problems)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(_PAGE.format(title=html.escape(title), text=html.escape(text), role=role,
                                 problems=f"<ul>{items}</ul>" if items else ""))


class _NoPolling(Watcher):  # type: ignore[misc]  # livereload has no type hints
    """livereload's own watcher, switched off: :class:`_Session` watches and reloads."""

    def start(self, callback: Callable[[], None]) -> bool:
        return True  # "started": livereload then sets up no polling of its own


class _PreviewServer(Server):  # type: ignore[misc]
    def __init__(self, session: _Session) -> None:
        super().__init__(watcher=_NoPolling())
        self.session = session

    def get_web_handlers(self, script: bytes) -> list[tuple[str, type[Any], dict[str, Any]]]:
        root = str(self.session.options.output_dir.resolve())
        return [
            (re.escape(STATUS_URL), _StatusHandler, {"session": self.session}),
            (r"/(.*)", _OutputFiles, {"path": root, "default_filename": "index.html",
                                      "session": self.session}),
        ]

    def _setup_logging(self) -> None:
        """Leave logging to the command's settings (livereload would log every reload)."""


def _stop_on_ctrl_c(loop: asyncio.AbstractEventLoop, watching: asyncio.Task[None]) -> None:
    """Ctrl-C stops the watcher, then the loop, between two of its steps. Raised as
    KeyboardInterrupt it could land inside the loop's own bookkeeping (a task's next step
    taken off the queue and never run), and the clean-up would then wait forever for that
    task. A second Ctrl-C stops the loop at once. This holds even for a preview started
    with SIGINT ignored (as a shell starts background jobs)."""
    def interrupted() -> None:
        if watching.done() or watching.cancelling():
            loop.stop()
            return
        watching.add_done_callback(lambda _task: loop.stop())
        watching.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupted)
    except (NotImplementedError, RuntimeError):  # no signal handlers on this loop (Windows)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def run(options: BuildOptions, *, host: str, port: int, say: Say) -> int:
    """Serve ``options.output_dir`` at ``host:port`` and rebuild on every save until Ctrl-C."""
    try:  # never serve a folder the build would refuse to replace (``--output .``, say)
        check_replaceable(options.output_dir.resolve())
    except BuildError as exc:
        for problem in exc.problems:
            say(problem.format(Path.cwd()))
        return 1
    session = _Session(options, say, Path.cwd())
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # livereload runs tornado's IOLoop on the current loop
    watching = loop.create_task(session.watch())
    if threading.current_thread() is threading.main_thread():
        _stop_on_ctrl_c(loop, watching)
    shown_host = f"[{host}]" if ":" in host else host
    # Said once the loop runs, that is once the port is ours.
    loop.call_soon(say, f"Previewing {_shown(options.content_dir.resolve(), session.root)}/ at "
                        f"http://{shown_host}:{port}/ with drafts and scheduled posts; saving a "
                        "file rebuilds the site and reloads open pages. Press Ctrl-C to stop.")
    if host not in ("127.0.0.1", "localhost", "::1"):
        loop.call_soon(say, f"Anyone who can reach {host} sees this preview, drafts included.")
    try:
        _PreviewServer(session).serve(port=port, host=host, restart_delay=0)
    except OSError as exc:
        say(f"Cannot serve at {host}:{port} ({exc.strerror or exc}); try another --port.")
        return 1
    finally:
        watching.cancel()
        if not loop.is_closed():
            loop.run_until_complete(asyncio.gather(watching, return_exceptions=True))
            loop.close()
        asyncio.set_event_loop(None)
    say("Stopped.")
    return 0
