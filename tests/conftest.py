"""Shared fixtures: small sites written inline, and the ``microsite`` command run in-process.

Tests describe behaviour on real small sites (STYLE.md, habit 12): ``write_tree`` writes a
tree from a dict, ``minimal_site`` is the smallest valid content folder, and ``run_cli``
runs ``generator.cli.main`` with a chosen working folder, so messages print with the same
relative paths a writer sees.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest

SITE_YAML = """\
title: Test Schools
description: A small site for tests.
base_url: https://example.org/test-site/
language: en
languages: [es]
timezone: America/New_York
posts_per_page: 10
campaigns:
  equity:
    name: Test Equity
    handle: TestEquity
    hashtags: [TestEquity]
    goal_per_day: 0.1
  sel:
    name: Test SEL
    handle: Test_SEL
    hashtags: [TestSEL]
    goal_per_day: 0.1  # so the one-week cadence check is met by one post
"""

FIRST_POST = """\
---
title: First post
date: 2024-05-01
campaign: equity
tags: [equity]
summary: The first post.
---
Hello from the equity team. See also [the second post](posts/2024-05-02-second.md).
"""

SECOND_POST = """\
---
title: Second post
date: 2024-05-02 09:30
campaign: sel
summary: The second post.
---
Hello from the SEL team.
"""

MINIMAL_SITE: Mapping[str, str] = {
    "site.yaml": SITE_YAML,
    "posts/2024-05-01-first.md": FIRST_POST,
    "posts/2024-05-02-second.md": SECOND_POST,
}
"""The files of :func:`minimal_site`, relative to its content folder."""


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Write each ``relative/path: contents`` under ``root`` (text as UTF-8, bytes as is)."""
    for name, contents in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(contents, bytes):
            path.write_bytes(contents)
        else:
            path.write_text(contents, encoding="utf-8", newline="\n")


@pytest.fixture
def minimal_site(tmp_path: Path) -> Path:
    """``tmp_path/content``: a valid site.yaml with two campaigns (equity, sel) and two posts."""
    content = tmp_path / "content"
    write_tree(content, MINIMAL_SITE)
    return content


class CliResult(NamedTuple):
    code: int
    out: str
    err: str


RunCli = Callable[[list[str], Path], CliResult]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """``run_cli(args, cwd)``: run ``microsite ARGS`` in-process from ``cwd``.

    Returns (exit code, stdout, stderr). An uncaught exception (a traceback a writer would
    see) propagates and fails the test.
    """
    from generator.cli import main

    def run(args: list[str], cwd: Path) -> CliResult:
        capsys.readouterr()  # drop anything printed before this command
        with contextlib.chdir(cwd):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
