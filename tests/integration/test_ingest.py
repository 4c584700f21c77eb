"""The whole ingest on every engine: contract, cleaning, quarantine, idempotency."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from pathlib import Path

import pytest
from tests.conftest import ENGINES, url_for
from tests.support.warehouse import quarantined_lines, snapshot

from mci.ingest import process
from mci.ingest.errors import ContractError
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress
from mci.ingest.quality import quality_report
from mci.warehouse import connect


def load(paths, url, **kw):
    return ingest([Path(p) for p in paths], url, progress=NoProgress(), **kw)


def clean_rows(url: str) -> list[tuple]:
    """The loaded rows without their load id (to compare loads of different files)."""
    return [row[1:] for row in snapshot(url, ("campaign_performance",))["campaign_performance"]]


def test_genuine_sample_loads_with_nothing_quarantined(db_url, sample):
    [result] = load([sample], db_url)
    lines = sample.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert (result.rows_read, result.rows_loaded) == (len(lines), len(lines))
    assert (result.rows_quarantined, result.rows_duplicate, result.status) == (0, 0, "loaded")
    state = snapshot(db_url)
    assert [row[2] for row in state["raw_campaign_rows"]] == lines
    first = next(csv.DictReader(io.StringIO(sample.read_text(encoding="utf-8-sig"))))
    row = state["campaign_performance"][0]
    assert row[2] == int(first["Campaign_ID"])
    assert row[9] == float(first["Acquisition_Cost"].replace("$", "").replace(",", ""))
    assert row[17] == first["Date"]


def test_dirty_export_quarantines_exactly_the_planted_lines(db_url, dirty_export):
    path, truth = dirty_export
    [result] = load([path], db_url)
    expected = truth["expected"]
    assert result.rows_read == expected["rows_read"]
    assert result.rows_loaded == expected["rows_loaded"]
    assert result.rows_quarantined == expected["rows_quarantined"]
    assert result.rows_duplicate == expected["rows_duplicate"]
    assert result.rows_read == result.rows_loaded + result.rows_quarantined + result.rows_duplicate
    found = quarantined_lines(db_url)
    planted = {kind: fault["lines"] for kind, fault in truth["faults"].items() if fault["count"]}
    assert found == planted
    state = snapshot(db_url)
    loaded_lines = {row[1] for row in state["campaign_performance"]}
    duplicate_lines = set(truth["duplicates"]["exact_duplicate"]["lines"])
    assert not loaded_lines & duplicate_lines
    assert len(state["raw_campaign_rows"]) == result.rows_read
    assert result.new_categories == {"channel": sorted(truth["new_categories"]["channel"])}


def test_new_category_values_are_reported_per_column_in_order_once(db_url, sample, tmp_path):
    lines = sample.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    company, location = header.index("Company"), header.index("Location")

    def with_values(row: str, new_company: str, new_location: str) -> str:
        fields = next(csv.reader([row]))
        fields[company], fields[location] = new_company, new_location
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(fields)
        return out.getvalue()

    first = tmp_path / "first.csv"
    first.write_text(
        "\n".join(
            [
                lines[0],
                with_values(lines[1], "Zeta Labs", "Zürich"),
                with_values(lines[2], "Ärzte Digital", "Chicago"),
                with_values(lines[3], "Zeta Labs", "Århus"),
                *lines[4:],
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    [result] = load([first], db_url)
    assert result.new_categories == {
        "company": sorted(["Zeta Labs", "Ärzte Digital"]),
        "location": sorted(["Zürich", "Århus"]),
    }
    second = tmp_path / "second.csv"
    second.write_text(
        "\n".join(
            [
                lines[0],
                with_values(
                    lines[5].replace(lines[5].split(",")[0], "9001", 1), "Zeta Labs", "Oslo"
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    [again] = load([second], db_url)
    assert again.rows_loaded == 1
    assert again.new_categories == {"location": ["Oslo"]}  # Zeta Labs was seen by load 1


@pytest.mark.parametrize("span", [10, 2**40], ids=["narrow-ids", "ids-wider-than-the-bitmap"])
@pytest.mark.parametrize("repeats", [False, True], ids=["unique", "repeated"])
def test_repeated_campaign_ids_are_found_whatever_their_span(tmp_path, sample, span, repeats):
    # Repeated ids are found with a bitmap over a narrow span of ids, by grouping otherwise.
    header, *rows = sample.read_text(encoding="utf-8-sig").splitlines()
    rows = [f"{i * span + 1},{row.split(',', 1)[1]}" for i, row in enumerate(rows)]
    if repeats:
        first_id, rest = rows[0].split(",", 1)
        rows.append(rows[3])  # an exact copy of line 4
        rows.append(f"{first_id},{rest.replace('2021-01-01', '2021-01-02')}")  # line 1's id
    path = tmp_path / "ids.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    [result] = load([path], url)
    assert (result.rows_duplicate, result.rows_quarantined) == ((1, 1) if repeats else (0, 0))
    assert result.rows_loaded == len(rows) - (2 if repeats else 0)
    if repeats:
        [(reason, line)] = [(r[2], r[1]) for r in snapshot(url, ("quarantine",))["quarantine"]]
        assert (reason, line) == ("conflicting_duplicate", len(rows))


def test_quarantine_keeps_the_raw_line_and_a_reason_naming_the_column(db_url, dirty_export):
    path, _ = dirty_export
    load([path], db_url)
    raw = dict(((r[0], r[1]), r[2]) for r in snapshot(db_url)["raw_campaign_rows"])
    rows = snapshot(db_url, ("quarantine",))["quarantine"]
    assert rows
    for load_id, line, code, message, column, raw_text in rows:
        assert raw_text == raw[(load_id, line)]
        assert message
        if code not in ("wrong_field_count", "conflicting_duplicate"):
            assert column and column in message, (code, message)


def test_loading_the_same_file_again_changes_nothing(db_url, dirty_export):
    path, _ = dirty_export
    [first] = load([path], db_url)
    before = snapshot(db_url)
    [again] = load([path], db_url)
    assert again.status == "unchanged"
    assert again.load_id == first.load_id
    assert snapshot(db_url) == before


def test_replace_reloads_the_file_once(db_url, clean_export):
    path, truth = clean_export
    [first] = load([path], db_url)
    [second] = load([path], db_url, replace=True)
    assert second.status == "loaded" and second.load_id != first.load_id
    state = snapshot(db_url)
    assert len(state["campaign_performance"]) == truth["expected"]["rows_loaded"]
    assert {row[0] for row in state["campaign_performance"]} == {second.load_id}
    statuses = {row[0]: row[11] for row in state["load_log"]}
    assert statuses == {first.load_id: "replaced", second.load_id: "loaded"}


def _rewrite(src: Path, dst: Path, *, crlf=False, bom=False, rename=None, plain_money=False):
    rows = list(csv.reader(io.StringIO(src.read_text())))
    header = [(rename or {}).get(name, name) for name in rows[0]]
    money = rows[0].index("Acquisition_Cost")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    for row in rows[1:]:
        if plain_money:
            row[money] = row[money].replace("$", "").replace(",", "")
        writer.writerow(row)
    dst.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())
    return dst


@pytest.mark.parametrize(
    "variant",
    [
        {"crlf": True, "bom": True},
        {"rename": {"Date": "Dates", "Language": "Languages"}},
        {"plain_money": True},
    ],
    ids=["crlf-bom", "renamed-headers", "plain-money"],
)
def test_export_variants_load_the_same_rows(request, tmp_path, clean_export, variant):
    path, truth = clean_export
    reference = url_for("duckdb", request, tmp_path, "reference")
    load([path], reference)
    variant_path = _rewrite(path, tmp_path / "variant.csv", **variant)
    url = url_for("duckdb", request, tmp_path, "variant")
    renames = {new: old for old, new in variant.get("rename", {}).items()}
    [result] = load([variant_path], url, renames=renames)
    assert result.rows_loaded == truth["expected"]["rows_loaded"]
    assert clean_rows(url) == clean_rows(reference)


def test_renamed_headers_without_mapping_are_refused(tmp_path, clean_export):
    path, _ = clean_export
    renamed = _rewrite(path, tmp_path / "renamed.csv", rename={"Date": "Dates"})
    db = tmp_path / "w.duckdb"
    with pytest.raises(ContractError) as caught:
        load([renamed], f"duckdb:///{db}")
    message = str(caught.value)
    assert str(renamed) in message and "missing columns: Date" in message
    assert "Dates" in message and "--rename" in message
    assert caught.value.exit_code == 2
    assert not db.exists()


def test_missing_columns_write_nothing_even_after_good_files(tmp_path, sample):
    broken = tmp_path / "broken.csv"
    broken.write_text("Campaign_ID,Company\n1,TechCorp\n")
    db = tmp_path / "w.duckdb"
    with pytest.raises(ContractError, match="Channel_Used"):
        load([sample, broken], f"duckdb:///{db}")
    assert not db.exists()


def test_parquet_loads_the_same_as_csv(request, tmp_path):
    from mci.datagen import generate

    csv_truth = generate(tmp_path / "x.csv", rows=2_000, seed=4, dirty=0.02)
    parquet_truth = generate(tmp_path / "x.parquet", rows=2_000, seed=4, dirty=0.02)
    csv_url = url_for("duckdb", request, tmp_path, "csv")
    parquet_url = url_for("duckdb", request, tmp_path, "parquet")
    [from_csv] = load([tmp_path / "x.csv"], csv_url)
    [from_parquet] = load([tmp_path / "x.parquet"], parquet_url)
    assert from_parquet.rows_loaded == parquet_truth["expected"]["rows_loaded"]
    assert from_csv.rows_loaded == csv_truth["expected"]["rows_loaded"]
    csv_by_id = {row[1]: row[1:] for row in clean_rows(csv_url)}
    for row in clean_rows(parquet_url):
        if row[0] in csv_by_id and row[1] == csv_by_id[row[0]][1]:
            assert row == csv_by_id[row[0]]


def test_every_engine_holds_identical_rows(request, tmp_path, dirty_export):
    path, _ = dirty_export
    states = {}
    for engine in ENGINES:
        url = url_for(engine, request, tmp_path, f"all-{engine}")
        load([path], url)
        state = snapshot(url)
        state["load_log"] = [row[:9] for row in state["load_log"]]  # timestamps differ
        states[engine] = state
    assert states["sqlite"] == states["duckdb"]
    assert states["postgresql"] == states["duckdb"]


def test_a_second_file_with_known_campaigns_counts_duplicates_and_conflicts(db_url, tmp_path):
    header = (
        "Campaign_ID,Company,Campaign_Type,Target_Audience,Duration,Channel_Used,"
        "Conversion_Rate,Acquisition_Cost,ROI,Location,Language,Clicks,Impressions,"
        "Engagement_Score,Customer_Segment,Date\n"
    )

    def line(cid: int, clicks: int) -> str:
        return (
            f'{cid},TechCorp,Email,All Ages,30 days,Email,0.05,"$10,000.00",5.0,Miami,'
            f"English,{clicks},5000,5,Foodies,2021-03-0{cid % 9 + 1}\n"
        )

    first = tmp_path / "first.csv"
    first.write_text(header + line(1, 100) + line(2, 200) + line(3, 300))
    second = tmp_path / "second.csv"
    second.write_text(header + line(2, 200) + line(3, 999) + line(4, 400))
    load([first], db_url)
    [result] = load([second], db_url)
    assert (result.rows_read, result.rows_loaded) == (3, 1)
    assert (result.rows_duplicate, result.rows_quarantined) == (1, 1)
    assert quarantined_lines(db_url) == {"conflicting_duplicate": [2]}
    with connect(db_url, read_only=True) as wh:
        _, rows = wh.query("SELECT campaign_id, clicks FROM campaign_performance ORDER BY 1")
        _, message = wh.query("SELECT reason_message FROM quarantine")
    assert rows == [(1, 100), (2, 200), (3, 300), (4, 400)]
    assert "line 3 of load 1" in message[0][0]


def test_outliers_are_flagged_in_a_column_not_dropped(db_url, tmp_path):
    header = (
        "Campaign_ID,Company,Campaign_Type,Target_Audience,Duration,Channel_Used,"
        "Conversion_Rate,Acquisition_Cost,ROI,Location,Language,Clicks,Impressions,"
        "Engagement_Score,Customer_Segment,Date\n"
    )
    lines = [
        f'{i},TechCorp,Email,All Ages,30 days,Email,0.05,"${10_000 + 37 * i:,}.00",5.0,Miami,'
        f"English,{400 + i},{5000 + 11 * i},5,Foodies,2021-03-01\n"
        for i in range(1, 41)
    ]
    # one campaign spends 40 times the typical amount per click
    lines[7] = lines[7].replace('"$10,296.00"', '"$400,000.00"')
    path = tmp_path / "outlier.csv"
    path.write_text(header + "".join(lines))
    [result] = load([path], db_url)
    assert result.rows_loaded == 40 and result.rows_outlier == 1
    with connect(db_url, read_only=True) as wh:
        _, rows = wh.query(
            "SELECT line_no, outlier_reason FROM campaign_performance WHERE is_outlier"
        )
    assert rows == [(8, "spend,cpc")]
    report = quality_report(db_url)
    assert report.outliers_by_channel == {"Email": {"spend": 1, "cpc": 1}}


def test_a_line_that_is_not_utf8_is_quarantined_and_the_rest_loads(db_url, sample, tmp_path):
    # One line of an otherwise UTF-8 export holds a Latin-1 byte (and a backslash): that line
    # is quarantined as bad_encoding with its bytes kept escaped, every other line loads.
    load([sample], db_url)
    before = snapshot(db_url)
    lines = sample.read_bytes().split(b"\r\n")
    parts = lines[7].split(b",", 2)
    parts[1] = b"Cura\xe7ao \\ NY \xe9"  # the Company field
    lines[7] = b",".join(parts)
    lines[1:] = [b"%d" % (1000 + i) + ln[ln.index(b",") :] for i, ln in enumerate(lines[1:-1])]
    lines.append(b"")
    bad = tmp_path / "one-bad-line.csv"
    bad.write_bytes(b"\r\n".join(lines))
    [result] = load([bad], db_url)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (20, 19, 1)
    state = snapshot(db_url)
    assert (
        state["campaign_performance"][: len(before["campaign_performance"])]
        == before["campaign_performance"]
    )
    [(_, line, code, message, column, raw_text)] = [
        row for row in state["quarantine"] if row[0] == result.load_id
    ]
    assert (line, code, column) == (7, "bad_encoding", None)
    assert "not valid UTF-8" in message and "0xE7" in message and "latin-1" in message
    raw = {row[1]: row[2] for row in state["raw_campaign_rows"] if row[0] == result.load_id}
    assert raw[7] == raw_text
    assert "Cura\\xe7ao \\\\ NY \\xe9" in raw_text
    # The escapes undo exactly: the raw bytes are kept.
    restored = re.sub(
        rb"\\\\|\\x([0-9a-f]{2})",
        lambda m: bytes.fromhex(m.group(1).decode()) if m.group(1) else b"\\",
        raw_text.encode(),
    )
    assert restored == lines[7]


def test_blank_lines_keep_physical_line_numbers(db_url, tmp_path, sample):
    lines = sample.read_text(encoding="utf-8-sig").splitlines()
    text = "\n".join([lines[0], lines[1], "", lines[2], "3,only,three", lines[3]]) + "\n"
    path = tmp_path / "gaps.csv"
    path.write_text(text)
    [result] = load([path], db_url)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 3, 1)
    assert quarantined_lines(db_url) == {"wrong_field_count": [4]}
    with connect(db_url, read_only=True) as wh:
        _, rows = wh.query("SELECT line_no FROM campaign_performance ORDER BY 1")
    assert [r[0] for r in rows] == [1, 3, 5]


def test_quality_report_accounts_for_every_row(db_url, dirty_export):
    path, truth = dirty_export
    load([path], db_url)
    report = quality_report(db_url)
    totals = report.totals
    assert (
        totals["rows_read"]
        == totals["rows_loaded"] + totals["rows_quarantined"] + totals["rows_duplicate"]
    )
    planted = {kind: f["count"] for kind, f in truth["faults"].items() if f["count"]}
    assert report.quarantine_by_reason == planted
    assert {s["reason_code"] for s in report.samples} == set(planted)
    assert report.new_categories == {"channel": sorted(truth["new_categories"]["channel"])}
    json.dumps(report.to_dict())


def test_big_file_records_in_a_scratch_file_load_the_same_rows(tmp_path, dirty_export, monkeypatch):
    # Records that would not fit in memory go to a scratch database file: same result.
    path, _ = dirty_export
    in_memory = f"duckdb:///{tmp_path}/memory.duckdb"
    [expected] = load([path], in_memory)
    assert expected.rows_outlier > 0  # the two ways of computing outlier statistics meet
    monkeypatch.setattr(process, "RECORDS_MEMORY_SHARE", 0.0)
    scratch_dirs_before = set(Path(tempfile.gettempdir()).glob("mci-records-*"))
    on_disk = f"duckdb:///{tmp_path}/scratch.duckdb"
    [result] = load([path], on_disk)
    tables = ("campaign_performance", "quarantine", "raw_campaign_rows")
    assert snapshot(on_disk, tables) == snapshot(in_memory, tables)
    assert result.summary() == expected.summary()
    assert set(Path(tempfile.gettempdir()).glob("mci-records-*")) == scratch_dirs_before


def test_a_records_read_dropped_before_its_load_stops_and_leaves_no_scratch(sample):
    # read() reads the records on a second connection in the background; a load that never
    # comes (its transaction failed first) must stop it and detach the scratch database.
    import duckdb

    from mci.ingest.source import read_layout

    con = duckdb.connect()
    try:
        processor = process.Processor(con, lambda stage, sql, params: con.execute(sql, params))
        processor.read(read_layout(Path(sample)))
        processor.drop_temps()
        databases = con.execute("SELECT database_name FROM duckdb_databases()").fetchall()
        attached = {row[0] for row in databases}
        assert not any("scratch" in name for name in attached)
        processor.drop_temps()  # twice is harmless
    finally:
        con.close()


def test_medians_near_are_duckdbs_exact_medians_in_bounded_memory():
    import duckdb
    import numpy as np

    con = duckdb.connect()
    rng = np.random.default_rng(3)
    groups = {
        1: rng.lognormal(2.0, 1.0, 200_001),  # odd count, continuous
        2: rng.normal(0.0, 1.0, 150_000),  # even count
        3: np.round(rng.normal(0.0, 1.0, 90_000), 1),  # heavy ties
        4: np.full(1_000, 7.5),  # one value
    }
    o = np.concatenate([np.full(v.size, k) for k, v in groups.items()])
    x = np.concatenate(list(groups.values()))
    con.execute(
        "CREATE TEMP TABLE _mci_ologs AS SELECT unnest($1::INTEGER[]) AS o, "
        "unnest($2::DOUBLE[]) AS x",
        [o.tolist(), x.tolist()],
    )
    con.execute("INSERT INTO _mci_ologs VALUES (5, NULL), (5, NULL)")  # no value: no median
    processor = process.Processor(con, lambda stage, sql, params: con.execute(sql, params))
    expected = dict(con.execute("SELECT o, median(x) FROM _mci_ologs GROUP BY o").fetchall())
    assert processor._medians_near("x", []) == expected
    medians = [expected[o] for o in range(1, 6)]
    mads = dict(
        con.execute(
            "SELECT o, median(abs(x - ($1::DOUBLE[])[o])) FROM _mci_ologs GROUP BY o", [medians]
        ).fetchall()
    )
    assert processor._medians_near("abs(x - ($1::DOUBLE[])[o])", [medians]) == mads
