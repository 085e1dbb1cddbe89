"""The simulator over HTTP: protocol, tokens, errors, identities, determinism, faults."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from tests.conftest import TODAY, classic_token, datacube
from wxframe.simulator import Simulator, serve
from wxframe.simulator._account import USER_SOURCE_SINCE, passes_threshold

# The seed's field names, per endpoint (top-level records).
SUMMARY_FIELDS = [
    "ref_date", "msgid", "title", "int_page_read_user", "int_page_read_count",
    "ori_page_read_user", "ori_page_read_count", "share_user", "share_count",
    "add_to_fav_user", "add_to_fav_count",
]  # fmt: skip
READ_FIELDS = [
    "ref_date", "user_source", "int_page_read_user", "int_page_read_count",
    "ori_page_read_user", "ori_page_read_count", "share_user", "share_count",
    "add_to_fav_user", "add_to_fav_count",
]  # fmt: skip
DETAIL_FIELDS = {
    "stat_date", "target_user", "int_page_read_user", "int_page_read_count",
    "ori_page_read_user", "ori_page_read_count", "share_user", "share_count",
    "add_to_fav_user", "add_to_fav_count",
    "int_page_from_session_read_user", "int_page_from_session_read_count",
    "int_page_from_hist_msg_read_user", "int_page_from_hist_msg_read_count",
    "int_page_from_feed_read_user", "int_page_from_feed_read_count",
    "int_page_from_friends_read_user", "int_page_from_friends_read_count",
    "int_page_from_other_read_user", "int_page_from_other_read_count",
    "int_page_from_kanyikan_read_user", "int_page_from_kanyikan_read_count",
    "int_page_from_souyisou_read_user", "int_page_from_souyisou_read_count",
    "feed_share_from_session_user", "feed_share_from_session_cnt",
    "feed_share_from_feed_user", "feed_share_from_feed_cnt",
    "feed_share_from_other_user", "feed_share_from_other_cnt",
}  # fmt: skip

DAYS = 60
LAST = TODAY - timedelta(days=1)
FIRST = LAST - timedelta(days=DAYS - 1)


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def fetch_all(sim: Simulator, endpoint: str, span: int, first: date, last: date) -> list[dict]:
    """Every record of ``first..last`` fetched over HTTP in windows of ``span`` days."""
    token = classic_token(sim)
    out: list[dict] = []
    day = first
    while day <= last:
        end = min(day + timedelta(days=span - 1), last)
        payload = datacube(sim, endpoint, day.isoformat(), end.isoformat(), token)
        assert "list" in payload, payload
        out.extend(payload["list"])
        day = end + timedelta(days=1)
    return out


@pytest.fixture(scope="module")
def sixty_days(sim: Simulator) -> dict[str, list[dict]]:
    spans = {
        "getarticlesummary": 1,
        "getarticletotal": 1,
        "getuserread": 3,
        "getuserreadhour": 1,
        "getusershare": 7,
        "getusersharehour": 1,
    }
    return {name: fetch_all(sim, name, span, FIRST, LAST) for name, span in spans.items()}


# ------------------------------------------------------------------ protocol shape
def test_records_have_the_seeds_field_names(sixty_days: dict[str, list[dict]]) -> None:
    assert all(list(r) == SUMMARY_FIELDS for r in sixty_days["getarticlesummary"])
    all_rows = [r for r in sixty_days["getuserread"] if r["user_source"] == 99999999]
    assert all(list(r) == READ_FIELDS for r in all_rows)
    for r in sixty_days["getarticletotal"]:
        assert list(r)[:4] == ["ref_date", "msgid", "title", "details"]
        assert all(set(d) == DETAIL_FIELDS for d in r["details"])
    for r in sixty_days["getuserreadhour"]:
        assert r["ref_hour"] in range(0, 2400, 100)
        assert {"ori_page_read_user", "add_to_fav_count"} <= set(r)
    for r in sixty_days["getusersharehour"]:
        assert list(r) == ["ref_date", "ref_hour", "share_scene", "share_count", "share_user"]
    assert {r["share_scene"] for r in sixty_days["getusershare"]} == {1, 2, 255}
    channels = {r["user_source"] for r in sixty_days["getuserread"]}
    assert channels == {99999999, 0, 1, 2, 4, 5, 6, 7}


def test_msgid_is_send_id_and_index(sixty_days: dict[str, list[dict]]) -> None:
    by_send: dict[str, set[int]] = defaultdict(set)
    for r in sixty_days["getarticletotal"]:
        send, _, index = r["msgid"].partition("_")
        assert send.isdigit()
        if index:
            by_send[send].add(int(index))
    sizes = {len(v) for v in by_send.values()}
    assert min(sizes) >= 1 and max(sizes) <= 8
    # Indexes of a send are 1..n.
    assert all(v == set(range(1, len(v) + 1)) for v in by_send.values())


def test_titles_are_chinese(sixty_days: dict[str, list[dict]]) -> None:
    titles = {r["title"] for r in sixty_days["getarticlesummary"]}
    assert len(titles) > 20
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in titles)


# ------------------------------------------------------------------ identities
def test_total_details_are_running_sums_of_daily_numbers(
    sim: Simulator, sixty_days: dict[str, list[dict]]
) -> None:
    articles = {a.msgid: a for day in day_range(FIRST, LAST) for a in sim.account.sends(day)}
    checked = 0
    for record in sixty_days["getarticletotal"]:
        article = articles[record["msgid"]]
        truth = sim.account.article_days(article)
        details = record["details"]
        sent = date.fromisoformat(record["ref_date"])
        expected_days = min(7, (LAST - sent).days + 1)
        assert len(details) == expected_days
        prev: dict[str, int] = {}
        daily_user_sum = 0
        for k, d in enumerate(details):
            assert d["stat_date"] == (sent + timedelta(days=k)).isoformat()
            # counts add exactly: the cumulative equals the sum of the daily counts
            assert d["int_page_read_count"] == int(truth.ch_count[: k + 1].sum())
            assert d["share_count"] == int(truth.share_count[: k + 1].sum())
            assert d["add_to_fav_count"] == int(truth.fav_count[: k + 1].sum())
            assert d["int_page_from_session_read_count"] == int(truth.ch_count[: k + 1, 0].sum())
            daily_user_sum += int(truth.int_user[k])
            assert d["int_page_read_user"] <= daily_user_sum
            for name, value in d.items():
                if name.endswith(("_user", "_count", "_cnt")) and name in prev:
                    assert value >= prev[name], (name, k)
            assert d["target_user"] == article.target_user
            prev = {n: v for n, v in d.items() if isinstance(v, int)}
            checked += 1
    assert checked > 200


def test_summary_lists_exactly_the_article_days_over_the_threshold(
    sim: Simulator, sixty_days: dict[str, list[dict]]
) -> None:
    listed = {(r["ref_date"], r["msgid"]) for r in sixty_days["getarticlesummary"]}
    truth_over, truth_under = set(), set()
    for day in day_range(FIRST, LAST):
        for article, k, numbers in sim.account.articles_read_on(day):
            key = (day.isoformat(), article.msgid)
            (truth_over if passes_threshold(numbers.summary(k)) else truth_under).add(key)
    assert listed == truth_over
    assert truth_under, "the simulated account must have article-days under the threshold"
    for r in sixty_days["getarticlesummary"]:
        assert passes_threshold(r)


def test_account_reads_equal_the_sum_over_all_articles(
    sim: Simulator, sixty_days: dict[str, list[dict]]
) -> None:
    all_rows = {r["ref_date"]: r for r in sixty_days["getuserread"] if r["user_source"] == 99999999}
    assert len(all_rows) == DAYS
    listed_sum: dict[str, int] = defaultdict(int)
    for r in sixty_days["getarticlesummary"]:
        listed_sum[r["ref_date"]] += r["int_page_read_count"]
    under_threshold_days = 0
    for day in day_range(FIRST, LAST):
        truth = sum(int(n.ch_count[k].sum()) for _, k, n in sim.account.articles_read_on(day))
        assert all_rows[day.isoformat()]["int_page_read_count"] == truth
        assert listed_sum[day.isoformat()] <= truth
        under_threshold_days += listed_sum[day.isoformat()] < truth
    assert under_threshold_days > 0


def test_hourly_reads_sum_to_daily_reads(sixty_days: dict[str, list[dict]]) -> None:
    daily = {(r["ref_date"], r["user_source"]): r for r in sixty_days["getuserread"]}
    sums: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in sixty_days["getuserreadhour"]:
        for name in ("int_page_read_user", "int_page_read_count", "share_user", "share_count"):
            sums[(r["ref_date"], r["user_source"])][name] += r[name]
    assert set(sums) == set(daily)
    for key, hours in sums.items():
        for name, value in hours.items():
            assert value == daily[key][name], (key, name)


def test_share_identities(sixty_days: dict[str, list[dict]]) -> None:
    per_scene = {(r["ref_date"], r["share_scene"]): r for r in sixty_days["getusershare"]}
    hourly: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for r in sixty_days["getusersharehour"]:
        hourly[(r["ref_date"], r["share_scene"])][0] += r["share_count"]
        hourly[(r["ref_date"], r["share_scene"])][1] += r["share_user"]
    assert set(hourly) == set(per_scene)
    for key, (count, users) in hourly.items():
        assert count == per_scene[key]["share_count"]
        assert users == per_scene[key]["share_user"]
    scenes_total: dict[str, int] = defaultdict(int)
    for (day, _), r in per_scene.items():
        scenes_total[day] += r["share_count"]
    for r in sixty_days["getuserread"]:
        if r["user_source"] == 99999999:
            assert scenes_total[r["ref_date"]] == r["share_count"]


def test_channel_rows_carry_no_original_page_or_favourites(
    sixty_days: dict[str, list[dict]],
) -> None:
    channel_rows = [r for r in sixty_days["getuserread"] if r["user_source"] != 99999999]
    assert channel_rows
    for r in channel_rows:
        assert not any(k.startswith(("ori_page", "add_to_fav")) for k in r)
    # channel users are not additive: they sum to more than the all row
    users: dict[str, int] = defaultdict(int)
    for r in channel_rows:
        users[r["ref_date"]] += r["int_page_read_user"]
    all_users = {
        r["ref_date"]: r["int_page_read_user"]
        for r in sixty_days["getuserread"]
        if r["user_source"] == 99999999
    }
    assert sum(users[d] > all_users[d] for d in all_users) > DAYS // 2


def test_rows_before_2020_02_28_have_no_user_source(sim: Simulator) -> None:
    before = USER_SOURCE_SINCE - timedelta(days=2)
    rows = datacube(sim, "getuserread", before.isoformat(), USER_SOURCE_SINCE.isoformat())["list"]
    by_day = defaultdict(list)
    for r in rows:
        by_day[r["ref_date"]].append(r)
    for day, day_rows in by_day.items():
        if date.fromisoformat(day) < USER_SOURCE_SINCE:
            assert len(day_rows) == 1 and "user_source" not in day_rows[0]
        else:
            assert {r["user_source"] for r in day_rows} >= {99999999, 0}
    hourly = datacube(sim, "getuserreadhour", before.isoformat(), before.isoformat())["list"]
    assert hourly and all("user_source" not in r for r in hourly)


def test_realistic_shape(sim: Simulator, sixty_days: dict[str, list[dict]]) -> None:
    account = sim.account
    assert account.followers(date(2024, 5, 1)) > account.followers(date(2021, 5, 1))
    # Reads concentrate in the first two days after sending.
    first_two = later = 0
    for record in sixty_days["getarticletotal"]:
        details = record["details"]
        if len(details) == 7:
            first_two += details[1]["int_page_read_count"]
            later += details[6]["int_page_read_count"] - details[1]["int_page_read_count"]
    assert first_two > 3 * later
    # Heavy-tailed popularity: the top article reads far above the median.
    day0 = sorted(r["details"][0]["int_page_read_count"] for r in sixty_days["getarticletotal"])
    assert day0[-1] > 8 * day0[len(day0) // 2]
    # Hourly profile: evening peak beats the small hours.
    by_hour: dict[int, int] = defaultdict(int)
    for r in sixty_days["getuserreadhour"]:
        if r["user_source"] == 99999999:
            by_hour[r["ref_hour"]] += r["int_page_read_count"]
    assert by_hour[2100] > 5 * by_hour[300] and by_hour[800] > 5 * by_hour[300]


def test_channel_mix_drifts_over_time(sim: Simulator) -> None:
    def session_share(day: date) -> float:
        rows = datacube(sim, "getuserread", day.isoformat(), day.isoformat())["list"]
        total = sum(r["int_page_read_count"] for r in rows if r["user_source"] != 99999999)
        session = sum(r["int_page_read_count"] for r in rows if r["user_source"] == 0)
        return session / total

    early = sum(session_share(date(2020, 4, d)) for d in range(1, 8))
    late = sum(session_share(date(2024, 4, d)) for d in range(1, 8))
    assert early > late


# ------------------------------------------------------------------ clock
def test_yesterday_is_partial_before_eight() -> None:
    with serve(seed=0, today=TODAY, hour=6) as early, serve(seed=0, today=TODAY, hour=9) as late:
        day = LAST.isoformat()
        e = datacube(early, "getuserread", day, day)["list"]
        f = datacube(late, "getuserread", day, day)["list"]
        assert e[0]["int_page_read_count"] < f[0]["int_page_read_count"]
        # Identities still hold inside a partial day.
        hours = datacube(early, "getuserreadhour", day, day)["list"]
        assert (
            sum(r["int_page_read_count"] for r in hours if r["user_source"] == 99999999)
            == (e[0]["int_page_read_count"])
        )
        shares = datacube(early, "getusershare", day, day)["list"]
        assert sum(r["share_count"] for r in shares) == e[0]["share_count"]
        # The day before yesterday is already final.
        before = (LAST - timedelta(days=1)).isoformat()
        assert datacube(early, "getuserread", before, before) == datacube(
            late, "getuserread", before, before
        )


def test_total_details_are_capped_at_yesterday(sim: Simulator) -> None:
    sent = LAST - timedelta(days=2)
    records = datacube(sim, "getarticletotal", sent.isoformat(), sent.isoformat())["list"]
    assert records
    for r in records:
        assert [d["stat_date"] for d in r["details"]] == [
            (sent + timedelta(days=k)).isoformat() for k in range(3)
        ]


def test_clock_moves(fresh_sim: Simulator) -> None:
    day = TODAY.isoformat()
    assert datacube(fresh_sim, "getuserread", day, day)["errcode"] == 61501
    fresh_sim.advance(days=1)
    assert fresh_sim.today == TODAY + timedelta(days=1)
    assert datacube(fresh_sim, "getuserread", day, day)["list"]


# ------------------------------------------------------------------ determinism
def raw(sim: Simulator, endpoint: str, begin: str, end: str) -> bytes:
    token = classic_token(sim)
    r = requests.post(
        f"{sim.url}/datacube/{endpoint}",
        params={"access_token": token},
        json={"begin_date": begin, "end_date": end},
        timeout=10,
    )
    return r.content


@pytest.mark.parametrize(
    ("endpoint", "begin", "end"),
    [
        ("getarticlesummary", "2024-05-30", "2024-05-30"),
        ("getarticletotal", "2024-05-20", "2024-05-20"),
        ("getuserread", "2024-05-28", "2024-05-30"),
        ("getuserreadhour", "2024-05-30", "2024-05-30"),
        ("getusershare", "2024-05-24", "2024-05-30"),
        ("getusersharehour", "2024-05-30", "2024-05-30"),
    ],
)
def test_same_seed_and_day_give_identical_bytes(endpoint: str, begin: str, end: str) -> None:
    with serve(seed=7, today=TODAY) as a, serve(seed=7, today=TODAY) as b:
        # Ask b for other days first: a day's numbers must not depend on what came before.
        raw(b, endpoint, "2023-01-05", "2023-01-05")
        first = raw(a, endpoint, begin, end)
        assert first == raw(b, endpoint, begin, end)
        assert b'"list":[{' in first
    with serve(seed=8, today=TODAY) as c:
        assert raw(c, endpoint, begin, end) != first


# ------------------------------------------------------------------ tokens
def test_classic_token_replaces_the_previous_one_after_a_grace_period() -> None:
    with serve(seed=0, today=TODAY, classic_grace=0.0) as s:
        first = classic_token(s)
        second = classic_token(s)
        assert first != second
        assert datacube(s, "getusershare", "2024-05-01", "2024-05-01", first)["errcode"] == 40001
        assert "list" in datacube(s, "getusershare", "2024-05-01", "2024-05-01", second)
    with serve(seed=0, today=TODAY) as s:  # default grace: the old token still works
        first = classic_token(s)
        classic_token(s)
        assert "list" in datacube(s, "getusershare", "2024-05-01", "2024-05-01", first)


def stable(sim: Simulator, force: bool = False, secret: str | None = None) -> dict[str, Any]:
    r = requests.post(
        f"{sim.url}/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": sim.appid,
            "secret": secret or sim.secret,
            "force_refresh": force,
        },
        timeout=10,
    )
    return dict(r.json())


def test_stable_token_is_the_same_until_forced(fresh_sim: Simulator) -> None:
    a, b = stable(fresh_sim), stable(fresh_sim)
    assert a["access_token"] == b["access_token"] and 0 < a["expires_in"] <= 7200
    # independent of the classic token
    classic_token(fresh_sim)
    assert stable(fresh_sim)["access_token"] == a["access_token"]
    forced = stable(fresh_sim, force=True)
    assert forced["access_token"] != a["access_token"]
    assert "list" in datacube(
        fresh_sim, "getusershare", "2024-05-01", "2024-05-01", forced["access_token"]
    )


def test_token_expiry_by_calls() -> None:
    with serve(seed=0, today=TODAY, token_calls=2) as s:
        token = stable(s)["access_token"]
        for _ in range(2):
            assert "list" in datacube(s, "getusershare", "2024-05-01", "2024-05-01", token)
        assert datacube(s, "getusershare", "2024-05-01", "2024-05-01", token)["errcode"] == 42001
        # an expired stable token is replaced on the next ask, without force_refresh
        renewed = stable(s)["access_token"]
        assert renewed != token
        assert "list" in datacube(s, "getusershare", "2024-05-01", "2024-05-01", renewed)


@pytest.mark.parametrize(
    ("appid", "secret", "errcode"),
    [("wx_wrong", None, 40013), (None, "wrong-secret", 40125), ("", None, 41002)],
)
def test_token_credentials_are_checked(
    sim: Simulator, appid: str | None, secret: str | None, errcode: int
) -> None:
    params = {
        "grant_type": "client_credential",
        "appid": sim.appid if appid is None else appid,
        "secret": secret or sim.secret,
    }
    assert requests.get(f"{sim.url}/cgi-bin/token", params=params, timeout=5).json()["errcode"] == (
        errcode
    )
    body = params | {"force_refresh": False}
    got = requests.post(f"{sim.url}/cgi-bin/stable_token", json=body, timeout=5).json()
    assert got["errcode"] == errcode


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("token", "errcode"),
    [("", 41001), ("not-a-token", 40014), ("93_" + "0" * 84, 40001)],
)
def test_bad_tokens(sim: Simulator, token: str, errcode: int) -> None:
    got = datacube(sim, "getusershare", "2024-05-01", "2024-05-01", token)
    assert got["errcode"] == errcode
    assert "rid:" in got["errmsg"]


@pytest.mark.parametrize(
    ("endpoint", "begin", "end", "errcode"),
    [
        ("getuserread", "2024/05/01", "2024-05-01", 61500),
        ("getuserread", "2024-5-1", "2024-05-01", 61500),
        ("getuserread", "2024-05-01", "2024-05-03", 0),  # span 3 is fine
        ("getuserread", "2024-05-01", "2024-05-04", 61501),  # span 4 is not
        ("getusershare", "2024-05-01", "2024-05-07", 0),
        ("getusershare", "2024-05-01", "2024-05-08", 61501),
        ("getarticletotal", "2024-05-01", "2024-05-02", 61501),
        ("getuserreadhour", "2024-05-02", "2024-05-01", 61501),  # reversed
        ("getusershare", TODAY.isoformat(), TODAY.isoformat(), 61501),  # today
        ("getusershare", "2030-01-01", "2030-01-01", 61501),
    ],
)
def test_date_errors(sim: Simulator, endpoint: str, begin: str, end: str, errcode: int) -> None:
    got = datacube(sim, endpoint, begin, end)
    assert got.get("errcode", 0) == errcode, got


def test_dates_before_the_first_day_give_an_empty_list(sim: Simulator) -> None:
    assert datacube(sim, "getusershare", "2014-11-20", "2014-11-26") == {"list": []}
    # and days before the account existed are empty too
    assert datacube(sim, "getuserread", "2015-03-01", "2015-03-03") == {"list": []}


def test_unknown_paths_and_methods(sim: Simulator) -> None:
    token = classic_token(sim)
    assert requests.post(f"{sim.url}/datacube/getnothing", timeout=5).status_code == 404
    assert requests.get(f"{sim.url}/nowhere", timeout=5).status_code == 404
    r = requests.get(f"{sim.url}/datacube/getuserread", params={"access_token": token}, timeout=5)
    assert r.json()["errcode"] == 43002
    r = requests.post(
        f"{sim.url}/datacube/getuserread", params={"access_token": token}, data=b"{oops", timeout=5
    )
    assert r.json()["errcode"] == 47001


# ------------------------------------------------------------------ faults
def statuses(sim: Simulator, n: int) -> list[Any]:
    """Ask ``n`` distinct one-day windows; what each answered."""
    token = stable(sim)["access_token"]
    out: list[Any] = []
    for i in range(n):
        day = (date(2024, 1, 1) + timedelta(days=i)).isoformat()
        try:
            r = requests.post(
                f"{sim.url}/datacube/getusershare",
                params={"access_token": token},
                json={"begin_date": day, "end_date": day},
                timeout=5,
            )
        except requests.ConnectionError:
            out.append("drop")
            continue
        if r.status_code != 200:
            out.append(r.status_code)
        else:
            out.append(r.json().get("errcode", 0))
    return out


def test_fault_rates_are_deterministic_under_the_seed() -> None:
    faults = {"busy_rate": 0.2, "html502_rate": 0.05, "drop_rate": 0.05}
    with serve(seed=3, today=TODAY, **faults) as a:
        first = statuses(a, 120)
        assert a.stats.calls(ok=False) == sum(code != 0 for code in first)
    with serve(seed=3, today=TODAY, **faults) as b:
        assert statuses(b, 120) == first
    assert 10 < first.count(-1) < 40
    assert first.count(502) >= 1 and first.count("drop") >= 1


def test_fault_schedule_and_quotas() -> None:
    with serve(seed=0, today=TODAY, schedule={2: -1, 3: "html502", 4: 45011}) as s:
        assert statuses(s, 5) == [0, -1, 502, 45011, 0]
        assert [a[3] for a in s.stats.answered] == [0, -1, None, 45011, 0]
    with serve(seed=0, today=TODAY, daily_quota={"getusershare": 3}) as s:
        assert statuses(s, 5) == [0, 0, 0, 45009, 45009]
        s.advance(days=1)  # the quota is per simulated day
        assert statuses(s, 1) == [0]
    with serve(seed=0, today=TODAY, minute_quota=2, minute_seconds=3600) as s:
        assert statuses(s, 4) == [0, 0, 45011, 45011]


def test_latency_and_concurrency() -> None:
    import time
    from concurrent.futures import ThreadPoolExecutor

    with serve(seed=0, today=TODAY, latency=0.2) as s:
        token = stable(s)["access_token"]
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            days = [f"2024-05-{d:02d}" for d in range(1, 9)]
            results = list(pool.map(lambda d: datacube(s, "getusershare", d, d, token), days))
        elapsed = time.perf_counter() - start
        assert all("list" in r for r in results)
        assert elapsed >= 0.2  # every request waited (a lower bound: sleep guarantees it)
        # Served side by side: seen by the server itself, not by a wall-clock bound,
        # which a loaded shared machine could break.
        assert s.stats.peak_in_flight > 1
        assert s.stats.in_flight == 0
        assert s.stats.requests["getusershare"] == 8
    with serve(seed=0, today=TODAY, latency=0.05) as s:
        token = stable(s)["access_token"]
        for d in (1, 2, 3):
            datacube(s, "getusershare", f"2024-05-0{d}", f"2024-05-0{d}", token)
        assert s.stats.peak_in_flight == 1  # one at a time when asked one at a time


def test_stats_record_windows(fresh_sim: Simulator) -> None:
    datacube(fresh_sim, "getuserread", "2024-05-01", "2024-05-03")
    assert fresh_sim.stats.answered == [("getuserread", "2024-05-01", "2024-05-03", 0)]
    assert fresh_sim.stats.requests["token"] == 1


def test_unknown_fault_option_is_refused() -> None:
    with pytest.raises(TypeError, match="busy_rate"), serve(busy_rat=0.1):
        pass


def test_simulate_cli_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "wxframe", "simulate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--latency-ms" in out and "--today" in out and "--seed" in out
