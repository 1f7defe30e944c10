"""The URL scheme, in one place, and the one helper every link goes through.

A *site path* is a POSIX path relative to the site root: ``""`` is the home page,
``"posts/a-title/"`` a pretty URL (written as ``posts/a-title/index.html``), ``"feed.xml"`` a
file. Pages link to each other with relative URLs, so the built site works served at ``/``
or under its GitHub Pages subpath; canonical URLs, feeds, sitemaps and share links use
absolute URLs made from ``base_url``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote, urlsplit

_NOT_SLUG = re.compile(r"[^\w]+", re.UNICODE)


@functools.lru_cache(maxsize=1 << 14)  # tags recur on every post that has them
def slugify(text: str) -> str:
    """A URL-safe name: ASCII when the text has Latin letters, Unicode words otherwise."""
    folded = unicodedata.normalize("NFKD", text)
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    candidate = _NOT_SLUG.sub("-", ascii_only.lower()).strip("-_")
    if candidate:
        return candidate.replace("_", "-")
    return _NOT_SLUG.sub("-", unicodedata.normalize("NFC", text).lower()).strip("-_")


@functools.lru_cache(maxsize=1 << 16)
def output_file(site_path: str) -> PurePosixPath:
    """Where a site path is written: pretty URLs become ``…/index.html``."""
    if site_path == "" or site_path.endswith("/"):
        return PurePosixPath(site_path) / "index.html"
    return PurePosixPath(site_path)


@dataclass(frozen=True, slots=True)
class Urls:
    """The site's URL scheme for one ``base_url`` and default language."""

    base_url: str  # absolute, ends with '/'
    default_lang: str = "en"

    # -- the scheme ---------------------------------------------------------------------
    def _lang(self, lang: str) -> str:
        return "" if lang == self.default_lang else f"{lang.lower()}/"

    @staticmethod
    def _paged(path: str, page: int) -> str:
        return path if page <= 1 else f"{path}page/{page}/"

    def home(self, lang: str, page: int = 1) -> str:
        return self._paged(self._lang(lang), page)

    def post(self, lang: str, slug: str) -> str:
        return f"{self._lang(lang)}posts/{slug}/"

    def page(self, lang: str, slug: str) -> str:
        return f"{self._lang(lang)}{slug}/"

    def campaign(self, lang: str, campaign_id: str, page: int = 1) -> str:
        return self._paged(f"{self._lang(lang)}campaigns/{campaign_id}/", page)

    def tags(self, lang: str) -> str:
        return f"{self._lang(lang)}tags/"

    def tag(self, lang: str, tag_slug: str, page: int = 1) -> str:
        return self._paged(f"{self._lang(lang)}tags/{tag_slug}/", page)

    def archive(self, lang: str, year: int | None = None) -> str:
        base = f"{self._lang(lang)}archive/"
        return base if year is None else f"{base}{year}/"

    def feed(self, lang: str, fmt: str, kind: str = "site", key: str = "") -> str:
        """``feed.xml`` (RSS 2.0) or ``atom.xml`` for the site, a campaign or a tag."""
        name = "feed.xml" if fmt == "rss" else "atom.xml"
        if kind == "campaign":
            return f"{self.campaign(lang, key)}{name}"
        if kind == "tag":
            return f"{self.tag(lang, key)}{name}"
        return f"{self._lang(lang)}{name}"

    def share_preview(self) -> str:
        return "share-preview/"

    def mastodon_share(self, lang: str = "") -> str:
        return f"{self._lang(lang or self.default_lang)}share/mastodon/"

    @staticmethod
    def asset(name: str) -> str:
        """A theme file (``static/`` of the theme) or a content file (``images/…``)."""
        return name.lstrip("/")

    @staticmethod
    def card(key: str) -> str:
        return f"cards/{key}.png"

    # -- making links -------------------------------------------------------------------
    @property
    def base_path(self) -> str:
        """``/equity-sel/`` for a GitHub project site, ``/`` for a domain root."""
        return urlsplit(self.base_url).path or "/"

    def absolute(self, site_path: str) -> str:
        """The full URL of a site path, for canonical links, feeds and sharing."""
        return self.base_url + _quote_path(site_path)

    def rooted(self, site_path: str) -> str:
        """``/subpath/…``: for pages served at any depth, such as 404.html."""
        return self.base_path + _quote_path(site_path)

    @staticmethod
    def relative(site_path: str, here: str) -> str:
        """A link from the page at ``here`` to ``site_path`` that survives any mount point."""
        target, _, fragment = site_path.partition("#")
        # The folder of ``here`` and the target as path segments (site paths are normalised:
        # no "." or ".." segments), then up to the common folder and down to the target.
        base = here.split("/")[:-1]
        parts = target.split("/")
        folder = parts[:-1]
        common = 0
        while common < len(base) and common < len(folder) and base[common] == folder[common]:
            common += 1
        steps = [".."] * (len(base) - common) + folder[common:]
        if parts[-1]:  # a file
            rel = "/".join([*steps, parts[-1]])
        else:  # a folder (its index page)
            rel = "/".join(steps) + "/" if steps else "./"
        rel = _quote_path(rel)
        return f"{rel}#{fragment}" if fragment else rel


_SAFE = "/:@!$&'()*+,;=-._~%"
_PLAIN = re.compile(r"[A-Za-z0-9" + re.escape(_SAFE) + "]*")  # what ``quote`` leaves as it is


def _quote_path(path: str) -> str:
    # Slugs make most paths plain already: those need no quoting (nor a cache entry).
    return path if _PLAIN.fullmatch(path) else _quote_other(path)


@functools.lru_cache(maxsize=1 << 12)
def _quote_other(path: str) -> str:
    return quote(path, safe=_SAFE)
