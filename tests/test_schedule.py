"""Posting plans: cadence per campaign, the 14-day rule, 280 by X's count, CSV and iCalendar."""

from __future__ import annotations

import csv
import io
import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from generator.schedule import (
    REPEAT_DAYS,
    Plan,
    cadence_warnings,
    daily_counts,
    default_start,
    slot_times,
)
from generator.schedule_export import Written, load_site, report, run_plans
from generator.sharing import share_site
from generator.social import weighted_length
from tests.conftest import RunCli, write_tree

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
START = date(2024, 6, 3)  # a Monday
NY = ZoneInfo("America/New_York")


def site_yaml(*, tz: str = "America/New_York", equity: float = 1, sel: float = 2) -> str:
    return f"""\
title: Test Schools
base_url: https://example.org/site/
timezone: {tz}
languages: [es]
campaigns:
  equity:
    name: Test Equity
    handle: TestEquity
    hashtags: [TestEquity]
    goal_per_day: {equity}
  sel:
    name: Test SEL
    handle: Test_SEL
    hashtags: [TestSEL, SELinSchools]
    goal_per_day: {sel}
"""


def post(title: str, when: str, campaign: str, *, quotes: Sequence[str] = (),
         tweets: Sequence[str] = (), extra: str = "", body: str = "Some words.") -> str:
    lines = ["---", f'title: "{title}"', f"date: {when}", f"campaign: {campaign}",
             f'summary: "A summary of {title}."']
    if tweets:
        lines.append("tweets:")
        lines += [f'  - "{t}"' for t in tweets]
    if extra:
        lines.append(extra)
    lines += ["---", body, ""]
    for n, said in enumerate(quotes):  # a paragraph between, or the quotes would merge
        lines += [f"> tweet: {said}", "", f"Paragraph {n}.", ""]
    return "\n".join(lines)


def day(n: int) -> str:
    """A publication date ``n`` days before NOW."""
    return (NOW - timedelta(days=n)).date().isoformat()


def make_site(root: Path, posts: dict[str, str], *, tz: str = "America/New_York") -> Path:
    content = root / "content"
    write_tree(content, {"site.yaml": site_yaml(tz=tz)}
               | {f"posts/{name}.md": text for name, text in posts.items()})
    return content


def many_posts() -> dict[str, str]:
    """Equity: 16 posts (16 messages for 14 a fortnight). SEL: 10 posts with two quotes and a
    variant each (40 messages for 28 a fortnight)."""
    posts = {f"e{n:02}": post(f"Equity story {n}", day(n + 1), "equity") for n in range(16)}
    posts |= {f"s{n:02}": post(f"SEL story {n}", day(n + 1), "sel",
                               quotes=(f"Quote A from SEL story {n}.",
                                       f"Quote B from SEL story {n}."),
                               tweets=(f"Variant tweet for SEL story {n}",))
              for n in range(10)}
    return posts


def by_id(written: Sequence[Written]) -> dict[str, Plan]:
    return {w.plan.campaign.id: w.plan for w in written}


def test_many_posts_meet_every_days_goal(tmp_path: Path) -> None:
    content = make_site(tmp_path, many_posts())
    plans = by_id(run_plans(content, now=NOW, start=START, days=30))
    assert set(plans) == {"equity", "sel"}
    for plan, goal in ((plans["equity"], 1), (plans["sel"], 2)):
        assert plan.gaps == () and plan.days_at_goal == 30
        per_day: dict[date, int] = defaultdict(int)
        for planned in plan.posts:
            per_day[planned.when.date()] += 1
        assert per_day == {START + timedelta(days=n): goal for n in range(30)}
    assert plans["equity"].messages == 16 and plans["sel"].messages == 40
    kinds = {p.message.kind for p in plans["sel"].posts}
    assert kinds == {"tweet", "variant-1", "quote-1", "quote-2"}


def test_few_posts_leave_gaps_and_come_back_after_fourteen_days(tmp_path: Path) -> None:
    content = make_site(tmp_path, {"a": post("Oldest", day(9), "equity"),
                                   "b": post("Middle", day(5), "equity"),
                                   "c": post("Newest", day(2), "equity")})
    plan = by_id(run_plans(content, now=NOW, start=START, days=30, campaign_id="equity"))["equity"]
    titles = [(p.when.date(), p.message.title) for p in plan.posts]
    # Newest first; each comes back once 14 days have passed; nothing fills the days between.
    expected = [(START + timedelta(days=offset + n), title)
                for offset in (0, 14, 28) for n, title in enumerate(("Newest", "Middle", "Oldest"))
                if offset + n < 30]
    assert titles == expected
    assert plan.days_at_goal == 8 and len(plan.gaps) == 22
    assert all(g.planned == 0 and g.wanted == 1 for g in plan.gaps)
    lines = report(plan)
    assert lines[0] == ("equity (Test Equity): goal 1 a day; 2024-06-03 to 2024-07-02: 8 of 30 "
                        "days at the goal, 8 posts from 3 distinct messages")
    assert ("below the goal: 2024-06-06 to 2024-06-16 (0 of 11 posts), 2024-06-20 to "
            "2024-06-30 (0 of 11 posts): a message may go out only once in 14 days, and 1 a "
            "day needs 14 distinct messages; there are 3") in lines[1]


def assert_no_repeats(posts: Sequence[tuple[datetime, str]]) -> None:
    last: dict[str, date] = {}
    for when, text in sorted(posts):
        if text in last:
            assert (when.date() - last[text]).days >= REPEAT_DAYS, text
        last[text] = when.date()


def test_no_text_twice_within_fourteen_days_even_across_plans(tmp_path: Path) -> None:
    content = make_site(tmp_path, many_posts())
    first = by_id(run_plans(content, now=NOW, start=START, days=30))
    # A week later the team plans again: the first plan's first week already went out.
    later = START + timedelta(days=7)
    second = by_id(run_plans(content, now=NOW + timedelta(days=7), start=later, days=30))
    for cid in ("equity", "sel"):
        sent = [(p.when, p.message.text) for p in first[cid].posts if p.when.date() < later]
        again = [(p.when, p.message.text) for p in second[cid].posts]
        assert_no_repeats(sent + again)
        assert second[cid].gaps == ()
        # The rotation goes on: what went out last week is not first again.
        assert second[cid].posts[0].message.text not in {text for _, text in sent}


def test_every_message_fits_280_and_links_carry_utm(tmp_path: Path) -> None:
    long = "A very long sentence about equity in our schools and what it means " * 8
    content = make_site(tmp_path, {
        "long": post("Title " + long, day(1), "equity", quotes=(long,), tweets=(long,)),
        "cjk": post("教育公平" * 100, day(2), "equity", tweets=("学校" * 200,)),
        "emoji": post("Family night 👨‍👩‍👧‍👦 " * 30, day(3), "equity"),
    })
    plan = by_id(run_plans(content, now=NOW, start=START, days=20, campaign_id="equity"))["equity"]
    assert len({p.message.kind for p in plan.posts}) == 3
    for planned in plan.posts:
        assert weighted_length(planned.full) == planned.length <= 280
        assert weighted_length(f"{planned.message.text} {planned.link}") <= 280
        assert "via @" not in planned.message.text  # the team posts from its own account
        query = parse_qs(urlsplit(planned.link).query)
        assert query == {"utm_source": ["x"], "utm_medium": ["social"],
                         "utm_campaign": ["equity"],
                         "utm_content": [f"{planned.message.kind}-{planned.when.date()}"]}
        assert planned.link.startswith("https://example.org/site/posts/")


def test_drafts_future_posts_and_other_campaigns_stay_out(tmp_path: Path) -> None:
    content = make_site(tmp_path, {
        "live": post("Live", day(3), "equity"),
        "draft": post("Draft", day(2), "equity", extra="draft: true"),
        "later": post("Later", (NOW + timedelta(days=2)).date().isoformat(), "equity"),
        "sel": post("Other team", day(1), "sel"),
        "es": post("En vivo", day(3), "equity", extra="lang: es\ntranslation_of: live.md"),
    })
    plan = by_id(run_plans(content, now=NOW, start=START, days=14, campaign_id="equity"))["equity"]
    assert [p.message.title for p in plan.posts] == ["Live", "En vivo"]  # translations count


def test_variants_and_quotes_spread_out_newest_first(tmp_path: Path) -> None:
    content = make_site(tmp_path, {
        "old": post("Old post", day(5), "sel", quotes=("Old quote.",)),
        "new": post("New post", day(1), "sel", quotes=("New quote.",), tweets=("New variant",)),
    })
    plan = by_id(run_plans(content, now=NOW, start=START, days=3, campaign_id="sel"))["sel"]
    got = [(p.message.title, p.message.kind) for p in plan.posts]
    # The newest post leads; two slots in a row never share a post while another fits.
    assert got == [("New post", "tweet"), ("Old post", "tweet"), ("New post", "variant-1"),
                   ("Old post", "quote-1"), ("New post", "quote-1")]
    assert [p.message.text for p in plan.posts][4] == "“New quote.” #TestSEL"


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_csv_is_hootsuite_bulk_shape(tmp_path: Path) -> None:
    content = make_site(tmp_path, many_posts())
    written = run_plans(content, now=NOW, start=START, days=30)
    plans = by_id(written)
    assert {p.name for w in written for p in w.files} == {"equity.csv", "equity.ics",
                                                          "sel.csv", "sel.ics"}
    assert all(p.parent == tmp_path / "plan" for w in written for p in w.files)
    rows = read_csv(tmp_path / "plan" / "sel.csv")
    assert len(rows) == len(plans["sel"].posts) == 60
    assert (tmp_path / "plan" / "sel.csv").read_bytes().count(b"\r\n") == 60
    for row, planned in zip(rows, plans["sel"].posts, strict=True):
        assert len(row) == 3  # date and time, message, link; no header row
        when = datetime.strptime(row[0], "%m/%d/%Y %H:%M").replace(tzinfo=NY)
        assert when == planned.when and when.minute % 5 == 0
        assert row[1] == planned.message.text and row[2] == planned.link
        assert weighted_length(f"{row[1]} {row[2]}") <= 280
    assert rows[0][0] == "06/03/2024 07:30" and rows[1][0] == "06/03/2024 16:30"
    assert rows[10][0] == "06/08/2024 10:00" and rows[11][0] == "06/08/2024 17:00"  # Saturday


def events(path: Path, tz: str = "America/New_York") -> list[dict[str, object]]:
    cal = Calendar.from_ical(path.read_bytes())
    assert [zone["TZID"] for zone in cal.walk("VTIMEZONE")] == [tz]
    return [{key: event.decoded(key) for key in ("DTSTART", "UID", "URL", "SUMMARY",
                                                  "DESCRIPTION", "DURATION", "DTSTAMP")}
            for event in cal.walk("VEVENT")]


def test_icalendar_has_one_event_per_post_in_the_sites_zone(tmp_path: Path) -> None:
    content = make_site(tmp_path, many_posts())
    plan = by_id(run_plans(content, now=NOW, start=START, days=30))["equity"]
    found = events(tmp_path / "plan" / "equity.ics")
    assert len(found) == len(plan.posts) == 30
    assert len({e["UID"] for e in found}) == 30
    for event, planned in zip(found, plan.posts, strict=True):
        start = event["DTSTART"]
        assert isinstance(start, datetime) and start == planned.when
        assert start.tzinfo is not None and str(start.tzinfo) == "America/New_York"
        assert event["URL"] == planned.link and event["DURATION"] == timedelta(minutes=15)
        assert str(event["DESCRIPTION"]).startswith(planned.full)
        assert planned.message.title in str(event["SUMMARY"])
    assert found[0]["DTSTART"] == datetime(2024, 6, 3, 7, 30, tzinfo=NY)


@pytest.mark.parametrize(("tz", "before", "after", "utc_before", "utc_after"), [
    # DST began on 10 March in New York (UTC-5 → UTC-4) and on 31 March in Berlin (+1 → +2).
    ("America/New_York", date(2024, 3, 8), date(2024, 3, 11), "12:30", "11:30"),
    ("Europe/Berlin", date(2024, 3, 29), date(2024, 4, 1), "06:30", "05:30"),
])
def test_times_stay_local_across_a_daylight_saving_change(
        tmp_path: Path, tz: str, before: date, after: date, utc_before: str, utc_after: str
) -> None:
    now = datetime.combine(before - timedelta(days=2), datetime.min.time(), UTC)
    content = make_site(tmp_path, {f"p{n}": post(f"Story {n}", (now - timedelta(days=n + 1))
                                                 .date().isoformat(), "equity")
                                   for n in range(10)}, tz=tz)
    plan = by_id(run_plans(content, now=now, start=before, days=4, campaign_id="equity"))["equity"]
    # Friday and Monday: 07:30 on the wall clock both days, an hour apart in UTC.
    local = {p.when.date(): p.when for p in plan.posts}
    assert f"{local[before]:%H:%M}" == f"{local[after]:%H:%M}" == "07:30"
    assert f"{local[before].astimezone(UTC):%H:%M}" == utc_before
    assert f"{local[after].astimezone(UTC):%H:%M}" == utc_after
    found = events(tmp_path / "plan" / "equity.ics", tz)
    starts = [e["DTSTART"] for e in found]
    assert all(isinstance(s, datetime) and str(s.tzinfo) == tz for s in starts)
    assert [f"{s.astimezone(UTC):%m-%d %H:%M}" for s in starts if isinstance(s, datetime)
            and s.date() in (before, after)] == [
        f"{before:%m-%d} {utc_before}", f"{after:%m-%d} {utc_after}"]
    # Tomorrow is the site's tomorrow: 04:30 UTC is still the evening before in New York.
    assert default_start(datetime(2024, 3, 9, 4, 30, tzinfo=UTC), ZoneInfo(tz)) == (
        date(2024, 3, 9) if tz == "America/New_York" else date(2024, 3, 10))


def test_same_input_same_files(tmp_path: Path) -> None:
    content = make_site(tmp_path, many_posts())
    folder = tmp_path / "plan"
    run_plans(content, now=NOW, start=START, days=30)
    first = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    # Again, an hour later and with the first plan on disk: the start is the same, so the
    # earlier plan is not history and nothing changes.
    run_plans(content, now=NOW + timedelta(hours=1), start=START, days=30)
    assert {p.name: p.read_bytes() for p in sorted(folder.iterdir())} == first


def test_slot_times() -> None:
    monday, saturday = date(2024, 6, 3), date(2024, 6, 8)
    def hm(day: date, n: int) -> list[str]:
        return [f"{t:%H:%M}" for t in slot_times(day, n, NY)]
    assert hm(monday, 1) == ["07:30"] and hm(saturday, 1) == ["10:00"]
    assert hm(monday, 2) == ["07:30", "16:30"] and hm(saturday, 2) == ["10:00", "17:00"]
    assert hm(monday, 4) == ["07:30", "12:15", "16:30", "19:00"]
    six = hm(monday, 6)
    assert six[0] == "07:00" and six[-1] == "21:00" and len(set(six)) == 6
    many = slot_times(saturday, 48, NY)
    assert len(many) == 48 and all(t.minute % 5 == 0 for t in many)
    assert min(b - a for a, b in itertools.pairwise(many)) >= timedelta(minutes=10)
    assert daily_counts(1.5, 4) == [1, 2, 1, 2] and daily_counts(0.5, 4) == [0, 1, 0, 1]
    assert sum(daily_counts(0.1, 10)) == 1 and daily_counts(2, 3) == [2, 2, 2]


def test_recent_posts_the_first_week_cannot_take_are_reported(tmp_path: Path) -> None:
    content = make_site(tmp_path, {f"p{n}": post(f"Recent {n}", day(n + 1), "equity")
                                   for n in range(10)})
    plan = by_id(run_plans(content, now=NOW, start=START, days=14, campaign_id="equity"))["equity"]
    assert [m.title for m in plan.unshared] == ["Recent 7", "Recent 8", "Recent 9"]
    lines = report(plan, tmp_path)
    assert any(f"not shared in the first week: content/posts/p7.md (\"Recent 7\", {day(8)})"
               in line for line in lines)


def test_cadence_warning_names_the_campaign_and_its_goal_line(tmp_path: Path) -> None:
    content = make_site(tmp_path, {
        **{f"e{n}": post(f"Equity {n}", day(n + 1), "equity") for n in range(7)},
        "s1": post("SEL one", day(1), "sel", quotes=("A quote.",), tweets=("A variant",)),
        "s2": post("SEL two", day(2), "sel"),
    })
    site = load_site(content, NOW)
    problems = cadence_warnings(site, share_site(site, None, 1), NOW)
    assert [p.format(tmp_path) for p in problems] == [
        "content/site.yaml:15: warning: campaign 'sel' cannot reach its goal of 2 posts a day "
        "for the next 7 days: only 4 distinct messages; write more posts or add 'tweets:' "
        "variants"]
    assert not problems[0].is_error
    # Seen from before any post was published, neither campaign has anything to post.
    early = cadence_warnings(site, share_site(site, None, 1), NOW - timedelta(days=30))
    assert [p.message.split(":")[0] for p in early] == [
        "campaign 'equity' cannot reach its goal of 1 post a day for the next 7 days",
        "campaign 'sel' cannot reach its goal of 2 posts a day for the next 7 days"]
    assert all("only 0 distinct messages" in p.message for p in early)


def test_plan_command(tmp_path: Path, run_cli: RunCli) -> None:
    make_site(tmp_path, {"a": post("Only one", "2024-01-02", "equity")})
    result = run_cli(["plan", "--start", "2099-01-05", "--days", "14", "--campaign", "equity",
                      "--content", "content"], tmp_path)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "equity (Test Equity): goal 1 a day; 2099-01-05 to 2099-01-18: 1 of 14 days at the "
        "goal, 1 post from 1 distinct message",
        "  below the goal: 2099-01-06 to 2099-01-18 (0 of 13 posts): a message may go out "
        "only once in 14 days, and 1 a day needs 14 distinct messages; there are 1; write "
        "more posts or add 'tweets:' variants",
        "  wrote plan/equity.csv, plan/equity.ics"]
    assert not (tmp_path / "plan" / "sel.csv").exists()
    rows = read_csv(tmp_path / "plan" / "equity.csv")
    assert [r[0] for r in rows] == ["01/05/2099 07:30"]

    wrong = run_cli(["plan", "--campaign", "equty", "--content", "content"], tmp_path)
    assert wrong.code == 1 and "unknown campaign 'equty'; did you mean 'equity'?" in wrong.err
    past = run_cli(["plan", "--start", "2000-01-01", "--content", "content"], tmp_path)
    assert past.code == 1 and "--start 2000-01-01 is in the past" in past.err
    days = run_cli(["plan", "--days", "0", "--content", "content"], tmp_path)
    assert days.code == 1 and "--days must be from 1 to 366" in days.err


def test_previous_plan_rows_count_as_history(tmp_path: Path) -> None:
    content = make_site(tmp_path, {"a": post("Alpha", day(3), "equity"),
                                   "b": post("Beta", day(2), "equity")})
    first = by_id(run_plans(content, now=NOW, start=START, days=3, campaign_id="equity"))
    assert [p.message.title for p in first["equity"].posts] == ["Beta", "Alpha"]
    # Both went out in the last 14 days, so a plan starting two days later has nothing to add
    # until 14 days after each; and the recent posts count as shared.
    second = by_id(run_plans(content, now=NOW, start=START + timedelta(days=2), days=14,
                             campaign_id="equity"))["equity"]
    assert [(p.when.date(), p.message.title) for p in second.posts] == [
        (START + timedelta(days=14), "Beta"), (START + timedelta(days=15), "Alpha")]
    assert second.unshared == ()
    assert "needs 14 distinct messages; there are 2" in report(second)[1]
    csv_rows = io.StringIO((tmp_path / "plan" / "equity.csv").read_text("utf-8"))
    assert len(list(csv.reader(csv_rows))) == 2


def test_an_older_post_gets_its_first_share_before_newer_posts_run_out_of_quotes(
        tmp_path: Path) -> None:
    content = make_site(tmp_path, {
        "new": post("New", day(1), "sel", quotes=[f"New quote {n}." for n in range(4)]),
        "mid": post("Mid", day(2), "sel", quotes=[f"Mid quote {n}." for n in range(4)]),
        "old": post("Old", day(3), "sel"),
    })
    plan = by_id(run_plans(content, now=NOW, start=START, days=4, campaign_id="sel"))["sel"]
    got = [f"{p.message.title} {p.message.kind}" for p in plan.posts]
    assert got == ["New tweet", "Mid tweet", "New quote-1", "Mid quote-1", "New quote-2",
                   "Old tweet", "New quote-3", "Mid quote-2"]


def test_a_plan_starting_today_skips_the_hours_already_past(tmp_path: Path) -> None:
    content = make_site(tmp_path, many_posts())
    one_pm = datetime(2024, 6, 3, 13, 0, tzinfo=NY)  # START, after the 07:30 slot
    plan = by_id(run_plans(content, now=one_pm, start=START, days=2, campaign_id="sel"))["sel"]
    assert [f"{p.when:%d %H:%M}" for p in plan.posts] == ["03 16:30", "04 07:30", "04 16:30"]
    assert plan.gaps == ()  # a slot that has passed is not a gap


def test_dated_posts_are_planned_once(tmp_path: Path) -> None:
    """'evergreen: false' (an event, a deadline): shared once, never recycled."""
    content = make_site(tmp_path, {
        "a": post("Spring dinner next Tuesday", day(2), "equity", extra="evergreen: false",
                  tweets=("Join us for the spring dinner",)),
        "b": post("Why equity", day(5), "equity")})
    plan = by_id(run_plans(content, now=NOW, start=START, days=30, campaign_id="equity"))["equity"]
    dated = [p for p in plan.posts if p.message.title == "Spring dinner next Tuesday"]
    assert len(dated) == 1
    assert sum(p.message.title == "Why equity" for p in plan.posts) == 3
