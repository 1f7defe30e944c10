"""``microsite new``: the one place the generator writes into ``content/`` (never overwriting)."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from pathlib import Path

from .config import load_config, unknown_key_message
from .errors import BuildError, Problem
from .urls import slugify


class NewPostError(Exception):
    """The post could not be created; the message says why and what to do."""


def _quoted(text: str) -> str:
    # JSON strings are valid YAML double-quoted scalars, with every character escaped right.
    return json.dumps(text, ensure_ascii=False)


def create_post(content_dir: Path, title: str, campaign: str, now: datetime) -> Path:
    """Write ``posts/<date>-<slug>.md`` with front matter filled in; return its path.

    Raises NewPostError (bad arguments) or BuildError (a bad site.yaml, or a post that
    already exists, located at its file); nothing is written then.
    """
    cfg = load_config(content_dir)
    if cfg.campaign(campaign) is None:
        raise NewPostError("--campaign: " + unknown_key_message(
            campaign, tuple(c.id for c in cfg.campaigns), what="campaign"))
    # Control characters (and undecodable bytes from the shell) cannot be in a title.
    title = "".join(ch for ch in " ".join(title.split())
                    if unicodedata.category(ch) not in ("Cc", "Cs")).strip()
    if not title:
        raise NewPostError("the title is empty; put the post's title in quotes")
    local = now.astimezone(cfg.tz)
    slug = slugify(title)[:60].strip("-") or "post"
    path = content_dir / "posts" / f"{local:%Y-%m-%d}-{slug}.md"
    for other in sorted(path.parent.glob(f"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]-{slug}.md")):
        if other != path:  # same title another day: the two would share one web address
            raise BuildError([Problem(other, None, f"a post with the web address posts/{slug}/ "
                                                   "is already here, so no new post was made; "
                                                   "choose another title, or edit this one")])
    text = (
        "---\n"
        f"title: {_quoted(title)}\n"
        f"date: {local:%Y-%m-%d %H:%M}\n"
        f"campaign: {campaign}\n"
        "tags: []\n"
        'summary: ""\n'
        "# image: images/photo.jpg\n"
        "# image_alt: What the photo shows, for readers who cannot see it\n"
        "# tweet: Your own words for the share link (280 characters at most)\n"
        "draft: true\n"
        "---\n"
        "Write your post here. Remove `draft: true` above when it is ready to publish.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError as exc:
        raise BuildError([Problem(path, None, "this post already exists, so it was left as it "
                                              "was; choose another title, or edit this "
                                              "file")]) from exc
    return path
