"""Templates: the theme chain, the Jinja environment, interface strings, and late-bound links.

Autoescape is always on and undefined variables are errors. The only HTML marked safe is
the writer's rendered Markdown (``article.html``), bound here once by :func:`bind_links`.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import re
import string
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from babel.core import UnknownLocaleError, get_global
from babel.dates import format_date
from markupsafe import Markup

from .colors import readable_on
from .config import SiteConfig, theme_roots
from .errors import Problem, raise_if_errors
from .markup import QUOTE_PLACEHOLDER, SITE
from .source import TextError, YamlProblem, load_yaml, read_text
from .urls import Urls

# Found by its literal start (fast on long pages); the attribute before it is checked after.
_MARKER = re.compile('="' + re.escape(SITE) + r'([^"]*)"')
_MARKED_ATTRIBUTE = re.compile(r"\b(?:href|src|content|action)\Z")
_QUOTE = re.compile(re.escape(QUOTE_PLACEHOLDER).replace(r"\{\}", r"(\d+)"))
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "sd", "yi", "dv", "ckb"})
DEFAULT_THEME = Path(__file__).resolve().parent.parent / "themes" / "default"


def theme_dirs(cfg: SiteConfig) -> tuple[Path, ...]:
    """The site's theme first (it overrides), then the default theme."""
    dirs: list[Path] = []
    if cfg.theme != "default":
        for root in theme_roots(cfg.content_dir):
            if (root / cfg.theme).is_dir():
                dirs.append(root / cfg.theme)
                break
    local_default = cfg.content_dir.parent / "themes" / "default"
    for candidate in (local_default, DEFAULT_THEME):
        if candidate.is_dir() and candidate.resolve() not in [d.resolve() for d in dirs]:
            dirs.append(candidate)
    return tuple(dirs)


@functools.lru_cache(maxsize=256)  # asked on every page; Babel's lookup is not cheap
def og_locale(lang: str) -> str:
    """Open Graph wants language_TERRITORY: ``es`` becomes ``es_ES``, ``zh`` ``zh_CN``."""
    parts = lang.replace("-", "_").split("_")
    if len(parts) > 1 and len(parts[-1]) == 2:
        return f"{parts[0].lower()}_{parts[-1].upper()}"
    likely = str(get_global("likely_subtags").get(parts[0].lower(), ""))
    pieces = likely.split("_")
    return f"{pieces[0]}_{pieces[-1]}" if len(pieces) > 1 else parts[0]


def direction(lang: str) -> str:
    return "rtl" if lang.split("-", maxsplit=1)[0].lower() in RTL_LANGUAGES else "ltr"


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Interface strings per language: ``i18n/<lang>.yaml`` in each theme, English fallback."""

    strings: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, themes: Sequence[Path]) -> Catalogue:
        """Every theme's strings; a broken file is a located error, a blank entry is skipped."""
        merged: dict[str, dict[str, str]] = {}
        problems: list[Problem] = []
        for theme in reversed(themes):  # the overriding theme last
            folder = theme / "i18n"
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.yaml")):
                merged.setdefault(path.stem, {}).update(_read_strings(path, problems))
        raise_if_errors(problems)
        return cls(merged)

    def gettext(self, lang: str, message: str, **values: object) -> str:
        for candidate in (lang, lang.split("-", maxsplit=1)[0]):
            found = self.strings.get(candidate, {}).get(message)
            if found:
                return found.format(**values) if values else found
        return message.format(**values) if values else message


def _names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _read_strings(path: Path, problems: list[Problem]) -> dict[str, str]:
    try:
        doc = load_yaml(read_text(path), path)
    except TextError as exc:
        problems.append(Problem(path, exc.line, str(exc)))
        return {}
    except YamlProblem as exc:
        problems.append(exc.problem)
        return {}
    if not isinstance(doc.data, dict):
        problems.append(Problem(path, 1, "an interface-strings file must be lines like "
                                         '"English text": "translation"'))
        return {}
    strings: dict[str, str] = {}
    for key, value in doc.data.items():
        if value is None or value == "":
            continue  # not translated yet: English is shown
        if not isinstance(value, str) or _names(value) - _names(str(key)):
            problems.append(Problem(path, doc.line(key), (
                f"the translation of \"{key}\" must be text using only the {{names}} the "
                f"English has ({', '.join(sorted(_names(str(key)))) or 'none'})")))
            continue
        strings[str(key)] = value
    return strings


@functools.lru_cache(maxsize=1 << 13)  # posts share days; Babel takes ~30 µs a date
def _format_date(value: date, lang: str, form: str = "long") -> str:
    try:
        return format_date(value, format=form, locale=lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return format_date(value, format=form, locale="en")


# What templates call most (``url``, ``t``, ``lang_attr``, ``cfg.campaign``): never marked
# ``pass_context`` or the like unless they carry ``jinja_pass_arg`` themselves.
_PLAIN_CALLABLES = frozenset({functools.partial, types.MethodType, type(og_locale)})


class _Context(jinja2.runtime.Context):
    """Jinja's context, calling a partial, a cached function or a bound method straight away
    when it wants no context: Jinja's own ``call`` looks for that mark on the callable and
    on its ``__call__`` each time, ~0.9 µs of a page's ~90 calls."""

    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if type(__obj) not in _PLAIN_CALLABLES or hasattr(__obj, "jinja_pass_arg"):
            return super().call(__obj, *args, **kwargs)
        kwargs.pop("_loop_vars", None)  # passed by calls in loops and blocks, for Jinja
        kwargs.pop("_block_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Jinja does
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception")


def make_environment(cfg: SiteConfig, themes: Sequence[Path],
                     catalogue: Catalogue | None = None,
                     code_dir: Path | None = None) -> jinja2.Environment:
    """One Jinja environment per build (and per worker process). ``code_dir``: where the
    templates' compiled code is kept from build to build, by their source (see
    ``_code_cache``)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(t / "templates") for t in themes]),
        bytecode_cache=_code_cache(code_dir) if code_dir else None,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        # Templates do not change during a build (a preview makes a new environment when
        # one does), so Jinja need not stat the file at every include.
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.context_class = _Context
    strings = catalogue or Catalogue.load(themes)
    urls = Urls(cfg.base_url, cfg.language)

    @jinja2.pass_context
    def date(ctx: jinja2.runtime.Context, value: datetime, form: str = "long") -> str:
        # Babel formats a datetime's date: keyed by the date, the memo holds a day's posts.
        day = value.date() if isinstance(value, datetime) else value
        return _format_date(day, str(ctx["lang"]), form)

    @functools.lru_cache(maxsize=1 << 12)
    def lang_attr(page_lang: str, text: str = "") -> Markup:
        """`` lang="…"`` for text from site.yaml shown on a page in another language, unless
        a translation gives that very text for the page's language (see partials/lang.html)."""
        if page_lang == cfg.language:
            return Markup("")
        for words in cfg.translations:
            if text and words.lang == page_lang and (
                    text in (words.title, words.description)
                    or any(text in (name, about) for _, name, about in words.campaigns)):
                return Markup("")
        return Markup(' lang="{}"').format(cfg.language)

    # ``url`` and ``t`` are bound to each page by ``render_page``.
    env.globals.update(abs_url=urls.absolute, cfg=cfg, urls=urls,
                       direction=direction, lang_attr=lang_attr, catalogue=strings)
    env.filters.update(
        date=date,
        iso=lambda value: value.isoformat(),
        rfc822=email.utils.format_datetime,  # RSS dates: English names, numeric offset
        readable_on=readable_on,
        og_locale=og_locale,
    )
    return env


# Bump when make_environment changes how templates compile (options, extensions, filters
# given as globals do not count): compiled code kept under an older number is not reused.
TEMPLATE_CODE_VERSION = "1"


def _code_cache(folder: Path) -> jinja2.BytecodeCache | None:
    """Jinja's own cache of compiled templates (~4 ms a template to compile; a page kind
    pulls in about ten), in a folder of its own per Jinja version and ours: each template is
    kept by its name, file and a checksum of its source, written whole or not at all."""
    where = folder / f"{jinja2.__version__}-{TEMPLATE_CODE_VERSION}"
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # compiled every build, as without a cache
    return jinja2.FileSystemBytecodeCache(str(where))


def compile_templates(env: jinja2.Environment) -> None:
    """Compile the theme chain's templates now (~80 ms), so that worker processes forked
    after this inherit them instead of each compiling its own. One that does not compile is
    left for the page that uses it to report."""
    for name in env.list_templates(extensions=("html", "xml", "txt")):
        with contextlib.suppress(jinja2.TemplateError, UnicodeDecodeError, OSError):
            env.get_template(name)


def _relative(relative: Callable[[str, str], str], here: str, site_path: str) -> str:
    return relative(site_path, here)


def bind_links(html: str, resolve: Callable[[str], str]) -> str:
    """Turn ``site:`` markers in attributes into real links (relative or absolute)."""
    if SITE not in html:  # most bodies link nowhere inside the site: skip the regex scan
        return html

    def bind(m: re.Match[str]) -> str:
        if not _MARKED_ATTRIBUTE.search(html, max(0, m.start() - 8), m.start()):
            return m.group(0)
        return f'="{resolve(m.group(1))}"'
    return _MARKER.sub(bind, html)


def fill_quotes(html: str, render_quote: Callable[[int], str]) -> str:
    """Put each click-to-tweet quote's share link where the Markdown left its placeholder."""
    return _QUOTE.sub(lambda m: render_quote(int(m.group(1))), html)


def render_page(env: jinja2.Environment, template: str, context: Mapping[str, Any]) -> str:
    """Render one page and bind its late links relative to ``context['here']``."""
    urls: Urls = env.globals["urls"]  # type: ignore[assignment]
    strings: Catalogue = env.globals["catalogue"]  # type: ignore[assignment]
    # Links from this page: relative to it, or from the site's root (404.html, served at
    # any depth). Templates get ``url`` and ``t`` bound to the page.
    resolve: Callable[[str], str] = urls.rooted if context.get("rooted_links") \
        else functools.partial(_relative, urls.relative, str(context["here"]))
    page = {**context, "url": resolve,
            "t": functools.partial(strings.gettext, str(context["lang"]))}
    html = env.get_template(template).render(page)
    share = context.get("share")
    if share is not None and "<!--tweetable:" in html:
        quote_template = env.get_template("partials/tweetable.html")
        html = fill_quotes(html, lambda n: quote_template.render(
            {**page, "quote": share.quotes[n]}) if n < len(share.quotes) else "")
    return bind_links(html, resolve)
