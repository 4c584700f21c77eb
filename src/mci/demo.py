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
from mci.semantic.api import query
from mci.semantic.registry import METRICS
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
    parsed = parse_db_url(url)
    folder = Path(parsed.path).parent if parsed.engine != "postgresql" else Path("data")
    export = folder / f"demo_export_{rows}.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    echo(f"generating a {rows:,}-row demo export at {export} ...")
    generate(export, rows=rows, seed=DEMO_SEED, truth=export.with_suffix(".truth.json"))
    result = ingest([export], url)[0]
    echo(f"loaded {result.rows_loaded:,} rows into {parse_db_url(url).redacted()}")
    return url


HEADLINE = (
    "campaigns",
    "spend",
    "impressions",
    "clicks",
    "conversions",
    "ctr",
    "cpc",
    "cpm",
    "cpa",
    "roi",
)


def _format(name: str, value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    unit = METRICS[name].unit
    if name in ("campaigns", "impressions", "clicks", "conversions"):
        return f"{value:,.0f}"
    if unit == "percent":
        return f"{value:.2%}"
    if unit == "currency":
        return f"${value:,.2f}" if value < 1e4 else f"${value:,.0f}"
    return f"{value:.3f}"


def headline_kpis(db: str | None = None) -> dict[str, str]:
    """The warehouse's headline KPIs, from the semantic layer.

    Returns:
        KPI name to formatted value.
    """
    frame = query(list(HEADLINE), db=db)
    with connect(db, read_only=True) as wh:
        first, last = wh.query("SELECT min(date), max(date) FROM campaign_performance")[1][0]
    values = {"period": f"{first} to {last}"}
    row = frame.iloc[0]
    for name in HEADLINE:
        values[name.upper() if METRICS[name].kind == "ratio" else name] = _format(
            name, None if row[name] is None else float(row[name])
        )
    return values
