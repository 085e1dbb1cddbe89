"""article_lifecycle against each article's true days, young articles marked."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from tests.conftest import (
    CURRENT_BEGIN,
    CURRENT_END,
    OFFLINE_DAYS,
    OFFLINE_END,
    current_account,
    offline_account,
)
from wxframe import (
    ConfigurationError,
    FrameShapeError,
    article_lifecycle,
)
from wxframe.endpoints import CHANNELS
from wxframe.simulator._account import CHANNEL_CODES
from wxframe.simulator._current import _engagement

#: Publish days whose 30 days are all over by CURRENT_END.
SETTLED = [CURRENT_BEGIN + timedelta(days=n) for n in range(6)]


CHANNEL_NAMES = [CHANNELS[c] for c in CHANNEL_CODES]


def test_article_lifecycle_against_the_articles_true_days(offline_frames: dict) -> None:
    life = article_lifecycle(offline_frames["getarticletotal"])
    acct = offline_account(offline_frames)
    assert life["msgid"].is_unique
    assert life["int_page_read_count"].is_monotonic_decreasing
    assert life["percentile"].iloc[0] == 100.0
    order = {"session": 0, "friends": 1, "moments": 2, "history": 3, "other": 4,
             "kanyikan": 5, "souyisou": 6}  # CHANNEL_CODES positions  # fmt: skip
    checked = 0
    for day in OFFLINE_DAYS[:50:5]:
        for article in acct.sends(day):
            row = life[life["msgid"] == article.msgid].iloc[0]
            truth = acct.article_days(article).ch_count[:7]
            reads = truth.sum(axis=1)
            assert row["int_page_read_count"] == reads.sum()
            assert row["title"] == article.title
            assert row["sent"] == pd.Timestamp(article.sent)
            assert row["complete"] and row["days_observed"] == 7
            if reads.sum() == 0:
                assert pd.isna(row["day0_share"])
                continue
            assert row["day0_share"] == pytest.approx(reads[0] / reads.sum())
            arrived = np.cumsum(reads) / reads.sum()
            assert row["day_50"] == int(np.argmax(arrived >= 0.5))
            assert row["day_90"] == int(np.argmax(arrived >= 0.9))
            per_channel = truth.sum(axis=0)
            for name, i in order.items():
                assert row[f"mix_{name}"] == pytest.approx(per_channel[i] / per_channel.sum())
            checked += 1
    assert checked > 10
    done = life[life["complete"]]  # ranked among the articles whose life is over
    rank = (done["int_page_read_count"].rank(pct=True, method="max") * 100).tolist()
    assert done["percentile"].tolist() == pytest.approx(rank)


def test_article_lifecycle_marks_young_articles_incomplete(offline_frames: dict) -> None:
    life = article_lifecycle(offline_frames["getarticletotal"])
    young = life[life["sent"] > pd.Timestamp(OFFLINE_END - timedelta(days=6))]
    assert len(young) and not young["complete"].any()
    assert (young["days_observed"] < 7).all()
    # what needs a finished life is NA for them: no false 100 % on day 0, no rank
    for column in ("day0_share", "day_50", "day_90", "percentile"):
        assert young[column].isna().all(), column
    with pytest.raises(FrameShapeError, match="looks like a getuserread frame"):
        article_lifecycle(offline_frames["getuserread"])
    with pytest.raises(ConfigurationError, match="horizon=9"):
        article_lifecycle(offline_frames["getarticletotal"], horizon=9)


def test_article_lifecycle_on_detail_against_the_truth(current_frames: dict) -> None:
    detail = current_frames["detail"]
    life = article_lifecycle(detail)
    assert life["msgid"].is_unique and life["read_user"].is_monotonic_decreasing
    acct = current_account(current_frames)
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
    growing = life[life["sent"] > pd.Timestamp(CURRENT_END - timedelta(days=29))]
    assert len(growing) and not growing["complete"].any()
    for column in ("day0_share", "day_50", "day_90", "percentile", "readers_30d"):
        assert growing[column].isna().all(), column
    done = life[life["complete"]]
    rank = (done["read_user"].rank(pct=True, method="max") * 100).tolist()
    assert done["percentile"].tolist() == pytest.approx(rank)
    with pytest.raises(ConfigurationError, match=r"horizon=31.*1\.\.30"):
        article_lifecycle(detail, horizon=31)
