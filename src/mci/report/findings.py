"""The executive summary's findings: every diagnostic, gathered once, as plain data.

Everything comes through the semantic layer and the analytics; this module only assembles.
The channel section is :func:`mci.analytics.channel_findings`, the same object the
dashboard's Channels page renders, with its sentences (:mod:`mci.report.sentences`) made
from its own fields. The JSON format of ``mci report`` is :func:`build_findings` as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from mci.analytics import channel_findings
from mci.analytics.channels import json_value, records
from mci.analytics.trends import headline
from mci.ingest.quality import quality_report
from mci.report.sentences import channel_sentences
from mci.semantic.api import query


@dataclass
class Report:
    """Findings plus the frames the charts are drawn from."""

    findings: dict[str, Any]
    monthly: pd.DataFrame

    def quadrant_table(self) -> pd.DataFrame:
        """The compared channels as the quadrant chart draws them."""
        rows = [c for c in self.findings["channels"]["channels"] if c["compared"]]
        frame = pd.DataFrame(
            rows, columns=["entity", "spend", "roi", "roi_low", "roi_high", "quadrant"]
        )
        frame["significant"] = [bool(c["roi_side_clear"]) for c in rows]
        return frame.rename(columns={"quadrant": "label"})


def build_report(db: str | None = None, *, lang: str = "en", seed: int = 0) -> Report:
    """Runs every diagnostic and gathers the findings.

    Args:
        db: the database URL; ``None`` uses ``MCI_DB_URL`` or the default.
        lang: the language of the channel sentences carried in the findings.
        seed: seed of every random draw: the same warehouse gives the same report.

    Returns:
        The findings (see :func:`build_findings`) and the chart data.
    """
    channels = channel_findings(db, seed=seed).to_dict()
    channels["sentences"] = channel_sentences(channels, lang)
    monthly = query(["spend", "net_return", "roi"], by=["channel"], grain="month", db=db)
    totals = query(["campaigns", "spend", "net_return", "roi"], db=db).iloc[0]
    quality = quality_report(db)
    findings: dict[str, Any] = {
        "period": {
            "first_month": channels["first_period"],
            "last_month": channels["last_period"],
        },
        "totals": {k: json_value(totals[k]) for k in ("campaigns", "spend", "net_return", "roi")},
        "headline": _headline(db),
        "channels": channels,
        "data_quality": {
            "totals": quality.totals,
            "quarantine_by_reason": quality.quarantine_by_reason,
            "new_categories": quality.new_categories,
            "loads": len([x for x in quality.loads if x["status"] == "loaded"]),
        },
    }
    return Report(findings, monthly)


def _headline(db: str | None) -> dict[str, Any] | None:
    """The headline KPIs against the previous window, or None when there is no data."""
    if query(["campaigns"], db=db)["campaigns"].fillna(0).iloc[0] == 0:
        return None
    kpis = headline(db)
    return {"window": {k: json_value(v) for k, v in kpis.attrs.items()}, "kpis": records(kpis)}


def build_findings(db: str | None = None, *, lang: str = "en", seed: int = 0) -> dict[str, Any]:
    """The findings as one JSON-ready dict.

    Keys: ``period``, ``totals``, ``headline`` (KPIs with period-over-period deltas, or None
    on an empty warehouse), ``channels`` (:meth:`mci.analytics.ChannelFindings.to_dict`
    plus its ``sentences``) and ``data_quality``.
    """
    return build_report(db, lang=lang, seed=seed).findings
