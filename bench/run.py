"""Measure build speed and memory through the CLI, against the issue's targets.

``python -m bench.run [--posts 1000] [--big 10000] [--pelican/--no-pelican] [--repeat 3]``
builds fresh copies of synthetic corpora (see ``bench.corpus``) cold, unchanged, after a
one-post body edit and after a one-post title edit, runs Pelican cold on the same posts,
prints a table with PASS/FAIL per target and writes ``bench/out/results.json``.
"""

from __future__ import annotations

import argparse
import compileall
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .corpus import is_current, write_corpus
from .measure import BenchError, Run, measure
from .report import Scenario, SizeResult, payload, report, targets

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PELICAN_VENV = OUT / ".venv-pelican"
# Hidden, because mypy (files = bench) skips dot-folders, and each corpus's pelicanconf.py
# would otherwise be a duplicate module named "pelicanconf".
CORPORA = OUT / ".corpora"
SNAPSHOTS = OUT / ".snapshots"  # hidden for the same reason: they hold generator/*.py


def _progress(name: str, n: int, run: Run) -> None:
    print(f"  {name:<11} run {n + 1}: {run.seconds:6.2f} s wall, {run.cpu_s:6.2f} s CPU, "
          f"{run.rss_mb:4.0f} MB, others {run.others:4.0%}", flush=True)


_ASIDE = OUT / ".aside"  # with --set-aside, old trees wait here until the end


def _clean(*paths: Path, aside: bool = False) -> None:
    """Remove ``paths``; with ``aside``, move them into ``_ASIDE`` (deleted by ``main`` at
    the end): on an ext4 without a journal, making files right after a big delete nearby is
    slow (see README), and that would be measured as the build's time."""
    for path in paths:
        if aside and path.exists():
            _ASIDE.mkdir(parents=True, exist_ok=True)
            path.rename(_ASIDE / f"{time.monotonic_ns()}-{path.name}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def _body_marker(n: int) -> str:
    return f"added by the benchmark for rebuild {n}"


def _title_marker(n: int) -> str:
    return f"A retitled post for the benchmark, take {n}"


def _edit_body(post: Path, n: int) -> None:
    with post.open("a", encoding="utf-8") as f:
        f.write(f"\nOne more sentence, {_body_marker(n)}.\n")


def _edit_title(post: Path, n: int) -> None:
    lines = post.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines[i] = f'title: "{_title_marker(n)}"\n'
    post.write_text("".join(lines), encoding="utf-8")


def _check_edit(output: Path, marker: str, at_least: int) -> None:
    """Fail unless ``marker`` reached ``at_least`` output files: a fast stale build is no win."""
    needle = marker.encode("utf-8")
    found = sum(needle in f.read_bytes() for f in output.rglob("*") if f.is_file())
    if found < at_least:
        raise BenchError(f"the rebuild missed the edit: {marker!r} is in {found} output "
                         f"file(s), expected at least {at_least}")


def snapshot(ref: str) -> tuple[Path, str]:
    """``generator/`` and ``themes/`` as committed at git ``ref``, exported under bench/out.

    Builds then run that code, not the working tree, which teammates may be editing.
    """
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                           capture_output=True, text=True, check=False)
    if found.returncode != 0:
        raise BenchError(f"--ref {ref}: not a commit in {ROOT} ({found.stderr.strip()})")
    sha = found.stdout.strip()
    dest = SNAPSHOTS / sha[:12]
    if not dest.is_dir():
        partial = dest.with_name(dest.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", sha,
                                  "generator", "themes"], capture_output=True, check=False)
        if archive.returncode != 0:
            raise BenchError(f"git archive {sha}: {archive.stderr.decode(errors='replace')}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(partial, filter="data")
        partial.rename(dest)
    return dest, sha


def measure_ours(corpus: Path, work: Path, repeat: int, timeout: float, *,
                 code: Path = ROOT, quiet: float = 0, aside: bool = False,
                 pss: bool = False) -> list[Scenario]:
    """Cold, no-change, body-edit and title-edit builds of a fresh copy of ``corpus``."""
    _clean(work, aside=aside)
    # As `make build` does: compiled once, not at every start (see the Makefile).
    compileall.compile_dir(code / "generator", quiet=1)
    shutil.copytree(corpus / "content", work / "content")
    output, cache = work / "output", work / ".cache"
    posts = sorted((work / "content" / "posts").glob("*.md"))
    edited = posts[len(posts) // 2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(code), os.environ.get("PYTHONPATH", "")) if p)}
    cmd = [sys.executable, "-m", "generator", "build", "--content", str(work / "content"),
           "--output", str(output), "--offline"]
    steps: dict[str, Callable[[int], None]] = {
        "cold": lambda n: _clean(output, cache, aside=aside), "no-change": lambda n: None,
        "body edit": lambda n: _edit_body(edited, n),
        "title edit": lambda n: _edit_title(edited, n)}
    # After an edit, the post page (body) or the page and its listings (title) must show it.
    checks: dict[str, tuple[Callable[[int], str], int]] = {
        "body edit": (_body_marker, 1), "title edit": (_title_marker, 2)}
    results = []
    for name, prepare in steps.items():
        runs = []
        try:
            for n in range(repeat):
                prepare(n)
                log = work / "logs" / f"{name.replace(' ', '-')}-{n}.log"
                runs.append(measure(cmd, work, timeout, log, env=env, quiet=quiet, pss=pss))
                _progress(name, n, runs[-1])
                if name in checks:
                    _check_edit(output, checks[name][0](n), checks[name][1])
        except BenchError as exc:
            print(f"  {name}: FAILED: {exc}", file=sys.stderr, flush=True)
            results.append(Scenario.failed(name, runs, exc))
            break  # later scenarios need this one's output
        results.append(Scenario(name, tuple(runs)))
    return results


def ensure_pelican() -> Path:
    """The Pelican command in its own venv under bench/out, installed on first use."""
    pelican = PELICAN_VENV / "bin" / "pelican"
    if pelican.exists():
        return pelican
    print(f"Installing Pelican into {PELICAN_VENV} (first use only)…", flush=True)
    python = shutil.which("python3") or sys.executable
    for cmd in ([python, "-m", "venv", str(PELICAN_VENV)],
                [str(PELICAN_VENV / "bin" / "pip"), "install", "--quiet", "pelican", "markdown"]):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise BenchError(f"could not install Pelican ({' '.join(cmd)}):\n{done.stderr}")
    return pelican


def measure_pelican(corpus: Path, work: Path, repeat: int, timeout: float, *,
                    quiet: float = 0, aside: bool = False) -> Scenario:
    """Pelican's cold build of the same posts (no output, no cache), ``repeat`` times."""
    runs = []
    try:
        pelican = ensure_pelican()
        site = corpus / "pelican"
        for n in range(repeat):
            _clean(work / "pelican-output", site / "cache", aside=aside)
            cmd = [str(pelican), "content", "-s", "pelicanconf.py", "-o",
                   str(work / "pelican-output")]
            log = work / "logs" / f"pelican-{n}.log"
            runs.append(measure(cmd, site, timeout, log, quiet=quiet))
            _progress("Pelican", n, runs[-1])
    except BenchError as exc:
        print(f"  Pelican: FAILED: {exc}", file=sys.stderr, flush=True)
        return Scenario.failed("Pelican cold", runs, exc)
    return Scenario("Pelican cold", tuple(runs))


def _git_commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000, help="main corpus size (1000)")
    parser.add_argument("--big", type=int, default=10000, help="large corpus size; 0 skips it")
    parser.add_argument("--pelican", action=argparse.BooleanOptionalAction, default=True,
                        help="also build the main corpus with Pelican (default: yes)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per build at --posts (3)")
    parser.add_argument("--big-repeat", type=int, default=1, help="runs per build at --big (1)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (1)")
    parser.add_argument("--timeout", type=float,
                        help="seconds before one build is stopped (default 60 + posts/20)")
    parser.add_argument("--quiet-wait", type=float, default=0, metavar="SECONDS",
                        help="before each build, wait up to this long for other processes "
                             "to go quiet (default 0: don't wait)")
    parser.add_argument("--ref", help="build with generator/ and themes/ as committed at this "
                                      "git ref (e.g. HEAD) instead of the working tree")
    parser.add_argument("--set-aside", action="store_true",
                        help="move old output and caches aside (deleted at the end) instead "
                             "of deleting them before each build: on an ext4 without a "
                             "journal, making files right after a big delete is slow")
    parser.add_argument("--pss", action="store_true",
                        help="also follow the PSS of our builds (it slows them: see README)")
    parser.add_argument("--results", type=Path, default=OUT / "results.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    if args.posts < 1 or args.big < 0 or args.repeat < 1 or args.big_repeat < 1:
        parser.error("--posts, --repeat and --big-repeat must be positive; --big at least 0")

    code, label = ROOT, f"working tree at {_git_commit()}"
    if args.ref:
        try:
            code, sha = snapshot(args.ref)
        except BenchError as exc:
            parser.error(str(exc))
        label = f"{args.ref} = {sha[:12]}"
    print(f"Building with the generator from the {label}.", flush=True)
    sizes = [(args.posts, args.repeat, args.pelican)]
    if args.big:
        sizes.append((args.big, args.big_repeat, False))
    results = []
    for posts, repeat, with_pelican in sizes:
        corpus = CORPORA / f"site-{posts}"
        if not is_current(corpus, posts, args.seed):
            print(f"Writing a {posts}-post corpus to {corpus}…", flush=True)
            write_corpus(corpus, posts, args.seed)
        timeout = args.timeout or 60 + posts / 20
        print(f"{posts} posts ({repeat} run{'s' * (repeat > 1)} each):", flush=True)
        work = OUT / f"work-{posts}"
        ours = measure_ours(corpus, work, repeat, timeout, code=code, quiet=args.quiet_wait,
                            aside=args.set_aside, pss=args.pss)
        theirs = measure_pelican(corpus, work, repeat, timeout, quiet=args.quiet_wait,
                                 aside=args.set_aside) if with_pelican else None
        results.append(SizeResult(posts, tuple(ours), theirs))

    _clean(_ASIDE)
    checks = targets(results)
    print()
    print(report(results, checks))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(payload(results, checks, args.seed, label), indent=2)
                            + "\n", encoding="utf-8")
    print(f"\nWrote {args.results}")
    failed = any(s.error for r in results for s in r.scenarios) or any(
        r.pelican.error for r in results if r.pelican)
    return 1 if failed or (args.check and any(t.passed is False for t in checks)) else 0


if __name__ == "__main__":
    sys.exit(main())
