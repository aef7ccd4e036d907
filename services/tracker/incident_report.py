"""The after-action report of a closed incident: Markdown and CSV (the chart: ``incident_chart``).

It lists what was said where and when (every step, with the platform's answer, link or error)
and how long each step took, in the dashboard's words (Vietnamese by default).
"""

from __future__ import annotations

import csv
import io

from services.tracker.api import csv_cell
from services.tracker.i18n import Translator
from services.tracker.incident_timeline import IncidentDetail, IncidentStep, StepDuration

CSV_COLUMNS = [
    "record",
    "at",
    "ended_at",
    "seconds",
    "channel",
    "account",
    "event",
    "state",
    "grouped_as",
    "content_id",
    "title",
    "actor",
    "message",
    "error_code",
    "external_id",
    "public_url",
]
"""One row per step (``record`` = ``step``), then one per measured duration (``duration``)."""


def _md(value: object) -> str:
    """A table cell: text from people and platforms neither breaks the table nor becomes markup."""
    text = "" if value is None else str(value)
    for raw, safe in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "\\`")):
        text = text.replace(raw, safe)
    return " ".join(text.split()) or "—"


def event_label(t: Translator, s: IncidentStep) -> str:
    label = t.event(s.kind, s.state.value if s.state else None)
    if s.grouped_as:
        label += " · " + ", ".join(t(f"grouped_{g}") for g in s.grouped_as.split(","))
    return label


def said(s: IncidentStep) -> str:
    """The message, the platform's code, the post's id and link, in one line."""
    parts = [s.message or ""]
    if s.error_code:
        parts.append(f"[{s.error_code}]")
    if s.external_id:
        parts.append(f"ID {s.external_id}")
    if s.public_url:
        parts.append(s.public_url)
    return " ".join(p for p in parts if p)


def _content(s: IncidentStep) -> str:
    return f"{s.title} ({s.content_id})" if s.content_id else ""


def lasted(incident: IncidentDetail) -> float | None:
    if incident.closed_at is None:
        return None
    return (incident.closed_at - incident.opened_at).total_seconds()


def markdown(incident: IncidentDetail, t: Translator) -> str:
    lines = [
        f"# {t('report')}: {_md(incident.title)}",
        "",
        "| | |",
        "|---|---|",
        f"| {t('severity')} | {t('severity_' + incident.severity.value)} |",
        f"| {t('unit')} | {_md(', '.join(incident.units))} |",
        f"| {t('opened')} | {t.time(incident.opened_at)} · {_md(incident.opened_by)} |",
        f"| {t('closed')} | {t.time(incident.closed_at)} · {_md(incident.closed_by)} |",
        f"| {t('lasted')} | {t.seconds(lasted(incident))} |",
        "",
        f"## {t('timeline')}",
        "",
        f"| {t('when')} | {t('channel')} | {t('what')} | {t('content')} | {t('who')} | {t('said')} |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {t.time(s.at)} | {_md(_where(t, s))} | {_md(event_label(t, s))} | {_md(_content(s))} "
        f"| {_md(s.actor)} | {_md(said(s))} |"
        for s in incident.steps
    ]
    lines += [
        "",
        f"## {t('durations')}",
        "",
        f"| {t('step')} | {t('channel')} | {t('content')} | {t('started')} | {t('ended')} "
        f"| {t('duration')} |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {t('step_' + d.step)} | {_md(_channel(t, d.channel, d.account))} "
        f"| {_md(f'{d.title} ({d.subject})')} "
        f"| {t.time(d.started_at)} | {t.time(d.ended_at) if d.ended_at else t('not_yet')} "
        f"| {t.seconds(d.seconds) if d.seconds is not None else t('not_yet')} |"
        for d in incident.durations
    ]
    return "\n".join(lines) + "\n"


def _channel(t: Translator, channel: str | None, account: str | None) -> str:
    if not channel:
        return ""
    return f"{t.channel(channel)} {account}" if account else t.channel(channel)


def _where(t: Translator, s: IncidentStep) -> str:
    return _channel(t, s.channel, s.account)


def csv_text(incident: IncidentDetail, t: Translator) -> str:
    """With a BOM, so spreadsheet programs read Vietnamese as UTF-8; formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    rows = [_step_row(t, s) for s in incident.steps] + [_duration_row(t, d) for d in incident.durations]
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return "\ufeff" + buffer.getvalue()


def _step_row(t: Translator, s: IncidentStep) -> dict[str, object]:
    return {
        "record": "step",
        "at": s.at.isoformat(),
        "channel": s.channel,
        "account": s.account,
        "event": event_label(t, s),
        "state": s.state.value if s.state else None,
        "grouped_as": s.grouped_as,
        "content_id": s.content_id,
        "title": s.title,
        "actor": s.actor,
        "message": s.message,
        "error_code": s.error_code,
        "external_id": s.external_id,
        "public_url": s.public_url,
    }


def _duration_row(t: Translator, d: StepDuration) -> dict[str, object]:
    return {
        "record": "duration",
        "at": d.started_at.isoformat(),
        "ended_at": d.ended_at.isoformat() if d.ended_at else None,
        "seconds": f"{d.seconds:.3f}" if d.seconds is not None else None,
        "channel": d.channel,
        "account": d.account,
        "event": t("step_" + d.step),
        "content_id": d.subject,
        "title": d.title,
    }
