"""Helper processes (``workers.alongside``): run beside the build, stopped when it is done."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.workers import alongside


def _wait_for(path: Path, seconds: float = 10.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text():
            return path.read_text()
        time.sleep(0.01)
    raise AssertionError(f"{path} never appeared")


def _gone(pid: int) -> bool:
    """No such process, or one that has ended and waits to be reaped (a zombie)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return True
    return state == "Z"


def _forever(said: Path) -> Callable[[], None]:
    """A helper that writes its process id to ``said``, then runs until it is stopped."""
    def run() -> None:
        said.write_text(str(os.getpid()))
        while True:
            time.sleep(0.01)
    return run


def test_a_helper_runs_in_another_process_and_is_stopped_when_the_block_ends(
        tmp_path: Path) -> None:
    said = tmp_path / "pid"
    with alongside(_forever(said)) as helper:
        pid = int(_wait_for(said))
        assert pid == helper != os.getpid()
        assert not _gone(pid)
    assert _gone(pid)  # stopped and waited for: no zombie either


def test_a_failing_helper_is_silent_and_an_error_in_the_block_still_stops_it(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    def fails() -> None:
        raise RuntimeError("the helper broke")

    with alongside(fails):
        time.sleep(0.1)
    assert "the helper broke" not in capfd.readouterr().err

    said = tmp_path / "pid"
    with pytest.raises(KeyError), alongside(_forever(said)):
        pid = int(_wait_for(said))
        raise KeyError("the build failed")
    assert _gone(pid)


def test_a_helper_stops_when_the_build_is_killed(tmp_path: Path) -> None:
    """A killed build has no clean-up: Linux stops its helpers (PR_SET_PDEATHSIG)."""
    said = tmp_path / "pid"
    build = os.fork()
    if build == 0:  # the "build": starts a helper, then is killed while it runs
        try:
            with alongside(_forever(said)):
                time.sleep(60)
        finally:
            os._exit(0)
    helper = int(_wait_for(said))
    assert not _gone(helper)
    os.kill(build, signal.SIGKILL)
    os.waitpid(build, 0)
    deadline = time.monotonic() + 10
    while not _gone(helper) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _gone(helper)
