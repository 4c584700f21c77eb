"""Monthly: the month x channel x campaign type table, with a CSV download."""

from __future__ import annotations

import streamlit as st

from mci.dashboard import data
from mci.dashboard.format import number_columns

COLUMNS = ("spend", "impressions", "clicks", "conversions", "ctr", "cpc", "cpm", "cpa", "roi")


def render() -> None:
    """Draws the page."""
    db, filters = data.current()
    st.title("Monthly")
    if not data.require_rows(db, filters):
        return
    frame = data.metrics(db, filters, COLUMNS, by=["channel", "campaign_type"], grain="month")
    frame = frame.sort_values(["period", "channel", "campaign_type"]).reset_index(drop=True)
    frame.insert(0, "month", frame.pop("period").dt.strftime("%Y-%m"))
    st.caption(
        f"{len(frame):,} rows (month x channel x campaign type); click a column header to sort."
    )
    st.dataframe(frame, hide_index=True, column_config=number_columns(COLUMNS))
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False).encode("utf-8"),
        file_name="mci_monthly.csv",
        mime="text/csv",
    )


if __name__ == "__main__":
    render()
