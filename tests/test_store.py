"""The build cache's SQLite file: shared by processes, and never fatal when damaged."""

from __future__ import annotations

import os
import time
from pathlib import Path

from generator.store import FILE_NAME, Store


def test_values_survive_to_the_next_build_and_across_fork(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.get("markup", "a") is None
    store.put_many("markup", [("a", b"first"), ("b", b"second")])
    pid = os.fork()
    if pid == 0:  # a worker process writes through its own connection
        Store(tmp_path).put_many("card", [("c", b"third")])
        os._exit(0)
    os.waitpid(pid, 0)
    later = Store(tmp_path)
    assert (later.get("markup", "a"), later.get("markup", "b")) == (b"first", b"second")
    assert later.get("card", "c") == b"third"
    assert later.get("card", "a") is None  # kinds are kept apart


def test_a_damaged_file_is_replaced_not_fatal(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is not a database" * 100)
    store = Store(tmp_path)
    assert store.get("markup", "a") is None
    store.put_many("markup", [("a", b"kept")])
    assert Store(tmp_path).get("markup", "a") == b"kept"


def test_an_unwritable_folder_only_costs_speed(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    store = Store(blocked)
    store.put_many("markup", [("a", b"lost")])
    assert store.get("markup", "a") is None


def test_many_keys_are_read_in_one_go(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put_many("markup", [(f"k{i}", f"v{i}".encode()) for i in range(0, 1300, 2)])
    store.put_many("card", [("k1", b"a card")])
    keys = [f"k{i}" for i in range(1300)]  # more than one query's worth
    found = Store(tmp_path).get_many("markup", keys)
    assert found == {f"k{i}": f"v{i}".encode() for i in range(0, 1300, 2)}
    assert store.get_many("markup", []) == {}


def test_a_pickled_cache_is_read_only_under_its_tag_and_damage_is_a_miss(tmp_path: Path) -> None:
    from generator.store import load_pickle, save_pickle

    path = tmp_path / "cache" / "kept.pickle"
    save_pickle(path, "v1", {"a": (1, "x")})
    assert load_pickle(path, "v1") == {"a": (1, "x")}
    assert load_pickle(path, "v2") == {}  # another version, or other inputs
    path.write_bytes(b"\x80\x05 not a pickle")
    assert load_pickle(path, "v1") == {}
    assert load_pickle(tmp_path / "missing.pickle", "v1") == {}
    assert sorted(p.name for p in path.parent.iterdir()) == ["kept.pickle"]  # no leftovers


def test_a_body_is_read_from_the_store_or_rendered_again_from_its_file(tmp_path: Path) -> None:
    """The site holds a rendered body's record; its HTML stays in the store until a page
    asks for it, and is made again from the file when the store has lost it."""
    import sqlite3
    from pathlib import PurePosixPath

    import pytest

    from generator.cache import MarkupCache, markup_key
    from generator.errors import BuildError
    from generator.markup import Markup

    content = tmp_path / "content"
    (content / "posts").mkdir(parents=True)
    source = content / "posts" / "x.md"
    body = "## Spring\n\nWe *meet* in May.\n\n> tweet: Every voice counts.\n"
    source.write_text(f"---\ntitle: X\n---\n{body}")
    rel = PurePosixPath("posts/x.md")
    rendered = Markup(content).render(body, rel)
    key = markup_key(rel, body)
    [made] = MarkupCache(tmp_path / "cache", content).put_many([(key, source, rel, rendered)])
    assert rendered.html not in repr(made)  # the record carries no HTML
    assert made.quotes == ("Every voice counts.",)

    later = MarkupCache(tmp_path / "cache", content)
    [found] = later.get_many([key], [(source, rel)]).values()
    assert found == made
    assert (found.html, found.headings) == (rendered.html, rendered.headings)

    with sqlite3.connect(tmp_path / "cache" / FILE_NAME) as db:
        db.execute("DELETE FROM blobs WHERE kind = 'html'")
    lost = MarkupCache(tmp_path / "cache", content)
    [again] = lost.get_many([key], [(source, rel)]).values()
    assert (again.html, again.headings) == (rendered.html, rendered.headings)

    source.write_text(f"---\ntitle: X\n---\n{body}More.\n")  # edited since it was read
    with pytest.raises(BuildError, match="changed while the site was being built"):
        _ = MarkupCache(tmp_path / "cache", content).get_many([key], [(source, rel)])[key].html


def test_processes_opening_a_new_store_at_once_all_use_it(tmp_path: Path) -> None:
    """A first build's parse workers open the new cache file together. SQLite answers
    "database is locked" at once, without waiting, to a connection that turns on WAL while
    another does; giving up then left the rendered Markdown uncached for the whole build
    (in about half of first builds: the pages then rendered every body again)."""
    workers = 6
    for round_ in range(20):
        folder = tmp_path / f"round-{round_}"
        start = time.time() + 0.05  # every worker connects at this moment
        pids = []
        for n in range(workers):
            pid = os.fork()
            if pid == 0:  # a worker: exit code 0 if the store worked, 1 if it gave up
                code = 1
                try:
                    time.sleep(max(0.0, start - time.time()))
                    store = Store(folder)
                    store.put_many("k", [(f"key-{n}", b"value")])
                    code = 0 if store.get_many("k", [f"key-{n}"]) == {f"key-{n}": b"value"} \
                        else 1
                finally:
                    os._exit(code)
            pids.append(pid)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
        assert codes == [0] * workers, f"round {round_}: {codes}"
        assert Store(folder).get_many("k", [f"key-{n}" for n in range(workers)]) == {
            f"key-{n}": b"value" for n in range(workers)}
