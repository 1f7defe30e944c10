"""The GitHub Pages workflow, checked offline: zizmor's audit and the steps Pages needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.support import missing_tool

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "pages.yml"


def load() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps(job: str) -> list[dict[str, Any]]:
    found = load()["jobs"][job]["steps"]
    assert isinstance(found, list)
    return found


def uses(job: str) -> list[str]:
    return [str(step["uses"]).split("@")[0] for step in steps(job) if "uses" in step]


def test_zizmor_finds_nothing_offline() -> None:
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    if not Path(zizmor).exists():
        missing_tool("zizmor", "pip install zizmor (it is in the dev extras)")
    result = subprocess.run([zizmor, "--offline", str(WORKFLOW)], capture_output=True,
                            text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_builds_with_the_pages_address_and_deploys_with_the_official_actions() -> None:
    assert uses("build") == ["actions/checkout", "actions/setup-python", "actions/configure-pages",
                             "actions/cache", "actions/upload-pages-artifact"]
    assert uses("deploy") == ["actions/deploy-pages"]
    build = next(s for s in steps("build") if s.get("name") == "Build")
    assert "make build" in build["run"] and "--base-url" in build["run"]
    assert "steps.pages.outputs.base_url" in build["env"]["BASE_URL"]
    upload = next(s for s in steps("build") if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"] == {"path": "output", "include-hidden-files": True}


def test_runs_on_push_and_daily_for_scheduled_posts() -> None:
    triggers = load()[True]  # YAML 1.1 reads the key 'on' as true
    assert triggers["push"]["branches"] == ["main"]
    assert triggers["schedule"][0]["cron"]
    assert load()["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
