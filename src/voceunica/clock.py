"""The one home of "when": SOURCE_DATE_EPOCH when set (a CI run, a release, a reproducible build), else today.

`check` judges time-dependent rules (a stale KPI series, an EU file's overdue next step) as of `today()`;
builds stamp their files with `source_date_epoch()` or the dossier's own date, never the wall clock.
"""

from __future__ import annotations

import datetime as dt
import os


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as an integer, or None when unset or not a number of seconds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(epoch) if epoch.isdigit() else None


def today(epoch: int | None = None) -> dt.date:
    """The day of `epoch` (else of SOURCE_DATE_EPOCH) in UTC, else today's date."""
    epoch = epoch if epoch is not None else source_date_epoch()
    if epoch is not None:
        return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).date()
    return dt.date.today()
