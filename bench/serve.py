"""Time a one-post edit under ``microsite serve`` until it shows in an open browser page.

``python -m bench.serve [--posts 1000] [--edits 5]`` copies the corpus (see ``bench.corpus``),
starts ``python -m generator serve --offline`` on it, opens the middle post in headless
Chromium (Debian's, driven by Playwright) and then, ``--edits`` times, appends a sentence to
the post's file and measures from the save until the reloaded page that shows it has been
parsed (DOMContentLoaded, by the page's own clock): the watcher's debounce, the rebuild, the
reload signal and the browser's reload, all included.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .corpus import is_current, write_corpus

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__microsite/status.json",
                                timeout=5) as answer:
        data = json.loads(answer.read())
    return data if isinstance(data, dict) else {}


def _wait_built(port: int, at_least: int, timeout: float) -> None:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        try:
            if int(str(_status(port).get("built", 0))) >= at_least:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the preview did not finish build {at_least} in {timeout:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (a dev dependency)

    corpus = OUT / ".corpora" / f"site-{args.posts}"
    if not is_current(corpus, args.posts, args.seed):
        print(f"Writing a {args.posts}-post corpus to {corpus}…", flush=True)
        write_corpus(corpus, args.posts, args.seed)
    work = OUT / f"serve-{args.posts}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(corpus / "content", work / "content")
    post = sorted((work / "content" / "posts").glob("*.md"))[args.posts // 2]
    slug = post.stem[11:]  # the corpus names posts YYYY-MM-DD-<slug>.md
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--content", str(work / "content"),
         "--output", str(work / "output"), "--port", str(port), "--offline"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    times: list[float] = []
    try:
        _wait_built(port, 1, 600)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM") or shutil.which("chromium")
                or "/usr/bin/chromium", args=list(CHROMIUM_ARGS))
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/posts/{slug}/")
            # After its first build the preview copies output/ into its spare tree (about a
            # second per 2000 posts here); a writer's first save rarely comes sooner.
            time.sleep(args.posts / 2000)
            for n in range(args.edits):
                time.sleep(2.5)  # past livereload's quiet time after the previous reload
                marker = f"Seen in the browser after edit {n}"
                saved = time.time()
                with post.open("a", encoding="utf-8") as f:
                    f.write(f"\n{marker}.\n")
                page.get_by_text(marker).first.wait_for(timeout=60_000)
                # Playwright polls ever more slowly (up to every 0.5 s), so the moment is
                # taken from the page itself: when the reloaded document was parsed.
                shown = page.evaluate("performance.timeOrigin + performance"
                                      ".getEntriesByType('navigation')[0].domContentLoadedEventEnd")
                times.append(float(shown) / 1000 - saved)
                print(f"  edit {n + 1}: visible after {times[-1] * 1000:.0f} ms", flush=True)
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    print(f"{args.posts} posts: one-post edit visible in the browser, median "
          f"{statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f}, "
          f"max {max(times) * 1000:.0f}) over {len(times)} edits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
