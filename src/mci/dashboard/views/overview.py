"""Overview: KPI tiles against the previous period, trends, channel share, signal cards."""

from __future__ import annotations

import streamlit as st

from mci.dashboard import data
from mci.dashboard.charts import donut_spec, line_spec
from mci.dashboard.format import delta_color, fmt, fmt_delta, is_missing
from mci.semantic.api import previous_window
from mci.semantic.registry import METRICS

KPIS: tuple[tuple[str, str], ...] = (
    ("roi", "ROI"),
    ("spend", "Spend"),
    ("conversions", "Conversions"),
    ("ctr", "CTR"),
    ("cpc", "CPC"),
    ("cpm", "CPM"),
    ("cpa", "CPA"),
)

SIGNALS: tuple[tuple[str, str], ...] = (
    ("impressions", "Impressions"),
    ("clicks", "Clicks"),
    ("ctr", "CTR"),
    ("roi", "ROI"),
)
# Weekly points: daily ones are too noisy to read at the size of a card.
SIGNAL_GRAIN = "week"
NO_PREVIOUS = (
    "No deltas: the previous period of equal length ({start} to {end}) holds no data. "
    "Narrow the date range to compare."
)


def render() -> None:
    """Draws the page."""
    db, filters = data.current()
    st.title("Overview")
    # One query for the row count, the tiles and the signal cards' figures (in order, once).
    names = list(dict.fromkeys(name for name, _ in (("campaigns", ""), *KPIS, *SIGNALS)))
    compare = "previous_period" if filters.start and filters.end else None
    kpis = data.metrics(db, filters, names, compare=compare)
    row = kpis.iloc[0]
    if not row["campaigns"]:
        st.info(data.NO_ROWS)
        return
    has_previous = bool(compare) and not is_missing(row.get("spend_previous"))
    if has_previous:
        st.caption(
            f"{filters.start} to {filters.end}, deltas against the previous period of equal length."
        )
    elif compare:
        start, end = previous_window(filters.start, filters.end)
        st.caption(NO_PREVIOUS.format(start=start, end=end))
    # Two rows of tiles: seven in one row clip values such as "$558.1M" on a laptop screen.
    per_row = 4
    for first in range(0, len(KPIS), per_row):
        chunk = KPIS[first : first + per_row]
        for column, (name, label) in zip(st.columns(per_row), chunk, strict=False):
            delta = fmt_delta(row.get(f"{name}_delta_pct")) if has_previous else None
            column.metric(label, fmt(name, row[name]), delta=delta, delta_color=delta_color(name))

    daily = data.metrics(db, filters, ["spend", "roi"], grain="day")
    left, right = st.columns(2)
    with left:
        st.subheader("Daily spend")
        st.vega_lite_chart(line_spec(daily, "spend", "Spend"))
    with right:
        st.subheader("Daily ROI")
        st.vega_lite_chart(line_spec(daily, "roi", "ROI"))

    st.subheader("Spend share by channel")
    share = data.metrics(db, filters, ["spend"], by=["channel"])
    share = share[share["spend"] > 0]
    total = share["spend"].sum()
    share = share.assign(share=share["spend"] / total if total else 0.0)
    st.vega_lite_chart(donut_spec(share))

    st.subheader("Performance signals")
    st.caption("Weekly values over the selected range; the figure is the whole range's value.")
    weekly = data.metrics(db, filters, [name for name, _ in SIGNALS], grain=SIGNAL_GRAIN)
    for column, (name, label) in zip(st.columns(len(SIGNALS)), SIGNALS, strict=True):
        series = [None if is_missing(v) else float(v) for v in weekly[name]]
        column.metric(
            label,
            fmt(name, row[name]),
            chart_data=series,
            chart_type="bar" if METRICS[name].kind != "ratio" else "line",
            border=True,
        )


if __name__ == "__main__":
    render()
