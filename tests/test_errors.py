"""The exception tree: every error keeps its fields through pickle."""

from __future__ import annotations

import pickle
from datetime import date

import wxframe
from wxframe import (
    QuotaExceededError,
)


def test_errors_pickle_with_their_fields() -> None:
    err = QuotaExceededError(45009, "quota", endpoint="getuserread")
    back = pickle.loads(pickle.dumps(err))
    assert (back.errcode, back.endpoint, str(back)) == (45009, "getuserread", str(err))


def test_every_exported_exception_round_trips_through_pickle() -> None:
    from wxframe.dates import Window

    window = Window(date(2026, 11, 1), date(2026, 11, 1))
    made = []
    for name in wxframe.__all__:
        cls = getattr(wxframe, name)
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            continue
        if issubclass(cls, wxframe.ApiError):
            made.append(cls(45009, "quota", endpoint="getbizsummary", window=window))
        elif cls is wxframe.SyncIncomplete:
            made.append(cls("stopped", remaining={"getbizsummary": [window]}, summary=None))
        elif cls is wxframe.NonJSONResponseError:
            made.append(cls("html", status=502, snippet="<html>"))
        else:
            made.append(cls("message"))
    assert len(made) >= 20
    for error in made:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)
        assert vars(again) == vars(error)
