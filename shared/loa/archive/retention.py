"""How long the archive keeps a content's records, per content kind: ``LOA_ARCHIVE_RETENTION``.

``press_release=10y,news=5y,default=5y``: a kind of ``loa.events.ContentKind`` (or ``default``,
required) and a period in whole years (``y``) or days (``d``). A record is locked until its
``archived_at`` plus its content's period (``Retention.until``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from loa.events import ContentKind

DEFAULT = "default"
SETTING = "LOA_ARCHIVE_RETENTION"
_PERIOD = re.compile(r"^(?P<n>[0-9]{1,3})(?P<unit>[yd])$")
MAX_DAYS = 100 * 366


@dataclass(frozen=True)
class Period:
    years: int = 0
    days: int = 0

    def after(self, start: datetime) -> datetime:
        """``start`` plus this period; 29 February plus whole years ends on 1 March (never early)."""
        if not self.years:
            return start + timedelta(days=self.days)
        year = start.year + self.years
        try:
            return start.replace(year=year)
        except ValueError:  # 29 February in a year that has none
            return start.replace(year=year, month=3, day=1)


@dataclass(frozen=True)
class Retention:
    periods: dict[str, Period]

    @classmethod
    def parse(cls, table: str) -> Retention:
        """Refuses an unknown kind, a bad period, a kind given twice or a missing default, naming
        ``LOA_ARCHIVE_RETENTION`` and the entry."""
        kinds = {k.value for k in ContentKind} | {DEFAULT}
        periods: dict[str, Period] = {}
        for entry in (e.strip() for e in table.split(",") if e.strip()):
            kind, sep, value = (part.strip() for part in entry.partition("="))
            if not sep or kind not in kinds:
                raise ValueError(
                    f"{SETTING}: {entry!r} is not KIND=PERIOD with KIND one of {', '.join(sorted(kinds))}"
                )
            match = _PERIOD.match(value)
            if match is None or int(match["n"]) == 0:
                raise ValueError(
                    f"{SETTING}: {kind}={value!r}: the period is a whole number of years "
                    "or days above zero, e.g. 10y or 400d"
                )
            if kind in periods:
                raise ValueError(f"{SETTING}: {kind} is given twice")
            n = int(match["n"])
            periods[kind] = Period(years=n) if match["unit"] == "y" else Period(days=n)
        if DEFAULT not in periods:
            raise ValueError(f"{SETTING}: default=PERIOD is required (for kinds not listed): {table!r}")
        return cls(periods)

    @property
    def default(self) -> Period:
        return self.periods[DEFAULT]

    def until(self, kind: str | None, archived_at: datetime) -> datetime:
        return self.periods.get(kind or DEFAULT, self.periods[DEFAULT]).after(archived_at)
