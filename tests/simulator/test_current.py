"""The simulator's current family and follower endpoints, over HTTP: shapes, identities,
flags, errors and determinism, checked against the account model's ground truth."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from tests.conftest import classic_token, datacube
from wxframe.simulator import Simulator, serve
from wxframe.simulator._current import SCENE_LABELS, TITLES_SINCE

TODAY = date(2026, 12, 1)


LAST = TODAY - timedelta(days=1)


FIRST = LAST - timedelta(days=59)  # 60 days


SPANS = {
    "getbizsummary": 30,
    "getarticleread": 1,
    "getarticleshare": 1,
    "getarticletotaldetail": 1,
    "getusersummary": 7,
    "getusercumulate": 7,
}


LABELS = {"全部", *SCENE_LABELS}


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def fetch(sim: Simulator, endpoint: str, first: date, last: date) -> list[dict[str, Any]]:
    """Every answer of ``first..last`` over HTTP, window by window (each checked as data)."""
    token = classic_token(sim)
    answers = []
    day = first
    while day <= last:
        end = min(day + timedelta(days=SPANS[endpoint] - 1), last)
        answer = datacube(sim, endpoint, day.isoformat(), end.isoformat(), token)
        assert "errcode" not in answer, answer
        answers.append(answer)
        day = end + timedelta(days=1)
    return answers


def records(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for a in answers for r in a["list"]]


@pytest.fixture(scope="module")
def current_world() -> Any:
    """60 days of every endpoint, both families, from one simulator with the six alive."""
    with serve(seed=0, today=TODAY, hour=12, legacy_offline_from=None) as sim:
        out = {name: fetch(sim, name, FIRST, LAST) for name in SPANS}
        token = classic_token(sim)
        out["getuserread"] = [
            datacube(sim, "getuserread", d.isoformat(), d.isoformat(), token)
            for d in days(FIRST, LAST)
        ]
        out["_sim"] = sim
    return out


def test_article_read_all_entry_is_the_articles_readers_that_day(current_world: Any) -> None:
    acct = current_world["_sim"].account
    got = {
        (r["ref_date"], r["msgid"]): r["detail"] for r in records(current_world["getarticleread"])
    }
    truth = {}
    for day in days(FIRST, LAST):
        for article, k, numbers in acct.articles_read_on(day):
            if numbers.int_user[k]:
                truth[(day.isoformat(), article.msgid)] = (numbers.int_user[k], numbers.ch_user[k])
    assert set(got) == set(truth) and len(got) > 1000
    published_before = 0
    for key, detail in got.items():
        users, by_channel = truth[key]
        scenes = {s["scene_desc"]: s["user_count"] for s in detail["read_user_source"]}
        assert detail["read_user"] == scenes["全部"] == users
        assert set(scenes) <= LABELS
        expected = {SCENE_LABELS[i]: int(n) for i, n in enumerate(by_channel) if n}
        assert {k: v for k, v in scenes.items() if k != "全部"} == expected
        published_before += key[1] not in {
            a.msgid for a in acct.publishes(date.fromisoformat(key[0]))
        }
    assert published_before > 0  # articles read days after they were published are listed


def test_article_share_is_the_articles_sharers_that_day(current_world: Any) -> None:
    acct = current_world["_sim"].account
    got = {
        (r["ref_date"], r["msgid"]): r["detail"]["share_user"]
        for r in records(current_world["getarticleshare"])
    }
    truth = {
        (day.isoformat(), article.msgid): int(numbers.share_user[k])
        for day in days(FIRST, LAST)
        for article, k, numbers in acct.articles_read_on(day)
        if numbers.share_user[k]
    }
    assert got == truth and all(v > 0 for v in got.values())


def test_biz_summary_is_the_accounts_day_as_getuserread_counts_it(current_world: Any) -> None:
    biz = {r["ref_date"]: r["detail"] for r in records(current_world["getbizsummary"])}
    assert sorted(biz) == [d.isoformat() for d in days(FIRST, LAST)]
    read = defaultdict(dict)
    for row in records(current_world["getuserread"]):
        read[row["ref_date"]][row["user_source"]] = row
    codes = (0, 1, 2, 4, 5, 6, 7)
    for day, detail in biz.items():
        everyone = read[day][99999999]
        assert detail["read_user"] == everyone["int_page_read_user"]
        assert detail["share_user"] == everyone["share_user"]
        assert detail["collection_user"] == everyone["add_to_fav_user"]
        assert detail["redirect_ori_page_user"] == everyone["ori_page_read_user"]
        scenes = {s["scene_desc"]: s["user_count"] for s in detail["read_user_source"]}
        assert scenes.pop("全部") == detail["read_user"]
        expected = {
            SCENE_LABELS[codes.index(c)]: row["int_page_read_user"]
            for c, row in read[day].items()
            if c != 99999999 and row["int_page_read_user"]
        }
        assert scenes == expected
        published = len(current_world["_sim"].account.publishes(date.fromisoformat(day)))
        assert detail["send_page_count"] == published
        assert 0 < detail["like_user"] < detail["read_user"] and detail["comment_count"] >= 0
    assert {len(a["list"]) for a in current_world["getbizsummary"]} == {30}  # 30 days a call


def test_total_detail_entries_are_running_totals_for_30_days_capped_at_yesterday(
    current_world: Any,
) -> None:
    acct = current_world["_sim"].account
    listed = records(current_world["getarticletotaldetail"])
    assert {r["publish_type"] for r in listed} == {0, 1}  # notified and quiet publishes
    assert {r["ref_date"] for r in listed} <= {d.isoformat() for d in days(FIRST, LAST)}
    by_msgid = {r["msgid"]: r for r in listed}
    for day in days(FIRST, LAST):
        for article in acct.publishes(day):
            record = by_msgid[article.msgid]
            entries = record["detail_list"]
            expected_days = min(30, (LAST - day).days + 1)
            assert [e["stat_date"] for e in entries] == [
                (day + timedelta(days=k)).isoformat() for k in range(expected_days)
            ]
            assert record["title"] == article.title and record["content_url"] == article.url
            truth = acct.article_days(article).int_user
            daily_sum = 0
            previous = 0
            for k, entry in enumerate(entries):
                daily_sum += int(truth[k]) if k < len(truth) else 0
                assert previous <= entry["read_user"] <= daily_sum  # monotone, de-duplicated
                previous = entry["read_user"]
                scenes = {s["scene_desc"]: s["user_count"] for s in entry["read_user_source"]}
                assert scenes["全部"] == entry["read_user"] and set(scenes) <= LABELS
                assert 0 <= entry["read_finish_rate"] <= 1
                assert 0 <= entry["read_delivery_rate"] <= 1
                assert isinstance(entry["read_avg_activetime"], float)
                positions = [p["position"] for p in entry["read_jump_position"]]
                assert positions == sorted(positions) and set(positions) <= {1, 2, 3, 4, 5}
                assert isinstance(entry["praise_money"], int)
            assert entries[0]["read_user"] == truth[0]  # day 0 is that day's readers
            counts = [e["comment_count"] for e in entries]
            assert counts == sorted(counts)  # running totals of events never go down
    # a publish day with no article answers an empty list, not an error
    empty = [d for d in days(FIRST, LAST) if not acct.publishes(d)]
    assert empty
    assert not [r for r in listed if r["ref_date"] == empty[0].isoformat()]
    with serve(seed=0, today=TODAY) as sim:
        answer = datacube(sim, "getarticletotaldetail", empty[0].isoformat(), empty[0].isoformat())
    assert answer == {"list": [], "is_delay": False}


def test_cumulate_moves_by_the_days_net_follows(current_world: Any) -> None:
    summary = records(current_world["getusersummary"])
    cumulate = {
        r["ref_date"]: r["cumulate_user"] for r in records(current_world["getusercumulate"])
    }
    assert all(r["user_source"] == 0 for r in records(current_world["getusercumulate"]))
    net = defaultdict(int)
    for row in summary:
        net[row["ref_date"]] += row["new_user"] - row["cancel_user"]
        assert row["new_user"] or row["cancel_user"]  # only channels with activity
    for day in days(FIRST + timedelta(days=1), LAST):
        before = (day - timedelta(days=1)).isoformat()
        assert cumulate[day.isoformat()] - cumulate[before] == net[day.isoformat()]
    assert {r["user_source"] for r in summary} <= {0, 1, 17, 30, 57, 100, 149, 161, 200, 201}


def test_a_quiet_day_is_one_zero_row_and_old_data_has_retired_channels() -> None:
    with serve(seed=3, today=TODAY, followers=(80, 80)) as sim:
        rows = records(fetch(sim, "getusersummary", FIRST, LAST))
        old = records(fetch(sim, "getusersummary", date(2023, 1, 1), date(2023, 2, 28)))
    by_day = defaultdict(list)
    for row in rows:
        by_day[row["ref_date"]].append(row)
    quiet = [
        r
        for r in by_day.values()
        if len(r) == 1 and r[0]["new_user"] == 0 and r[0]["cancel_user"] == 0
    ]
    assert quiet and all(r[0]["user_source"] == 0 for r in quiet)
    assert len(by_day) == 60  # every day has a row, quiet or not
    assert {r["user_source"] for r in old} & {43, 51, 75, 78}


def test_current_family_has_nothing_before_2025_11_01_followers_do() -> None:
    with serve(seed=0, today=TODAY) as sim:
        token = classic_token(sim)
        for name in ("getbizsummary", "getarticleread", "getarticleshare", "getarticletotaldetail"):
            answer = datacube(sim, name, "2025-10-31", "2025-10-31", token)
            assert answer == {"list": [], "is_delay": False}, name
        across = datacube(sim, "getbizsummary", "2025-10-20", "2025-11-02", token)
        assert [r["ref_date"] for r in across["list"]] == ["2025-11-01", "2025-11-02"]
        assert datacube(sim, "getusercumulate", "2024-01-01", "2024-01-07", token)["list"]


def test_is_delay_for_yesterday_before_eight_with_partial_numbers() -> None:
    day = LAST.isoformat()
    with serve(seed=0, today=TODAY, hour=6) as sim:
        early = {n: datacube(sim, n, day, day) for n in ("getbizsummary", "getarticleread")}
        followers = datacube(sim, "getusersummary", day, day)
        sim.set_clock(TODAY, hour=9)
        late = {n: datacube(sim, n, day, day) for n in ("getbizsummary", "getarticleread")}
        older = datacube(sim, "getbizsummary", "2026-11-01", "2026-11-29")
    for name in early:
        assert early[name]["is_delay"] is True and late[name]["is_delay"] is False
    assert older["is_delay"] is False
    partial = early["getbizsummary"]["list"][0]["detail"]["read_user"]
    final = late["getbizsummary"]["list"][0]["detail"]["read_user"]
    assert 0 < partial < final
    assert followers == {"list": []}  # yesterday's followers appear after 08:00


def test_delay_rate_flags_old_windows_deterministically() -> None:
    def flags(seed: int) -> list[bool]:
        with serve(seed=seed, today=TODAY, delay_rate=0.5) as sim:
            token = classic_token(sim)
            return [
                datacube(sim, "getarticleread", d.isoformat(), d.isoformat(), token)["is_delay"]
                for d in days(FIRST, FIRST + timedelta(days=19))
            ]

    first, again = flags(0), flags(0)
    assert first == again and 3 < sum(first) < 17
    with serve(seed=0, today=TODAY, delay_rate=0.5) as sim:
        token = classic_token(sim)
        d = FIRST.isoformat()
        answers = [datacube(sim, "getarticleread", d, d, token)["is_delay"] for _ in range(12)]
    assert True in answers and False in answers  # asked again, a window can be final


def test_unverified_account_gets_48001_everywhere_and_61503_on_a_knob() -> None:
    with serve(seed=0, today=TODAY, verified=False) as sim:
        for name in ("getbizsummary", "getusercumulate", "getuserread"):
            assert datacube(sim, name, "2026-11-01", "2026-11-01")["errcode"] == 48001
    with serve(seed=0, today=TODAY, not_ready_rate=1.0) as sim:
        assert datacube(sim, "getusersummary", "2026-11-01", "2026-11-01")["errcode"] == 61503


def test_the_six_answer_47009_from_the_switch_off_day() -> None:
    with serve(seed=0, today="2026-06-30") as sim:
        assert "list" in datacube(sim, "getuserread", "2026-06-01", "2026-06-03")
        sim.set_clock("2026-07-01")
        for name in (
            "getarticlesummary",
            "getarticletotal",
            "getuserread",
            "getuserreadhour",
            "getusershare",
            "getusersharehour",
        ):
            answer = datacube(sim, name, "2026-06-01", "2026-06-01")
            assert answer["errcode"] == 47009 and "please use the new api" in answer["errmsg"]
        assert "list" in datacube(sim, "getbizsummary", "2026-06-01", "2026-06-01")
    with serve(seed=0, today=TODAY, legacy_offline_from=None) as sim:
        assert "list" in datacube(sim, "getuserread", "2026-11-01", "2026-11-03")


def test_spans_and_titles_since_the_2026_03_03_change() -> None:
    with serve(seed=0, today=TODAY) as sim:
        token = classic_token(sim)
        assert datacube(sim, "getbizsummary", "2026-10-01", "2026-10-31", token)["errcode"] == 61501
        assert (
            datacube(sim, "getusersummary", "2026-11-01", "2026-11-08", token)["errcode"] == 61501
        )
        r = requests.post(
            f"{sim.url}/datacube/getarticletotaldetail",
            params={"access_token": token},
            json={"begin_date": "2026-11-02", "end_date": "2026-11-02"},
            timeout=10,
        )
        assert r.headers["Content-Type"] == "text/plain"  # no charset, as seen on the platform
        assert "title" in r.content.decode("utf-8")
    with serve(seed=0, today=TITLES_SINCE - timedelta(days=1)) as sim:
        old = datacube(sim, "getarticletotaldetail", "2026-02-01", "2026-02-01")
    assert old["list"] and all("title" not in r for r in old["list"])


@pytest.mark.parametrize(
    ("endpoint", "begin", "end"),
    [
        ("getbizsummary", "2026-10-01", "2026-10-30"),
        ("getarticleread", "2026-11-20", "2026-11-20"),
        ("getarticleshare", "2026-11-20", "2026-11-20"),
        ("getarticletotaldetail", "2026-11-05", "2026-11-05"),
        ("getusersummary", "2026-11-01", "2026-11-07"),
        ("getusercumulate", "2026-11-01", "2026-11-07"),
    ],
)
def test_same_seed_and_day_give_identical_bytes(endpoint: str, begin: str, end: str) -> None:
    bodies = []
    for seed in (0, 0, 1):
        with serve(seed=seed, today=TODAY) as sim:
            r = requests.post(
                f"{sim.url}/datacube/{endpoint}",
                params={"access_token": classic_token(sim)},
                json={"begin_date": begin, "end_date": end},
                timeout=10,
            )
            bodies.append(r.content)
    assert bodies[0] == bodies[1] and bodies[0] != bodies[2]
