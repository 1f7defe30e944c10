"""Worker processes: ``map_slices`` and ``map_shared`` spread work and keep its order; helpers
(``workers.alongside``) run beside the build and are stopped when it is done."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from generator.errors import BuildError, Problem
from generator.workers import alongside, map_shared, map_slices


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


def _tagged(items: Sequence[int]) -> list[tuple[int, int]]:
    """Each item with the process that did it; the items past 100 are slow."""
    if any(item >= 100 for item in items):
        time.sleep(0.05)
    return [(item, os.getpid()) for item in items]


@pytest.mark.parametrize("spread", [map_slices, map_shared])
def test_work_spread_over_processes_comes_back_in_order(spread: Callable[..., list[tuple[int, int]]]
                                                         ) -> None:
    for processes in (1, 2, 3):
        done = spread(_tagged, list(range(120)), processes, minimum=10)
        assert [item for item, _ in done] == list(range(120))
        assert len({pid for _, pid in done}) == processes
    few = spread(_tagged, list(range(15)), 4, minimum=10)  # too little to fork for
    assert {pid for _, pid in few} == {os.getpid()}


def test_shared_work_goes_to_the_process_that_is_free() -> None:
    """The slow chunks (items 100 on) do not all fall to one process, as the last slice of
    map_slices would: the other takes its turn at them."""
    done = map_shared(_tagged, list(range(120)), 2, minimum=10)
    slow = {pid for item, pid in done if item >= 100}
    assert len(slow) == 2
    sliced = map_slices(_tagged, list(range(120)), 2, minimum=10)
    assert len({pid for item, pid in sliced if item >= 100}) == 1


def _with_chunk(items: Sequence[int]) -> list[tuple[int, int]]:
    """Each item with the first item of the chunk it came in."""
    return [(item, items[0]) for item in items]


@pytest.mark.parametrize("chunks", [1, 8, 24])
def test_shared_work_comes_in_as_many_chunks_as_asked(chunks: int) -> None:
    done = map_shared(_with_chunk, list(range(960)), 2, minimum=10, chunks=chunks)
    assert [item for item, _ in done] == list(range(960))
    assert len({start for _, start in done}) == 2 * chunks


def _fails_at(bad: int, error: BaseException) -> Callable[[Sequence[int]], list[int]]:
    def run(items: Sequence[int]) -> list[int]:
        if bad in items:
            raise error
        return list(items)
    return run


@pytest.mark.parametrize("spread", [map_slices, map_shared])
@pytest.mark.parametrize("bad", [0, 119])  # in the first chunk (this process) or the last
def test_a_failure_in_any_process_reaches_the_caller(spread: Callable[..., list[int]],
                                                     bad: int) -> None:
    problem = Problem(Path("content/posts/x.md"), 3, "'date' must look like 2024-05-01")
    with pytest.raises(BuildError) as caught:
        spread(_fails_at(bad, BuildError([problem])), list(range(120)), 2, minimum=10)
    assert caught.value.problems == (problem,)
    with pytest.raises((KeyError, RuntimeError)) as failed:  # a worker's comes as its trace
        spread(_fails_at(bad, KeyError("x")), list(range(120)), 2, minimum=10)
    assert failed.type is KeyError or "KeyError: 'x'" in str(failed.value)
