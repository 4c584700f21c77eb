"""Overview: KPI tiles against the previous period, spend and ROI trends, channel share."""

from __future__ import annotations

import streamlit as st

from mci.dashboard import data
from mci.dashboard.format import delta_color, fmt, fmt_delta

KPIS: tuple[tuple[str, str], ...] = (
    ("roi", "ROI"),
    ("spend", "Spend"),
    ("conversions", "Conversions"),
    ("ctr", "CTR"),
    ("cpc", "CPC"),
    ("cpm", "CPM"),
    ("cpa", "CPA"),
)


def donut_spec(frame, dimension: str = "channel") -> dict:
    """A Vega-Lite donut of spend share by ``dimension`` (data travels as values)."""
    return {
        "mark": {"type": "arc", "innerRadius": 60},
        "encoding": {
            "theta": {"field": "spend", "type": "quantitative", "stack": True},
            "color": {"field": dimension, "type": "nominal", "title": dimension.title()},
            "tooltip": [
                {"field": dimension, "type": "nominal"},
                {"field": "spend", "type": "quantitative", "format": "$,.0f"},
                {"field": "share", "type": "quantitative", "format": ".1%"},
            ],
        },
        "data": {"values": frame.to_dict("records")},
    }


def render() -> None:
    """Draws the page."""
    db, filters = data.current()
    st.title("Overview")
    if not data.require_rows(db, filters):
        return
    names = [name for name, _ in KPIS]
    compare = "previous_period" if filters.start and filters.end else None
    kpis = data.metrics(db, filters, names, compare=compare)
    row = kpis.iloc[0]
    if compare:
        st.caption(
            f"{filters.start} to {filters.end}, deltas against the previous period of equal length."
        )
    # Two rows of tiles: seven in one row clip values such as "$558.1M" on a laptop screen.
    per_row = 4
    for first in range(0, len(KPIS), per_row):
        chunk = KPIS[first : first + per_row]
        for column, (name, label) in zip(st.columns(per_row), chunk, strict=False):
            delta = fmt_delta(row.get(f"{name}_delta_pct")) if compare else None
            column.metric(label, fmt(name, row[name]), delta=delta, delta_color=delta_color(name))

    daily = data.metrics(db, filters, ["spend", "roi"], grain="day").set_index("period")
    left, right = st.columns(2)
    with left:
        st.subheader("Daily spend")
        st.line_chart(daily[["spend"]], y_label="Spend ($)")
    with right:
        st.subheader("Daily ROI")
        st.line_chart(daily[["roi"]], y_label="ROI")

    st.subheader("Spend share by channel")
    share = data.metrics(db, filters, ["spend"], by=["channel"])
    share = share[share["spend"] > 0]
    total = share["spend"].sum()
    share = share.assign(share=share["spend"] / total if total else 0.0)
    st.vega_lite_chart(donut_spec(share))


if __name__ == "__main__":
    render()
