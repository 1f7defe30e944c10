"""The ``microsite`` command (also ``python -m generator``): the only module that prints."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from . import __version__
from .build import BuildOptions, build
from .errors import BuildError, Problem
from .scaffold import NewPostError, create_post
from .tweetcount import MAX_WEIGHTED_LENGTH, tweet_check


def _show(problems: Sequence[Problem], root: Path) -> None:
    for problem in problems:
        print(problem.format(root), file=sys.stderr)


def _content_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=Path("content"),
                        help="the folder with site.yaml and posts/ (default: content)")


def _build_args(parser: argparse.ArgumentParser) -> None:
    _content_args(parser)
    parser.add_argument("--output", type=Path, default=Path("output"),
                        help="where the site is written (default: output)")
    parser.add_argument("--base-url", help="the address the site is served from, overriding "
                                           "base_url in site.yaml")
    parser.add_argument("--drafts", action="store_true", help="include posts marked draft")
    parser.add_argument("--future", action="store_true",
                        help="include posts scheduled for a later date")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--offline", action="store_true",
                        help="use the saved copies of embedded feeds; fetch nothing")


def _day(text: str) -> date:
    """A date on the command line, with a plain message when it isn't one."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"must look like 2024-05-01 (got \"{text}\")") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="microsite", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="say more")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _build_args(commands.add_parser("build", help="build the site into output/"))
    serve = commands.add_parser("serve", help="preview the site, rebuilding as you save")
    _build_args(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    tweet = commands.add_parser("tweet-check", help="count a post as X does: 241/280 ok")
    tweet.add_argument("text", help="the text, in quotes")
    new = commands.add_parser("new", help="start a new post in content/posts/")
    new.add_argument("title", help="the post's title, in quotes")
    new.add_argument("--campaign", required=True, help="the campaign id from site.yaml")
    _content_args(new)
    plan = commands.add_parser("plan", help="plan each campaign's posts into plan/ (CSV and "
                                            "calendar files for a scheduling tool)")
    plan.add_argument("--campaign", help="only this campaign id (default: every campaign)")
    plan.add_argument("--days", type=int, default=30, help="how many days to plan (default: 30)")
    plan.add_argument("--start", type=_day, metavar="YYYY-MM-DD",
                      help="the first day (default: tomorrow in the site's time zone)")
    _content_args(plan)
    check = commands.add_parser(
        "check", help="check posts for problems before publishing",
        description="Check every post and page for problems before publishing: front matter, "
                    "broken links and #anchors, image descriptions and sizes, heading levels, "
                    "link words, tweet lengths and summaries. Drafts and posts scheduled for "
                    "later are checked too, unless --no-drafts or --no-future. Writes "
                    "nothing but caches; exits 1 when there are errors.")
    _content_args(check)
    check.add_argument("--drafts", action=argparse.BooleanOptionalAction, default=True,
                       help="check posts marked draft (the default)")
    check.add_argument("--future", action=argparse.BooleanOptionalAction, default=True,
                       help="check posts scheduled for a later date (the default)")
    return parser


class _Progress:
    """Quiet for quick builds; once a build passes two seconds, says what it is doing."""

    def __init__(self, after: float = 2.0) -> None:
        self.started = time.monotonic()
        self.after = after
        self.stage = "starting"
        self.loud = False
        self.timer = threading.Timer(after, self._wake)
        self.timer.daemon = True
        self.timer.start()

    def _wake(self) -> None:
        self.loud = True
        print(f"Still building: {self.stage}", flush=True)

    def __call__(self, message: str) -> None:
        self.stage = message
        if self.loud or time.monotonic() - self.started > self.after:
            self.loud = True
            print(f"  {message}", flush=True)


def _cmd_build(args: argparse.Namespace) -> int:
    options = BuildOptions(content_dir=args.content, output_dir=args.output,
                           base_url=args.base_url, drafts=args.drafts, future=args.future,
                           strict=args.strict, offline=args.offline)
    progress = _Progress()
    try:
        report = build(options, progress=progress)
    except BuildError as exc:
        progress.timer.cancel()
        _show(exc.problems, Path.cwd())
        count = len(exc.problems)
        print(f"Build failed: {count} problem{'s' * (count != 1)} to fix; "
              f"{args.output}/ was left as it was.", file=sys.stderr)
        return 1
    progress.timer.cancel()
    _show(report.warnings, Path.cwd())
    extra = f", {report.scheduled} scheduled for later" if report.scheduled else ""
    warned = f", {len(report.warnings)} warning{'s' * (len(report.warnings) != 1)}" \
        if report.warnings else ""
    print(f"Built {report.posts} posts into {args.output}/: {report.written} files "
          f"({report.rendered} rendered, {report.reused} unchanged) in "
          f"{report.seconds:.2f} s{extra}{warned}.")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .serve import run  # noqa: PLC0415 - only the preview needs the server's imports

    options = BuildOptions(content_dir=args.content, output_dir=args.output,
                           base_url=args.base_url, drafts=True, future=True,
                           strict=args.strict, offline=args.offline, live=True)
    return run(options, host=args.host, port=args.port, say=print)


def _cmd_tweet_check(args: argparse.Namespace) -> int:
    length, ok = tweet_check(args.text)
    status = "ok" if ok else "too long" if length > MAX_WEIGHTED_LENGTH else "not postable"
    print(f"{length}/{MAX_WEIGHTED_LENGTH} {status}")
    return 0 if ok else 1


def _cmd_check(args: argparse.Namespace) -> int:
    from .check import check_site  # noqa: PLC0415 - only this command needs the checks

    report = check_site(args.content, drafts=args.drafts, future=args.future)
    for problem in report.problems:
        print(problem.format(Path.cwd()))
    print(report.summary)
    return 1 if report.errors else 0


def _cmd_new(args: argparse.Namespace) -> int:
    try:
        path = create_post(args.content, args.title, args.campaign, datetime.now(UTC))
    except BuildError as exc:
        _show(exc.problems, Path.cwd())
        return 1
    except NewPostError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"Created {path}. Write your post there, then run: make build")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from .schedule_export import (  # noqa: PLC0415 - only this command needs the planner
        HOOTSUITE_MAX_ROWS,
        report,
        run_plans,
    )

    try:
        written = run_plans(args.content, now=datetime.now(UTC), start=args.start,
                            days=args.days, campaign_id=args.campaign)
    except BuildError as exc:
        _show(exc.problems, Path.cwd())
        return 1
    for done in written:
        for line in report(done.plan, Path.cwd()):
            print(line)
        here = Path.cwd()
        files = ", ".join(str(path.relative_to(here) if path.is_relative_to(here) else path)
                          for path in done.files)
        over = len(done.plan.posts) > HOOTSUITE_MAX_ROWS
        print(f"  wrote {files}" + (f" (over {HOOTSUITE_MAX_ROWS} rows: upload it to "
                                     "Hootsuite in parts)" if over else ""))
    return 0


def run() -> None:
    """The ``microsite`` command: ``main``, then a quick exit. Python would otherwise free a
    big site's records one by one before exiting (~0.5 s at 10000 posts); the system frees
    the memory at once. Output is flushed first; files and temporary folders are closed by
    then, and a failure still raises as usual."""
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(message)s")
    handlers = {"build": _cmd_build, "new": _cmd_new, "serve": _cmd_serve,
                "tweet-check": _cmd_tweet_check, "plan": _cmd_plan,
                "check": _cmd_check}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
