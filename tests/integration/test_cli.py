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


def test_ingest_json_is_the_last_line_and_accounts_for_every_row(loaded, dirty_export):
    _, truth, result = loaded
    summary = json.loads(result.stdout.strip().splitlines()[-1])
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
    assert "already loaded" in again.stdout
    assert json.loads(again.stdout.strip().splitlines()[-1])["status"] == "unchanged"


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
    assert json.loads(accepted.stdout.splitlines()[-1])["rows_loaded"] == 20


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
    assert json.loads(done.stdout.splitlines()[-1])["rows_loaded"] == 20
    bad = tmp_path / "bad.toml"
    bad.write_text('[rename]\nDates = "When"\n')
    refused = mci("ingest", str(renamed), "--db", url, "--mapping", str(bad))
    assert refused.returncode == 2 and "not a contract column" in refused.stderr
