"""Writing the built site: into a fresh folder, swapped in only when the build is complete.

A failed or interrupted build leaves the previous ``output/`` exactly as it was. The writer
refuses to replace a folder it did not create (one without the marker file), refuses to
write the same path twice, and never writes outside its folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from types import TracebackType

from .errors import BuildError, Problem

MARKER = ".microsite-output"
_MARKER_TEXT = b"Built by campaign-microsite. This folder is replaced by every build.\n"


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


class SiteWriter:
    """Collects a new site in a temporary sibling folder; ``commit`` swaps it in."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir.resolve()
        check_replaceable(self.output_dir)
        self.output_dir.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(self.output_dir)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.output_dir.name}.new-",
                                         dir=self.output_dir.parent))
        self.written: dict[PurePosixPath, str] = {}
        self.bytes_written = 0

    def _target(self, rel: PurePosixPath, origin: str) -> Path:
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise BuildError([Problem(None, None, f"{origin}: would write outside the output "
                                                  f"folder ({rel})")])
        if rel in self.written:
            raise BuildError([Problem(None, None, f"{origin} and {self.written[rel]} both "
                                                  f"write {rel}; rename one of them")])
        self.written[rel] = origin
        target = self.tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, rel: PurePosixPath, data: bytes, origin: str) -> None:
        self._target(rel, origin).write_bytes(data)
        self.bytes_written += len(data)

    def link(self, rel: PurePosixPath, existing: Path, origin: str) -> None:
        """Reuse an unchanged file (a hard link when possible, else a copy)."""
        target = self._target(rel, origin)
        try:
            os.link(existing, target)
        except OSError:
            shutil.copyfile(existing, target)

    def commit(self) -> None:
        (self.tmp / MARKER).write_bytes(_MARKER_TEXT)
        self.tmp.chmod(0o755)
        old = None
        if self.output_dir.exists():
            check_replaceable(self.output_dir)
            old = self.output_dir.with_name(f".{self.output_dir.name}.old-{os.getpid()}")
            self.output_dir.rename(old)
        self.tmp.rename(self.output_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> SiteWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.commit()
        else:
            self.abort()


def _remove_leftovers(output_dir: Path) -> None:
    """Folders from builds that were killed half-way (never the output itself)."""
    for pattern in (f".{output_dir.name}.new-*", f".{output_dir.name}.old-*"):
        for leftover in output_dir.parent.glob(pattern):
            if leftover.is_dir() and leftover != output_dir:
                shutil.rmtree(leftover, ignore_errors=True)
