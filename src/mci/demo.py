"""The demo warehouse: a generated 200,000-row export, loaded once.

Example:
    >>> import tempfile, pathlib
    >>> url = f"duckdb:///{pathlib.Path(tempfile.mkdtemp()) / 'demo.duckdb'}"
    >>> url == build_demo(url, rows=2_000)
    True
    >>> headline_kpis(url)["campaigns"]
    '2,000'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mci.config import parse_db_url, resolve_db_url
from mci.warehouse.connection import connect

DEMO_SEED = 7


def _has_rows(url: str) -> bool:
    parsed = parse_db_url(url)
    if parsed.engine != "postgresql" and not Path(parsed.path).exists():
        return False
    with connect(url, read_only=True) as wh:
        if not wh.table_exists("campaign_performance"):
            return False
        return bool(wh.scalar("SELECT count(*) FROM campaign_performance"))


def build_demo(
    db: str | None = None, *, rows: int = 200_000, echo: Callable[[str], Any] = lambda _: None
) -> str:
    """Generates and loads a planted export unless the warehouse already holds data.

    Args:
        db: the database URL; ``None`` uses ``MCI_DB_URL`` or the default.
        rows: rows of the generated export.
        echo: where to say what is happening.

    Returns:
        The warehouse URL.
    """
    from mci.datagen import generate
    from mci.ingest.pipeline import ingest

    url = resolve_db_url(db)
    if _has_rows(url):
        echo(f"demo warehouse ready at {parse_db_url(url).redacted()}")
        return url
    export = Path("data") / f"demo_export_{rows}.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    echo(f"generating a {rows:,}-row demo export at {export} ...")
    generate(export, rows=rows, seed=DEMO_SEED, truth=export.with_suffix(".truth.json"))
    result = ingest([export], url)[0]
    echo(f"loaded {result.rows_loaded:,} rows into {parse_db_url(url).redacted()}")
    return url


def headline_kpis(db: str | None = None) -> dict[str, str]:
    """The warehouse's headline KPIs, as ratios of sums.

    Returns:
        KPI name to formatted value.
    """
    with connect(db, read_only=True) as wh:
        columns, rows = wh.query(
            "SELECT count(*) AS campaigns, sum(spend) AS spend, sum(impressions) AS impressions, "
            "sum(clicks) AS clicks, sum(clicks * conversion_rate) AS conversions, "
            "sum(roi * spend) AS net_return, min(date) AS first_day, max(date) AS last_day "
            "FROM campaign_performance"
        )
    k: dict[str, Any] = dict(zip(columns, rows[0], strict=True))

    def ratio(num: float | None, den: float | None) -> float | None:
        return None if not den or num is None else num / den

    values = {
        "campaigns": f"{k['campaigns']:,}",
        "period": f"{k['first_day']} to {k['last_day']}",
        "spend": f"${k['spend'] or 0:,.0f}",
        "impressions": f"{k['impressions'] or 0:,}",
        "clicks": f"{k['clicks'] or 0:,}",
        "conversions": f"{k['conversions'] or 0:,.0f}",
    }
    fmt = {
        "CTR": (ratio(k["clicks"], k["impressions"]), "{:.2%}"),
        "CPC": (ratio(k["spend"], k["clicks"]), "${:,.2f}"),
        "CPM": (ratio(1000 * (k["spend"] or 0), k["impressions"]), "${:,.2f}"),
        "CPA": (ratio(k["spend"], k["conversions"]), "${:,.2f}"),
        "ROI": (ratio(k["net_return"], k["spend"]), "{:.3f}"),
    }
    for name, (value, pattern) in fmt.items():
        values[name] = "n/a" if value is None else pattern.format(value)
    return values
