"""``wxframe run``: one idempotent job a scheduler starts (cron, a systemd timer,
GitHub Actions): sync the accounts of a config, render each one's report for the
period it names, check its alert rules and deliver to its destinations, each delivery
once (the delivery log in the store).

A config (TOML; secrets only as the names of environment variables)::

    store = "./wx-store"

    [[account]]
    appid = "wx1234567890abcdef"
    secret_env = "WX_SECRET_SHOP"

    [report]
    period = "last-week"        # last-week | last-28-days | last-month (Beijing days)
    lang = "zh"

    [[destination]]
    name = "team"
    type = "wecom"
    key_env = "WECOM_KEY"

    [[alert]]
    metric = "readers"
    below = -0.3                # a fall of 30 % or more
    floor = 100                 # and of at least 100 readers
    fail = true                 # wxframe run exits 1 when it fires
"""

from __future__ import annotations

from wxframe.job._alerts import evaluate
from wxframe.job._config import ALERT_KINDS, PERIODS, AlertRule, JobConfig, period_of, read_config
from wxframe.job._log import DeliveryLog
from wxframe.job._run import Outcome, RunSummary, run_job

__all__ = [
    "ALERT_KINDS",
    "PERIODS",
    "AlertRule",
    "DeliveryLog",
    "JobConfig",
    "Outcome",
    "RunSummary",
    "evaluate",
    "period_of",
    "read_config",
    "run_job",
]
