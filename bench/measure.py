"""Time one command and follow the memory of its whole process tree (Linux /proc)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_EVERY = 0.02  # seconds between memory samples of the process tree
RESCAN_EVERY = 5  # look for new child processes every this many samples (a /proc scan costs)
# PSS (asked for with ``pss=True``) every this many samples: reading it makes the kernel walk
# every page of every process, holding each one's memory map meanwhile. Even every 200 ms
# that made a 10000-post build 15% slower (28.6 s against 24.9 s), so it is left out of
# timed runs unless asked for.
PSS_EVERY = 10
BUSY = 0.1  # above this share of the CPU used by other processes, a wall time is suspect
_REPORTED = re.compile(r" in (\d+(?:\.\d+)?) s\b")


class BenchError(Exception):
    """A command that failed, timed out or could not start; the message says which and why."""

    def __init__(self, message: str, *, reason: str = "failed",
                 rss_mb: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason  # a few words for a table cell
        self.rss_mb = rss_mb  # peak tree RSS of the run until it failed or was stopped


@dataclass(frozen=True, slots=True)
class Run:
    """One measured process: wall time, CPU time and the peak memory of its tree, in MB."""

    seconds: float
    rss_mb: float  # peak of the tree's summed RSS (a page shared by two processes counts twice)
    pss_mb: float | None  # peak of the tree's summed PSS (shared pages split); None: not read
    largest_mb: float  # ru_maxrss: the largest single process of the tree
    cpu_s: float = 0.0  # user + system time of the tree; barely moved by a busy machine
    others: float = 0.0  # share of the machine's CPU used by other processes meanwhile
    # (neither the build nor this process, whose sampler costs a few percent of a core)
    reported_s: float | None = None  # the command's own "in N s", if it printed one


def _children(root: int) -> set[int]:
    """``root`` and every process descended from it, from one scan of /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:  # the command name may hold spaces; the parent pid follows its ')'
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree = {root}
    while new := {pid for pid, ppid in parents.items() if ppid in tree} - tree:
        tree |= new
    return tree


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _rss(pids: set[int]) -> int:
    """Summed RSS in kB of ``pids``, from ``statm``: cheap enough to read every sample."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KB
        except (OSError, IndexError, ValueError):
            continue  # gone already
    return total


def _memory(pids: set[int]) -> tuple[int, int]:
    """(summed RSS, summed PSS) in kB of ``pids``; PSS makes the kernel walk every page of
    every process, so it is read less often (see TreeSampler)."""
    rss = pss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue  # gone already
        for line in text.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


class TreeSampler:
    """A thread that records the peak summed RSS and PSS of a process tree until stopped."""

    def __init__(self, root: int, *, pss: bool = False) -> None:
        self.root = root
        self.pss = pss
        self.peak_rss_kb = self.peak_pss_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        tree, count = {self.root}, 0
        while not self._stop.is_set():
            if count % RESCAN_EVERY == 0:
                tree = _children(self.root)
            if self.pss and count % PSS_EVERY == 0:
                rss, pss = _memory(tree)
                self.peak_pss_kb = max(self.peak_pss_kb, pss)
            else:
                rss = _rss(tree)
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            count += 1
            self._stop.wait(SAMPLE_EVERY)


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy since boot, from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields[:8]) if i not in (3, 4))  # not idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def wait_quiet(limit: float) -> None:
    """Wait up to ``limit`` seconds for other processes to leave the CPU (mostly) idle."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = machine_cpu()
        time.sleep(0.5)
        if (machine_cpu() - before) / (0.5 * (os.cpu_count() or 1)) < BUSY / 2:
            return


def _kill_group(pid: int, fired: threading.Event | None = None) -> None:
    if fired is not None:
        fired.set()
    with contextlib.suppress(ProcessLookupError):  # it finished just in time
        os.killpg(pid, signal.SIGKILL)


def measure(cmd: Sequence[str], cwd: Path, timeout: float, log: Path, *,
            env: Mapping[str, str] | None = None, quiet: float = 0, pss: bool = False) -> Run:
    """Run ``cmd`` to completion, its output in ``log``; BenchError if it fails or times out.

    Files written before (a fresh copy of the corpus, an edit) are flushed to disk first, so
    the command does not share the disk with their write-back. With ``quiet`` > 0, then wait
    up to that many seconds for a quiet machine; with ``pss``, also follow the tree's PSS
    (which slows the command, see ``PSS_EVERY``).
    """
    os.sync()
    wait_quiet(quiet)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        started, machine_before, own_before = time.perf_counter(), machine_cpu(), \
            time.process_time()
        try:  # in a session of its own, so a timeout or Ctrl-C stops its workers too
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as exc:
            raise BenchError(f"could not start {cmd[0]}: {exc}") from exc
        fired = threading.Event()
        timer = threading.Timer(timeout, _kill_group, (proc.pid, fired))
        try:
            with TreeSampler(proc.pid, pss=pss) as sampler:
                timer.start()
                _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
                seconds = time.perf_counter() - started
                machine = machine_cpu() - machine_before
                own = time.process_time() - own_before  # this process: the sampler, mostly
        except BaseException:
            _kill_group(proc.pid)
            raise
        finally:
            timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    text = log.read_text(encoding="utf-8", errors="replace")
    peak = sampler.peak_rss_kb / 1024
    if fired.is_set():
        raise BenchError(f"{' '.join(cmd)} took longer than {timeout:g} s and was stopped, "
                         f"using {peak:.0f} MB by then (log: {log})",
                         reason=f"stopped after {timeout:g} s", rss_mb=peak)
    if proc.returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-8:])
        raise BenchError(f"{' '.join(cmd)} exited with {proc.returncode} after {seconds:.1f} s, "
                         f"using {peak:.0f} MB (log: {log}):\n{tail}",
                         reason=f"failed after {seconds:.0f} s", rss_mb=peak)
    cpu = usage.ru_utime + usage.ru_stime
    reported = _REPORTED.search(text)
    return Run(seconds=seconds, rss_mb=peak,
               pss_mb=sampler.peak_pss_kb / 1024 if pss else None,
               largest_mb=usage.ru_maxrss / 1024,
               cpu_s=cpu, others=max(0.0, machine - cpu - own) / (seconds * (os.cpu_count() or 1)),
               reported_s=float(reported.group(1)) if reported else None)
