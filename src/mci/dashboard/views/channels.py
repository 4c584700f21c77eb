"""Channels: efficiency-vs-scale quadrants, ROI stability and budget reallocation advice."""

from __future__ import annotations

import streamlit as st

from mci.dashboard import data
from mci.dashboard.format import fmt, number_columns, plain


def _p_text(value: float) -> str:
    """A p-value as people read it: ``< 0.0001`` or three significant digits."""
    if value != value:
        return "n/a"
    return "< 0.0001" if value < 1e-4 else f"{value:.3g}"


def _p_phrase(value: float) -> str:
    """``p < 0.0001`` or ``p = 0.0459``."""
    text = _p_text(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _fixed(*names: str) -> dict[str, object]:
    """``column_config`` showing ``names`` with three decimals."""
    return {name: st.column_config.NumberColumn(format="%.3f") for name in names}


def render() -> None:
    """Draws the page."""
    db, filters = data.current()
    st.title("Channels")
    with st.spinner("Testing which differences are real..."):
        result = data.channels(db, filters)
    if result["by_entity"].empty:
        st.info(data.NO_ROWS)
        return
    if "quadrants" not in result:
        st.info("Quadrants need at least two channels; widen the channel filter.")
        return
    from mci.report.charts import quadrant_chart

    table = result["quadrants"]
    st.subheader("Efficiency vs scale")
    spec = quadrant_chart(
        table,
        result["spend_threshold"],
        result["roi_threshold"],
        "ROI vs spend by channel",
        {"spend": "Spend", "roi": "ROI"},
    )
    st.vega_lite_chart(spec)
    shown = table.assign(
        p_value=table["p_value"].map(_p_text),
        p_adjusted=table["p_adjusted"].map(_p_text),
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config=number_columns(shown.columns) | _fixed("roi_low", "roi_high"),
    )

    st.subheader("ROI stability")
    if "stability" in result:
        st.dataframe(
            result["stability"],
            hide_index=True,
            column_config={
                name: st.column_config.NumberColumn(format="%.3f")
                for name in result["stability"].columns
                if name not in ("entity", "spend", "months", "days")
            }
            | {"spend": st.column_config.NumberColumn(format="$%,.0f")},
        )
        summary = result["stability_summary"]
        st.caption(
            f"ROI differs across channels: {'yes' if summary['roi_differs'] else 'no'} "
            f"({_p_phrase(summary['roi_p_value'])}); volatility differs: "
            f"{'yes' if summary['cv_differs'] else 'no'} ({_p_phrase(summary['cv_p_value'])})."
        )
        st.markdown("**Consistency ranking** (spend at or above the median, steadiest first)")
        st.dataframe(
            result["ranking"],
            hide_index=True,
            column_config=number_columns(["spend"]) | _fixed("roi_cv_within", "roi_mean"),
        )
        if not summary["cv_differs"]:
            st.caption(
                "Volatility does not differ significantly between channels, so this order "
                "may be noise: do not act on it alone."
            )
    else:
        st.info(
            f"Stability cannot be assessed for this selection: {plain(result['stability_error'])}"
        )

    st.subheader("Budget reallocation")
    advice = result["advice"]
    (st.success if advice["recommend"] else st.info)(plain(advice["reason"]))
    if advice["recommend"] and not advice["shifts"].empty:
        money = st.column_config.NumberColumn(format="dollar")
        st.dataframe(
            advice["shifts"],
            hide_index=True,
            column_config={
                name: money for name in ("amount", "expected_gain", "gain_low", "gain_high")
            }
            | _fixed("roi_from", "roi_to"),
        )
        st.caption(
            f"Expected change in net return: {fmt('net_return', advice['expected_gain'])} "
            f"(95% interval {fmt('net_return', advice['gain_low'])} to "
            f"{fmt('net_return', advice['gain_high'])}). {advice['assumption']}"
        )


if __name__ == "__main__":
    render()
