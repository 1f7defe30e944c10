"""The posting plan's edges: load the site, read the last plan, write CSV and iCalendar files.

Files go to ``plan/`` beside the content folder (git-ignored, never deployed), one pair per
campaign: ``<id>.csv`` in the shape of Hootsuite's bulk composer (no header row; date and
time ``MM/DD/YYYY HH:MM`` on a 24-hour clock in the site's time zone, message, link), and
``<id>.ics`` with one event per planned post. The previous ``<id>.csv`` is read first, so a
new plan keeps the 14-day rule across plans and rotates on from where the last one stopped.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from .build import render_bodies
from .cache import MarkupCache
from .config import Campaign, load_config, unknown_key_message
from .content import load_posts
from .errors import BuildError, Problem, raise_if_errors
from .output import put
from .schedule import (
    REPEAT_DAYS,
    Gap,
    Plan,
    Used,
    daily_counts,
    default_start,
    make_plan,
    messages,
)
from .site import Site, build_site, published
from .workers import cpu_count

CSV_TIME = "%m/%d/%Y %H:%M"
MAX_DAYS = 366
EVENT_MINUTES = 15  # how long a planned post shows in a calendar
HOOTSUITE_MAX_ROWS = 350  # one bulk upload takes at most this many posts


@dataclass(frozen=True, slots=True)
class Written:
    plan: Plan
    files: tuple[Path, ...]


def plan_folder(content_dir: Path) -> Path:
    """``plan/`` beside the content folder."""
    return content_dir.resolve().parent / "plan"


def csv_text(plan: Plan) -> str:
    """One row per planned post: date and time, message, link (RFC 4180, CRLF, UTF-8)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for post in plan.posts:
        writer.writerow((post.when.strftime(CSV_TIME), post.message.text, post.link))
    return out.getvalue()


def read_history(path: Path, tz: ZoneInfo) -> Used:
    """(when, message) of each row of an earlier plan's CSV; rows that don't parse are skipped
    (the file may have been edited by hand), and a missing file is no history."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    rows = []
    for row in csv.reader(io.StringIO(text, newline="")):
        try:
            when = datetime.strptime(row[0], CSV_TIME).replace(tzinfo=tz)
        except (IndexError, ValueError):
            continue
        if len(row) >= 2:
            rows.append((when, row[1]))
    return rows


def _uid(plan: Plan, when: datetime, host: str) -> str:
    """Stable for a campaign and a time, so importing a new plan replaces that slot's event."""
    slot = f"{plan.campaign.id}-{when:%Y%m%dT%H%M}"
    return f"{slot}-{hashlib.sha256(slot.encode()).hexdigest()[:8]}@{host}"


def ics_bytes(plan: Plan, tz: ZoneInfo, host: str) -> bytes:
    """An iCalendar file with one 15-minute event per planned post, times in the site's zone."""
    cal = Calendar()
    cal.add("prodid", "-//campaign-microsite//posting plan//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{plan.campaign.name}: posting plan")
    cal.add("x-wr-timezone", tz.key)
    end = plan.start + timedelta(days=plan.days)
    cal.add_component(Timezone.from_tzinfo(tz, first_date=plan.start - timedelta(days=1),
                                           last_date=end + timedelta(days=1)))
    # DTSTAMP says when the event's information last changed: the newest post it draws on
    # (not the clock, so the same content and start make the same file).
    stamp = max((p.message.published for p in plan.posts),
                default=datetime.combine(plan.start, datetime.min.time(), tz))
    for post in plan.posts:
        m = post.message
        event = Event()
        event.add("uid", _uid(plan, post.when, host))
        event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
        event.add("dtstart", post.when)
        event.add("duration", timedelta(minutes=EVENT_MINUTES))
        event.add("summary", f"{plan.campaign.name}: {m.title} ({m.kind.replace('-', ' ')})")
        event.add("description", f"{post.full}\n\n{post.length}/280 as X counts it.")
        event.add("url", post.link)
        event.add("categories", [plan.campaign.id])
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}"


def _days(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def report(plan: Plan, root: Path | None = None) -> list[str]:
    """The cadence report: days at the goal, the gaps and why, recent posts not yet shared."""
    c, goal = plan.campaign, f"{plan.campaign.goal_per_day:g}"
    end = plan.start + timedelta(days=plan.days - 1)
    lines = [f"{c.id} ({c.name}): goal {goal} a day; {_days(plan.start, end)}: "
             f"{plan.days_at_goal} of {plan.days} days at the goal, "
             f"{_count(len(plan.posts), 'post')} from "
             f"{_count(plan.messages, 'distinct message')}"]
    runs: list[list[Gap]] = []
    for gap in plan.gaps:
        if runs and (gap.day - runs[-1][-1].day).days == 1:
            runs[-1].append(gap)
        else:
            runs.append([gap])
    if runs:
        spans = ", ".join(f"{_days(r[0].day, r[-1].day)} ({sum(g.planned for g in r)} of "
                          f"{sum(g.wanted for g in r)} posts)" for r in runs)
        need = sum(daily_counts(c.goal_per_day, REPEAT_DAYS))
        if not plan.messages:
            why = "the campaign has no published posts yet"
        elif plan.messages < need:
            why = (f"a message may go out only once in {REPEAT_DAYS} days, and {goal} a day "
                   f"needs {need} distinct messages; there are {plan.messages}")
        else:
            why = (f"messages the previous plan used are still inside the {REPEAT_DAYS}-day "
                   f"window ({plan.messages} distinct messages)")
        lines.append(f"  below the goal: {spans}: {why}; write more posts or add 'tweets:' "
                     "variants")
    for m in plan.unshared:
        shown = m.source.relative_to(root) if root and m.source.is_relative_to(root) \
            else m.source
        lines.append(f"  not shared in the first week: {shown} (\"{m.title}\", "
                     f"{m.published.date().isoformat()})")
    return lines


def load_site(content_dir: Path, now: datetime) -> Site:
    """The published site (no drafts, nothing scheduled after ``now``); raise its errors."""
    cfg = load_config(content_dir)
    posts, problems = load_posts(cfg)
    raise_if_errors(problems)
    kept, _scheduled = published(posts, now, drafts=False, future=False)
    cache = MarkupCache(content_dir.resolve().parent / ".cache", cfg.content_dir)
    bodies = render_bodies(kept, cache, cpu_count())
    site, site_problems = build_site(cfg, kept, bodies, now)
    raise_if_errors(site_problems)
    return site


def _campaigns(site: Site, campaign_id: str | None) -> tuple[Campaign, ...]:
    if campaign_id is None:
        return site.cfg.campaigns
    found = site.cfg.campaign(campaign_id)
    if found is None:
        ids = tuple(c.id for c in site.cfg.campaigns)
        raise BuildError([Problem(None, None, "--campaign: " + unknown_key_message(
            campaign_id, ids, what="campaign"))])
    return (found,)


def run_plans(content_dir: Path, *, now: datetime, start: date | None = None, days: int = 30,
              campaign_id: str | None = None) -> list[Written]:
    """Plan each campaign (or the one asked for) and write its CSV and iCalendar files."""
    if not 1 <= days <= MAX_DAYS:
        raise BuildError([Problem(None, None, f"--days must be from 1 to {MAX_DAYS} "
                                              f"(got {days})")])
    site = load_site(content_dir, now)
    cfg, tz = site.cfg, site.cfg.tz
    today = now.astimezone(tz).date()
    start = start or default_start(now, tz)
    if start < today:
        raise BuildError([Problem(None, None, f"--start {start.isoformat()} is in the past; "
                                              f"use today ({today.isoformat()}) or later")])
    folder = plan_folder(content_dir)
    host = urlsplit(cfg.base_url).hostname or "localhost"
    done = []
    for campaign in _campaigns(site, campaign_id):
        csv_path, ics_path = folder / f"{campaign.id}.csv", folder / f"{campaign.id}.ics"
        plan = make_plan(messages(site, campaign, now), campaign, tz, start, days, now=now,
                         utm=cfg.share.utm, history=read_history(csv_path, tz))
        put(csv_path, csv_text(plan).encode("utf-8"))
        put(ics_path, ics_bytes(plan, tz, host))
        done.append(Written(plan, (csv_path, ics_path)))
    return done
