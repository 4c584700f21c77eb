"""Data quality: loads, quarantine by reason, sample rejected rows, outliers.

Loads and quarantined lines describe files, not campaigns, so the sidebar filters cannot
select among them; the outliers are campaign rows, and follow the filters.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mci.dashboard import data
from mci.dashboard.filters import Filters
from mci.dashboard.format import number_columns


def render() -> None:
    """Draws the page."""
    db, filters = data.current()
    st.title("Data quality")
    st.caption(
        "Loads and quarantined lines cover every file loaded (they are not campaigns, so the "
        "sidebar filters do not select among them); the outliers follow the filters."
    )
    report = data.quality(db)
    totals = report["totals"]
    labels = ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_outlier")
    for column, key in zip(st.columns(len(labels)), labels, strict=True):
        column.metric(key.replace("rows_", "").title(), f"{totals.get(key, 0):,}")

    st.subheader("Loads")
    loads = pd.DataFrame(report["loads"])
    if not loads.empty:
        loads["sha256"] = loads["sha256"].str[:12]  # enough to tell files apart
    st.dataframe(loads, hide_index=True)

    st.subheader("Quarantine by reason")
    reasons = pd.DataFrame(
        list(report["quarantine_by_reason"].items()), columns=["reason_code", "rows"]
    )
    if reasons.empty:
        st.info("No rows were quarantined.")
    else:
        st.bar_chart(reasons.set_index("reason_code"), horizontal=True, x_label="lines")
        st.dataframe(reasons, hide_index=True)
        st.subheader("Samples")
        st.dataframe(pd.DataFrame(report["samples"]), hide_index=True)

    _outliers(db, filters, report["outliers_by_channel"])

    if report["new_categories"]:
        st.subheader("New categories seen in loads")
        st.dataframe(
            pd.DataFrame(
                [
                    {"column": column, "value": value}
                    for column, values in report["new_categories"].items()
                    for value in values
                ]
            ),
            hide_index=True,
        )


def _outliers(db: str, filters: Filters, by_reason: dict[str, dict[str, int]]) -> None:
    st.subheader("Outliers in the current view")
    if not data.require_rows(db, filters):
        return
    frame = data.metrics(db, filters, ["campaigns", "outliers"], by=["channel"])
    frame = frame.assign(share=frame["outliers"] / frame["campaigns"].where(frame["campaigns"] > 0))
    st.dataframe(
        frame,
        hide_index=True,
        column_config=number_columns(frame.columns)
        | {"share": st.column_config.NumberColumn("share", format="percent")},
    )
    st.caption(
        "Flagged at ingest (modified z-score above 3.5 on the log of spend, CPC or CTR "
        "within the channel); flagged rows stay in every KPI."
    )
    rows = [
        {"channel": channel, "reason": reason, "rows": count}
        for channel, per_reason in by_reason.items()
        for reason, count in per_reason.items()
    ]
    if rows:
        with st.expander("By reason, whole warehouse"):
            st.dataframe(pd.DataFrame(rows), hide_index=True)


if __name__ == "__main__":
    render()
