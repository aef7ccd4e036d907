"""The dashboard's charts, one place for how a figure is made and written out: matplotlib (in the
lock) on its Agg backend, DejaVu Sans (matplotlib's default font, which has every Vietnamese glyph),
a fixed DPI so that a size in pixels is the image's size. The incident report's timeline
(``incident_chart``) and the leadership report's bars (``report_chart``) draw on it."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100
ChartFormat = Literal["png", "pdf"]
MEDIA_TYPES: dict[str, str] = {"png": "image/png", "pdf": "application/pdf"}


def figure(width_px: int, height_px: int) -> Figure:
    """An empty figure of that size in pixels (at ``DPI``), laid out so that labels fit."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the tracker draws on a server
    from matplotlib.figure import Figure

    return Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, layout="constrained")


def export(drawn: Figure, fmt: ChartFormat = "png") -> bytes:
    """The figure as a PNG image or a one-page PDF (fonts embedded)."""
    out = io.BytesIO()
    drawn.savefig(out, format=fmt, dpi=DPI)
    return out.getvalue()
