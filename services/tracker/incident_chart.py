"""The after-action report's timeline chart: one row for the incident itself, one per channel, a mark
per step, the holds shaded. PNG, drawn with the dashboard's chart machinery (``charts``)."""

from __future__ import annotations

from datetime import datetime

from services.tracker import charts
from services.tracker.i18n import Translator
from services.tracker.incident_timeline import IncidentDetail, IncidentStep

WIDTH_PX = 1200
HEADER_PX = 180
ROW_PX = 50

MARKS: dict[str, tuple[str, str]] = {
    # the step (kind, or delivery state) → (matplotlib marker, colour)
    "incident.opened": ("D", "#111111"),
    "incident.closed": ("D", "#111111"),
    "incident.note": ("o", "#888888"),
    "hold.placed": ("v", "#d97706"),
    "hold.released": ("^", "#15803d"),
    "content.approved": ("s", "#1d4ed8"),
    "content.updated": ("s", "#60a5fa"),
    "content.retracted": ("x", "#b91c1c"),
    "held": ("|", "#d97706"),
    "published": ("o", "#15803d"),
    "retracted": ("o", "#b91c1c"),
    "failed": ("X", "#b91c1c"),
    "needs_attention": ("X", "#b91c1c"),
    "retract_failed": ("X", "#7f1d1d"),
}
OTHER = (".", "#9ca3af")
"""Steps on the way (received, scheduled, publishing, retrying, retracting, ...)."""


def size_px(incident: IncidentDetail) -> tuple[int, int]:
    """The chart's size: fixed width, a row per channel plus the incident's own."""
    return WIDTH_PX, HEADER_PX + ROW_PX * len(rows(incident))


def rows(incident: IncidentDetail) -> list[str]:
    """``""`` (the incident's own row), then each channel a step went to, sorted."""
    return ["", *sorted({s.channel for s in incident.steps if s.channel})]


def _key(s: IncidentStep) -> str:
    return s.state.value if s.kind == "delivery.status" and s.state else s.kind


def png(incident: IncidentDetail, t: Translator) -> bytes:
    import matplotlib.dates as mdates

    from loa.events import DEFAULT_TIMEZONE

    names = rows(incident)
    width, height = size_px(incident)
    figure = charts.figure(width, height)
    ax = figure.add_subplot()
    y_of = {name: len(names) - 1 - i for i, name in enumerate(names)}
    shown: set[str] = set()
    for s in incident.steps:
        key = _key(s)
        marker, colour = MARKS.get(key, OTHER)
        label = t.event(s.kind, s.state.value if s.state else None)
        x = mdates.date2num(s.at)  # type: ignore[no-untyped-call]
        ax.plot(
            [x],
            [y_of[s.channel or ""]],
            marker=marker,
            color=colour,
            markersize=9,
            linestyle="none",
            label=None if label in shown else label,
        )
        shown.add(label)
    for hold in _hold_spans(incident):
        start, end = mdates.date2num(hold)  # type: ignore[no-untyped-call]
        ax.axvspan(start, end, color="#fde68a", alpha=0.4, zorder=0)
    ax.set_yticks(list(y_of.values()), [t.channel(n) if n else t("incident") for n in names])
    ax.set_ylim(-0.7, len(names) - 0.3)
    hours = mdates.DateFormatter(_time_format(incident), tz=DEFAULT_TIMEZONE)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(hours)
    ax.grid(axis="x", color="#e5e7eb")
    severity = t("severity_" + incident.severity.value)
    ax.set_title(f"{incident.title} — {t('severity')}: {severity}", loc="left")
    ax.set_xlabel(f"{t('when')} (Asia/Ho_Chi_Minh)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return charts.export(figure, "png")


def _time_format(incident: IncidentDetail) -> str:
    """Seconds on the axis when the whole incident fits in a few minutes (a drill, a quick fix)."""
    times = [s.at for s in incident.steps] or [incident.opened_at]
    return "%H:%M:%S" if (max(times) - min(times)).total_seconds() < 600 else "%H:%M"


def _hold_spans(incident: IncidentDetail) -> list[tuple[datetime, datetime]]:
    """(placed, released or the incident's end) of each hold, as its steps tell."""
    end = incident.closed_at or max((s.at for s in incident.steps), default=incident.opened_at)
    released = {s.hold_id: s.at for s in incident.steps if s.kind == "hold.released"}
    return [(s.at, released.get(s.hold_id, end)) for s in incident.steps if s.kind == "hold.placed"]
