"""Test support: a local static server, a link crawler, and wrappers for real external tools.

External tools (Chromium, Java with vnu.jar, jing, newsboat) are optional on a developer's
machine: a test that needs a missing one is skipped, naming the package to install. CI sets
``MICROSITE_REQUIRE_TOOLS=1`` so a missing tool fails the run instead, and a green CI always
means every check really ran. ``MICROSITE_REQUIRE_BROWSER=1`` is accepted as an older name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE_TOOLS_VARIABLES = ("MICROSITE_REQUIRE_TOOLS", "MICROSITE_REQUIRE_BROWSER")


def repo_root() -> Path:
    """The checkout this test suite belongs to (``node_modules/`` and ``Makefile`` live here)."""
    return Path(__file__).resolve().parents[2]


def tools_required() -> bool:
    """True when a missing external tool must fail the run (CI) rather than skip (locally)."""
    return any(os.environ.get(name, "") not in ("", "0") for name in REQUIRE_TOOLS_VARIABLES)


def missing_tool(what: str, install_hint: str) -> NoReturn:
    """Skip the calling test, or fail it when tools are required, saying how to get ``what``."""
    message = f"{what} not found: {install_hint}"
    if tools_required():
        pytest.fail(f"{message} (required because MICROSITE_REQUIRE_TOOLS=1)", pytrace=False)
    pytest.skip(message)
