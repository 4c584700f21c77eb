"""The Streamlit dashboard, driven headless with streamlit.testing.v1.AppTest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mci.dashboard import app as app_module
from mci.dashboard.filters import Filters, parse_params, to_params
from mci.dashboard.format import compact, delta_color, fmt, fmt_delta, plain
from mci.dashboard.launch import command
from mci.dashboard.views.overview import KPIS, SIGNALS
from mci.semantic import query

APP = str(Path(app_module.__file__))
TIMEOUT = 60


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    from mci.datagen import generate
    from mci.ingest.pipeline import ingest

    folder = tmp_path_factory.mktemp("dash")
    export = folder / "export.csv"
    generate(export, rows=5_000, seed=3)
    url = f"duckdb:///{folder / 'w.duckdb'}"
    ingest([export], url)
    return url


def _app(monkeypatch: pytest.MonkeyPatch, url: str, **params: str | list[str]) -> AppTest:
    monkeypatch.setenv("MCI_DB_URL", url)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _tile(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _bounds(url: str) -> tuple[dt.date, dt.date]:
    daily = query(["campaigns"], grain="day", db=url)
    return daily["period"].min().date(), daily["period"].max().date()


@pytest.mark.parametrize(
    "page", ["overview.py", "channels.py", "trends.py", "monthly.py", "quality.py"]
)
def test_every_page_renders(monkeypatch, warehouse, page):
    at = _app(monkeypatch, warehouse)
    at.switch_page(f"views/{page}").run()
    assert not at.exception, at.exception
    assert at.title


def test_overview_roi_tile_matches_query(monkeypatch, warehouse):
    at = _app(monkeypatch, warehouse)
    assert not at.exception
    first, last = _bounds(warehouse)
    expected = query(["roi"], start=first, end=last, db=warehouse)["roi"].iloc[0]
    assert _tile(at, "ROI") == fmt("roi", expected)
    assert [m.label for m in at.metric[:7]] == [label for _, label in KPIS]


def test_overview_signal_cards_match_weekly_query(monkeypatch, warehouse):
    at = _app(monkeypatch, warehouse, channel="Email")
    first, last = _bounds(warehouse)
    names = [name for name, _ in SIGNALS]
    where = {"channel": ["Email"]}
    totals = query(names, where=where, start=first, end=last, db=warehouse).iloc[0]
    weekly = query(names, where=where, grain="week", start=first, end=last, db=warehouse)
    cards = at.metric[len(KPIS) :]
    assert [c.label for c in cards] == [label for _, label in SIGNALS]
    for card, name in zip(cards, names, strict=True):
        assert card.value == fmt(name, totals[name])
        assert list(card.proto.chart_data) == pytest.approx(weekly[name].astype(float).tolist())


def test_overview_deltas_against_the_previous_period(monkeypatch, warehouse):
    first, last = _bounds(warehouse)
    start = first + (last - first) / 2
    at = _app(monkeypatch, warehouse, **{"from": start.isoformat(), "to": last.isoformat()})
    assert not at.exception
    frame = query(
        [name for name, _ in KPIS], start=start, end=last, compare="previous_period", db=warehouse
    ).iloc[0]
    tiles = {m.label: m for m in at.metric[: len(KPIS)]}
    for name, label in KPIS:
        assert tiles[label].value == fmt(name, frame[name])
        assert tiles[label].proto.delta == fmt_delta(frame[f"{name}_delta_pct"])
    assert fmt_delta(frame["cpc_delta_pct"])  # a real comparison, not an empty one


def test_overview_full_range_says_why_there_are_no_deltas(monkeypatch, warehouse):
    at = _app(monkeypatch, warehouse)
    assert not any(m.proto.delta for m in at.metric)
    assert any("No deltas" in c.value for c in at.caption)


def test_changing_a_filter_widget_changes_the_numbers_and_the_url(monkeypatch, warehouse):
    at = _app(monkeypatch, warehouse)
    before = _tile(at, "Spend")
    at.multiselect(key="filter_channel").select("Facebook").select("Email").run()
    assert not at.exception
    first, last = _bounds(warehouse)
    frame = query(
        ["spend", "cpa"],
        where={"channel": ["Email", "Facebook"]},
        start=first,
        end=last,
        db=warehouse,
    )
    assert _tile(at, "Spend") == fmt("spend", frame["spend"].iloc[0]) != before
    assert _tile(at, "CPA") == fmt("cpa", frame["cpa"].iloc[0])
    assert at.query_params["channel"] == ["Email", "Facebook"]


def test_channels_page_numbers_follow_the_filters(monkeypatch, warehouse):
    chosen = ["Email", "Facebook", "Google Ads"]
    at = _app(monkeypatch, warehouse, channel=chosen)
    at.switch_page("views/channels.py").run()
    assert not at.exception
    first, last = _bounds(warehouse)
    expected = query(
        ["spend", "roi"],
        by=["channel"],
        where={"channel": chosen},
        start=first,
        end=last,
        db=warehouse,
    ).set_index("channel")
    quadrants = at.dataframe[0].value.set_index("entity")
    assert sorted(quadrants.index) == chosen
    for channel in chosen:
        assert quadrants.loc[channel, "spend"] == pytest.approx(expected.loc[channel, "spend"])
        assert quadrants.loc[channel, "roi"] == pytest.approx(expected.loc[channel, "roi"])
    stability = at.dataframe[1].value
    assert sorted(stability["entity"]) == chosen


def test_channels_page_says_what_the_report_says(monkeypatch, warehouse):
    from mci.report import build_findings
    from mci.report.sentences import channel_sentences

    at = _app(monkeypatch, warehouse)
    at.switch_page("views/channels.py").run()
    assert not at.exception
    ch = build_findings(warehouse)["channels"]
    said = channel_sentences(ch, "en", escape=plain)
    shown = [
        e.value
        for kind in ("success", "info", "caption", "markdown", "warning")
        for e in at.get(kind)
    ]
    for section in ("verdict", "mix", "evidence", "method", "quadrants", "stability"):
        for sentence in said[section]:
            assert sentence in shown, sentence
    table = at.dataframe[0].value.set_index("entity")
    for row in ch["channels"]:
        for column in ("spend", "roi", "roi_low", "roi_high", "roi_shrunk"):
            assert table.loc[row["entity"], column] == pytest.approx(row[column], rel=1e-12)


@pytest.mark.parametrize("grain", ["week", "month", "quarter"])
def test_trends_grain_selector(monkeypatch, warehouse, grain):
    at = _app(monkeypatch, warehouse, channel="Email")
    at.switch_page("views/trends.py").run()
    at.radio(key="trend_grain").set_value(grain).run()
    assert not at.exception
    first, last = _bounds(warehouse)
    expected = query(
        ["roi", "spend", "ctr", "engagement"],
        where={"channel": ["Email"]},
        grain=grain,
        start=first,
        end=last,
        db=warehouse,
    )
    shown = at.dataframe[0].value
    assert len(shown) == len(expected)
    for name in ("roi", "spend", "ctr", "engagement"):
        assert shown[name].tolist() == pytest.approx(expected[name].tolist())


def test_monthly_table_is_numeric_and_matches_the_query(monkeypatch, warehouse):
    at = _app(monkeypatch, warehouse, campaign_type="Email")
    at.switch_page("views/monthly.py").run()
    assert not at.exception
    shown = at.dataframe[0].value
    first, last = _bounds(warehouse)
    expected = query(
        ["spend", "cpc", "roi"],
        by=["channel", "campaign_type"],
        grain="month",
        where={"campaign_type": ["Email"]},
        start=first,
        end=last,
        db=warehouse,
    )
    assert set(shown["campaign_type"]) == {"Email"}
    assert len(shown) == len(expected)
    assert shown["spend"].sum() == pytest.approx(expected["spend"].sum())
    assert shown["spend"].dtype.kind == "f"  # sortable by value, not as text
    assert at.get("download_button")


def test_quality_outliers_follow_the_filters(monkeypatch, warehouse):
    at = _app(monkeypatch, warehouse, channel=["Email", "Instagram"])
    at.switch_page("views/quality.py").run()
    assert not at.exception
    first, last = _bounds(warehouse)
    expected = query(
        ["campaigns", "outliers"],
        by=["channel"],
        where={"channel": ["Email", "Instagram"]},
        start=first,
        end=last,
        db=warehouse,
    )
    outliers = next(d.value for d in at.dataframe if "outliers" in d.value.columns)
    assert outliers["channel"].tolist() == expected["channel"].tolist()
    assert outliers["outliers"].tolist() == expected["outliers"].tolist()
    assert expected["outliers"].sum() > 0  # the generated export plants some


def test_channel_filter_from_query_params(monkeypatch, warehouse):
    unfiltered = _tile(_app(monkeypatch, warehouse), "Spend")
    at = _app(monkeypatch, warehouse, channel=["Email"], **{"from": "2021-01-01"})
    assert not at.exception
    first, last = _bounds(warehouse)
    frame = query(
        ["roi", "spend"], where={"channel": ["Email"]}, start=first, end=last, db=warehouse
    )
    assert _tile(at, "ROI") == fmt("roi", frame["roi"].iloc[0])
    assert _tile(at, "Spend") == fmt("spend", frame["spend"].iloc[0])
    assert _tile(at, "Spend") != unfiltered
    assert at.query_params["channel"] in ("Email", ["Email"])  # written back to the URL
    assert "to" in at.query_params
    assert at.multiselect(key="filter_channel").value == ["Email"]


def test_filters_persist_across_pages(monkeypatch, warehouse):
    at = _app(monkeypatch, warehouse, channel="Email")
    at.switch_page("views/monthly.py").run()
    assert not at.exception
    assert set(at.dataframe[0].value["channel"]) == {"Email"}
    assert at.query_params["channel"] in ("Email", ["Email"])


def test_impossible_filter_shows_info(monkeypatch, warehouse):
    at = _app(monkeypatch, warehouse, channel="No Such Channel")
    assert not at.exception
    assert any("No campaigns match" in i.value for i in at.info)
    assert not at.metric
    for page in ("channels.py", "trends.py", "monthly.py"):
        at.switch_page(f"views/{page}").run()
        assert not at.exception
        assert any("No campaigns match" in i.value for i in at.info), page


def test_empty_warehouse_shows_how_to_load(monkeypatch, tmp_path):
    at = _app(monkeypatch, f"duckdb:///{tmp_path / 'missing.duckdb'}")
    assert not at.exception
    assert any("mci ingest" in i.value and "mci demo" in i.value for i in at.info)


def test_empty_schema_shows_how_to_load(monkeypatch, tmp_path):
    from mci.warehouse import connect
    from mci.warehouse.schema import ensure_schema

    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    with connect(url) as wh:
        ensure_schema(wh)
    at = _app(monkeypatch, url)
    assert not at.exception
    assert any("mci ingest" in i.value for i in at.info)


def test_filters_round_trip_through_params():
    f = Filters.make({"channel": ["b", "a", "a"], "company": []}, dt.date(2021, 1, 1), None)
    assert f == parse_params(to_params(f))
    assert to_params(f) == {"channel": ["a", "b"], "from": ["2021-01-01"]}
    assert parse_params({"from": ["not a date"], "bogus": ["x"]}) == Filters()


def test_formatting():
    assert compact(1_234_567) == "1.2M"
    assert fmt("spend", 2_500_000) == "$2.5M"
    assert fmt("cpc", 1.5) == "$1.50"
    assert fmt("ctr", 0.05) == "5.00%"
    assert fmt("roi", float("nan")) == "n/a"
    assert delta_color("cpa") == "inverse"


def test_launch_command():
    cmd = command("0.0.0.0", 9000)
    assert cmd[cmd.index("--server.port") + 1] == "9000"
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert cmd[4].endswith("app.py")


HOSTILE = "*Evil* [site](javascript:alert(1)) <b>x</b>"


def test_data_values_reach_markdown_escaped(monkeypatch, tmp_path):
    from mci.datagen import generate
    from mci.ingest.pipeline import ingest

    export = tmp_path / "export.csv"
    generate(export, rows=20_000, seed=5)
    export.write_text(export.read_text().replace(",Email,", f",{HOSTILE},"))
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    ingest([export], url)
    at = _app(monkeypatch, url)
    at.switch_page("views/channels.py").run()
    assert not at.exception
    texts = [e.value for kind in ("success", "info", "caption", "markdown") for e in at.get(kind)]
    assert any(plain(HOSTILE) in text for text in texts)  # the advice names the channel
    assert not any(HOSTILE in text for text in texts)


def test_a_load_while_the_dashboard_runs_shows_at_the_next_interaction(monkeypatch, tmp_path):
    from mci.datagen import generate
    from mci.ingest.pipeline import ingest

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    generate(first, rows=2_000, seed=1)
    generate(second, rows=3_000, seed=2, start=dt.date(2022, 1, 1))
    ingest([first], url)
    at = _app(monkeypatch, url)
    before = _tile(at, "Spend")
    # The dashboard holds no connection between runs, so the load can write the file.
    ingest([second], url)
    at.button[0].click().run()  # Clear filters: the date range now spans both loads
    assert not at.exception
    spend = query(["spend"], db=url)["spend"].iloc[0]
    assert _tile(at, "Spend") == fmt("spend", spend) != before
