"""What the generator planted and what the written rows realise: the truth file.

:class:`Tally` sums, chunk by chunk, exactly the rows the ingest will load (faulted lines and
exact duplicates left out), so the realised figures of the truth file are what a correct
pipeline must find in the file as written.
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from mci.datagen._faults import FaultPlan, faults_truth, new_categories_truth
from mci.datagen._profiles import (
    CHANNELS,
    PLANTED_CHANNELS,
    WEEKDAYS,
    WEEKLY_WEIGHTS,
    YEAR_DAYS,
    YEARLY_AMPLITUDE,
    YEARLY_PEAK_DAY,
    Calendar,
    NoiseProfile,
    PlantedProfile,
    RowBlock,
)

QUADRANT_RULE = (
    "x = total spend, y = spend-weighted ROI per channel; thresholds are the medians over the "
    "channels and a value equal to the median counts as High"
)
VOLATILITY_RULE = (
    "coefficient of variation (sample sd / mean) over months of the channel's monthly "
    "spend-weighted ROI"
)
ANOMALY_RULE = (
    "realised_factor = the day's value / the median over the other days; spend is per campaign, "
    "ctr = clicks/impressions, cvr = conversions/clicks, roi = net return/spend"
)


def _r(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def quadrant(x: float, y: float, x_median: float, y_median: float) -> str:
    """Quadrant label of a channel (a value equal to the median counts as High)."""
    scale = "High" if x >= x_median else "Low"
    roi = "High" if y >= y_median else "Low"
    return f"{scale} Scale • {roi} ROI"


def quadrants(x: dict[str, float], y: dict[str, float]) -> dict[str, str]:
    """Quadrant label of every channel, with median thresholds over the channels."""
    mx, my = statistics.median(x.values()), statistics.median(y.values())
    return {name: quadrant(x[name], y[name], mx, my) for name in x}


class Tally:
    """Running sums over the rows the ingest will load."""

    def __init__(self, calendar: Calendar) -> None:
        """Start empty sums for ``calendar``."""
        self.calendar = calendar
        n_cm = len(CHANNELS) * len(calendar.months)
        self.cm = {key: np.zeros(n_cm) for key in ("rows", "spend", "net")}
        self.day = {
            key: np.zeros(calendar.days)
            for key in ("rows", "spend", "clicks", "impressions", "conv", "net")
        }

    def add(self, block: RowBlock, rejected: list[int], new_category: list[int]) -> None:
        """Add ``block``, leaving out the ``rejected`` lines (and ``new_category`` per channel)."""
        keep = np.ones(block.hi - block.lo, dtype=bool)
        keep[[ln - block.lo - 1 for ln in rejected]] = False
        day = block.day[keep]
        spend = block.spend[keep].astype(np.float64)
        clicks = block.clicks[keep].astype(np.float64)
        net = spend * block.roi[keep]
        d = self.calendar.days
        self.day["rows"] += np.bincount(day, minlength=d)
        self.day["spend"] += np.bincount(day, weights=spend, minlength=d)
        self.day["clicks"] += np.bincount(day, weights=clicks, minlength=d)
        self.day["impressions"] += np.bincount(
            day, weights=block.impressions[keep].astype(np.float64), minlength=d
        )
        self.day["conv"] += np.bincount(day, weights=clicks * block.conv[keep], minlength=d)
        self.day["net"] += np.bincount(day, weights=net, minlength=d)

        keep[[ln - block.lo - 1 for ln in new_category]] = False
        months = len(self.calendar.months)
        cm = block.channel[keep] * months + self.calendar.month[block.day[keep]]
        n_cm = len(CHANNELS) * months
        self.cm["rows"] += np.bincount(cm, minlength=n_cm)
        self.cm["spend"] += np.bincount(cm, weights=block.spend[keep], minlength=n_cm)
        self.cm["net"] += np.bincount(
            cm, weights=block.spend[keep].astype(np.float64) * block.roi[keep], minlength=n_cm
        )

    def channels(self) -> dict[str, dict[str, Any]]:
        """Realised figures per channel."""
        shape = (len(CHANNELS), len(self.calendar.months))
        rows = self.cm["rows"].reshape(shape)
        spend = self.cm["spend"].reshape(shape)
        net = self.cm["net"].reshape(shape) / 100.0
        total = spend.sum()
        out: dict[str, dict[str, Any]] = {}
        for k, name in enumerate(CHANNELS):
            s = spend[k].sum()
            used = spend[k] > 0
            monthly = net[k][used] / spend[k][used]
            cv = None
            if monthly.size >= 2:
                cv = float(np.std(monthly, ddof=1) / abs(np.mean(monthly)))
            out[name] = {
                "realised_rows": int(rows[k].sum()),
                "realised_spend": int(s),
                "realised_spend_share": _r(s / total if total else None),
                "realised_roi": _r(net[k].sum() / s if s else None),
                "realised_roi_cv_across_months": _r(cv),
            }
        return out

    def daily(self, metric: str) -> np.ndarray:
        """A daily series of ``metric`` (NaN where undefined)."""
        d = self.day
        with np.errstate(divide="ignore", invalid="ignore"):
            if metric == "spend":
                return d["spend"] / d["rows"]
            if metric == "ctr":
                return d["clicks"] / d["impressions"]
            if metric == "cvr":
                return d["conv"] / d["clicks"] / 100.0
            if metric == "roi":
                return d["net"] / d["spend"] / 100.0
        raise ValueError(f"unknown daily metric {metric!r}")


def build_truth(
    *,
    model: PlantedProfile | NoiseProfile,
    plan: FaultPlan,
    tally: Tally,
    seed: int,
    rows: int,
    dirty: float,
    file_format: str,
) -> dict[str, Any]:
    """Assemble the truth document (JSON-compatible)."""
    cal = tally.calendar
    realised = tally.channels()
    faults, duplicates = faults_truth(plan)
    quarantined = sum(entry["count"] for entry in faults.values())
    exact = duplicates["exact_duplicate"]["count"]
    doc: dict[str, Any] = {
        "generator": "mci.datagen",
        "format": file_format,
        "profile": model.name,
        "seed": seed,
        "rows": rows,
        "days": cal.days,
        "start": cal.start.isoformat(),
        "end": cal.iso[-1],
        "dirty": dirty,
        "channels": realised,
        "best_roi_channel": None,
        "worst_roi_channel": None,
        "most_volatile_channel": None,
        "quadrant_rule": QUADRANT_RULE,
        "volatility_rule": VOLATILITY_RULE,
        "seasonality": None,
        "anomalies": [],
        "faults": faults,
        "duplicates": duplicates,
        "new_categories": new_categories_truth(plan),
        "expected": {
            "rows_read": rows,
            "rows_loaded": rows - quarantined - exact,
            "rows_quarantined": quarantined,
            "rows_duplicate": exact,
        },
    }
    if isinstance(model, PlantedProfile):
        _add_planted(doc, model, tally)
    return doc


def _add_planted(doc: dict[str, Any], model: PlantedProfile, tally: Tally) -> None:
    realised = doc["channels"]
    share = {c: PLANTED_CHANNELS[c].budget_share for c in CHANNELS}
    roi = {c: PLANTED_CHANNELS[c].roi for c in CHANNELS}
    expected = quadrants(share, roi)
    observed = quadrants(
        {c: float(realised[c]["realised_spend"]) for c in CHANNELS},
        {c: realised[c]["realised_roi"] or 0.0 for c in CHANNELS},
    )
    channels: dict[str, dict[str, Any]] = {}
    for c in CHANNELS:
        p = PLANTED_CHANNELS[c]
        channels[c] = {
            "budget_share": p.budget_share,
            "planted_roi": p.roi,
            "roi_sd_within": p.roi_sd_within,
            "roi_sd_across_months": _r(p.roi_cv_across_months * p.roi),
            "roi_cv_across_months": p.roi_cv_across_months,
            "expected_quadrant": expected[c],
            **realised[c],
            "realised_quadrant": observed[c],
        }
    doc["channels"] = channels
    doc["best_roi_channel"] = max(CHANNELS, key=lambda c: PLANTED_CHANNELS[c].roi)
    doc["worst_roi_channel"] = min(CHANNELS, key=lambda c: PLANTED_CHANNELS[c].roi)
    doc["most_volatile_channel"] = max(
        CHANNELS, key=lambda c: PLANTED_CHANNELS[c].roi_cv_across_months
    )
    doc["seasonality"] = {
        "unit": "campaigns per day",
        "rule": (
            "expected campaigns on a day are proportional to weekly[weekday] * "
            "(1 + amplitude * cos(2 * pi * (day_of_year - peak_day_of_year) / period_days))"
        ),
        "weekly": dict(zip(WEEKDAYS, WEEKLY_WEIGHTS, strict=True)),
        "busiest_weekday": WEEKDAYS[int(np.argmax(WEEKLY_WEIGHTS))],
        "quietest_weekday": WEEKDAYS[int(np.argmin(WEEKLY_WEIGHTS))],
        "yearly": {
            "amplitude": YEARLY_AMPLITUDE,
            "peak_day_of_year": YEARLY_PEAK_DAY,
            "period_days": YEAR_DAYS,
        },
    }
    anomalies = []
    anomalous_days = {a.day for a in model.anomalies}
    for a in sorted(model.anomalies, key=lambda a: a.day):
        series = tally.daily(a.metric)
        others = [
            v
            for d, v in enumerate(series)
            if d not in anomalous_days and tally.day["rows"][d] > 0 and np.isfinite(v)
        ]
        value = series[a.day]
        realised_factor = None
        if others and np.isfinite(value):
            realised_factor = value / float(np.median(others))
        anomalies.append(
            {
                "date": tally.calendar.iso[a.day],
                "metric": a.metric,
                "factor": a.factor,
                "realised_factor": _r(realised_factor, 4),
                "campaigns": int(tally.day["rows"][a.day]),
            }
        )
    doc["anomalies"] = anomalies
    doc["anomaly_rule"] = ANOMALY_RULE
