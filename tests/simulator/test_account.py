"""The six's account model seen over HTTP: field names, identities between endpoints,
running sums, thresholds and realistic shapes (the protocol itself: test_server)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest

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
def sixty_days_of_records(sim: Simulator) -> dict[str, list[dict]]:
    spans = {
        "getarticlesummary": 1,
        "getarticletotal": 1,
        "getuserread": 3,
        "getuserreadhour": 1,
        "getusershare": 7,
        "getusersharehour": 1,
    }
    return {name: fetch_all(sim, name, span, FIRST, LAST) for name, span in spans.items()}


def test_records_have_the_seeds_field_names(sixty_days_of_records: dict[str, list[dict]]) -> None:
    assert all(list(r) == SUMMARY_FIELDS for r in sixty_days_of_records["getarticlesummary"])
    all_rows = [r for r in sixty_days_of_records["getuserread"] if r["user_source"] == 99999999]
    assert all(list(r) == READ_FIELDS for r in all_rows)
    for r in sixty_days_of_records["getarticletotal"]:
        assert list(r)[:4] == ["ref_date", "msgid", "title", "details"]
        assert all(set(d) == DETAIL_FIELDS for d in r["details"])
    for r in sixty_days_of_records["getuserreadhour"]:
        assert r["ref_hour"] in range(0, 2400, 100)
        assert {"ori_page_read_user", "add_to_fav_count"} <= set(r)
    for r in sixty_days_of_records["getusersharehour"]:
        assert list(r) == ["ref_date", "ref_hour", "share_scene", "share_count", "share_user"]
    assert {r["share_scene"] for r in sixty_days_of_records["getusershare"]} == {1, 2, 255}
    channels = {r["user_source"] for r in sixty_days_of_records["getuserread"]}
    assert channels == {99999999, 0, 1, 2, 4, 5, 6, 7}


def test_msgid_is_send_id_and_index(sixty_days_of_records: dict[str, list[dict]]) -> None:
    by_send: dict[str, set[int]] = defaultdict(set)
    for r in sixty_days_of_records["getarticletotal"]:
        send, _, index = r["msgid"].partition("_")
        assert send.isdigit()
        if index:
            by_send[send].add(int(index))
    sizes = {len(v) for v in by_send.values()}
    assert min(sizes) >= 1 and max(sizes) <= 8
    # Indexes of a send are 1..n.
    assert all(v == set(range(1, len(v) + 1)) for v in by_send.values())


def test_titles_are_chinese(sixty_days_of_records: dict[str, list[dict]]) -> None:
    titles = {r["title"] for r in sixty_days_of_records["getarticlesummary"]}
    assert len(titles) > 20
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in titles)


def test_total_details_are_running_sums_of_daily_numbers(
    sim: Simulator, sixty_days_of_records: dict[str, list[dict]]
) -> None:
    articles = {a.msgid: a for day in day_range(FIRST, LAST) for a in sim.account.sends(day)}
    checked = 0
    for record in sixty_days_of_records["getarticletotal"]:
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
    sim: Simulator, sixty_days_of_records: dict[str, list[dict]]
) -> None:
    listed = {(r["ref_date"], r["msgid"]) for r in sixty_days_of_records["getarticlesummary"]}
    truth_over, truth_under = set(), set()
    for day in day_range(FIRST, LAST):
        for article, k, numbers in sim.account.articles_read_on(day):
            key = (day.isoformat(), article.msgid)
            (truth_over if passes_threshold(numbers.summary(k)) else truth_under).add(key)
    assert listed == truth_over
    assert truth_under, "the simulated account must have article-days under the threshold"
    for r in sixty_days_of_records["getarticlesummary"]:
        assert passes_threshold(r)


def test_account_reads_equal_the_sum_over_all_articles(
    sim: Simulator, sixty_days_of_records: dict[str, list[dict]]
) -> None:
    all_rows = {
        r["ref_date"]: r
        for r in sixty_days_of_records["getuserread"]
        if r["user_source"] == 99999999
    }
    assert len(all_rows) == DAYS
    listed_sum: dict[str, int] = defaultdict(int)
    for r in sixty_days_of_records["getarticlesummary"]:
        listed_sum[r["ref_date"]] += r["int_page_read_count"]
    under_threshold_days = 0
    for day in day_range(FIRST, LAST):
        truth = sum(int(n.ch_count[k].sum()) for _, k, n in sim.account.articles_read_on(day))
        assert all_rows[day.isoformat()]["int_page_read_count"] == truth
        assert listed_sum[day.isoformat()] <= truth
        under_threshold_days += listed_sum[day.isoformat()] < truth
    assert under_threshold_days > 0


def test_hourly_reads_sum_to_daily_reads(sixty_days_of_records: dict[str, list[dict]]) -> None:
    daily = {(r["ref_date"], r["user_source"]): r for r in sixty_days_of_records["getuserread"]}
    sums: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in sixty_days_of_records["getuserreadhour"]:
        for name in ("int_page_read_user", "int_page_read_count", "share_user", "share_count"):
            sums[(r["ref_date"], r["user_source"])][name] += r[name]
    assert set(sums) == set(daily)
    for key, hours in sums.items():
        for name, value in hours.items():
            assert value == daily[key][name], (key, name)


def test_share_identities(sixty_days_of_records: dict[str, list[dict]]) -> None:
    per_scene = {
        (r["ref_date"], r["share_scene"]): r for r in sixty_days_of_records["getusershare"]
    }
    hourly: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for r in sixty_days_of_records["getusersharehour"]:
        hourly[(r["ref_date"], r["share_scene"])][0] += r["share_count"]
        hourly[(r["ref_date"], r["share_scene"])][1] += r["share_user"]
    assert set(hourly) == set(per_scene)
    for key, (count, users) in hourly.items():
        assert count == per_scene[key]["share_count"]
        assert users == per_scene[key]["share_user"]
    scenes_total: dict[str, int] = defaultdict(int)
    for (day, _), r in per_scene.items():
        scenes_total[day] += r["share_count"]
    for r in sixty_days_of_records["getuserread"]:
        if r["user_source"] == 99999999:
            assert scenes_total[r["ref_date"]] == r["share_count"]


def test_channel_rows_carry_no_original_page_or_favourites(
    sixty_days_of_records: dict[str, list[dict]],
) -> None:
    channel_rows = [r for r in sixty_days_of_records["getuserread"] if r["user_source"] != 99999999]
    assert channel_rows
    for r in channel_rows:
        assert not any(k.startswith(("ori_page", "add_to_fav")) for k in r)
    # channel users are not additive: they sum to more than the all row
    users: dict[str, int] = defaultdict(int)
    for r in channel_rows:
        users[r["ref_date"]] += r["int_page_read_user"]
    all_users = {
        r["ref_date"]: r["int_page_read_user"]
        for r in sixty_days_of_records["getuserread"]
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


def test_realistic_shape(sim: Simulator, sixty_days_of_records: dict[str, list[dict]]) -> None:
    account = sim.account
    assert account.followers(date(2024, 5, 1)) > account.followers(date(2021, 5, 1))
    # Reads concentrate in the first two days after sending.
    first_two = later = 0
    for record in sixty_days_of_records["getarticletotal"]:
        details = record["details"]
        if len(details) == 7:
            first_two += details[1]["int_page_read_count"]
            later += details[6]["int_page_read_count"] - details[1]["int_page_read_count"]
    assert first_two > 3 * later
    # Heavy-tailed popularity: the top article reads far above the median.
    day0 = sorted(
        r["details"][0]["int_page_read_count"] for r in sixty_days_of_records["getarticletotal"]
    )
    assert day0[-1] > 8 * day0[len(day0) // 2]
    # Hourly profile: evening peak beats the small hours.
    by_hour: dict[int, int] = defaultdict(int)
    for r in sixty_days_of_records["getuserreadhour"]:
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
