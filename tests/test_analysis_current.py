"""The helpers on the current family and the followers, against the simulator's ground
truth (issue 15), including the 2025-11-01 boundary and getarticletotaldetail's 30 days."""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import PolyCollection

import wxframe
from wxframe import (
    ConfigurationError,
    DataMismatchWarning,
    add_rates,
    article_lifecycle,
    check_consistency,
    follower_growth,
    pivot_channels,
    pivot_sources,
    to_cumulative,
    to_daily,
)
from wxframe.endpoints import CHANNELS, SOURCES
from wxframe.simulator import SimulatedAccount, serve
from wxframe.simulator._account import CHANNEL_CODES
from wxframe.simulator._current import _engagement
from wxframe.simulator._six import user_read_day

TODAY = date(2026, 1, 10)
BEGIN, END = date(2025, 11, 1), date(2026, 1, 9)
#: Publish days whose 30 days are all over by END.
SETTLED = [BEGIN + timedelta(days=n) for n in range(6)]
CHANNEL_NAMES = [CHANNELS[c] for c in CHANNEL_CODES]


@pytest.fixture(scope="module")
def frames() -> dict[str, object]:
    """Ten weeks of the current family and the followers, and October of getuserread,
    over HTTP from one simulator (the six still answer on this date)."""
    with serve(seed=0, today=TODAY, hour=12) as sim:
        client = sim.client()
        out: dict[str, object] = {
            "biz": wxframe.load_biz_summary(client, BEGIN, END),
            "read": wxframe.load_article_read(client, "2025-11-01", "2025-11-30", progress=False),
            "detail": wxframe.load_article_total_detail(client, BEGIN, END, progress=False),
            "followers": wxframe.load_user_summary(client, BEGIN, END, progress=False),
            "cumulate": wxframe.load_user_cumulate(client, "2025-10-31", END, progress=False),
            "user_read": wxframe.load_user_read(client, "2025-10-01", "2025-11-30"),
        }
        out["acct"] = sim.account
    return out


def _acct(frames: dict) -> SimulatedAccount:
    return frames["acct"]  # type: ignore[no-any-return]


# ----------------------------------------------------------------------- pivots
def test_pivot_channels_on_getbizsummary_is_the_accounts_readers(frames: dict) -> None:
    wide = pivot_channels(frames["biz"])
    assert list(wide.columns) == CHANNEL_NAMES  # getuserread's order, all left out
    assert all(str(t) == "Int64" for t in wide.dtypes)
    acct = _acct(frames)
    for day in [BEGIN + timedelta(days=n) for n in range(0, 60, 9)]:
        truth = {
            int(r["user_source"]): int(r["int_page_read_user"])  # type: ignore[call-overload]
            for r in user_read_day(acct, day)[1:]
        }
        row = wide.loc[pd.Timestamp(day)]
        assert [row[CHANNELS[c]] for c in CHANNEL_CODES] == [truth.get(c, 0) for c in CHANNEL_CODES]
    with_all = pivot_channels(frames["biz"], include_all=True)
    assert list(with_all.columns[:1]) == ["all"]
    everyone = frames["biz"][frames["biz"]["channel"] == "all"].set_index("ref_date")
    assert with_all["all"].tolist() == everyone["read_user"].tolist()


def test_a_channel_mix_across_2025_11_01_is_one_call(frames: dict) -> None:
    old, new = frames["user_read"], frames["biz"]
    october = old[old["ref_date"] < "2025-11-01"]
    both = pivot_channels(pd.concat([october, new[new["ref_date"] <= "2025-11-30"]]))
    assert both.index.tolist() == list(pd.date_range("2025-10-01", "2025-11-30"))
    assert list(both.columns) == CHANNEL_NAMES
    # October is getuserread's readers, November getbizsummary's: one column, one meaning
    before = pivot_channels(october, "int_page_read_user")
    pd.testing.assert_frame_equal(both.loc[:"2025-10-31"], before, check_names=False)
    after = pivot_channels(new[new["ref_date"] <= "2025-11-30"])
    pd.testing.assert_frame_equal(both.loc["2025-11-01":], after, check_names=False)
    # and where both families exist, they agree (getbizsummary's scenes are those channels)
    november = old[old["ref_date"] >= "2025-11-01"]
    pd.testing.assert_frame_equal(
        pivot_channels(november, "int_page_read_user"), after, check_names=False
    )
    fractions = pivot_channels(pd.concat([october, new]), normalize=True)
    assert np.allclose(fractions.sum(axis=1).to_numpy(dtype=float), 1.0)


def test_pivot_channels_on_getarticleread_is_per_article_day(frames: dict) -> None:
    wide = pivot_channels(frames["read"])
    assert wide.index.names == ["ref_date", "msgid"]
    acct = _acct(frames)
    day = date(2025, 11, 12)
    for article, k, numbers in acct.articles_read_on(day):
        if not numbers.int_user[k]:
            continue
        row = wide.loc[(pd.Timestamp(day), article.msgid)]
        assert [row.get(name, 0) for name in CHANNEL_NAMES] == numbers.ch_user[k].tolist()


def test_pivot_sources_per_follower_channel(frames: dict) -> None:
    followers = frames["followers"]
    wide = pivot_sources(followers)
    order = [name for name in SOURCES.values() if name in wide.columns]
    assert list(wide.columns) == order
    per_day = followers.groupby("ref_date")["new_user"].sum()
    assert (wide.sum(axis=1) == per_day).all()
    cancels = pivot_sources(followers, "cancel_user", normalize=True)
    assert np.allclose(cancels.sum(axis=1).dropna().to_numpy(dtype=float), 1.0)
    with pytest.raises(ConfigurationError, match=r"values='read_user'.*new_user, cancel_user"):
        pivot_sources(followers, "read_user")


def test_newcomer_mistakes_get_wxframe_errors(frames: dict) -> None:
    biz, detail = frames["biz"], frames["detail"]
    # channel rows carry readers only: another counter would be a frame of NA
    with pytest.raises(ConfigurationError, match=r"values='share_user'.*allowed: read_user$"):
        pivot_channels(biz, "share_user")
    assert pivot_channels(biz, "share_user", include_all=True)["all"].notna().all()
    with pytest.raises(ConfigurationError, match="share= is now normalize="):
        wxframe.plot_channel_mix(biz, share=True)
    with pytest.raises(ConfigurationError, match="top= is now n="):
        wxframe.plot_article_decay(detail, top=3)
    with pytest.raises(ConfigurationError, match=r"msgids=\['1_1'\]"):
        wxframe.plot_dropoff(detail, msgids="1_1")
    with pytest.raises(wxframe.FrameShapeError, match="got list"):
        wxframe.plot_engagement([1, 2])
    with pytest.raises(ConfigurationError, match=r"store= takes a wxframe\.Store, got DataFrame"):
        check_consistency(biz)
    plt.close("all")


# ---------------------------------------------------------- cumulative <-> daily
def test_to_daily_over_thirty_days_per_article_and_channel(frames: dict) -> None:
    detail = frames["detail"]
    daily = to_daily(detail)
    assert {"read_user_daily", "share_user_daily", "praise_money_daily"} <= set(daily.columns)
    assert "read_user" not in daily.columns
    assert not daily["spans_gap"].any() and not daily["correction"].any()
    # rates and averages are as of each day, never differenced
    pd.testing.assert_series_equal(
        daily.sort_values(["msgid", "stat_date", "channel"])["read_finish_rate"].reset_index(
            drop=True
        ),
        detail.sort_values(["msgid", "stat_date", "channel"])["read_finish_rate"].reset_index(
            drop=True
        ),
    )
    acct = _acct(frames)
    checked = 0
    for day in SETTLED:
        for article in acct.publishes(day):
            truth = acct.article_days(article)
            mine = daily[(daily["msgid"] == article.msgid) & (daily["channel"] == "all")]
            mine = mine.sort_values("day")
            assert mine["day"].tolist() == list(range(30))
            new = mine["read_user_daily"].to_numpy(dtype=int)
            readers = np.zeros(30, dtype=int)  # the article collects nothing after its life
            readers[: min(30, len(truth.int_user))] = truth.int_user[:30]
            assert new[0] == readers[0]  # day 0: every reader is new
            assert (new[1:] <= readers[1:]).all()  # later: returning readers are not
            session = daily[(daily["msgid"] == article.msgid) & (daily["channel"] == "session")]
            assert session["read_user_daily"].iloc[0] == truth.ch_user[0][0]
            checked += 1
    assert checked >= 6
    pd.testing.assert_frame_equal(
        to_cumulative(daily),
        detail.sort_values(["msgid", "channel", "stat_date"], ignore_index=True),
    )


@st.composite
def detail_frames(draw: st.DrawFn) -> pd.DataFrame:
    """getarticletotaldetail-shaped rows: articles x channels x 1..30 stat days (gaps
    allowed), running totals with NAs, rates that must pass through, any order."""
    rows = []
    for i in range(draw(st.integers(1, 3))):
        for channel in draw(st.sets(st.sampled_from(["all", "session", "moments"]), min_size=1)):
            days = sorted(draw(st.sets(st.integers(0, 29), min_size=1, max_size=30)))
            values = draw(
                st.lists(
                    st.one_of(st.none(), st.integers(0, 10**7)),
                    min_size=len(days),
                    max_size=len(days),
                )
            )
            for d, v in zip(days, values, strict=True):
                rows.append(
                    {
                        "ref_date": pd.Timestamp("2025-11-01"),
                        "msgid": f"{2000 + i}_1",
                        "stat_date": pd.Timestamp("2025-11-01") + pd.Timedelta(days=d),
                        "day": d,
                        "channel": channel,
                        "read_user": v,
                        "read_finish_rate": d / 100,
                    }
                )
    df = pd.DataFrame(rows).astype(
        {"msgid": "string", "day": "Int64", "read_user": "Int64", "read_finish_rate": "Float64"}
    )
    return df.sample(frac=1, random_state=draw(st.integers(0, 2**16)))


@settings(max_examples=150, deadline=None)
@given(detail_frames())
def test_to_cumulative_inverts_to_daily_on_detail_frames(detail: pd.DataFrame) -> None:
    daily = to_daily(detail)
    assert (daily["read_finish_rate"] == daily["day"] / 100).all()  # carried, not differenced
    expected = detail.sort_values(["msgid", "channel", "stat_date"], ignore_index=True)
    pd.testing.assert_frame_equal(to_cumulative(daily), expected)


# ------------------------------------------------------------------------ rates
def test_add_rates_on_the_current_family(frames: dict) -> None:
    biz = add_rates(frames["biz"])
    everyone = biz[biz["channel"] == "all"]
    for rate, num in (
        ("like_rate", "like_user"),
        ("zaikan_rate", "zaikan_user"),
        ("comment_rate", "comment_count"),
        ("collection_rate", "collection_user"),
        ("share_rate", "share_user"),
        ("ori_rate", "redirect_ori_page_user"),
    ):
        expected = everyone[num].astype(float) / everyone["read_user"].astype(float)
        assert np.allclose(everyone[rate].to_numpy(dtype=float), expected.to_numpy()), rate
        assert str(biz[rate].dtype) == "Float64"
        assert biz.loc[biz["channel"] != "all", rate].isna().all()  # no counters on channels
    detail = add_rates(frames["detail"])
    assert "subscribe_rate" in detail.columns and "ori_rate" not in detail.columns
    values = detail["subscribe_rate"].to_numpy(dtype=float, na_value=np.nan)
    assert not np.isinf(values).any() and np.nanmax(values) <= 1


# -------------------------------------------------------------------- lifecycle
def test_article_lifecycle_on_detail_against_the_truth(frames: dict) -> None:
    detail = frames["detail"]
    life = article_lifecycle(detail)
    assert life["msgid"].is_unique and life["read_user"].is_monotonic_decreasing
    acct = _acct(frames)
    everyone = detail[detail["channel"] == "all"]
    for day in SETTLED:
        for article in acct.publishes(day):
            row = life[life["msgid"] == article.msgid].iloc[0]
            mine = everyone[everyone["msgid"] == article.msgid].sort_values("day")
            total = mine["read_user"].to_numpy(dtype=int)
            assert row["complete"] and row["days_observed"] == 30
            assert row["sent"] == pd.Timestamp(day) and row["read_user"] == total[-1]
            assert row["readers_7d"] == total[6] and row["readers_30d"] == total[29]
            assert row["day0_share"] == pytest.approx(total[0] / total[-1])
            assert row["day_50"] == int(np.argmax(total >= 0.5 * total[-1]))
            assert row["day_90"] == int(np.argmax(total >= 0.9 * total[-1]))
            e = acct.derived(_engagement, article)
            assert row["read_finish_rate"] == pytest.approx(e.finish_rate * (1 - 0.004 * 29))
            jumps = [row[f"jump_rate_{p}"] for p in range(1, 6)]
            for got, rate in zip(jumps, e.jump, strict=True):
                assert pd.isna(got) if rate < 0.01 else got == pytest.approx(rate, abs=1e-6)
            mix = [row.get(f"mix_{name}", 0.0) for name in CHANNEL_NAMES]
            assert sum(m for m in mix if not pd.isna(m)) == pytest.approx(1.0)
    growing = life[life["sent"] > pd.Timestamp(END - timedelta(days=29))]
    assert len(growing) and not growing["complete"].any()
    for column in ("day0_share", "day_50", "day_90", "percentile", "readers_30d"):
        assert growing[column].isna().all(), column
    done = life[life["complete"]]
    rank = (done["read_user"].rank(pct=True, method="max") * 100).tolist()
    assert done["percentile"].tolist() == pytest.approx(rank)
    with pytest.raises(ConfigurationError, match=r"horizon=31.*1\.\.30"):
        article_lifecycle(detail, horizon=31)


# -------------------------------------------------------------------- followers
def test_follower_growth_is_the_accounts_followers(frames: dict) -> None:
    growth = follower_growth(frames["followers"], frames["cumulate"])
    acct = _acct(frames)
    assert growth["ref_date"].tolist() == list(pd.date_range(BEGIN, END))
    for _, row in growth.iloc[::7].iterrows():
        day = row["ref_date"].date()
        before = acct.follower_total(day - timedelta(days=1))
        assert row["net_user"] == acct.follower_total(day) - before
        assert row["cumulate_user"] == acct.follower_total(day)
        assert row["churn_rate"] == pytest.approx(row["cancel_user"] / before)
    assert (growth["cumulate_gap"] == 0).all()
    alone = follower_growth(frames["followers"])
    assert alone.columns.tolist() == ["ref_date", "new_user", "cancel_user", "net_user"]


def test_follower_growth_says_where_the_total_does_not_add_up(frames: dict) -> None:
    cumulate = frames["cumulate"].copy()
    cumulate.loc[cumulate["ref_date"] == "2025-12-10", "cumulate_user"] += 40
    with pytest.warns(DataMismatchWarning, match=r"2 day\(s\): 2025-12-10 \(\+40\), 2025-12-11"):
        growth = follower_growth(frames["followers"], cumulate)
    assert growth.loc[growth["cumulate_gap"] != 0, "ref_date"].dt.day.tolist() == [10, 11]
    # a day whose day before is not in the frame has no change to compare: NA, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = follower_growth(frames["followers"], frames["cumulate"].iloc[1:])
    assert pd.isna(first["cumulate_gap"].iloc[0]) and pd.isna(first["churn_rate"].iloc[0])


# ------------------------------------------------------------------ consistency
def test_check_consistency_on_the_current_family(frames: dict) -> None:
    given = {
        "biz": frames["biz"],
        "article_read": frames["read"],
        "detail": frames["detail"],
        "followers": frames["followers"],
        "cumulate": frames["cumulate"],
    }
    report = check_consistency(**given)
    assert set(report["check"]) == {
        "biz_vs_articles",
        "detail_vs_daily_reads",
        "cumulate_vs_summary",
    }
    assert set(report["status"].astype(str)) <= {"ok", "expected"}
    assert (report.loc[report["check"] == "cumulate_vs_summary", "status"] == "ok").all()
    # tampered: more account readers than all articles had, and an unfollow made up
    biz = frames["biz"].copy()
    hit = (biz["ref_date"] == "2025-11-20") & (biz["channel"] == "all")
    biz.loc[hit, "read_user"] += 10**6
    followers = frames["followers"].copy()
    followers.loc[followers.index[followers["ref_date"] == "2025-11-25"][0], "cancel_user"] += 3
    bad = check_consistency(**(given | {"biz": biz, "followers": followers}))
    wrong = bad[bad["status"] == "mismatch"]
    assert wrong[["check", "ref_date"]].values.tolist() == [
        ["biz_vs_articles", pd.Timestamp("2025-11-20")],
        ["cumulate_vs_summary", pd.Timestamp("2025-11-25")],
    ]
    assert wrong["gap"].tolist()[1] == 3  # the total moved 3 more than the net growth


def test_check_consistency_reads_the_current_family_from_a_store(tmp_path) -> None:
    with serve(seed=1, today="2025-12-20") as sim:
        store = wxframe.Store(tmp_path)
        store.sync(sim.client(), "2025-11-25", "2025-12-19", progress=False)
    report = check_consistency(store)
    assert {"biz_vs_articles", "detail_vs_daily_reads", "cumulate_vs_summary"} <= set(
        report["check"]
    )
    assert set(report["status"].astype(str)) <= {"ok", "expected"}


# ------------------------------------------------------------------------ plots
def test_plot_engagement_over_time_and_per_article(frames: dict) -> None:
    ax = plot_engagement(frames["biz"], ["like_rate", "comment_rate"], linestyle="--")
    lines = ax.get_lines()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["like_rate", "comment_rate"]
    assert all(line.get_linestyle() == "--" for line in lines)
    biz = add_rates(frames["biz"])
    expected = biz[biz["channel"] == "all"].sort_values("ref_date")["like_rate"]
    assert np.allclose(lines[0].get_ydata(), expected.to_numpy(dtype=float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wxframe.MissingFontWarning)
        bars = plot_engagement(frames["detail"], ["like_rate"], n=4, color="tab:red")
    assert len(bars.patches) == 4
    assert bars.patches[0].get_facecolor() == matplotlib.colors.to_rgba("tab:red")
    with pytest.raises(ConfigurationError, match=r"rates \['fav_rate'\].*like_rate"):
        plot_engagement(frames["biz"], ["fav_rate"])
    plt.close("all")


def test_plot_dropoff_draws_each_articles_jump_profile(frames: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wxframe.MissingFontWarning)
        ax = plot_dropoff(frames["detail"], n=3, linewidth=4)
    life = article_lifecycle(frames["detail"]).head(3)
    for line, (_, row) in zip(ax.get_lines(), life.iterrows(), strict=True):
        assert line.get_linewidth() == 4
        expected = [row[f"jump_rate_{p}"] for p in range(1, 6)]
        got = line.get_ydata()
        for e, g in zip(expected, got, strict=True):
            assert g == (0.0 if pd.isna(e) else pytest.approx(e))  # unlisted: nobody left
    assert ax.get_xticklabels()[0].get_text() == "0-20%"
    plt.close("all")


def test_plot_followers_bars_are_net_growth_and_the_line_the_total(frames: dict) -> None:
    ax = plot_followers(frames["followers"], frames["cumulate"], alpha=0.4)
    growth = follower_growth(frames["followers"], frames["cumulate"])
    assert [p.get_height() for p in ax.patches] == growth["net_user"].astype(float).tolist()
    assert all(p.get_alpha() == 0.4 for p in ax.patches)
    total = ax.right.get_lines()[0].get_ydata()  # type: ignore[attr-defined]
    assert total.tolist() == growth["cumulate_user"].astype(float).tolist()
    plt.close("all")


def test_every_plot_passes_a_matplotlib_keyword_on(frames: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wxframe.MissingFontWarning)
        mix = wxframe.plot_channel_mix(frames["biz"], alpha=0.25)
        areas = [c for c in mix.collections if isinstance(c, PolyCollection)]
        assert len(areas) == 7 and all(a.get_alpha() == 0.25 for a in areas)
        decay = wxframe.plot_article_decay(frames["detail"], n=3, linewidth=5)
        assert [line.get_linewidth() for line in decay.get_lines()] == [5, 5, 5]
        assert decay.get_xlabel() == "days after publishing"
        assert all(line.get_xdata()[-1] == 29 for line in decay.get_lines())
        top = wxframe.plot_top_articles(frames["detail"], n=4, color="tab:olive")
        olive = matplotlib.colors.to_rgba("tab:olive")
        assert len(top.patches) == 4 and all(p.get_facecolor() == olive for p in top.patches)
    with serve(seed=0, today="2024-06-01") as old:
        hour = wxframe.load_user_read_hour(old.client(), "2024-05-01", "2024-05-07")
        share = wxframe.load_user_share(old.client(), "2024-05-01", "2024-05-07")
    heat = wxframe.plot_hourly_heatmap(hour, cmap="magma", cbar=False, alpha=0.5)
    assert heat.images[0].get_cmap().name == "magma" and heat.images[0].get_alpha() == 0.5
    assert len(heat.figure.axes) == 1  # no colour bar
    scenes = wxframe.plot_share_scenes(share, hatch="//")
    assert all(c.get_hatch() == "//" for c in scenes.collections if isinstance(c, PolyCollection))
    plt.close("all")


# -------------------------------------------------------------------------- API
def test_the_accessor_has_the_helpers_signatures() -> None:
    for name in (
        "pivot_channels",
        "pivot_scenes",
        "pivot_sources",
        "article_lifecycle",
        "follower_growth",
        "plot_channel_mix",
        "plot_hourly_heatmap",
        "plot_article_decay",
        "plot_top_articles",
        "plot_share_scenes",
        "plot_engagement",
        "plot_dropoff",
        "plot_followers",
    ):
        helper = list(inspect.signature(getattr(wxframe, name)).parameters.values())[1:]
        method = list(inspect.signature(getattr(wxframe.WxAccessor, name)).parameters.values())
        assert [(p.name, p.kind, p.default) for p in method[1:]] == [
            (p.name, p.kind, p.default) for p in helper
        ], name


def test_import_wxframe_gives_datasets_simulator_and_a_version() -> None:
    code = (
        "import wxframe; print(wxframe.datasets.api_example('getbizsummary')['list'][0]"
        "['ref_date'], wxframe.simulator.serve.__name__)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["2025-11-01", "serve"]
    version = subprocess.run(
        [sys.executable, "-m", "wxframe", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"wxframe {wxframe.__version__}"


plot_engagement = wxframe.plot_engagement
plot_dropoff = wxframe.plot_dropoff
plot_followers = wxframe.plot_followers
