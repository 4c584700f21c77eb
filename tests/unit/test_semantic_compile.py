"""Compiling semantic SQL: macros per engine, evaluated in the real engines, and the builder."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import statistics
import sys

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mci.semantic import DIMENSIONS, GRAINS, METRICS, VIEWS, UnknownNameError
from mci.semantic.builder import grain_sql, select_sql
from mci.semantic.compile import MACROS, compile_semantic
from mci.warehouse.dialects import DIALECTS

MACRO_NAMES = sorted(MACROS["duckdb"])
EPS = sys.float_info.epsilon


def sqlite_sql(expression: str) -> str:
    return compile_semantic(f"SELECT {expression} AS v FROM d", DIALECTS["sqlite"])


def duckdb_sql(expression: str) -> str:
    return compile_semantic(f"SELECT {expression} AS v FROM d", DIALECTS["duckdb"])


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# Four years around two year ends and a leap day, so every weekday meets every month edge.
DATES = [*days(dt.date(2019, 11, 25), dt.date(2022, 2, 7)), dt.date(2000, 2, 29)]


def truncated(grain: str, dates: list[dt.date]) -> dict[str, list[str]]:
    """First days of ``grain`` per engine, from the compiled macro run in the real engines."""
    macro = f"MCI_TRUNC_{grain.upper()}(date)"
    lite = sqlite3.connect(":memory:")
    lite.execute("CREATE TABLE d (i INTEGER, date TEXT)")  # SQLite keeps dates as ISO text
    lite.executemany(
        "INSERT INTO d VALUES (?, ?)", [(i, d.isoformat()) for i, d in enumerate(dates)]
    )
    duck = duckdb.connect()
    duck.execute("CREATE TABLE d (i INTEGER, date DATE)")
    duck.executemany("INSERT INTO d VALUES (?, ?)", list(enumerate(dates)))
    sql_lite = sqlite_sql(macro).replace(" FROM d", ", i FROM d ORDER BY i")
    sql_duck = duckdb_sql(macro).replace(" FROM d", ", i FROM d ORDER BY i")
    return {
        "sqlite": [row[0] for row in lite.execute(sql_lite).fetchall()],
        "duckdb": [row[0].isoformat() for row in duck.execute(sql_duck).fetchall()],
    }


def sqlite_stddev(values: list[float]) -> float | None:
    lite = sqlite3.connect(":memory:")
    lite.execute("CREATE TABLE d (roi REAL)")
    lite.executemany("INSERT INTO d VALUES (?)", [(v,) for v in values])
    return lite.execute(sqlite_sql("MCI_STDDEV(roi)")).fetchone()[0]


# ---------------------------------------------------------------- macros


def test_every_engine_spells_every_macro():
    targets = {d.sqlglot_dialect for d in DIALECTS.values()}
    assert targets <= set(MACROS)
    for target in targets:
        assert sorted(MACROS[target]) == MACRO_NAMES, target
    assert {f"MCI_TRUNC_{g.upper()}" for g in GRAINS} <= set(MACRO_NAMES)


@pytest.mark.parametrize("engine", sorted(DIALECTS))
@pytest.mark.parametrize("macro", MACRO_NAMES)
def test_compile_expands_each_macro(engine, macro):
    sql = compile_semantic(f"SELECT {macro}(date) AS x FROM campaign_performance", DIALECTS[engine])
    assert "MCI_" not in sql.upper(), sql
    assert "campaign_performance" in sql


@pytest.mark.parametrize("engine", sorted(DIALECTS))
def test_compile_leaves_no_macro_in_views_or_queries(engine):
    dialect = DIALECTS[engine]
    texts = list(VIEWS.values())
    texts += [select_sql(list(METRICS), by=["channel"], grain=g) for g in GRAINS]
    texts.append(select_sql(["roi_cv", "roi_std"], by=list(DIMENSIONS)))
    for text in texts:
        compiled = compile_semantic(text, dialect)
        assert "MCI_" not in compiled.upper(), compiled


@pytest.mark.parametrize("engine", sorted(DIALECTS))
def test_compile_expands_nested_macros(engine):
    nested = "SELECT MCI_MONTH_ID(MCI_TRUNC_QUARTER(date)) AS q FROM t"
    assert "MCI_" not in compile_semantic(nested, DIALECTS[engine]).upper()


@pytest.mark.parametrize("grain", GRAINS)
def test_sqlite_truncation_matches_duckdb_and_python(grain):
    got = truncated(grain, DATES)
    expected = {
        "day": list(DATES),
        "week": [d - dt.timedelta(days=d.weekday()) for d in DATES],  # ISO weeks start Monday
        "month": [d.replace(day=1) for d in DATES],
        "quarter": [d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1) for d in DATES],
    }[grain]
    assert got["duckdb"] == [d.isoformat() for d in expected]
    assert got["sqlite"] == got["duckdb"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dates(dt.date(1901, 1, 1), dt.date(2199, 12, 31)), min_size=1, max_size=20))
def test_sqlite_week_and_quarter_match_duckdb_on_any_date(dates):
    for grain in ("week", "quarter"):
        got = truncated(grain, dates)
        assert got["sqlite"] == got["duckdb"], grain


def test_month_id_is_the_same_text_everywhere():
    lite = sqlite3.connect(":memory:")
    lite.execute("CREATE TABLE d (date TEXT)")
    duck = duckdb.connect()
    duck.execute("CREATE TABLE d (date DATE)")
    for day in (dt.date(2021, 1, 31), dt.date(2021, 12, 1), dt.date(1999, 9, 9)):
        lite.execute("DELETE FROM d")
        lite.execute("INSERT INTO d VALUES (?)", [day.isoformat()])
        duck.execute("DELETE FROM d")
        duck.execute("INSERT INTO d VALUES (?)", [day])
        want = day.strftime("%Y-%m")
        assert lite.execute(sqlite_sql("MCI_MONTH_ID(date)")).fetchone()[0] == want
        assert duck.execute(duckdb_sql("MCI_MONTH_ID(date)")).fetchone()[0] == want
    pg = compile_semantic("SELECT MCI_MONTH_ID(date) AS m FROM d", DIALECTS["postgresql"])
    assert "TO_CHAR(date, 'YYYY-MM')" in pg


# ROI-like values: two decimals, as in the export.
rois = st.integers(-10_000, 10_000).map(lambda cents: cents / 100)


@settings(max_examples=200, deadline=None)
@given(st.lists(rois, min_size=0, max_size=60))
def test_sqlite_stddev_is_the_sample_standard_deviation(values):
    got = sqlite_stddev(values)
    if len(values) < 2:
        assert got is None  # n - 1 = 0: NULL, as STDDEV_SAMP gives
        return
    want = statistics.stdev(values)
    n = len(values)
    # The template is the one-pass formula; its rounding error on the variance is bounded
    # by a few n·eps·sum(x²)/(n-1): compare variances with that allowance.
    allowance = 4 * n * EPS * sum(v * v for v in values) / (n - 1)
    assert got**2 == pytest.approx(want**2, rel=1e-9, abs=allowance)
    assert got >= 0


def test_sqlite_stddev_of_a_constant_column_is_zero():
    assert sqlite_stddev([6.29] * 7) == pytest.approx(0.0, abs=1e-7)
    assert sqlite_stddev([1.0, 3.0]) == pytest.approx(statistics.stdev([1.0, 3.0]), rel=1e-12)


@pytest.mark.xfail(
    strict=True,
    reason="known gap of the SQLite backend: the MCI_STDDEV template uses the one-pass "
    "sum-of-squares formula (SQLite has no STDDEV_SAMP and cannot nest aggregates), "
    "which cancels catastrophically on values with a large common offset (1e9 + 0.5, 1.5, 2.5 "
    "gives 0.0 instead of 1.0; DuckDB and PostgreSQL STDDEV_SAMP give 1.0)",
)
def test_sqlite_stddev_survives_a_large_common_offset():
    values = [1e9 + 0.5, 1e9 + 1.5, 1e9 + 2.5]
    assert sqlite_stddev(values) == pytest.approx(statistics.stdev(values), rel=1e-6)


# ---------------------------------------------------------------- placeholders


def test_question_marks_become_percent_s_for_postgresql_only():
    sql = (
        "SELECT channel, SUM(spend) AS spend FROM campaign_performance"
        " WHERE channel IN (?, ?) AND date >= ? AND date <= ? GROUP BY 1"
    )
    pg = compile_semantic(sql, DIALECTS["postgresql"])
    assert pg.count("%s") == 4 and "?" not in pg
    for engine in ("duckdb", "sqlite"):
        out = compile_semantic(sql, DIALECTS[engine])
        assert out.count("?") == 4 and "%s" not in out
    literal = compile_semantic("SELECT 'a?b' AS t FROM d WHERE x = ?", DIALECTS["postgresql"])
    assert "'a?b'" in literal and literal.count("%s") == 1


# ---------------------------------------------------------------- the builder


def test_select_sql_rejects_unknown_names():
    with pytest.raises(UnknownNameError) as caught:
        select_sql(["spend", "revenue"])
    assert "'revenue'" in str(caught.value)
    assert all(name in str(caught.value) for name in METRICS)
    with pytest.raises(UnknownNameError) as caught:
        select_sql(["spend"], by=["channel; DROP TABLE campaign_performance"])
    assert all(name in str(caught.value) for name in DIMENSIONS)
    with pytest.raises(UnknownNameError) as caught:
        select_sql(["spend"], grain="year")
    assert all(name in str(caught.value) for name in GRAINS)
    with pytest.raises(UnknownNameError):
        grain_sql("day'); DROP TABLE x; --")


def test_select_sql_groups_by_every_key_and_only_names_from_the_registry():
    sql = select_sql(["spend", "cpc"], by=["channel", "campaign_type"], grain="month")
    assert "GROUP BY 1, 2, 3" in sql and "ORDER BY 1, 2, 3" in sql
    assert "MCI_TRUNC_MONTH(date) AS period" in sql
    assert "GROUP BY" not in select_sql(["spend"])
    conditions = ["channel IN (?)", "date >= ?"]
    assert "WHERE channel IN (?) AND date >= ?" in select_sql(["spend"], conditions=conditions)


def test_design_ratios_are_ratios():
    kinds = {name: m.kind for name, m in METRICS.items()}
    for name in ("ctr", "cpc", "cpm", "cvr", "cpa", "roi", "roas"):
        assert kinds[name] == "ratio", name
    for name in ("spend", "impressions", "clicks", "conversions", "net_return"):
        assert kinds[name] == "measure", name


@pytest.mark.parametrize("name", [n for n, m in METRICS.items() if m.kind == "ratio"])
def test_every_ratio_divides_by_nullif_of_its_summed_denominator(name):
    metric = METRICS[name]
    sql = metric.sql()
    assert metric.denominator
    assert re.search(rf"/ NULLIF\(SUM\({re.escape(metric.denominator)}\), 0\)", sql), sql
    # and, run in DuckDB over rows whose denominator is 0, it is NULL, never 0 or infinity
    duck = duckdb.connect()
    duck.execute(
        "CREATE TABLE campaign_performance AS SELECT * FROM (VALUES"
        " (0.0, 0, 0, 0.0, 0.0), (0.0, 0, 0, 0.5, 0.0))"
        " AS t(spend, clicks, impressions, conversion_rate, roi)"
    )
    compiled = compile_semantic(select_sql([name]), DIALECTS["duckdb"])
    assert duck.execute(compiled).fetchall() == [(None,)]


def test_roi_cv_divides_by_nullif_too():
    assert "NULLIF(ABS(AVG(roi)), 0)" in METRICS["roi_cv"].sql()
