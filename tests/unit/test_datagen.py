"""The synthetic export generator: format, determinism, planted truth and planted faults.

The checks re-derive everything from the written files with the csv module and pandas (a small
reference reader below), so a generator whose truth file disagrees with its rows fails.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import doctest
import json
import math
import re
import statistics
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mci.datagen
from mci.datagen import _format, _writer, generate
from mci.ingest.contract import (
    DURATIONS_DAYS,
    KNOWN_CATEGORIES,
    REAL_RANGES,
    SOURCE_COLUMNS,
    SOURCE_TO_CANONICAL,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "kaggle_export_head.csv"
QUADRANT_LABELS = {
    "High Scale • High ROI",
    "High Scale • Low ROI",
    "Low Scale • High ROI",
    "Low Scale • Low ROI",
}
COL = {name: k for k, name in enumerate(SOURCE_COLUMNS)}
MONEY_RE = re.compile(r"-?\$\d{1,3}(,\d{3})*(\.\d+)?")
PLAIN_NUMBER_RE = re.compile(r"-?\d+(\.\d+)?")
ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
INT_RE = re.compile(r"-?\d+")


# --- a small reference reader ---------------------------------------------------------------


def read_lines(path: Path) -> list[str]:
    """Lines of a generated CSV file (LF only); index 0 is the header, index n data line n."""
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\n")
    assert "\r" not in text
    return text[:-1].split("\n")


def read_sample_lines() -> list[str]:
    """Lines of the genuine sample (which ends its lines with CRLF)."""
    assert SAMPLE.is_file(), f"the genuine sample is missing: {SAMPLE}"
    return SAMPLE.read_bytes().decode("utf-8").splitlines()


def fields_of(line: str) -> list[str]:
    return next(csv.reader([line]))


def parse_money(text: str) -> float | None:
    text = text.strip()
    if MONEY_RE.fullmatch(text) or PLAIN_NUMBER_RE.fullmatch(text):
        return float(text.replace("$", "").replace(",", ""))
    return None


def parse_date(text: str) -> dt.date | None:
    if not ISO_DATE_RE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def problems(fields: list[str | None]) -> set[str]:
    """Every reason code that applies to a line (the generator promises at most one)."""
    if len(fields) != len(SOURCE_COLUMNS):
        return {"wrong_field_count"}
    rec = dict(zip(SOURCE_COLUMNS, ["" if v is None else v for v in fields], strict=True))
    found = set()
    for column in ("Clicks", "Impressions", "ROI", "Conversion_Rate"):
        if rec[column] == "":
            found.add("missing_value")
    money = parse_money(rec["Acquisition_Cost"])
    if money is None:
        found.add("bad_money")
    if parse_date(rec["Date"]) is None:
        found.add("bad_date")
    clicks = int(rec["Clicks"]) if INT_RE.fullmatch(rec["Clicks"]) else None
    impressions = int(rec["Impressions"]) if INT_RE.fullmatch(rec["Impressions"]) else None
    if any(v is not None and v < 0 for v in (clicks, impressions, money)):
        found.add("negative_value")
    if clicks is not None and impressions is not None and 0 < impressions < clicks:
        found.add("clicks_exceed_impressions")
    return found


def kind_by_line(truth: dict) -> dict[int, str]:
    out: dict[int, str] = {}
    for kind, entry in [*truth["faults"].items(), *truth["duplicates"].items()]:
        assert entry["count"] == len(entry["lines"])
        assert entry["lines"] == sorted(entry["lines"])
        for line in entry["lines"]:
            assert line not in out, f"line {line} carries two faults"
            out[line] = kind
    return out


def excluded_lines(truth: dict) -> set[int]:
    """Lines that a correct ingest does not load: quarantined or dropped as exact duplicates."""
    return set(kind_by_line(truth))


def new_category_lines(truth: dict) -> set[int]:
    return {ln for values in truth["new_categories"].values() for v in values.values() for ln in v}


def frame(rows: dict[int, list[str]]) -> pd.DataFrame:
    """Typed frame of loaded data lines (line number -> fields)."""
    df = pd.DataFrame.from_dict(rows, orient="index", columns=list(SOURCE_COLUMNS))
    df = df.rename(columns=SOURCE_TO_CANONICAL)
    df["spend"] = df["spend"].str.replace(r"[$,]", "", regex=True).astype(float)
    for column in ("roi", "conversion_rate"):
        df[column] = df[column].astype(float)
    for column in ("clicks", "impressions", "campaign_id", "engagement_score"):
        df[column] = df[column].astype(int)
    df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
    return df


def loaded_frame(path: Path, truth: dict) -> pd.DataFrame:
    lines = read_lines(path)
    skip = excluded_lines(truth)
    rows = {n: fields_of(lines[n]) for n in range(1, len(lines)) if n not in skip}
    return frame(rows)


def assert_clean_row(fields: list[str], *, new_channel: bool = False) -> None:
    """A loadable row: 16 well-formed fields within the genuine export's ranges."""
    assert len(fields) == len(SOURCE_COLUMNS)
    assert problems(fields) == set()
    rec = dict(zip(SOURCE_COLUMNS, fields, strict=True))
    for source, canonical in SOURCE_TO_CANONICAL.items():
        if canonical in KNOWN_CATEGORIES and not (new_channel and canonical == "channel"):
            assert rec[source] in KNOWN_CATEGORIES[canonical], (source, rec[source])
    assert re.fullmatch(r"[1-9]\d*", rec["Campaign_ID"])
    assert re.fullmatch(r"\d+ days", rec["Duration"])
    assert int(rec["Duration"].split()[0]) in DURATIONS_DAYS
    assert re.fullmatch(r"\$\d{1,3}(,\d{3})*\.00", rec["Acquisition_Cost"])
    for column in ("Conversion_Rate", "ROI"):
        value = rec[column]
        assert re.fullmatch(r"\d+\.\d{1,2}", value), (column, value)
        assert repr(float(value)) == value, (column, value)  # shortest form, like the sample
    for column in ("Clicks", "Impressions", "Engagement_Score"):
        assert re.fullmatch(r"[1-9]\d*", rec[column]), (column, rec[column])
    assert parse_date(rec["Date"]) is not None
    values = {
        "conversion_rate": float(rec["Conversion_Rate"]),
        "spend": parse_money(rec["Acquisition_Cost"]),
        "roi": float(rec["ROI"]),
        "clicks": int(rec["Clicks"]),
        "impressions": int(rec["Impressions"]),
        "engagement_score": int(rec["Engagement_Score"]),
    }
    for name, (lo, hi) in REAL_RANGES.items():
        assert lo <= values[name] <= hi, (name, values[name])
    assert values["clicks"] <= values["impressions"]


def check_faults(path: Path, truth: dict) -> None:
    """Every line is exactly what the truth says it is."""
    lines = read_lines(path)
    assert lines[0] == ",".join(SOURCE_COLUMNS)
    assert len(lines) - 1 == truth["rows"] == truth["expected"]["rows_read"]
    kinds = kind_by_line(truth)
    new = new_category_lines(truth)
    assert not new & set(kinds)
    sources = {}
    for entry in (truth["faults"]["conflicting_duplicate"], truth["duplicates"]["exact_duplicate"]):
        assert len(entry["source_lines"]) == entry["count"]
        sources.update(zip(entry["lines"], entry["source_lines"], strict=True))
    assert len(set(sources.values())) == len(sources), "a source copied twice"
    assert not set(sources.values()) & (set(kinds) | new), "a source is not a clean line"

    by_column = {
        kind: {ln: col for col, lns in truth["faults"][kind]["by_column"].items() for ln in lns}
        for kind in ("negative_value", "missing_value")
    }
    field_counts = {
        ln: int(n)
        for n, lns in truth["faults"]["wrong_field_count"]["by_field_count"].items()
        for ln in lns
    }
    seen_ids: set[str] = set()
    counts: Counter[str] = Counter()
    for n in range(1, len(lines)):
        fields = fields_of(lines[n])
        kind = kinds.get(n)
        counts[kind or "loaded"] += 1
        if kind is None:
            assert_clean_row(fields, new_channel=n in new)
            assert fields[0] == str(n)
            assert (fields[COL["Channel_Used"]] == "TikTok") == (n in new)
            seen_ids.add(fields[0])
        elif kind == "exact_duplicate":
            assert sources[n] < n
            assert lines[n] == lines[sources[n]]
        elif kind == "conflicting_duplicate":
            source = fields_of(lines[sources[n]])
            assert sources[n] < n
            assert problems(fields) == set()
            assert fields[0] == source[0] == str(sources[n])
            assert fields[1:] != source[1:]
        else:
            assert problems(fields) == {kind}, (n, kind, lines[n])
            if kind in by_column:
                value = fields[COL[by_column[kind][n]]]
                assert value.startswith("-") if kind == "negative_value" else value == ""
            if kind == "wrong_field_count":
                assert len(fields) == field_counts[n]
            if kind == "clicks_exceed_impressions":
                assert int(fields[COL["Clicks"]]) > int(fields[COL["Impressions"]]) > 0
    expected = truth["expected"]
    assert counts["loaded"] == expected["rows_loaded"]
    assert counts["exact_duplicate"] == expected["rows_duplicate"]
    quarantined = sum(c for k, c in counts.items() if k not in ("loaded", "exact_duplicate"))
    assert quarantined == expected["rows_quarantined"]
    assert sum(e["count"] for e in truth["faults"].values()) == expected["rows_quarantined"]
    assert expected["rows_read"] == (
        expected["rows_loaded"] + expected["rows_quarantined"] + expected["rows_duplicate"]
    )


def channel_figures(df: pd.DataFrame) -> pd.DataFrame:
    df = df.assign(net=df["spend"] * df["roi"])
    g = df.groupby("channel")[["spend", "net"]].sum()
    g["roi"] = g["net"] / g["spend"]
    return g


def monthly_cv(df: pd.DataFrame) -> pd.Series:
    df = df.assign(net=df["spend"] * df["roi"], month=df["date"].dt.to_period("M"))
    m = df.groupby(["channel", "month"])[["spend", "net"]].sum()
    roi = m["net"] / m["spend"]
    return roi.groupby(level="channel").agg(lambda s: s.std(ddof=1) / abs(s.mean()))


def quadrant_labels(x: pd.Series, y: pd.Series) -> dict[str, str]:
    mx, my = statistics.median(x), statistics.median(y)
    return {
        c: f"{'High' if x[c] >= mx else 'Low'} Scale • {'High' if y[c] >= my else 'Low'} ROI"
        for c in x.index
    }


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dirty_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dirty") / "export.csv"
    truth = generate(out, rows=6_000, seed=11, dirty=0.05)
    return out, truth


# --- tests -----------------------------------------------------------------------------------


def test_sample_exists_and_matches_the_contract() -> None:
    lines = read_sample_lines()
    assert lines[0] == ",".join(SOURCE_COLUMNS)
    assert len(lines) > 5
    for n, line in enumerate(lines[1:], start=1):
        assert_clean_row(fields_of(line))  # the reference checks hold for the genuine rows
        assert fields_of(line)[0] == str(n)


def test_header_and_formats_match_the_genuine_sample(tmp_path: Path) -> None:
    sample = read_sample_lines()
    sample_bytes = SAMPLE.read_bytes()
    for profile in ("noise", "planted"):
        out = tmp_path / f"{profile}.csv"
        generate(out, rows=3_000, seed=2, profile=profile)
        data = out.read_bytes()
        assert data.startswith(codecs.BOM_UTF8) == sample_bytes.startswith(codecs.BOM_UTF8)
        # LF line endings by decision (read_lines rejects CR); the genuine sample uses CRLF,
        # which the ingest accepts as well.
        assert data.count(b"\n") == len(read_lines(out))
        lines = read_lines(out)
        assert lines[0] == sample[0]
        money_quoted = re.compile(r',"\$\d{1,3}(,\d{3})*\.00",')
        for line in sample[1:]:
            assert money_quoted.search(line)
        for n, line in enumerate(lines[1:], start=1):
            assert money_quoted.search(line), line
            fields = fields_of(line)
            assert_clean_row(fields)
            assert fields[0] == str(n)
    # The sample writes two-decimal figures in their shortest form ("6.5", not "6.50").
    sample_rois = [fields_of(line)[COL["ROI"]] for line in sample[1:]]
    generated = [fields_of(line)[COL["ROI"]] for line in read_lines(tmp_path / "noise.csv")[1:]]
    assert any(len(v.split(".")[1]) == 1 for v in sample_rois)
    assert any(len(v.split(".")[1]) == 1 for v in generated)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    for suffix in (".csv", ".parquet"):
        a, b, c = (tmp_path / f"{name}{suffix}" for name in "abc")
        ta = generate(a, rows=4_000, seed=7, dirty=0.03)
        tb = generate(b, rows=4_000, seed=7, dirty=0.03)
        tc = generate(c, rows=4_000, seed=8, dirty=0.03)
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() != c.read_bytes()
        assert ta == tb
        assert ta["faults"] != tc["faults"]


def test_noise_profile_is_uniform_and_dates_follow_the_formula(tmp_path: Path) -> None:
    out = tmp_path / "noise.csv"
    start, days, rows = dt.date(2022, 3, 1), 50, 30_000
    truth = generate(out, rows=rows, days=days, start=start, seed=4, profile="noise")
    lines = read_lines(out)
    assert len(lines) == rows + 1
    for n in range(1, len(lines)):
        fields = fields_of(lines[n])
        assert_clean_row(fields)
        campaign_id = int(fields[0])
        assert campaign_id == n
        assert fields[COL["Date"]] == (start + dt.timedelta((campaign_id - 1) % days)).isoformat()
    df = loaded_frame(out, truth)
    for column in ("channel", "company", "location", "customer_segment"):
        shares = df[column].value_counts(normalize=True)
        assert set(shares.index) == set(KNOWN_CATEGORIES[column])
        assert (shares - 1 / len(shares)).abs().max() < 0.02, column
    for column in ("roi", "spend", "conversion_rate", "clicks", "impressions"):
        lo, hi = REAL_RANGES[column]
        assert abs(df[column].mean() - (lo + hi) / 2) < 0.02 * (hi - lo), column
        assert df[column].min() < lo + 0.01 * (hi - lo)
        assert df[column].max() > hi - 0.01 * (hi - lo)
    assert truth["profile"] == "noise"
    assert truth["best_roi_channel"] is None
    assert truth["worst_roi_channel"] is None
    assert truth["most_volatile_channel"] is None
    assert truth["anomalies"] == []
    assert truth["seasonality"] is None
    figures = channel_figures(df)
    for name, entry in truth["channels"].items():
        assert "planted_roi" not in entry
        assert entry["realised_spend"] == pytest.approx(figures.loc[name, "spend"])
        assert entry["realised_roi"] == pytest.approx(figures.loc[name, "roi"], abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 17])
def test_planted_truth_matches_the_rows(tmp_path: Path, seed: int) -> None:
    out = tmp_path / "planted.csv"
    truth_path = tmp_path / "truth.json"
    truth = generate(out, rows=20_000, seed=seed, dirty=0.01, truth=truth_path)
    assert json.loads(truth_path.read_text(encoding="utf-8")) == truth
    df = loaded_frame(out, truth)
    assert len(df) == truth["expected"]["rows_loaded"]
    df = df[df["channel"] != "TikTok"]
    figures = channel_figures(df)
    channels = truth["channels"]
    assert set(channels) == set(KNOWN_CATEGORIES["channel"]) == set(figures.index)
    for name, entry in channels.items():
        assert entry["realised_spend"] == pytest.approx(figures.loc[name, "spend"])
        assert entry["realised_roi"] == pytest.approx(figures.loc[name, "roi"], abs=1e-6)
        assert entry["realised_roi"] == pytest.approx(entry["planted_roi"], abs=0.15)
        assert 2.0 <= entry["planted_roi"] <= 8.0
    shares = [entry["budget_share"] for entry in channels.values()]
    assert len(set(shares)) == len(shares)
    assert sum(shares) == pytest.approx(1.0)

    assert figures["roi"].idxmax() == truth["best_roi_channel"]
    assert figures["roi"].idxmin() == truth["worst_roi_channel"]
    cv = monthly_cv(df)
    assert cv.idxmax() == truth["most_volatile_channel"]
    assert cv.sort_values().iloc[-1] > 1.5 * cv.sort_values().iloc[-2]
    for name, value in cv.items():
        assert channels[name]["realised_roi_cv_across_months"] == pytest.approx(value, abs=1e-6)

    planted = quadrant_labels(
        pd.Series({c: e["budget_share"] for c, e in channels.items()}),
        pd.Series({c: e["planted_roi"] for c, e in channels.items()}),
    )
    realised = quadrant_labels(figures["spend"], figures["roi"])
    for name, entry in channels.items():
        assert entry["expected_quadrant"] == planted[name] == realised[name]
    assert set(realised.values()) == QUADRANT_LABELS


def test_planted_seasonality_and_anomalies_are_in_the_rows(tmp_path: Path) -> None:
    out = tmp_path / "planted.csv"
    truth = generate(out, rows=60_000, seed=5)
    df = loaded_frame(out, truth)
    season = truth["seasonality"]
    dates = pd.date_range(truth["start"], truth["end"], freq="D")
    weekly = np.array([season["weekly"][d.day_name()] for d in dates])
    yearly = season["yearly"]
    phase = 2 * math.pi * (dates.day_of_year - yearly["peak_day_of_year"]) / yearly["period_days"]
    expected = weekly * (1 + yearly["amplitude"] * np.cos(phase))
    counts = df.groupby("date").size().reindex(dates, fill_value=0)
    assert np.corrcoef(counts.to_numpy(), expected)[0, 1] > 0.8
    by_weekday = df["date"].dt.day_name().value_counts()
    ranked = sorted(season["weekly"], key=season["weekly"].get)
    assert season["busiest_weekday"] == ranked[-1]
    assert season["quietest_weekday"] == ranked[0]
    assert by_weekday.idxmax() in ranked[-3:]
    assert by_weekday.idxmin() in ranked[:2]

    anomalies = truth["anomalies"]
    assert 3 <= len(anomalies) <= 5
    assert len({a["metric"] for a in anomalies}) == len(anomalies)
    day = df.assign(net=df["spend"] * df["roi"], conv=df["clicks"] * df["conversion_rate"])
    day = day.groupby("date").agg(
        rows=("spend", "size"),
        spend=("spend", "sum"),
        net=("net", "sum"),
        clicks=("clicks", "sum"),
        impressions=("impressions", "sum"),
        conv=("conv", "sum"),
    )
    series = {
        "spend": day["spend"] / day["rows"],
        "ctr": day["clicks"] / day["impressions"],
        "cvr": day["conv"] / day["clicks"],
        "roi": day["net"] / day["spend"],
    }
    anomalous = {pd.Timestamp(a["date"]) for a in anomalies}
    for a in anomalies:
        s = series[a["metric"]]
        when = pd.Timestamp(a["date"])
        normal = s.drop(index=list(anomalous))
        if a["factor"] > 1:
            assert s[when] > normal.max(), a
        else:
            assert s[when] < normal.min(), a
        assert a["realised_factor"] == pytest.approx(s[when] / normal.median(), rel=1e-3)


def test_every_planted_fault_is_real(dirty_export: tuple[Path, dict]) -> None:
    out, truth = dirty_export
    for kind, entry in truth["faults"].items():
        assert entry["count"] > 0, kind
    assert truth["duplicates"]["exact_duplicate"]["count"] > 0
    counts = [e["count"] for e in truth["faults"].values()]
    counts.append(truth["duplicates"]["exact_duplicate"]["count"])
    assert max(counts) - min(counts) <= 1  # spread evenly
    assert sum(counts) == round(0.05 * truth["rows"])
    assert {len(v) for v in truth["faults"]["negative_value"]["by_column"].values()} != {0}
    check_faults(out, truth)


def test_new_category_rows_load_normally(dirty_export: tuple[Path, dict]) -> None:
    out, truth = dirty_export
    new = truth["new_categories"]["channel"]
    assert set(new) == {"TikTok"}
    lines = read_lines(out)
    df = loaded_frame(out, truth)
    assert sorted(df.index[df["channel"] == "TikTok"]) == new["TikTok"]
    for n in new["TikTok"]:
        assert_clean_row(fields_of(lines[n]), new_channel=True)


def test_clean_export_has_no_faults(tmp_path: Path) -> None:
    out = tmp_path / "clean.csv"
    truth = generate(out, rows=2_000, seed=1)
    assert all(e["count"] == 0 for e in truth["faults"].values())
    assert truth["new_categories"] == {}
    assert truth["expected"] == {
        "rows_read": 2_000,
        "rows_loaded": 2_000,
        "rows_quarantined": 0,
        "rows_duplicate": 0,
    }
    check_faults(out, truth)


def test_faults_across_chunk_boundaries_and_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_writer, "CHUNK_ROWS", 1_000)
    calls: list[tuple[int, int]] = []
    out = tmp_path / "chunked.csv"
    truth = generate(
        out, rows=5_500, seed=3, dirty=0.06, on_progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(done, 5_500) for done in (1_000, 2_000, 3_000, 4_000, 5_000, 5_500)]
    dup = truth["duplicates"]["exact_duplicate"]
    pairs = list(zip(dup["lines"], dup["source_lines"], strict=True))
    assert any((line - 1) // 1_000 != (source - 1) // 1_000 for line, source in pairs)
    check_faults(out, truth)


def test_parquet_holds_the_same_text_as_csv(tmp_path: Path) -> None:
    for dirty in (0.0, 0.04):
        csv_out, pq_out = tmp_path / f"e{dirty}.csv", tmp_path / f"e{dirty}.parquet"
        csv_truth = generate(csv_out, rows=5_000, seed=9, dirty=dirty)
        pq_truth = generate(pq_out, rows=5_000, seed=9, dirty=dirty)
        table = pq.read_table(pq_out)
        assert table.column_names == list(SOURCE_COLUMNS)
        assert all(field.type == pa.string() for field in table.schema)
        assert table.num_rows == 5_000
        parquet_rows = table.to_pylist()
        lines = read_lines(csv_out)
        wrong = set(csv_truth["faults"]["wrong_field_count"]["lines"])
        assert pq_truth["faults"]["wrong_field_count"]["count"] == 0
        for kind, entry in csv_truth["faults"].items():
            if kind != "wrong_field_count":
                assert pq_truth["faults"][kind] == entry
        assert pq_truth["duplicates"] == csv_truth["duplicates"]
        quarantined = csv_truth["expected"]["rows_quarantined"] - len(wrong)
        assert pq_truth["expected"]["rows_quarantined"] == quarantined
        pq_kinds = kind_by_line(pq_truth)
        for n, row in enumerate(parquet_rows, start=1):
            values = [row[c] for c in SOURCE_COLUMNS]
            if n in wrong:
                assert_clean_row([v or "" for v in values])
            else:
                assert [v if v is not None else "" for v in values] == fields_of(lines[n])
            if pq_kinds.get(n) == "missing_value":
                assert None in values  # a missing value is a null in Parquet
            else:
                assert None not in values


@pytest.mark.parametrize("name", ["export.json", "export.CSVX", "export", "export.csv.gz"])
def test_unsupported_suffix_raises(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    suffix = out.suffix.lower() or "(no suffix)"
    with pytest.raises(ValueError, match=re.escape(suffix)):
        generate(out, rows=10)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"rows": 0}, {"days": 0}, {"seed": -1}, {"dirty": 0.9}, {"dirty": -0.1}, {"profile": "x"}],
)
def test_bad_arguments_raise(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path / "x.csv", **kwargs)


def test_docstring_examples_run() -> None:
    for module in (mci.datagen, _format):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0
        assert result.failed == 0
