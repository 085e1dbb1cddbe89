"""`wxframe run` (issue 29): a config checked before anything is asked, periods in
Beijing days, the delivery log, alert rules, and whole runs against the simulator,
delivered to folders (the robots' and mail's own tests are in tests/deliver)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wxframe import ConfigurationError, Store, StoreError
from wxframe.cli import main
from wxframe.dates import BEIJING, last_complete_day
from wxframe.job import DeliveryLog, evaluate, period_of, read_config, run_job
from wxframe.report.period import Period
from wxframe.simulator import Simulator, records, serve

TODAY = "2026-12-07"  # a Monday
NOW = datetime(2026, 12, 7, 12, tzinfo=BEIJING)


def write_config(tmp_path: Path, sims: list[Simulator], extra: str = "") -> Path:
    accounts = "".join(
        f'[[account]]\nappid = "{s.appid}"\nsecret_env = "JOB_SECRET_{n}"\nbase_url = "{s.url}"\n'
        for n, s in enumerate(sims)
    )
    (tmp_path / "share").mkdir(exist_ok=True)
    (tmp_path / "share2").mkdir(exist_ok=True)
    config = tmp_path / "wxframe.toml"
    config.write_text(
        'store = "store"\n' + accounts + '[sync]\nendpoints = ["getbizsummary", '
        '"getusersummary", "getusercumulate"]\n[report]\nperiod = "last-week"\n'
        '[[destination]]\nname = "share"\ntype = "folder"\npath = "share"\n'
        '[[destination]]\nname = "archive"\ntype = "folder"\npath = "share2"\n'
        "alerts = false\n" + extra,
        encoding="utf-8",
    )
    return config


@contextlib.contextmanager
def accounts(n: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Simulator]]:
    with contextlib.ExitStack() as stack:
        sims = [stack.enter_context(serve(seed=k, today=TODAY)) for k in range(n)]
        for k, sim in enumerate(sims):
            monkeypatch.setenv(f"JOB_SECRET_{k}", sim.secret)
        yield sims


# ------------------------------------------------------------------------ periods
def test_periods_are_whole_beijing_days_ending_on_the_last_complete_one() -> None:
    monday = datetime(2026, 12, 7, 9, tzinfo=BEIJING)
    assert period_of("last-week", monday) == (date(2026, 11, 30), date(2026, 12, 6))
    early = datetime(2026, 12, 7, 7, tzinfo=BEIJING)  # Sunday is not complete before 08:00
    assert period_of("last-week", early) == (date(2026, 11, 23), date(2026, 11, 29))
    assert period_of("last-month", monday) == (date(2026, 11, 1), date(2026, 11, 30))
    assert period_of("last-28-days", monday) == (date(2026, 11, 9), date(2026, 12, 6))
    with pytest.raises(ConfigurationError, match="last-fortnight"):
        period_of("last-fortnight", monday)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(datetime(2015, 1, 1), datetime(2040, 1, 1)))
def test_every_period_is_whole_and_complete(moment: datetime) -> None:
    now = moment.replace(tzinfo=BEIJING)
    last = last_complete_day(now)
    begin, end = period_of("last-week", now)
    assert begin.weekday() == 0 and end - begin == timedelta(days=6) and end <= last
    assert last - end < timedelta(days=7)
    begin, end = period_of("last-month", now)
    assert begin.day == 1 and (end + timedelta(days=1)).day == 1 and end <= last
    assert (end + timedelta(days=1)).month != last.month or last == end or end < last


# ------------------------------------------------------------------------ config
@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[[account]]\nappid = "wxa"\nsecret_env = "S"\n', "store ="),
        ('store = "s"\n', "no [[account]]"),
        ('store = "s"\nstores = 1\n[[account]]\nappid="wxa"\nsecret_env="S"\n', "stores"),
        ('store = "s"\n[[account]]\nappid="wxa"\nsecret_env="S"\n[report]\nperiod="daily"\n',
         "period='daily'"),
        ('store = "s"\n[[account]]\nappid="wxa"\nsecret_env="S"\n[[destination]]\ntype="pager"\n',
         "type='pager'"),
        ('store = "s"\n[[account]]\nappid="wxa"\nsecret_env="S"\n[[destination]]\n'
         'type="folder"\npath="x"\nkey="0123456789abcdef0123456789abcdef"\n', "unknown key"),
        ('store = "s"\n[[account]]\nappid="wxa"\nsecret_env="S"\n[[alert]]\nmetric="mood"\n'
         "below=-0.3\n", "metric='mood'"),
        ('store = "s"\n[[account]]\nappid="wxa"\nsecret_env="S"\n[[alert]]\nmetric="readers"\n',
         "below = -0.3"),
        ('store = "s"\n[[account]]\nappid="wxa"\nsecret_env="S"\n[[alert]]\nmetric="readers"\n'
         "below = -30\n", "fractions of the previous period"),
    ],
)  # fmt: skip
def test_every_mistake_in_a_config_is_named_before_anything_is_asked(
    tmp_path: Path, text: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "wxframe.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        read_config(config)
    assert named in str(caught.value)
    assert "0123456789abcdef0123456789abcdef" not in str(caught.value)
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wxframe run: ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()  # nothing synced, nothing made


# ------------------------------------------------------------------------ the log
def test_the_delivery_log_survives_a_cut_last_line_and_names_damage(tmp_path: Path) -> None:
    log = DeliveryLog(tmp_path)
    log.record("wxa", "p", "team", "sending")
    log.record("wxa", "p", "team", "sent")
    with open(log.path, "a", encoding="utf-8") as f:
        f.write('{"account": "wxa", "period": "p", "destination": "mail", "sta')  # a crash
    assert DeliveryLog(tmp_path).state("wxa", "p", "team") == "sent"
    assert DeliveryLog(tmp_path).state("wxa", "p", "mail") is None
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join([lines[0], "garbage", lines[1]]) + "\n")
    with pytest.raises(StoreError, match="damaged at line 2"):
        DeliveryLog(tmp_path).state("wxa", "p", "team")


# ------------------------------------------------------------------------ alerts
def _store_with_readers(root: Path, sim: Simulator, before: int, now: int) -> Store:
    """A store whose getbizsummary says ``before`` readers a day in the week before
    2026-11-30 and ``now`` a day from it (imported, as a team's archive would be)."""
    rows = records(sim.account, "getbizsummary", date(2026, 11, 23), date(2026, 12, 6))
    for row in rows:
        readers = before if row["ref_date"] < "2026-11-30" else now
        row["detail"]["read_user"] = readers
        row["detail"]["read_user_source"][0]["user_count"] = readers
    archive = root / "biz.json"
    archive.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    store = Store(root / "store")
    store.import_json("getbizsummary", archive, account=sim.appid)
    return store


@pytest.mark.parametrize(
    ("before", "now", "fires"),
    [(1000, 600, True), (1000, 750, False), (3, 1, False), (10, 4, False), (400, 100, True)],
)
def test_a_fall_past_the_threshold_and_the_floor_fires_and_3_to_1_does_not(
    tmp_path: Path, before: int, now: int, fires: bool
) -> None:
    config = tmp_path / "wxframe.toml"
    config.write_text(
        'store = "s"\n[[account]]\nappid="wxa"\nsecret_env="S"\n[[alert]]\nname = "fall"\n'
        'metric = "readers"\nbelow = -0.3\nfloor = 100\nfail = true\n'
    )
    rules = read_config(config).alerts
    with serve(seed=0, today=TODAY) as sim:
        store = _store_with_readers(tmp_path, sim, before, now)
    period = Period(store, "2026-11-30", "2026-12-06")
    alerts = evaluate(rules, period=period, error=None, summary=None)
    assert [a.rule for a in alerts] == (["fall"] if fires else [])
    if fires:
        assert f"{now * 7:,}" in alerts[0].text and alerts[0].fail
        zh = evaluate(rules, period=period, error=None, summary=None, lang="zh")
        assert "阅读人数" in zh[0].text and "本期" in zh[0].text


# ------------------------------------------------------------------------ whole runs
@pytest.mark.slow
def test_a_run_of_two_accounts_delivers_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # two accounts, not three: each is delivered on its own (a report each), and a third
    # would only add a kernel's start and a report's render
    with accounts(2, monkeypatch) as sims:
        config = write_config(tmp_path, sims, '[[alert]]\nkind = "partial"\n')
        job = read_config(config)
        done = run_job(job, now=NOW, say=lambda line: None)
        assert done.exit_status == 0, done
        assert sorted(done.reports) == sorted(s.appid for s in sims)
        for sim in sims:
            for share in ("share", "share2"):
                folder = tmp_path / share / sim.appid / "2026-11-30..2026-12-06"
                assert sorted(p.name for p in folder.iterdir()) == [
                    "chart.png", "report.html", "summary.md"]  # fmt: skip
                assert (folder / "report.html").read_bytes() == done.reports[sim.appid].read_bytes()
        # a rerun of the same period sends nothing again, and renders nothing
        again = run_job(job, now=NOW, say=lambda line: None)
        assert {o.state for o in again.outcomes} == {"already sent"} and not again.reports
        # --resend sends it again
        assert main(["run", "--config", str(config), "--resend", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would send" in out
    assert not any(s.secret in out for s in sims)
    events = [json.loads(line) for line in (tmp_path / "store/_deliveries/log.jsonl").open()]
    assert [e["state"] for e in events].count("sent") == 2 * len(sims)


@pytest.mark.slow
def test_a_run_without_the_accounts_secret_delivers_the_alert_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with accounts(1, monkeypatch) as sims:
        monkeypatch.setenv("JOB_SECRET_0", "not-the-secret")
        config = write_config(tmp_path, sims, '[[alert]]\nkind = "access"\nfail = true\n')
        status = main(["run", "--config", str(config)])
        out = capsys.readouterr().out
        assert status == 4  # access refused outranks the alert's 1
        [folder] = (tmp_path / "share").rglob("summary.md")
        summary = folder.read_text()
        assert "the platform refuses access" in summary and "JOB_SECRET_0" in summary
        assert "readers" not in summary  # no headline that looks whole and is not
        assert not list((tmp_path / "share2").rglob("*"))  # alerts = false: nothing to say
        assert "not-the-secret" not in out + summary
        # the secret fixed, the archive's share not mounted: the report goes to the share,
        # the archive's failure stops nothing and is tried again by the next run
        monkeypatch.setenv("JOB_SECRET_0", sims[0].secret)
        (tmp_path / "share2").rmdir()
        assert main(["run", "--config", str(config)]) == 2
        out = capsys.readouterr().out
        assert "share: sent" in out and "archive: failed" in out and "is the share mounted" in out
        (tmp_path / "share2").mkdir()
        assert main(["run", "--config", str(config)]) == 0
        out = capsys.readouterr().out
    assert "share: already sent" in out and "archive: sent" in out
    assert (folder.parent / "report.html").exists() and "readers" in folder.read_text()
    assert oct((folder.parent / "report.html").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
