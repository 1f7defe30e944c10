"""Spreading work over every core with forked processes.

Each child process is forked with the work already in memory (nothing is pickled on the
way in), does its part, and sends back its results; the parent does a part itself.
``map_shared`` (parsing, share texts, the files) deals small chunks, each to whichever
process is free next, so none waits long for a slower one; ``map_slices`` (bodies left to
render, digests) gives each process one contiguous slice. Results come back in the original
order either way, so the output is the same whatever the number of processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

from .errors import BuildError

T = TypeVar("T")
R = TypeVar("R")


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _die_with_parent() -> None:
    """Ask Linux to stop this worker if the build is killed, so no orphan keeps writing."""
    if sys.platform != "linux":
        return
    pr_set_pdeathsig = 1
    # The C library's prctl, from the symbols already loaded (ctypes.util.find_library
    # would run ldconfig: ~2 ms in every worker).
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _child(work: Callable[[int], list[R]], k: int, conn: Connection) -> None:
    _die_with_parent()
    try:
        conn.send(("ok", work(k)))
    except BuildError as exc:
        conn.send(("problems", exc.problems))
    except BaseException:  # everything must reach the parent, which raises it
        conn.send(("crash", traceback.format_exc()))
    finally:
        conn.close()


def _spread(work: Callable[[int], list[R]], processes: int) -> list[list[R]]:
    """``work(k)`` in process k, for k up to ``processes``: 0 is this one, the others are
    forked. Each one's results, in the order of k; the first failure is raised once every
    process is done."""
    ctx = multiprocessing.get_context("fork")
    children = []
    for k in range(1, processes):
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(work, k, send), daemon=True)
        child.start()
        send.close()
        children.append((child, receive))
    results: list[list[R]] = []
    failure: BaseException | None = None
    try:
        results.append(work(0))
    except BaseException as exc:  # collect the children before raising
        failure = exc
    for child, receive in children:
        try:
            kind, payload = receive.recv()
        except EOFError:
            kind, payload = "crash", f"a worker process stopped (exit code {child.exitcode})"
        child.join()
        if failure is not None:
            continue
        if kind == "ok":
            results.append(payload)
        elif kind == "problems":
            failure = BuildError(payload)
        else:
            failure = RuntimeError(f"a worker process failed:\n{payload}")
    if failure is not None:
        raise failure
    return results


def processes_for(processes: int, items: Sequence[T], minimum: int) -> int:
    """How many processes ``map_slices`` and ``map_shared`` spread ``items`` over: one when
    there is little work, or no fork (a caller readies what the workers share only when they
    will be forked)."""
    processes = max(1, min(processes, len(items) // max(1, minimum)))
    return 1 if "fork" not in multiprocessing.get_all_start_methods() else processes


def map_slices(fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], processes: int,
               minimum: int = 64) -> list[R]:
    """``fn`` over ``items`` in up to ``processes`` processes, a contiguous slice each; one
    when there is little work."""
    processes = processes_for(processes, items, minimum)
    if processes == 1:
        return fn(items)
    size = -(-len(items) // processes)
    slices = [items[i:i + size] for i in range(0, len(items), size)]
    return [r for part in _spread(lambda k: fn(slices[k]), len(slices)) for r in part]


CHUNKS_PER_PROCESS = 8  # map_shared: enough for the processes to finish close together


def map_shared(fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], processes: int,
               minimum: int = 64, chunks: int = CHUNKS_PER_PROCESS) -> list[R]:
    """``fn`` over ``items`` in up to ``processes`` processes, as ``map_slices``, but in
    chunks taken in turn by whichever process is free: none waits long for the others when
    a piece of work or a process is slower than the rest (a process whose core the machine
    lends elsewhere for a while, say). ``chunks``: how many chunks for each process."""
    processes = processes_for(processes, items, minimum)
    if processes == 1:
        return fn(items)
    size = -(-len(items) // (processes * chunks))
    pieces = [items[i:i + size] for i in range(0, len(items), size)]
    taken = multiprocessing.get_context("fork").Value("l", 0)  # the next chunk to take

    def work(_k: int) -> list[tuple[int, list[R]]]:
        done: list[tuple[int, list[R]]] = []
        while True:
            with taken.get_lock():
                n = taken.value
                taken.value = n + 1
            if n >= len(pieces):
                return done
            done.append((n, fn(pieces[n])))

    parts = sorted((got for each in _spread(work, processes) for got in each),
                   key=lambda got: got[0])
    return [r for _, part in parts for r in part]


_pending: list[int] = []  # background processes not yet waited for


def in_background(fn: Callable[[], None]) -> None:
    """Run ``fn`` in a forked process while the caller goes on (saving a cache it no longer
    needs, say); ``wait_for_background`` waits for it. Where there is no fork, run it now."""
    if "fork" not in multiprocessing.get_all_start_methods():
        fn()
        return
    _pending.append(_fork(fn))


def _fork(fn: Callable[[], None]) -> int:
    """Start ``fn`` in a forked child and return its pid. The child leaves as soon as ``fn``
    returns or fails, with no clean-up of what it inherited from the parent."""
    pid = os.fork()
    if pid == 0:
        try:
            _die_with_parent()
            fn()
        finally:
            os._exit(0)
    return pid


def wait_for_background() -> None:
    """Wait for every process ``in_background`` started."""
    while _pending:
        os.waitpid(_pending.pop(), 0)


@contextlib.contextmanager
def alongside(fn: Callable[[], None]) -> Iterator[int | None]:
    """Run ``fn`` in a forked process while the block runs, and stop it when the block ends,
    finished or not: for work that only gives the block a head start (drawing share cards
    while the main process plans the site, say), so none of it may be waited for or relied
    on. Its failures are silent. The block is given the helper's process id; where there is
    no fork, nothing is run (and it is given None)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    pid = _fork(fn)
    try:
        yield pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
