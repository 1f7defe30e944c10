"""``microsite new``: the one place the generator writes into ``content/`` (never overwriting)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from .config import load_config, unknown_key_message
from .urls import slugify


class NewPostError(Exception):
    """The post could not be created; the message says why and what to do."""


def _quoted(text: str) -> str:
    # JSON strings are valid YAML double-quoted scalars, with every character escaped right.
    return json.dumps(text, ensure_ascii=False)


def create_post(content_dir: Path, title: str, campaign: str, now: datetime) -> Path:
    """Write ``posts/<date>-<slug>.md`` with front matter filled in; return its path."""
    cfg = load_config(content_dir)
    if cfg.campaign(campaign) is None:
        raise NewPostError(unknown_key_message(campaign, tuple(c.id for c in cfg.campaigns))
                           .replace("unknown key", "unknown campaign"))
    title = " ".join(title.split())
    if not title:
        raise NewPostError("the title is empty; put the post's title in quotes")
    local = now.astimezone(cfg.tz)
    slug = slugify(title)[:60].strip("-") or "post"
    path = content_dir / "posts" / f"{local:%Y-%m-%d}-{slug}.md"
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
        raise NewPostError(f"{path} already exists; it was left as it was. Choose another "
                           "title, or edit that file") from exc
    return path
