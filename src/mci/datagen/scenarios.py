"""Calibration scenarios: data processes shaped like real campaign data, with planted truth.

The export generator (:func:`mci.datagen.generate`) plants one fixed story. The channel
diagnostics must also hold on data shaped the ways real exports are and that story is not:
shocks shared by every campaign of a channel in a week or a month (a campaign wave, a seasonal
offer), shocks shared by every channel on a day, heavy tails, channels of very different
sizes, a brand-new channel, a level shift, a Simpson pair. Each :class:`Scenario` is one such
process, written as data; :func:`simulate` draws campaign rows from it and :func:`truth`
says what a correct diagnosis finds.

Rows are drawn directly as arrays (channel, campaign type, day, spend, ROI): the calibration
runs thousands of simulations, so it aggregates them the way the semantic layer does
(:func:`cells`) instead of loading each into a warehouse; a test holds the two to the same
numbers, and :func:`write_export` writes a scenario in the source format for the command line.

Example:
    >>> rows = simulate(SCENARIOS["month_shocks"], seed=1, rows=6_000)
    >>> len(rows.spend), sorted(set(rows.channel_names))[:2]
    (6000, ['Email', 'Facebook'])
    >>> truth(SCENARIOS["better_10"])["best"]
    'Email'
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mci.ingest.contract import KNOWN_CATEGORIES, SOURCE_COLUMNS

CHANNELS: tuple[str, ...] = KNOWN_CATEGORIES["channel"]
CAMPAIGN_TYPES: tuple[str, ...] = KNOWN_CATEGORIES["campaign_type"]
NEW_CHANNEL = "TikTok"
START = dt.date(2021, 1, 1)
BASE_ROI = 5.0
SIMPSON_TYPE_FACTORS = {"Display": 0.6, "Search": 1.4}  # the other types: 1.0


@dataclass(frozen=True)
class Scenario:
    """One data process.

    Attributes:
        name: short name (the calibration table's row).
        description: what it plants, in a sentence.
        null: True when no established channel differs from another on average.
        shares: each channel's share of campaign rows (``CHANNELS`` order).
        effects: each channel's multiplicative ROI effect (0.10 is 10 % better).
        noise: campaign-level ROI noise: ``uniform`` (like the genuine export: ROI spread
            evenly over +-3 around its mean) or ``heavy`` (Student t with 2 degrees of
            freedom, and log-normal spend).
        month_shock: sd of a multiplicative shock per channel and calendar month.
        week_shock: sd of a multiplicative shock per channel and week.
        day_shock: sd of a multiplicative shock per day, shared by every channel.
        volatile: ``(channel index, sd)``: an extra month shock for one channel.
        shift: ``(channel index, factor, day)``: the channel's ROI is multiplied by
            ``factor`` from ``day`` (0-based) on.
        new_channel: ``(campaigns, days, effect)``: a channel outside the contract's list
            that starts ``days`` before the end with that many campaigns.
        simpson: the first channel beats the second by ``effects[0]`` inside every
            campaign type but runs mostly in a low-return type, the second mostly in a
            high-return one.
    """

    name: str
    description: str
    null: bool
    shares: tuple[float, ...] = (1 / 6,) * 6
    effects: tuple[float, ...] = (0.0,) * 6
    noise: str = "uniform"
    month_shock: float = 0.0
    week_shock: float = 0.0
    day_shock: float = 0.0
    volatile: tuple[int, float] | None = None
    shift: tuple[int, float, int] | None = None
    new_channel: tuple[int, int, float] | None = None
    simpson: bool = False
    tags: tuple[str, ...] = field(default=())


_SHIFT_DAY = 181  # 2021-07-01
SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("iid", "i.i.d. campaign noise like the genuine export", True),
        Scenario("heavy_tails", "Student-t(2) ROI noise and log-normal spend", True, noise="heavy"),
        Scenario("week_shocks", "channel-by-week ROI shocks (sd 10 %)", True, week_shock=0.10),
        Scenario("month_shocks", "channel-by-month ROI shocks (sd 10 %)", True, month_shock=0.10),
        Scenario(
            "day_shocks", "daily ROI shocks shared by every channel (sd 30 %)", True, day_shock=0.30
        ),
        Scenario(
            "unequal_sizes",
            "channel shares from 40 % to 3 %, channel-by-month shocks (sd 5 %)",
            True,
            shares=(0.40, 0.25, 0.15, 0.10, 0.07, 0.03),
            month_shock=0.05,
        ),
        Scenario(
            "new_channel",
            "six equal channels and a new one: 50 campaigns in the last 48 days, ROI 30 % higher",
            True,
            new_channel=(50, 48, 0.30),
        ),
        Scenario(
            "better_10", "Email 10 % better, no shared shocks", False, effects=(0.10, 0, 0, 0, 0, 0)
        ),
        Scenario(
            "better_3", "Email 3 % better, no shared shocks", False, effects=(0.03, 0, 0, 0, 0, 0)
        ),
        Scenario(
            "better_10_month_shocks",
            "Email 10 % better, channel-by-month shocks (sd 5 %)",
            False,
            effects=(0.10, 0, 0, 0, 0, 0),
            month_shock=0.05,
        ),
        Scenario(
            "better_3_month_shocks",
            "Email 3 % better, channel-by-month shocks (sd 5 %)",
            False,
            effects=(0.03, 0, 0, 0, 0, 0),
            month_shock=0.05,
        ),
        Scenario(
            "volatile",
            "Instagram's ROI swings month to month (sd 25 %; the others 3 %)",
            False,
            month_shock=0.03,
            volatile=(3, 0.25),
        ),
        Scenario(
            "shifted",
            "Google Ads' ROI halves on 2021-07-01 and stays there (month shocks sd 3 %)",
            False,
            month_shock=0.03,
            shift=(2, 0.5, _SHIFT_DAY),
        ),
        Scenario(
            "simpson",
            "Email beats Facebook by 10 % inside every campaign type, but runs mostly in a "
            "low-return type",
            False,
            effects=(0.10, 0, 0, 0, 0, 0),
            simpson=True,
        ),
    )
}


@dataclass
class CampaignRows:
    """Simulated campaign rows as arrays (one element per campaign)."""

    channel: np.ndarray
    campaign_type: np.ndarray
    day: np.ndarray
    spend: np.ndarray
    roi: np.ndarray
    channel_names: tuple[str, ...]
    days: int

    def frame(self) -> pd.DataFrame:
        """The rows as a frame: ``date, channel, campaign_type, spend, roi``."""
        dates = pd.Timestamp(START) + pd.to_timedelta(self.day, unit="D")
        return pd.DataFrame(
            {
                "date": dates,
                "channel": np.asarray(self.channel_names)[self.channel],
                "campaign_type": np.asarray(CAMPAIGN_TYPES)[self.campaign_type],
                "spend": self.spend,
                "roi": self.roi,
            }
        )


def _months(days: int) -> np.ndarray:
    dates = np.datetime64(START.isoformat(), "D") + np.arange(days)
    month = dates.astype("datetime64[M]")
    return (month - month[0]).astype(np.int64)


def _type_mix(scenario: Scenario, channel: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n_types = len(CAMPAIGN_TYPES)
    kinds = rng.integers(0, n_types, channel.size)
    if not scenario.simpson:
        return kinds
    low, high = CAMPAIGN_TYPES.index("Display"), CAMPAIGN_TYPES.index("Search")
    for c, main in ((0, low), (1, high)):
        own = channel == c
        concentrated = rng.random(own.sum()) < 0.75  # 75 % + a fifth of the rest = 80 %
        kinds[own] = np.where(concentrated, main, kinds[own])
    return kinds


def simulate(
    scenario: Scenario, *, seed: int, rows: int = 120_000, days: int = 365
) -> CampaignRows:
    """Draws ``rows`` campaign rows from ``scenario`` (deterministic for a seed).

    Args:
        scenario: the data process.
        seed: the seed of every draw.
        rows: campaign rows of the established channels (a new channel adds its own).
        days: days covered, from 2021-01-01.

    Returns:
        The rows.
    """
    rng = np.random.default_rng(seed)
    n_channels = len(CHANNELS)
    shares = np.asarray(scenario.shares, dtype=float)
    channel = rng.choice(n_channels, size=rows, p=shares / shares.sum())
    day = rng.integers(0, days, rows)
    names = CHANNELS
    effects = np.asarray(scenario.effects, dtype=float)
    if scenario.new_channel is not None:
        extra, span, effect = scenario.new_channel
        channel = np.concatenate([channel, np.full(extra, n_channels)])
        day = np.concatenate([day, rng.integers(max(days - span, 0), days, extra)])
        names = (*CHANNELS, NEW_CHANNEL)
        effects = np.append(effects, effect)
        n_channels += 1
    n = channel.size
    kinds = _type_mix(scenario, channel, rng)
    month = _months(days)[day]
    week = day // 7

    level = BASE_ROI * (1.0 + effects[channel])
    if scenario.simpson:
        factors = np.array([SIMPSON_TYPE_FACTORS.get(t, 1.0) for t in CAMPAIGN_TYPES])
        level = level * factors[kinds]
    shock = np.ones(n)
    n_months = int(month.max()) + 1
    if scenario.month_shock:
        shock *= (
            1.0 + scenario.month_shock * rng.standard_normal((n_channels, n_months))[channel, month]
        )
    if scenario.volatile is not None:
        target, sd = scenario.volatile
        z = rng.standard_normal(n_months)
        shock *= np.where(channel == target, 1.0 + sd * z[month], 1.0)
    if scenario.week_shock:
        n_weeks = int(week.max()) + 1
        shock *= (
            1.0 + scenario.week_shock * rng.standard_normal((n_channels, n_weeks))[channel, week]
        )
    if scenario.day_shock:
        shock *= np.exp(scenario.day_shock * rng.standard_normal(days) - scenario.day_shock**2 / 2)[
            day
        ]
    if scenario.shift is not None:
        target, factor, from_day = scenario.shift
        shock *= np.where((channel == target) & (day >= from_day), factor, 1.0)

    if scenario.noise == "heavy":
        noise = rng.standard_t(2.0, n)
        spend = np.exp(rng.normal(np.log(9_000.0), 1.0, n))
    else:
        noise = rng.uniform(-3.0, 3.0, n)
        spend = rng.uniform(5_000.0, 20_000.0, n)
    roi = level * shock + noise
    return CampaignRows(
        channel=channel,
        campaign_type=kinds,
        day=day,
        spend=np.round(spend, 2),
        roi=np.round(roi, 2),
        channel_names=names,
        days=days,
    )


def truth(scenario: Scenario) -> dict[str, Any]:
    """What a correct diagnosis of ``scenario`` finds (over the whole period).

    Returns:
        ``best`` and ``worst`` (a channel or None), ``most_volatile``, ``shift``
        (``{"channel", "date"}`` or None), ``mix_flip`` (``[adjusted winner, raw winner]``
        or None), ``thin`` (channels with too little evidence to rank).
    """
    effects = list(scenario.effects)
    best = worst = None
    if any(effects) and not scenario.simpson:
        top = int(np.argmax(effects))
        if effects.count(effects[top]) == 1:
            best = CHANNELS[top]
    shift = None
    if scenario.shift is not None:
        target, factor, from_day = scenario.shift
        shift = {"channel": CHANNELS[target], "date": START + dt.timedelta(days=from_day)}
        if factor < 1:
            worst = CHANNELS[target]
    return {
        "best": best,
        "worst": worst,
        "most_volatile": CHANNELS[scenario.volatile[0]] if scenario.volatile else None,
        "shift": shift,
        "mix_flip": [CHANNELS[0], CHANNELS[1]] if scenario.simpson else None,
        "thin": [NEW_CHANNEL] if scenario.new_channel else [],
    }


def cells(rows: CampaignRows, *, mix: bool = True) -> pd.DataFrame:
    """Sums per channel (and campaign type) and month, as the semantic layer gives them.

    Args:
        rows: simulated campaigns.
        mix: also group by campaign type.

    Returns:
        ``period, channel[, campaign_type], spend, net_return, campaigns`` (cells with no
        campaigns left out), like ``query(["spend", "net_return", "campaigns"],
        by=["channel", "campaign_type"], grain="month")``.
    """
    month = _months(rows.days)[rows.day]
    n_months = int(_months(rows.days).max()) + 1
    n_types = len(CAMPAIGN_TYPES) if mix else 1
    kind = rows.campaign_type if mix else np.zeros_like(rows.channel)
    n_channels = len(rows.channel_names)
    key = (rows.channel * n_types + kind) * n_months + month
    size = n_channels * n_types * n_months
    spend = np.bincount(key, weights=rows.spend, minlength=size)
    net = np.bincount(key, weights=rows.roi * rows.spend, minlength=size)
    count = np.bincount(key, minlength=size)
    present = np.flatnonzero(count)
    c, rest = np.divmod(present, n_types * n_months)
    t, m = np.divmod(rest, n_months)
    periods = pd.date_range(START, periods=n_months, freq="MS")
    frame = pd.DataFrame(
        {
            "period": periods[m],
            "channel": np.asarray(rows.channel_names)[c],
            "campaign_type": np.asarray(CAMPAIGN_TYPES)[t],
            "spend": spend[present],
            "net_return": net[present],
            "campaigns": count[present],
        }
    )
    if not mix:
        frame = frame.drop(columns="campaign_type")
    return frame


def spread(rows: CampaignRows) -> pd.DataFrame:
    """Within-month spread of campaign ROI per channel, as the semantic layer gives it.

    Returns:
        ``period, channel, roi_mean, roi_std, campaigns``, like ``query(["roi_mean",
        "roi_std", "campaigns"], by=["channel"], grain="month")``.
    """
    all_months = _months(rows.days)
    month = all_months[rows.day]
    n_months = int(all_months.max()) + 1
    key = rows.channel * n_months + month
    size = len(rows.channel_names) * n_months
    count = np.bincount(key, minlength=size).astype(float)
    total = np.bincount(key, weights=rows.roi, minlength=size)
    squares = np.bincount(key, weights=rows.roi * rows.roi, minlength=size)
    present = np.flatnonzero(count)
    n = count[present]
    mean = total[present] / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(n > 1, (squares[present] - n * mean**2) / (n - 1), np.nan)
    c, m = np.divmod(present, n_months)
    return pd.DataFrame(
        {
            "period": pd.date_range(START, periods=n_months, freq="MS")[m],
            "channel": np.asarray(rows.channel_names)[c],
            "roi_mean": mean,
            "roi_std": np.sqrt(np.clip(var, 0.0, None)),
            "campaigns": n.astype(int),
        }
    )


def write_export(rows: CampaignRows, path: Path) -> Path:
    """Writes ``rows`` as an export in the source contract (the other columns constant).

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "s.csv"
        >>> _ = write_export(simulate(SCENARIOS["iid"], seed=0, rows=3), out)
        >>> out.read_text().splitlines()[1].split(",")[:3]
        ['1', 'TechCorp', 'Social Media']
    """
    frame = rows.frame()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(SOURCE_COLUMNS)
        for i, row in enumerate(frame.itertuples(index=False), start=1):
            writer.writerow(
                [
                    i,
                    "TechCorp",
                    row.campaign_type,
                    "All Ages",
                    "30 days",
                    row.channel,
                    "0.05",
                    f"${row.spend:,.2f}",
                    f"{row.roi:.2f}",
                    "Chicago",
                    "English",
                    500,
                    5000,
                    5,
                    "Foodies",
                    row.date.date().isoformat(),
                ]
            )
    return path
