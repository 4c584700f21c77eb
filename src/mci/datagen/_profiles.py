"""Row models of the generator: the calendar, the ``noise`` profile and the ``planted`` profile.

A model turns a range of row positions into a :class:`RowBlock` of integer codes and values
(category codes, dollars, hundredths, day index). Formatting into text lives in ``_format``.

Everything global (how many rows fall on each day, the monthly ROI shocks, the anomalous days) is
drawn once from the profile's own random stream; each chunk of rows then draws from a stream of
its own, so a chunk's rows depend only on the seed and the chunk's position.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from mci.ingest.contract import DURATIONS_DAYS, KNOWN_CATEGORIES, REAL_RANGES

CHANNELS: tuple[str, ...] = KNOWN_CATEGORIES["channel"]
WEEKDAYS: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

SPEND_MIN, SPEND_MAX = (int(v) for v in REAL_RANGES["spend"])
ROI_MIN, ROI_MAX = (round(v * 100) for v in REAL_RANGES["roi"])  # hundredths
CONV_MIN, CONV_MAX = (round(v * 100) for v in REAL_RANGES["conversion_rate"])  # hundredths
CLICKS_MIN, CLICKS_MAX = (int(v) for v in REAL_RANGES["clicks"])
IMPR_MIN, IMPR_MAX = (int(v) for v in REAL_RANGES["impressions"])
ENGAGEMENT_MIN, ENGAGEMENT_MAX = (int(v) for v in REAL_RANGES["engagement_score"])


@dataclass(frozen=True)
class ChannelPlan:
    """What the ``planted`` profile plants for one channel.

    Attributes:
        budget_share: Share of rows (and so of spend) that go to the channel.
        roi: True spend-weighted ROI over the whole period.
        roi_sd_within: Standard deviation of campaign ROI around the channel's monthly ROI.
        roi_cv_across_months: Standard deviation of the monthly ROI as a fraction of ``roi``
            (a multiplicative monthly shock, standardised so the period's ROI stays ``roi``).
    """

    budget_share: float
    roi: float
    roi_sd_within: float
    roi_cv_across_months: float


# Scale: Google Ads > Facebook > Instagram | YouTube > Website > Email (median 0.155).
# ROI:   Email > Google Ads > Instagram | YouTube > Facebook > Website (median 4.5).
# Instagram is the one channel whose ROI swings from month to month: five times as much as
# any other, so that twelve months tell it from every other channel (the diagnosis names a
# channel most volatile only with that evidence; at 22 % against 8 % it could not).
# Fields: budget_share, roi, roi_sd_within, roi_cv_across_months.
PLANTED_CHANNELS: dict[str, ChannelPlan] = {
    "Email": ChannelPlan(0.09, 6.8, 0.60, 0.04),
    "Facebook": ChannelPlan(0.22, 3.6, 0.45, 0.05),
    "Google Ads": ChannelPlan(0.26, 5.6, 0.55, 0.05),
    "Instagram": ChannelPlan(0.18, 4.8, 0.70, 0.30),
    "Website": ChannelPlan(0.12, 3.2, 0.40, 0.06),
    "YouTube": ChannelPlan(0.13, 4.2, 0.50, 0.05),
}

# Relative number of campaigns per weekday (Monday first) and the annual cycle.
WEEKLY_WEIGHTS: tuple[float, ...] = (1.10, 1.15, 1.12, 1.05, 0.98, 0.82, 0.78)
YEARLY_AMPLITUDE = 0.25
YEARLY_PEAK_DAY = 330  # day of year (late November)
YEAR_DAYS = 365.25

# Planted per-campaign spend: 5,000 plus a gamma tail (mean 9,000), clipped to the real range.
SPEND_GAMMA_SHAPE = 2.0
SPEND_GAMMA_SCALE = 2_000.0

# Anomalous days: metric -> factor applied to every campaign of the day.
ANOMALY_FACTORS: dict[str, float] = {"spend": 2.5, "ctr": 3.0, "cvr": 0.25, "roi": 0.4}
MAX_ANOMALIES = 4
ANOMALY_MARGIN_DAYS = 7


@dataclass(frozen=True)
class Calendar:
    """The days a generated export covers.

    Attributes:
        start: First day.
        days: Number of days.
        iso: ISO text of every day.
        weekday: Weekday of every day (Monday is 0).
        day_of_year: Day of year of every day (1-based).
        month: Month index (0-based, in order of appearance) of every day.
        months: ``YYYY-MM`` label of every month index.
    """

    start: dt.date
    days: int
    iso: tuple[str, ...]
    weekday: np.ndarray
    day_of_year: np.ndarray
    month: np.ndarray
    months: tuple[str, ...]

    @classmethod
    def build(cls, start: dt.date, days: int) -> Calendar:
        """Build the calendar of ``days`` days from ``start``."""
        dates = np.datetime64(start.isoformat(), "D") + np.arange(days)
        epoch_days = dates.astype(np.int64)
        weekday = (epoch_days + 3) % 7  # 1970-01-01 was a Thursday
        day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64) + 1
        month_codes = dates.astype("datetime64[M]")
        uniq, month = np.unique(month_codes, return_inverse=True)
        return cls(
            start=start,
            days=days,
            iso=tuple(str(d) for d in dates),
            weekday=weekday,
            day_of_year=day_of_year,
            month=month.reshape(-1),
            months=tuple(str(m) for m in uniq),
        )


@dataclass
class RowBlock:
    """Rows ``lo`` (inclusive) to ``hi`` (exclusive), as integer codes and values.

    Category columns hold indices into ``KNOWN_CATEGORIES``; ``duration`` indexes
    ``DURATIONS_DAYS``; ``conv`` and ``roi`` are hundredths; ``spend`` is whole dollars;
    ``day`` indexes the calendar.
    """

    lo: int
    hi: int
    company: np.ndarray
    campaign_type: np.ndarray
    target_audience: np.ndarray
    duration: np.ndarray
    channel: np.ndarray
    conv: np.ndarray
    spend: np.ndarray
    roi: np.ndarray
    location: np.ndarray
    language: np.ndarray
    clicks: np.ndarray
    impressions: np.ndarray
    engagement: np.ndarray
    segment: np.ndarray
    day: np.ndarray


@dataclass(frozen=True)
class Anomaly:
    """One anomalous day: every campaign of ``day`` has ``metric`` shocked by ``factor``."""

    day: int
    metric: str
    factor: float


def _cat(rng: np.random.Generator, column: str, n: int) -> np.ndarray:
    return rng.integers(0, len(KNOWN_CATEGORIES[column]), n)


def _common_columns(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Columns that are uniform over their real range in both profiles (in a fixed order)."""
    return {
        "company": _cat(rng, "company", n),
        "campaign_type": _cat(rng, "campaign_type", n),
        "target_audience": _cat(rng, "target_audience", n),
        "duration": rng.integers(0, len(DURATIONS_DAYS), n),
        "conv": rng.integers(CONV_MIN, CONV_MAX + 1, n),
        "location": _cat(rng, "location", n),
        "language": _cat(rng, "language", n),
        "clicks": rng.integers(CLICKS_MIN, CLICKS_MAX + 1, n),
        "impressions": rng.integers(IMPR_MIN, IMPR_MAX + 1, n),
        "engagement": rng.integers(ENGAGEMENT_MIN, ENGAGEMENT_MAX + 1, n),
        "segment": _cat(rng, "customer_segment", n),
    }


class NoiseProfile:
    """The statistics of the genuine export: every column independent and uniform.

    ``Date`` cycles through the calendar: row ``i`` (0-based) falls on day ``i mod days``.
    """

    name = "noise"

    def __init__(self, rows: int, calendar: Calendar) -> None:
        """Set up the profile for ``rows`` rows over ``calendar``."""
        self.rows = rows
        self.calendar = calendar

    def block(self, lo: int, hi: int, rng: np.random.Generator) -> RowBlock:
        """Draw rows ``lo`` to ``hi``."""
        n = hi - lo
        common = _common_columns(rng, n)
        channel = rng.integers(0, len(CHANNELS), n)
        spend = rng.integers(SPEND_MIN, SPEND_MAX + 1, n)
        roi = rng.integers(ROI_MIN, ROI_MAX + 1, n)
        day = np.arange(lo, hi, dtype=np.int64) % self.calendar.days
        return RowBlock(lo=lo, hi=hi, channel=channel, spend=spend, roi=roi, day=day, **common)


class PlantedProfile:
    """Planted structure: channel scale, ROI and volatility, seasonality and anomalous days."""

    name = "planted"

    def __init__(self, rows: int, calendar: Calendar, rng: np.random.Generator) -> None:
        """Draw the global structure for ``rows`` rows over ``calendar`` from ``rng``."""
        self.rows = rows
        self.calendar = calendar
        plans = [PLANTED_CHANNELS[c] for c in CHANNELS]
        self.shares = np.array([p.budget_share for p in plans])
        self.cum_shares = np.cumsum(self.shares / self.shares.sum())[:-1]
        self.roi = np.array([p.roi for p in plans])
        self.sd_within = np.array([p.roi_sd_within for p in plans])
        self.cv_across = np.array([p.roi_cv_across_months for p in plans])

        weights = self.day_weights(calendar)
        counts = rng.multinomial(rows, weights / weights.sum())
        self.day_ends = np.cumsum(counts)
        n_months = len(calendar.months)
        month_rows = np.bincount(calendar.month, weights=counts, minlength=n_months)
        self.shocks = self._standard_shocks(rng, month_rows)
        self.month_roi = self.roi[:, None] * (1.0 + self.cv_across[:, None] * self.shocks)
        self.anomalies = self._plan_anomalies(rng)

    @staticmethod
    def day_weights(calendar: Calendar) -> np.ndarray:
        """Expected relative number of campaigns on each day of ``calendar``."""
        weekly = np.asarray(WEEKLY_WEIGHTS)[calendar.weekday]
        phase = 2.0 * np.pi * (calendar.day_of_year - YEARLY_PEAK_DAY) / YEAR_DAYS
        return weekly * (1.0 + YEARLY_AMPLITUDE * np.cos(phase))

    @staticmethod
    def _standard_shocks(rng: np.random.Generator, month_rows: np.ndarray) -> np.ndarray:
        """Monthly shocks per channel with weighted mean 0 and weighted sd 1 over the months.

        Standardising keeps each channel's period ROI at its planted value and makes the
        across-month volatility equal to the planted one for any seed.
        """
        z = rng.standard_normal((len(CHANNELS), len(month_rows)))
        w = month_rows / max(month_rows.sum(), 1.0)
        if np.count_nonzero(w) < 2:
            return np.zeros_like(z)
        z = z - (z * w).sum(axis=1, keepdims=True)
        sd = np.sqrt((z * z * w).sum(axis=1, keepdims=True))
        return z / np.where(sd > 0, sd, 1.0)

    def _plan_anomalies(self, rng: np.random.Generator) -> tuple[Anomaly, ...]:
        days = self.calendar.days
        usable = days - 2 * ANOMALY_MARGIN_DAYS
        n = int(np.clip(usable // 14, 0, MAX_ANOMALIES))
        metrics = [str(m) for m in rng.permutation(list(ANOMALY_FACTORS))]
        if n == 0:
            return ()
        edges = ANOMALY_MARGIN_DAYS + (np.arange(n + 1) * usable) // n
        out = []
        for k in range(n):
            lo, hi = int(edges[k]), int(edges[k + 1])
            pad = (hi - lo) // 4  # keep anomalous days apart
            day = int(rng.integers(lo + pad, max(hi - pad, lo + pad + 1)))
            out.append(Anomaly(day=day, metric=metrics[k], factor=ANOMALY_FACTORS[metrics[k]]))
        return tuple(out)

    def block(self, lo: int, hi: int, rng: np.random.Generator) -> RowBlock:
        """Draw rows ``lo`` to ``hi`` (rows are in date order)."""
        n = hi - lo
        common = _common_columns(rng, n)
        day = np.searchsorted(self.day_ends, np.arange(lo, hi), side="right")
        channel = np.searchsorted(self.cum_shares, rng.random(n), side="right")
        spend = SPEND_MIN + rng.gamma(SPEND_GAMMA_SHAPE, SPEND_GAMMA_SCALE, n)
        spend = np.clip(np.rint(spend), SPEND_MIN, SPEND_MAX).astype(np.int64)
        mu = self.month_roi[channel, self.calendar.month[day]]
        roi = mu + rng.standard_normal(n) * self.sd_within[channel]
        roi = np.clip(np.rint(roi * 100.0), ROI_MIN, ROI_MAX).astype(np.int64)
        block = RowBlock(lo=lo, hi=hi, channel=channel, spend=spend, roi=roi, day=day, **common)
        for anomaly in self.anomalies:
            hit = block.day == anomaly.day
            if hit.any():
                _shock(block, hit, anomaly)
        return block


def _shock(block: RowBlock, hit: np.ndarray, anomaly: Anomaly) -> None:
    """Apply ``anomaly`` to the rows of ``block`` selected by ``hit``, keeping values in range."""
    f = anomaly.factor
    if anomaly.metric == "spend":
        block.spend[hit] = np.clip(np.rint(block.spend[hit] * f), SPEND_MIN, SPEND_MAX)
    elif anomaly.metric == "roi":
        block.roi[hit] = np.clip(np.rint(block.roi[hit] * f), ROI_MIN, ROI_MAX)
    elif anomaly.metric == "cvr":
        block.conv[hit] = np.clip(np.rint(block.conv[hit] * f), CONV_MIN, CONV_MAX)
    elif anomaly.metric == "ctr":
        # Shrink impressions towards the minimum so that mean impressions fall by ``f``.
        mean = (IMPR_MIN + IMPR_MAX) / 2.0
        k = (mean / f - IMPR_MIN) / (mean - IMPR_MIN)
        shrunk = IMPR_MIN + (block.impressions[hit] - IMPR_MIN) * k
        block.impressions[hit] = np.clip(np.rint(shrunk), IMPR_MIN, IMPR_MAX)
    else:  # pragma: no cover - ANOMALY_FACTORS is the closed list of metrics
        raise ValueError(f"unknown anomaly metric {anomaly.metric!r}")
