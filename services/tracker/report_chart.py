"""The leadership report's chart: a row per unit and channel; on the left the posts published (on
time, late) and the deliveries failed, in the middle the reach/views, on the right the comments and
the watch's alerts (answered, not yet) with their median response time. PNG or PDF, drawn with the
dashboard's chart machinery (``charts``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.tracker import charts
from services.tracker.i18n import Translator
from services.tracker.reports import Report, ReportRow

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH_PX = 1600
HEADER_PX = 170
ROW_PX = 34
ON_TIME, LATE, FAILED, AUDIENCE = "#15803d", "#d97706", "#b91c1c", "#1d4ed8"
COMMENTS, ALERTS, WAITING = "#0f766e", "#7c3aed", "#d1d5db"
BAR = 0.38
"""Each row's comments bar above its alerts bar, each this thick (rows are 1 apart)."""


def size_px(report: Report) -> tuple[int, int]:
    """Fixed width, a band per row (one when the report is empty, for its message)."""
    return WIDTH_PX, HEADER_PX + ROW_PX * max(1, len(report.rows))


def label(t: Translator, row: ReportRow) -> str:
    return f"{row.unit} · {t.channel(row.channel)}"


def render(report: Report, t: Translator, fmt: charts.ChartFormat = "png") -> bytes:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    width, height = size_px(report)
    figure = charts.figure(width, height)
    posts, reach, heard = figure.subplots(1, 3, sharey=True, width_ratios=(3, 2, 3))
    title = f"{t('reports')}: {t.day(report.first_day)} – {t.day(report.last_day)} (Asia/Ho_Chi_Minh)"
    figure.suptitle(title, x=0.01, horizontalalignment="left")
    rows = list(reversed(report.rows))  # the first row on top
    if not rows:
        posts.text(0.5, 0.5, t("no_data"), ha="center", va="center", transform=posts.transAxes)
        posts.set_yticks([])
        return charts.export(figure, fmt)
    y = list(range(len(rows)))
    on_time = [r.on_time for r in rows]
    late = [r.published - r.on_time for r in rows]
    failed = [r.failed for r in rows]
    posts.barh(y, on_time, color=ON_TIME, label=t("on_time"))
    posts.barh(y, late, left=on_time, color=LATE, label=t("late"))
    posts.barh(
        y, failed, left=[a + b for a, b in zip(on_time, late, strict=True)], color=FAILED, label=t("failed_n")
    )
    posts.set_yticks(y, [label(t, r) for r in rows])
    posts.set_xlabel(t("report_posts_axis"))
    posts.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3, fontsize=8, frameon=False)
    posts.xaxis.set_major_locator(MaxNLocator(integer=True))  # posts are counted, never halved
    for ax in (posts, reach, heard):
        ax.set_axisbelow(True)
        ax.grid(axis="x", color="#e5e7eb")
    reach.barh(y, [r.audience or 0 for r in rows], color=AUDIENCE)
    for i, r in enumerate(rows):
        said = (
            t("not_read")
            if r.audience is None
            else f"{t.number(r.audience)} ({t('metric_' + str(r.audience_metric))})"
        )
        reach.annotate(
            said, (r.audience or 0, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8
        )
    reach.set_xlabel(t("report_audience"))
    reach.xaxis.set_major_locator(MaxNLocator(4, integer=True))
    reach.xaxis.set_major_formatter(FuncFormatter(lambda value, _: t.number(int(value))))
    reach.margins(x=0.35)
    _listening(heard, rows, t)
    return charts.export(figure, fmt)


def _listening(ax: Axes, rows: list[ReportRow], t: Translator) -> None:
    """Per row: the comments (answered, not yet) above the alerts, each with its median response time."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    bars = (
        (BAR / 2, COMMENTS, t("comments_received"),
         [(r.comments_answered, r.comments_received, r.comment_answer_median_s) for r in rows]),
        (-BAR / 2, ALERTS, t("alerts_raised"),
         [(r.alerts_answered, r.alerts, r.alert_answer_median_s) for r in rows]),
    )  # fmt: skip
    for offset, colour, _, figures in bars:
        y = [i + offset for i in range(len(rows))]
        answered = [a for a, _, _ in figures]
        ax.barh(y, answered, height=BAR, color=colour)
        ax.barh(y, [n - a for a, n, _ in figures], height=BAR, left=answered, color=WAITING)
        for i, (a, n, median_s) in enumerate(figures):
            if n:
                said = f"{a}/{n} · {t.seconds(median_s)}"
                at = (n, y[i])
                ax.annotate(said, at, xytext=(4, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_xlabel(t("report_listening_axis"))
    keys = [Patch(color=colour, label=name) for _, colour, name, _ in bars]
    keys.append(Patch(color=WAITING, label=t("not_answered")))
    ax.legend(handles=keys, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3, fontsize=8, frameon=False)
    ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
    ax.margins(x=0.3)
