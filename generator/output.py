"""Writing the built site so that ``output/`` only ever changes from one whole build to the next.

Each build is written into a *work tree* beside ``output/`` and swapped in only when complete,
so a failed or interrupted build leaves the previous ``output/`` exactly as it was. After the
swap the previous tree stays as ``.output.spare``; the next build updates that spare in place,
rewriting only files whose digest changed, and swaps again. Freeing disk blocks is slow on
many disks (milliseconds per file or folder), so no tree is deleted on the normal path and
files are overwritten in place rather than replaced.

New trees (and the folder cards are drawn into ahead of a first build) are made in a hidden
holder beside ``output/``, ``.output.work``, marked on ext4 as the top of unrelated folder
trees (``chattr +T``): the file system then puts each new tree in a part of the disk of its
own choosing instead of beside the project. On an ext4 without a journal, making a file
scans past every inode freed in the last minutes (1 to 6) in its part of the disk, so a
cold build just after ``rm -rf output`` took 1–2 s more, and more each time, before this.
A few empty folders ("pins", see ``_pin``) stay in the holder for some minutes after.

Each tree holds a marker file naming its build; the digests it was built with are kept in
``.cache/trees/<build>.json``. A tree being updated is marked ``dirty`` first, so if the
build stops half-way the next one trusts nothing in it. The two trees never share files.

The writer refuses to replace a folder it did not create (one without the marker file) and
never writes outside its tree.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import BuildError, Problem

MARKER = ".microsite-output"
_MARKER_HEAD = "Built by campaign-microsite. This folder is replaced by every build.\n"
_DIRTY = "dirty"
_RENAME_EXCHANGE = 2


def check_replaceable(output_dir: Path) -> None:
    """Raise unless ``output_dir`` is absent, empty, or made by us."""
    if not output_dir.exists():
        return
    if not output_dir.is_dir():
        raise BuildError([Problem(output_dir, None, "the output path is a file, not a folder; "
                                                    "choose another --output")])
    if (output_dir / MARKER).is_file() or not any(output_dir.iterdir()):
        return
    raise BuildError([Problem(output_dir, None,
                              f"this folder was not made by campaign-microsite (it has no "
                              f"{MARKER} file), so the build will not replace it; choose "
                              "another --output, or empty the folder yourself")])


def make_parent(output_dir: Path) -> None:
    """Make the folder ``output_dir`` goes in; a BuildError that says why it cannot be."""
    try:
        output_dir.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise BuildError([Problem(output_dir, None, (
            f"{exc.filename or output_dir.parent} is a file, so the output cannot go in it; "
            "choose another --output"))]) from exc
    except OSError as exc:
        raise BuildError([Problem(output_dir, None, (
            f"cannot make the folder the output goes in ({exc.strerror or exc}: "
            f"{exc.filename or output_dir.parent}); choose another --output"))]) from exc


def build_id(tree: Path) -> str | None:
    """The build a tree holds, from its marker; None when unknown, dirty or not ours."""
    try:
        text = (tree / MARKER).read_text("utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("build: "):
            found = line.removeprefix("build: ").strip()
            return None if found == _DIRTY else found
    return None


def _write_marker(tree: Path, ident: str) -> None:
    put(tree / MARKER, f"{_MARKER_HEAD}build: {ident}\n".encode())


def put(target: Path, data: bytes, *, new: bool = False) -> None:
    """Write ``target`` in place: freeing a file's blocks is slow on many disks, so files of
    the work tree are overwritten rather than replaced (the tree is marked dirty first).
    A file the other tree shares (a hard link, see ``_link_or_copy``) is replaced instead:
    writing through it would change the other tree too. ``new``: the file cannot exist yet
    (a tree being made from nothing), so that is not checked."""
    name = os.fspath(target)
    if not new:
        try:
            if target.stat().st_nlink > 1:
                target.unlink()
        except FileNotFoundError:
            pass
    # os.open, not open(): a buffered file object costs three more system calls a file.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, 0o666)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(name, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _link_or_copy(source: str, target: str) -> None:
    """A second name for the same file where the file system allows it (no data copied, one
    metadata update), else a copy. ``put`` never writes through a shared file."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def move_or_put(source: Path, target: Path) -> bool:
    """Move the finished file ``source`` to ``target`` in a work tree (copied where it cannot
    be moved); False when there is no ``source``."""
    try:
        source.replace(target)
    except FileNotFoundError:
        if not source.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        source.replace(target)
    except OSError:  # another file system
        try:
            data = source.read_bytes()
        except FileNotFoundError:
            return False
        put(target, data)
    return True


def _link_tree(source: Path, target: Path) -> None:
    """Every file of ``source`` under the same name in ``target`` (an empty folder), by
    ``_link_or_copy``. Unlike ``shutil.copytree`` it copies no folder's times, mode or
    attributes (five system calls a folder): ~40% less time for 10000 posts' output."""
    # Names as strings: a Path object for each of 35000 entries would cost more than the
    # system calls.
    pending = [(os.fspath(source), os.fspath(target))]
    while pending:
        here, there = pending.pop()
        with os.scandir(here) as entries:
            for entry in entries:
                made = f"{there}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    os.mkdir(made)  # noqa: PTH102 (see above)
                    pending.append((entry.path, made))
                else:
                    _link_or_copy(entry.path, made)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2); False where the system cannot."""
    if sys.platform != "linux":
        return False
    # The C library's, from the symbols already loaded (ctypes.util.find_library would run
    # ldconfig: ~2 ms of every build).
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), f"cannot swap {a} and {b}")


def _spare_of(output_dir: Path) -> Path:
    return output_dir.with_name(f".{output_dir.name}.spare")


def first_build(output_dir: Path) -> bool:
    """True when a build into ``output_dir`` makes every file: there is neither that
    folder nor its spare tree."""
    output_dir = output_dir.resolve()
    return not output_dir.exists() and not _spare_of(output_dir).exists()


def _holder(output_dir: Path) -> Path:
    return output_dir.with_name(f".{output_dir.name}.work")


def _new_folder(output_dir: Path, kind: str) -> Path:
    """A new folder ``<kind>-<random>`` in the holder beside ``output_dir`` (on its file
    system, so it can be renamed into place). The random name matters: it is where the
    file system starts looking for a part of the disk to put it in."""
    holder = _holder(output_dir)
    holder.mkdir(exist_ok=True)
    _spread(holder)
    folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=holder))
    _pin(folder, holder)
    return folder


PINS = 4  # empty folders left where each new tree was put
PIN_SECONDS = 400  # how long they stay: the longest the kernel counts an inode freed "recently"


def _pin(folder: Path, holder: Path) -> None:
    """Leave a few empty folders in ``folder``'s part of the disk, in the holder, for a few
    minutes. The file system puts a new top-level folder in the part with the fewest
    folders; when ``rm -rf output`` deletes this tree, its part has no more than before,
    usually the fewest again, and the next tree would be made among the inodes just freed
    (in 3 of 10 cold builds in a row, each 0.6–1 s slower). The pins keep it away from
    there while those inodes count as recent."""
    stamp = time.time_ns()
    for n in range(PINS):
        pin = f"{folder}/pin-{stamp}-{n}"
        os.mkdir(pin)  # noqa: PTH102 (strings: two system calls each, no more)
        os.rename(pin, f"{holder}/pin-{stamp}-{n}")  # noqa: PTH104 (the inode stays put)


def tidy(output_dir: Path) -> None:
    """Remove expired pins (see ``_pin``) beside ``output_dir``, and their holder once
    nothing is left in it."""
    holder = _holder(output_dir.resolve())
    try:
        entries = list(os.scandir(holder))
    except OSError:
        return
    oldest = time.time_ns() - PIN_SECONDS * 10**9
    for entry in entries:
        kind, _, rest = entry.name.partition("-")
        stamp = rest.partition("-")[0]  # pin-<time_ns>-<n>
        if kind == "pin" and stamp.isdigit() and int(stamp) < oldest:
            with contextlib.suppress(OSError):
                os.rmdir(entry.path)  # noqa: PTH106
    with contextlib.suppress(OSError):
        holder.rmdir()


_FS_IOC_GETFLAGS = 0x80086601
_FS_IOC_SETFLAGS = 0x40086602
_FS_TOPDIR_FL = 0x00020000  # "chattr +T"


def _spread(folder: Path) -> None:
    """Mark ``folder`` as holding unrelated folder trees (ext2/3/4's Orlov allocator then
    places each folder made in it afresh); nothing where the system has no such mark."""
    if sys.platform != "linux":
        return
    import fcntl  # noqa: PLC0415 (POSIX only)
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        flags = bytearray(4)  # the kernel reads and writes an int, whatever the name says
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags)
        value = int.from_bytes(flags, sys.byteorder)
        if not value & _FS_TOPDIR_FL:
            fcntl.ioctl(fd, _FS_IOC_SETFLAGS,
                        (value | _FS_TOPDIR_FL).to_bytes(4, sys.byteorder))
    except OSError:  # another file system, or not allowed: only placement is lost
        pass
    finally:
        os.close(fd)


def cards_folder(output_dir: Path) -> Path:
    """A new hidden folder beside ``output_dir`` (so on its file system: a file made there
    can be moved into the work tree) for cards drawn ahead of the build; removed by the
    build, or by the next one to make such a folder if this one is killed."""
    output_dir = output_dir.resolve()
    make_parent(output_dir)
    for leftover in [*_holder(output_dir).glob("cards-*"),
                     *output_dir.parent.glob(f".{output_dir.name}.cards-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
    return _new_folder(output_dir, "cards")


class SiteWriter:
    """Prepares a work tree; the build decides per file to keep it or to ``put`` new bytes."""

    def __init__(self, output_dir: Path, cache_dir: Path) -> None:
        self.output_dir = output_dir.resolve()
        self.trees = cache_dir / "trees"
        check_replaceable(self.output_dir)
        make_parent(self.output_dir)
        _remove_leftovers(self.output_dir)
        self.spare = _spare_of(self.output_dir)
        self.expected: dict[PurePosixPath, str] = {}
        self._work: tuple[Path, dict[str, str]] | None = None
        self._look = True
        self._empty = False  # the work tree was made empty by this build

    @property
    def first(self) -> bool:
        """True when there is neither an output nor a spare tree: every file is new."""
        return first_build(self.output_dir)

    @property
    def work(self) -> Path:
        """The tree this build writes into (prepared on first use)."""
        return self._prepared()[0]

    @property
    def previous(self) -> dict[str, str]:
        """The digests the work tree's files were built from."""
        return self._prepared()[1]

    def _prepared(self) -> tuple[Path, dict[str, str]]:
        if self._work is None:
            self._work = self._work_tree()
            # Our hidden spare holds what its manifest says; a copy of output/ may not (a
            # file there may have been deleted by hand), so its files are looked for.
            self._look = self._work[0] != self.spare
        return self._work

    def up_to_date(self, digests: dict[PurePosixPath, str]) -> bool:
        """True when ``output/`` already is exactly what these digests describe: then the
        build has nothing to write or swap (no work tree is prepared)."""
        if self._work is not None or not self.output_dir.is_dir():
            return False
        current = self._manifest(build_id(self.output_dir))
        return (len(current) == len(digests)
                and all(current.get(str(rel)) == digest for rel, digest in digests.items())
                and all((self.output_dir / rel).is_file() for rel in digests))

    def _manifest(self, ident: str | None) -> dict[str, str]:
        if ident is None:
            return {}
        try:
            data = json.loads((self.trees / f"{ident}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def prepare_spare(self) -> bool:
        """Bring the spare tree up to ``output/`` now (a preview does this while it waits, so
        that its first rebuild only writes what the edit changed): a copy when there is no
        spare, else only the files whose digests differ. True if anything was done."""
        ident = build_id(self.output_dir) if self.output_dir.is_dir() else None
        current = self._manifest(ident)
        if ident is None or not current:
            return False
        if not self.spare.exists():
            fresh = _new_folder(self.output_dir, "new")
            try:
                _link_tree(self.output_dir, fresh)
                _write_marker(fresh, ident)  # the same files, built from the same digests
                fresh.chmod(0o755)
                fresh.rename(self.spare)
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
            finally:
                tidy(self.output_dir)
            return True
        spare_ident = build_id(self.spare)
        if spare_ident is None or spare_ident == ident:
            return False  # not a clean tree of ours (the next build redoes it), or current
        older = self._manifest(spare_ident)
        _write_marker(self.spare, _DIRTY)  # trusted again only once complete
        for rel, digest in current.items():
            if older.get(rel) != digest or not (self.spare / rel).is_file():
                put(self.spare / rel, (self.output_dir / rel).read_bytes())
        for gone in set(older) - set(current):
            (self.spare / gone).unlink(missing_ok=True)
            _remove_empty_parents(self.spare, (self.spare / gone).parent)
        _write_marker(self.spare, ident)
        return True

    def _work_tree(self) -> tuple[Path, dict[str, str]]:
        """The spare (one build behind) when it is ours; else a clone of output/ or a new one."""
        if self.spare.is_dir() and not (self.spare / MARKER).is_file() \
                and not any(self.spare.iterdir()):
            self.spare.rmdir()  # the empty output/ the first build found, swapped out
        if self.spare.is_dir() and (self.spare / MARKER).is_file():
            previous = self._manifest(build_id(self.spare))
            _write_marker(self.spare, _DIRTY)
            return self.spare, previous
        current = self._manifest(build_id(self.output_dir))
        fresh = _new_folder(self.output_dir, "new")
        if current and not self.spare.exists():
            # Linked, not copied: ``put`` replaces a shared file rather than writing into it.
            _link_tree(self.output_dir, fresh)
            _write_marker(fresh, _DIRTY)
            return fresh, current
        self._empty = True  # made from nothing: holds only what this build puts in it
        return fresh, {}

    def recall(self, stamp: str) -> dict[str, Any] | None:
        """What was noted about ``output/`` when it was built from inputs with this stamp
        (see ``incremental.input_stamp``), provided every file it should hold is there."""
        ident = build_id(self.output_dir) if self.output_dir.is_dir() else None
        if ident is None:
            return None
        try:
            note = json.loads((self.trees / f"{ident}.stamp").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(note, dict) or note.get("stamp") != stamp:
            return None
        manifest = self._manifest(ident)
        if not manifest or not all((self.output_dir / rel).is_file() for rel in manifest):
            return None
        note["files"] = len(manifest)
        return note

    def note(self, stamp: str, facts: dict[str, Any]) -> None:
        """Remember ``facts`` about the current ``output/`` and the stamp it was built from."""
        ident = build_id(self.output_dir)
        if ident is not None:
            self.trees.mkdir(parents=True, exist_ok=True)
            put(self.trees / f"{ident}.stamp", json.dumps({**facts, "stamp": stamp}).encode())

    def unchanged(self, rel: PurePosixPath, digest: str) -> bool:
        """True when the work tree already holds this file as built from ``digest``."""
        self.expected[rel] = digest
        return self.previous.get(str(rel)) == digest and (
            not self._look or os.path.isfile(f"{self.work}/{rel}"))  # noqa: PTH113 (3x faster)

    def path(self, rel: PurePosixPath) -> Path:
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise BuildError([Problem(None, None, f"would write outside the output folder "
                                                  f"({rel})")])
        return self.work / rel

    def commit(self) -> None:
        """Remove what this build no longer makes, mark the tree, and swap it in."""
        if self.previous:  # a clean tree: its manifest lists every file it has
            for gone in set(self.previous) - {str(rel) for rel in self.expected}:
                (self.work / gone).unlink(missing_ok=True)
                _remove_empty_parents(self.work, (self.work / gone).parent)
        elif not self._empty:
            _prune(self.work, set(self.expected))
        manifest = dict(sorted((str(rel), digest) for rel, digest in self.expected.items()))
        data = json.dumps(manifest).encode()
        ident = hashlib.sha256(data).hexdigest()[:20]
        self.trees.mkdir(parents=True, exist_ok=True)
        put(self.trees / f"{ident}.json", data)
        _write_marker(self.work, ident)
        self.work.chmod(0o755)
        if not self.output_dir.exists():
            self.work.rename(self.output_dir)
        else:
            check_replaceable(self.output_dir)
            if self.work == self.spare or not self.spare.exists():
                self._swap()
            else:  # a spare we may not reuse is in the way: fall back to deleting
                old = self.output_dir.with_name(f".{self.output_dir.name}.old-{os.getpid()}")
                self.output_dir.rename(old)
                self.work.rename(self.output_dir)
                shutil.rmtree(old, ignore_errors=True)
        keep = {build_id(self.output_dir), build_id(self.spare)}
        for stale in [*self.trees.glob("*.json"), *self.trees.glob("*.stamp")]:
            if stale.stem not in keep:
                stale.unlink(missing_ok=True)

    def _swap(self) -> None:
        if self.work != self.spare:
            self.work.rename(self.spare)
            self._work = (self.spare, self.previous)
        if not _exchange(self.output_dir, self.spare):
            between = self.output_dir.with_name(f".{self.output_dir.name}.swap")
            self.output_dir.rename(between)
            self.spare.rename(self.output_dir)
            between.rename(self.spare)

    def abort(self) -> None:
        """Leave output/ as it was; a spare stays (marked dirty), a new tree goes."""
        if self._work is not None and self.work != self.spare:
            shutil.rmtree(self.work, ignore_errors=True)


def _remove_empty_parents(tree: Path, folder: Path) -> None:
    while folder != tree and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _prune(tree: Path, wanted: set[PurePosixPath]) -> None:
    keep = {str(rel) for rel in wanted} | {MARKER}
    for root, dirs, files in os.walk(tree, topdown=False):
        base = Path(root)
        for name in files:
            rel = (base / name).relative_to(tree).as_posix()
            if rel not in keep:
                (base / name).unlink(missing_ok=True)
        for name in dirs:
            folder = base / name
            if not any(folder.iterdir()):
                folder.rmdir()


def _remove_leftovers(output_dir: Path) -> None:
    """Folders from builds that were killed half-way (never the output or its spare)."""
    between = output_dir.with_name(f".{output_dir.name}.swap")
    if between.is_dir() and not output_dir.exists():  # stopped in the middle of a swap
        between.rename(output_dir)
    leftovers = [*_holder(output_dir).glob("new-*")]
    for pattern in (f".{output_dir.name}.new-*", f".{output_dir.name}.old-*",
                    f".{output_dir.name}.swap"):
        leftovers += output_dir.parent.glob(pattern)
    for leftover in leftovers:
        if leftover.is_dir() and leftover != output_dir:
            shutil.rmtree(leftover, ignore_errors=True)
