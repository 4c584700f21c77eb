"""Data quality: loads, quarantine by reason, sample rejected rows, outliers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mci.dashboard import data


def render() -> None:
    """Draws the page (the whole warehouse: the sidebar filters do not apply here)."""
    db, _ = data.current()
    st.title("Data quality")
    st.caption("Covers every load in the warehouse; the sidebar filters do not apply here.")
    report = data.quality(db)
    totals = report["totals"]
    labels = ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_outlier")
    for column, key in zip(st.columns(len(labels)), labels, strict=True):
        column.metric(key.replace("rows_", "").title(), f"{totals.get(key, 0):,}")

    st.subheader("Loads")
    st.dataframe(pd.DataFrame(report["loads"]), hide_index=True)

    st.subheader("Quarantine by reason")
    reasons = pd.DataFrame(
        list(report["quarantine_by_reason"].items()), columns=["reason_code", "rows"]
    )
    if reasons.empty:
        st.info("No rows were quarantined.")
    else:
        st.bar_chart(reasons.set_index("reason_code"))
        st.dataframe(reasons, hide_index=True)
        st.subheader("Samples")
        st.dataframe(pd.DataFrame(report["samples"]), hide_index=True)

    st.subheader("Outliers by channel")
    outliers = pd.DataFrame(
        [
            {"channel": channel, "reason": reason, "rows": count}
            for channel, per_reason in report["outliers_by_channel"].items()
            for reason, count in per_reason.items()
        ],
        columns=["channel", "reason", "rows"],
    )
    if outliers.empty:
        st.info("No outliers were flagged.")
    else:
        st.dataframe(outliers, hide_index=True)

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


if __name__ == "__main__":
    render()
