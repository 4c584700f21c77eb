"""Efficiency vs scale quadrants, with each entity's ROI interval and a significance flag.

x = spend, y = spend-weighted ROI per entity (channel by default). Thresholds are the medians
over the entities (the original's rule; a value equal to the median counts as High), or the
portfolio's ROI for y. Each entity's ROI comes with a bootstrap interval over days and a
Holm-corrected p-value of differing from the rest of the portfolio.

Example:
    >>> from mci.analytics.stability import _toy_frames
    >>> _, daily = _toy_frames()
    >>> by_entity = pd.DataFrame({"channel": ["A", "B"], "spend": [1.0, 2.0],
    ...                           "roi": [5.0, 3.0]})
    >>> quadrants(by_entity, daily, n_boot=200)["label"].tolist()
    ['Low Scale • High ROI', 'High Scale • Low ROI']
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from mci.analytics._stats import bootstrap_ratio_ci, holm, welch_t

LABELS: tuple[str, ...] = (
    "High Scale • High ROI",
    "High Scale • Low ROI",
    "Low Scale • High ROI",
    "Low Scale • Low ROI",
)
ALPHA = 0.05
ENTITY_METRICS = ("spend", "net_return", "roi")
DAILY_METRICS = ("spend", "net_return", "roi")


def load_quadrants(
    db: str | None = None, dimension: str = "channel"
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Per-entity totals, daily figures and the portfolio ROI, from the semantic layer.

    Args:
        db: the database URL; ``None`` uses ``MCI_DB_URL`` or the default.
        dimension: a registry dimension.

    Returns:
        ``(by_entity, daily, portfolio_roi)``.

    Example:
        >>> import tempfile, pathlib
        >>> from mci.demo import build_demo
        >>> url = build_demo(f"duckdb:///{pathlib.Path(tempfile.mkdtemp()) / 'w.duckdb'}",
        ...                  rows=2_000)
        >>> by_entity, daily, portfolio_roi = load_quadrants(url)
        >>> quadrants(by_entity, daily, n_boot=100)["label"].isin(LABELS).all()
        np.True_
    """
    from mci.semantic import query

    by_entity = query(list(ENTITY_METRICS), by=[dimension], db=db)
    daily = query(list(DAILY_METRICS), by=[dimension], grain="day", db=db)
    portfolio = query(["roi"], db=db)["roi"].iloc[0]
    return by_entity, daily, float(portfolio)


def label(spend: float, roi: float, spend_threshold: float, roi_threshold: float) -> str:
    """The quadrant of one entity (a value equal to its threshold counts as High).

    Example:
        >>> label(10.0, 4.0, 10.0, 5.0)
        'High Scale • Low ROI'
    """
    scale = "High" if spend >= spend_threshold else "Low"
    level = "High" if roi >= roi_threshold else "Low"
    return f"{scale} Scale • {level} ROI"


def quadrants(
    by_entity: pd.DataFrame,
    daily: pd.DataFrame,
    *,
    dimension: str = "channel",
    threshold: Literal["median", "portfolio"] = "median",
    portfolio_roi: float | None = None,
    n_boot: int = 2000,
    alpha: float = ALPHA,
    seed: int = 0,
) -> pd.DataFrame:
    """Efficiency (ROI) vs scale (spend) quadrant of every entity.

    Args:
        by_entity: ``query(["spend", "net_return", "roi"], by=[dimension])``.
        daily: ``query(["spend", "net_return", "roi"], by=[dimension], grain="day")``.
        dimension: the entity column.
        threshold: ``"median"`` (both thresholds at the medians over entities) or
            ``"portfolio"`` (ROI threshold at the portfolio ROI, spend still at the median).
        portfolio_roi: the portfolio's ROI (``query(["roi"])``); when None, the ratio of the
            summed ``net_return`` to the summed ``spend`` of ``by_entity``.
        n_boot: bootstrap resamples for each ROI interval.
        alpha: significance level of the Holm-corrected p-values.
        seed: seed of every random draw.

    Returns:
        ``entity, spend, roi, roi_low, roi_high, label, p_value, p_adjusted, significant``,
        one row per entity, in ``by_entity`` order. ``p_value`` is Welch's t-test of the
        entity's daily ROI against the daily ROI of all other entities. The thresholds
        used are in ``attrs["spend_threshold"]`` and ``attrs["roi_threshold"]``.

    Example:
        >>> from mci.analytics.stability import _toy_frames
        >>> _, daily = _toy_frames()
        >>> t = pd.DataFrame({"channel": ["A", "B"], "spend": [1.0, 1.0], "roi": [5.0, 3.0],
        ...                   "net_return": [5.0, 3.0]})
        >>> quadrants(t, daily, threshold="portfolio", n_boot=100)["significant"].tolist()
        [True, True]
    """
    if threshold not in ("median", "portfolio"):
        raise ValueError(f"threshold must be 'median' or 'portfolio', got {threshold!r}")
    frame = by_entity.rename(columns={dimension: "entity"}).copy()
    frame["entity"] = frame["entity"].astype(str)
    spend_threshold = float(frame["spend"].median())
    if threshold == "median":
        roi_threshold = float(frame["roi"].median())
    elif portfolio_roi is not None:
        roi_threshold = float(portfolio_roi)
    else:
        roi_threshold = float(frame["net_return"].sum() / frame["spend"].sum())

    days = daily[(daily["spend"] > 0) & daily["roi"].notna()]
    days = days.assign(entity=days[dimension].astype(str))
    seeds = np.random.SeedSequence(seed).spawn(len(frame))
    lows, highs, p_values = [], [], []
    for entity, entity_seed in zip(frame["entity"], seeds, strict=True):
        own = days[days["entity"] == entity]
        rest = days[days["entity"] != entity]
        _, low, high = bootstrap_ratio_ci(
            own["net_return"].to_numpy(float),
            own["spend"].to_numpy(float),
            n_boot=n_boot,
            rng=np.random.default_rng(entity_seed),
        )
        lows.append(low)
        highs.append(high)
        p_values.append(welch_t(own["roi"].to_numpy(float), rest["roi"].to_numpy(float)))
    frame["roi_low"] = lows
    frame["roi_high"] = highs
    frame["label"] = [
        label(s, r, spend_threshold, roi_threshold)
        for s, r in zip(frame["spend"], frame["roi"], strict=True)
    ]
    frame["p_value"] = p_values
    frame["p_adjusted"] = holm(p_values)
    frame["significant"] = (frame["p_adjusted"] < alpha).to_numpy(bool)
    frame.attrs.update(spend_threshold=spend_threshold, roi_threshold=roi_threshold)
    columns = ["entity", "spend", "roi", "roi_low", "roi_high", "label"]
    return frame[[*columns, "p_value", "p_adjusted", "significant"]].reset_index(drop=True)
