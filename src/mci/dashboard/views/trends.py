"""Trends: ROI, spend, CTR and engagement at a chosen grain."""

from __future__ import annotations

import streamlit as st

from mci.dashboard import data
from mci.dashboard.charts import line_spec
from mci.dashboard.format import number_columns

SERIES: tuple[tuple[str, str], ...] = (
    ("roi", "ROI"),
    ("spend", "Spend ($)"),
    ("ctr", "CTR"),
    ("engagement", "Engagement (1-10)"),
)
GRAINS = ("day", "week", "month", "quarter")


def render() -> None:
    """Draws the page."""
    db, filters = data.current()
    st.title("Trends")
    grain = st.radio("Grain", GRAINS, index=1, horizontal=True, key="trend_grain") or "week"
    if not data.require_rows(db, filters):
        return
    frame = data.metrics(db, filters, [name for name, _ in SERIES], grain=grain)
    st.caption(
        f"{len(frame):,} {grain}s; ratios are recomputed from sums at each {grain}; the first "
        f"and last {grain} may be partial."
    )
    for row in (SERIES[:2], SERIES[2:]):
        for column, (name, label) in zip(st.columns(2), row, strict=True):
            with column:
                st.subheader(label)
                st.vega_lite_chart(line_spec(frame, name, label))
    with st.expander("The numbers behind the charts"):
        st.dataframe(frame, hide_index=True, column_config=number_columns(frame.columns))


if __name__ == "__main__":
    render()
