"""Problems a writer can fix, reported as ``path:line: message``.

Every stage collects its problems and raises them together as one :class:`BuildError`,
so a writer sees all mistakes in one run instead of fixing them one build at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the writer's input: where it is and what to do about it."""

    path: Path | None
    line: int | None
    message: str
    severity: Severity = Severity.ERROR

    def format(self, root: Path | None = None) -> str:
        """``content/posts/x.md:3: message`` (the path relative to ``root`` when inside it)."""
        if self.path is None:
            where = ""
        else:
            shown = self.path
            if root is not None:
                try:
                    shown = self.path.relative_to(root)
                except ValueError:
                    shown = self.path
            where = f"{shown}:{self.line}: " if self.line else f"{shown}: "
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{where}{prefix}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def warning(path: Path | None, line: int | None, message: str) -> Problem:
    return Problem(path, line, message, Severity.WARNING)


class BuildError(Exception):
    """One or more errors that stop the build; carries every problem found in the stage."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.format() for p in self.problems))

    def __reduce__(self) -> tuple[type[BuildError], tuple[tuple[Problem, ...]]]:
        # So a worker process can send its problems back intact.
        return (BuildError, (self.problems,))


def raise_if_errors(problems: Iterable[Problem]) -> None:
    """Raise every error in ``problems`` together (warnings alone pass)."""
    errors = [p for p in problems if p.is_error]
    if errors:
        raise BuildError(errors)
