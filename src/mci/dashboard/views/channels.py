"""Channels: which channels earn, and whether it is real; stability; budget advice.

The page renders the report's own findings object (:func:`mci.analytics.channel_findings`
under the sidebar's filters) and its sentences (:mod:`mci.report.sentences`): with no filters,
what it says and the numbers it shows are the report's, to the last decimal.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mci.dashboard import data
from mci.dashboard.format import plain
from mci.report.sentences import channel_sentences

_MONEY = st.column_config.NumberColumn
_CHANNEL_COLUMNS = {
    "entity": st.column_config.TextColumn("Channel"),
    "spend": _MONEY("Spend", format="dollar"),
    "spend_share": _MONEY("Share of spend", format="percent"),
    "campaigns": _MONEY("Campaigns", format="localized"),
    "periods": _MONEY("Months", format="%d"),
    "roi": _MONEY("ROI", format="%.3f", help="Spend-weighted: net return / spend"),
    "roi_low": _MONEY("95% low", format="%.3f", help="Interval from month-to-month variation"),
    "roi_high": _MONEY("95% high", format="%.3f"),
    "roi_shrunk": _MONEY(
        "ROI shrunk", format="%.3f", help="Pulled toward the portfolio by its own uncertainty"
    ),
    "roi_mix_adjusted": _MONEY(
        "Mix-adjusted ROI", format="%.3f", help="At the portfolio's campaign-type mix"
    ),
    "roi_now": _MONEY("ROI now", format="%.3f", help="The level since its last shift"),
    "vs_rest": st.column_config.TextColumn("vs rest of portfolio"),
    "quadrant": st.column_config.TextColumn("Quadrant"),
}
_STABILITY_COLUMNS = {
    "entity": st.column_config.TextColumn("Channel"),
    "roi_cv_within": _MONEY("CV within months", format="%.3f"),
    "roi_cv_across": _MONEY(
        "CV across months", format="%.3f", help="Around its level (after any shift)"
    ),
    "cv_low": _MONEY("95% low", format="%.3f"),
    "cv_high": _MONEY("95% high", format="%.3f"),
}
_ADVICE_COLUMNS = {
    "from": st.column_config.TextColumn("From"),
    "to": st.column_config.TextColumn("To"),
    "amount": _MONEY("Amount", format="dollar"),
    "roi_from": _MONEY("ROI from", format="%.3f"),
    "roi_to": _MONEY("ROI to", format="%.3f"),
    "expected_gain": _MONEY("Expected gain", format="dollar"),
    "gain_low": _MONEY("95% low", format="dollar"),
    "gain_high": _MONEY("95% high", format="dollar"),
}


def _p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "p < 0.0001" if value < 1e-4 else f"p = {value:.3g}"


def _side(row: pd.Series) -> str:
    if not row["compared"]:
        return "too little data"
    if row["vs_rest_significant"]:
        side = "above" if row["vs_rest_estimate"] > 0 else "below"
        return f"{side} ({_p(row['vs_rest_p_adjusted'])})"
    return f"not different ({_p(row['vs_rest_p_adjusted'])})"


def _markdown(sentences: list[str]) -> None:
    for sentence in sentences:
        st.markdown(sentence)


def render() -> None:
    """Draws the page."""
    db, filters = data.current()
    st.title("Channels")
    with st.spinner("Testing which differences are real..."):
        found = data.channels(db, filters)
    if found["status"] == "no_data":
        st.info(data.NO_ROWS)
        return
    said = channel_sentences(found, "en", escape=plain)
    table = pd.DataFrame(found["channels"])
    table["vs_rest"] = table.apply(_side, axis=1)
    table["quadrant"] = [
        (q if clear else f"{q} (within noise)") if isinstance(q, str) else ""
        for q, clear in zip(table["quadrant"], table["roi_side_clear"], strict=True)
    ]
    if found["status"] != "ok":
        st.info(said["verdict"][0])
        _markdown(said["evidence"])
        st.dataframe(
            table[["entity", "spend", "spend_share", "campaigns", "periods", "roi"]],
            hide_index=True,
            column_config=_CHANNEL_COLUMNS,
        )
        return

    _markdown(said["verdict"])
    for sentence in said["mix"]:
        st.warning(sentence)
    for sentence in said["evidence"]:
        st.caption(sentence)
    for sentence in said["method"]:
        st.caption(sentence)

    st.subheader("Efficiency vs scale")
    from mci.report.charts import quadrant_chart

    compared = table[table["compared"]]
    chart = compared.assign(label=compared["quadrant"].str.replace(" (within noise)", ""))
    chart = chart.assign(significant=compared["roi_side_clear"])
    thresholds = found["quadrant_thresholds"]
    st.vega_lite_chart(
        quadrant_chart(
            chart,
            thresholds["spend_threshold"],
            thresholds["roi_threshold"],
            "ROI vs spend by channel (filled: clear of the ROI threshold)",
            {"spend": "Spend", "roi": "ROI"},
        )
    )
    for sentence in said["quadrants"]:
        st.caption(sentence)
    st.dataframe(table[list(_CHANNEL_COLUMNS)], hide_index=True, column_config=_CHANNEL_COLUMNS)

    st.subheader("ROI stability")
    _markdown(said["stability"])
    st.dataframe(
        compared[list(_STABILITY_COLUMNS)].sort_values("roi_cv_across"),
        hide_index=True,
        column_config=_STABILITY_COLUMNS,
    )

    st.subheader("Budget reallocation")
    advice = found["advice"]
    if not advice["recommend"]:
        st.info(said["advice"][0])
        return
    moves = len(advice["shifts"])  # one sentence a move, then the total and the caveats
    st.success(said["advice"][moves])
    st.dataframe(
        pd.DataFrame(advice["shifts"])[list(_ADVICE_COLUMNS)],
        hide_index=True,
        column_config=_ADVICE_COLUMNS,
    )
    for sentence in said["advice"][moves + 1 :]:
        st.caption(sentence)


if __name__ == "__main__":
    render()
