"""The command line as a person runs it: exit codes, messages, output formats."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def mci(
    *args: str, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mci", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


@pytest.fixture
def loaded(tmp_path, dirty_export):
    path, truth = dirty_export
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    result = mci("ingest", str(path), "--db", url, "--json")
    assert result.returncode == 0, result.stderr
    return url, truth, result


def test_ingest_json_is_all_of_stdout_and_accounts_for_every_row(loaded, dirty_export):
    _, truth, result = loaded
    summary = json.loads(result.stdout)
    assert len(result.stdout.strip().splitlines()) == 1  # one line: readers take the last
    assert "dirty.csv: load 1:" in result.stderr  # the human summary went to stderr
    assert set(summary) == {
        "load_id",
        "source",
        "sha256",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "rows_duplicate",
        "status",
    }
    assert summary["status"] == "loaded"
    assert summary["source"] == dirty_export[0].name
    for key, value in truth["expected"].items():
        assert summary[key] == value


def test_ingest_again_says_nothing_to_do(loaded, dirty_export):
    url, _, _ = loaded
    again = mci("ingest", str(dirty_export[0]), "--db", url, "--json")
    assert again.returncode == 0
    assert "already loaded" in again.stderr
    assert json.loads(again.stdout)["status"] == "unchanged"
    human = mci("ingest", str(dirty_export[0]), "--db", url)
    assert human.returncode == 0 and "already loaded" in human.stdout


def test_missing_columns_exit_2_and_name_file_columns_found(tmp_path):
    bad = tmp_path / "export.csv"
    bad.write_text("Campaign_ID,Company,Dates\n1,TechCorp,2021-01-01\n")
    db = tmp_path / "w.duckdb"
    result = mci("ingest", str(bad), "--db", f"duckdb:///{db}")
    assert result.returncode == 2
    assert str(bad) in result.stderr and "line 0" in result.stderr
    assert "missing columns:" in result.stderr and "Channel_Used" in result.stderr
    assert "columns found: Campaign_ID, Company, Dates" in result.stderr
    assert not db.exists()


def test_rename_option_maps_headers(tmp_path, sample):
    text = sample.read_bytes().decode("utf-8-sig")
    header, rest = text.split("\n", 1)
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes((header.replace(",Date", ",Dates") + "\n" + rest).encode())
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    refused = mci("ingest", str(renamed), "--db", url)
    assert refused.returncode == 2 and "--rename" in refused.stderr
    accepted = mci("ingest", str(renamed), "--db", url, "--rename", "Dates=Date", "--json")
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["rows_loaded"] == 20


def test_query_csv_has_a_header_row(loaded):
    url, truth, _ = loaded
    result = mci(
        "query",
        "SELECT channel, count(*) AS n FROM campaign_performance GROUP BY channel ORDER BY channel",
        "--db",
        url,
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["channel", "n"]
    assert sum(int(n) for _, n in rows[1:]) == truth["expected"]["rows_loaded"]


def test_query_json_and_table_formats(loaded):
    url, _, _ = loaded
    as_json = mci(
        "query",
        "SELECT min(date) AS first FROM campaign_performance",
        "--db",
        url,
        "--format",
        "json",
    )
    assert json.loads(as_json.stdout) == [{"first": "2021-01-01"}]
    table = mci("query", "SELECT 'x' AS col", "--db", url)
    assert "col" in table.stdout and "x" in table.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM campaign_performance",
        "DROP TABLE quarantine",
        "UPDATE load_log SET status = 'x'",
        "SELECT 1; DELETE FROM quarantine",
        "COPY campaign_performance TO '/tmp/out.csv'",
    ],
)
def test_query_refuses_writes_and_changes_nothing(loaded, statement):
    url, truth, _ = loaded
    result = mci("query", statement, "--db", url)
    assert result.returncode == 2
    assert "refused" in result.stderr
    count = mci(
        "query", "SELECT count(*) AS n FROM campaign_performance", "--db", url, "--format", "json"
    )
    assert json.loads(count.stdout) == [{"n": truth["expected"]["rows_loaded"]}]


def test_quality_json_counts_per_reason(loaded):
    url, truth, _ = loaded
    result = mci("quality", "--db", url, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    planted = {kind: f["count"] for kind, f in truth["faults"].items() if f["count"]}
    assert report["quarantine_by_reason"] == planted
    assert report["totals"]["rows_read"] == truth["expected"]["rows_read"]
    text = mci("quality", "--db", url)
    assert "Quarantine by reason" in text.stdout and "conflicting_duplicate" in text.stdout


def test_db_url_comes_from_the_environment(tmp_path, sample):
    env = {**os.environ, "MCI_DB_URL": f"sqlite:///{tmp_path / 'env.sqlite'}"}
    result = mci("ingest", str(sample), env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env.sqlite").exists()


def test_help_does_not_import_heavy_libraries():
    probe = (
        "import sys; from mci.cli import app; sys.argv = ['mci', '--help']\n"
        "try:\n    app()\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('duckdb', 'pandas', 'pyarrow', 'numpy', 'psycopg')"
        " if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "Usage" in result.stdout
    assert "HEAVY=\n" in result.stdout, result.stdout[-200:]


def test_ingest_on_duckdb_loads_only_duckdb_compiled_core(tmp_path, dirty_export):
    """The duckdb package's Python layer costs 0.07 s a run; an ingest needs only its core."""
    path, truth = dirty_export
    db = tmp_path / "w.duckdb"
    probe = (
        "import sys; from mci.cli import app\n"
        f"sys.argv = ['mci', 'ingest', {str(path)!r}, '--db', {f'duckdb:///{db}'!r}, '--json']\n"
        "try:\n    app()\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "loaded = sorted(m for m in ('duckdb', '_duckdb') if m in sys.modules)\n"
        "print('MODULES=' + ','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "MODULES=_duckdb"
    summary = json.loads(lines[-2])
    assert summary["rows_loaded"] == truth["expected"]["rows_loaded"]
    assert summary["rows_quarantined"] == truth["expected"]["rows_quarantined"]


def test_output_is_delivered_whole_before_the_process_ends(loaded, tmp_path):
    """``main`` ends the process without interpreter teardown: buffered output must get out."""
    url, _, _ = loaded
    sql = "SELECT range AS n, 'x' || range AS label FROM range(50000)"
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    piped = mci("query", sql, "--db", url, "--format", "csv", env=buffered)
    assert piped.returncode == 0, piped.stderr
    rows = piped.stdout.splitlines()
    assert len(rows) == 50_001 and rows[-1] == "49999,x49999"
    target = tmp_path / "out.csv"
    with target.open("w") as out:
        code = subprocess.run(
            [sys.executable, "-m", "mci", "query", sql, "--db", url, "--format", "csv"],
            stdout=out,
            env=buffered,
        ).returncode
    assert code == 0
    assert target.read_text().splitlines() == rows


def test_generate_is_deterministic_and_validates(tmp_path):
    for name in ("a.csv", "b.csv"):
        result = mci("generate", "--rows", "500", "--seed", "9", "--out", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    bad = mci("generate", "--rows", "10", "--out", str(tmp_path / "x.txt"))
    assert bad.returncode == 2 and ".txt" in bad.stderr
    bad_date = mci("generate", "--start", "2021-13-01", "--out", str(tmp_path / "y.csv"))
    assert bad_date.returncode == 2 and "ISO date" in bad_date.stderr


def test_demo_builds_once_and_prints_headline_kpis(tmp_path):
    url = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    first = mci("demo", "--db", url, "--rows", "3000", "--no-serve", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "loaded 3,000 rows" in first.stdout or "loaded" in first.stdout
    for kpi in ("ROI", "CTR", "CPC", "CPM", "CPA"):
        assert kpi in first.stdout
    second = mci("demo", "--db", url, "--rows", "3000", "--no-serve", cwd=tmp_path)
    assert "demo warehouse ready" in second.stdout


def test_mapping_file_maps_headers_and_bad_files_are_refused(tmp_path, sample):
    text = sample.read_bytes().decode("utf-8-sig")
    header, rest = text.split("\n", 1)
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(
        (
            header.replace(",Date", ",Dates").replace(",Language,", ",Languages,") + "\n" + rest
        ).encode()
    )
    mapping = tmp_path / "columns.toml"
    mapping.write_text('[rename]\nDates = "Date"\nLanguages = "Language"\n')
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    done = mci("ingest", str(renamed), "--db", url, "--mapping", str(mapping), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows_loaded"] == 20
    bad = tmp_path / "bad.toml"
    bad.write_text('[rename]\nDates = "When"\n')
    refused = mci("ingest", str(renamed), "--db", url, "--mapping", str(bad))
    assert refused.returncode == 2 and "not a contract column" in refused.stderr


# -- several files at once -------------------------------------------------------------------


def _exports(tmp_path: Path, sample: Path) -> tuple[Path, Path, Path]:
    """Three exports: a and c load; b passes the column check but fails to load (a line
    longer than the 16 MiB the reader takes)."""
    lines = sample.read_bytes().decode("utf-8-sig").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    a.write_text(header + "".join(rows[:10]))
    b.write_text(header + "".join(rows[10:15]).replace("Chicago", "C" * (17 << 20), 1))
    c.write_text(header + "".join(rows[15:]))
    return a, b, c


def _loaded_rows(url: str) -> int:
    result = mci(
        "query", "SELECT count(*) AS n FROM campaign_performance", "--db", url, "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]["n"]


def test_several_files_print_each_summary_and_name_what_was_skipped(tmp_path, sample):
    a, b, c = _exports(tmp_path, sample)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    result = mci("ingest", str(a), str(b), str(c), "--db", url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "a.csv: load 1: 10 read, 10 loaded" in result.stdout  # a landed and says so
    assert f"error: {b}, line 3: the line is longer" in result.stderr  # the file, line, why
    assert f"skipped: {c}" in result.stderr
    assert "c.csv" not in result.stdout
    assert _loaded_rows(url) == 10
    # once b is fixed, a is already there and b and c load
    b.write_text(b.read_text().replace("C" * (17 << 20), "Chicago"))
    again = mci("ingest", str(a), str(b), str(c), "--db", url)
    assert again.returncode == 0, again.stderr
    assert "a.csv: already loaded" in again.stdout and "c.csv: load 3" in again.stdout
    assert _loaded_rows(url) == 20


def test_a_contract_error_in_any_file_loads_nothing(tmp_path, sample):
    a, _, c = _exports(tmp_path, sample)
    bad = tmp_path / "bad.csv"
    bad.write_text("Campaign_ID,Company\n1,x\n")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    result = mci("ingest", str(a), str(bad), str(c), "--db", url, "--json")
    assert result.returncode == 2
    outcomes = json.loads(result.stdout)
    assert [o["status"] for o in outcomes] == ["skipped", "failed", "skipped"]
    assert outcomes[1]["exit_code"] == 2 and "missing columns" in outcomes[1]["error"]
    assert f"skipped: {a}" in result.stderr and f"skipped: {c}" in result.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_ingest_json_parses_for_one_several_failing_and_unchanged_files(tmp_path, sample):
    a, b, c = _exports(tmp_path, sample)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    one = mci("ingest", str(a), "--db", url, "--json")
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["status"] == "loaded"
    unchanged = mci("ingest", str(a), "--db", url, "--json")
    assert json.loads(unchanged.stdout)["status"] == "unchanged"
    assert "already loaded" in unchanged.stderr
    several = mci("ingest", str(a), str(c), "--db", url, "--json")
    assert several.returncode == 0, several.stderr
    assert [(o["source"], o["status"]) for o in json.loads(several.stdout)] == [
        ("a.csv", "unchanged"),
        ("c.csv", "loaded"),
    ]
    failing = mci("ingest", str(b), "--db", url, "--json")
    assert failing.returncode == 1
    [outcome] = [json.loads(failing.stdout)]
    assert outcome["status"] == "failed" and outcome["exit_code"] == 1
    assert outcome["error"].startswith(f"{b}, line 3: ")
    mixed = mci("ingest", str(c), str(b), str(a), "--db", url, "--json", "--replace")
    assert mixed.returncode == 1
    assert [o["status"] for o in json.loads(mixed.stdout)] == ["loaded", "failed", "skipped"]
    missing = mci("ingest", str(tmp_path / "nope.csv"), "--db", url, "--json")
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["error"].endswith("no such file")


def test_where_on_a_whole_number_dimension_says_so(loaded):
    url, _, _ = loaded
    result = mci("query", "--metric", "spend", "--where", "duration_days=abc", "--db", url)
    assert result.returncode == 2
    assert "duration_days" in result.stderr and "whole number" in result.stderr
    assert "int()" not in result.stderr and "Traceback" not in result.stderr
    good = mci("query", "--metric", "campaigns", "--where", "duration_days=30", "--db", url)
    assert good.returncode == 0, good.stderr
