"""No traceback, no leak, on any input: every command, bad arguments, URLs and files.

Each case runs the real ``mci`` (``python -m mci``) and checks three things: no traceback on
stdout or stderr, the documented exit code (0 ok, 1 error, 2 usage or contract) and a
message naming what was wrong. The property tests feed random passwords through every
command's failure paths and look for them in everything printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mci.cli import app

CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("MCI_DB_URL", "MCI_DEBUG")}


def mci(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mci", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**CLEAN_ENV, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> dict[str, str]:
    """Bad (and one good) input files, by name, as text for command lines."""
    root = tmp_path_factory.mktemp("bad_inputs")
    (root / "folder").mkdir()
    (root / "empty.csv").write_bytes(b"")
    garbage = bytes(range(256))[::-1] * 40  # starts with 0xff: not UTF-8, not Parquet
    (root / "garbage.csv").write_bytes(garbage)
    (root / "garbage.parquet").write_bytes(garbage)
    (root / "empty.toml").write_bytes(b"")
    (root / "garbage.toml").write_bytes(garbage)
    (root / "empty.duckdb").write_bytes(b"")
    (root / "garbage.db").write_bytes(garbage)
    (root / "good.csv").write_bytes(sample.read_bytes())
    names = {
        "folder": "folder",
        "empty_csv": "empty.csv",
        "garbage_csv": "garbage.csv",
        "garbage_parquet": "garbage.parquet",
        "empty_toml": "empty.toml",
        "garbage_toml": "garbage.toml",
        "empty_duckdb": "empty.duckdb",
        "garbage_db": "garbage.db",
        "good": "good.csv",
        "missing": "missing.csv",
    }
    paths = {key: str(root / name) for key, name in names.items()}
    paths["root"] = str(root)
    return paths


def check(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    shown = f"exit {result.returncode}\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert result.returncode == code, shown
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not named\n{shown}"


# -- every command that opens the warehouse, with each bad database URL ----------------------

DB_COMMANDS = {
    "ingest": ["ingest", "{good}"],
    "ingest-json": ["ingest", "{good}", "--json"],
    "quality": ["quality"],
    "query-sql": ["query", "SELECT count(*) FROM load_log"],
    "query-metric": ["query", "--metric", "spend"],
    "views": ["views"],
    "report": ["report"],
    "demo": ["demo", "--no-serve", "--rows", "50"],
}

BAD_URLS = {
    "unknown-scheme": (
        "mysql://analyst@127.0.0.1/db",
        2,
        ["unsupported database URL 'mysql://analyst@127.0.0.1/db'"],
    ),
    "malformed-host": ("postgresql://analyst@[::1/db", 2, ["malformed host", "'[::1'"]),
    "port-not-a-number": ("postgresql://analyst@127.0.0.1:pg/db", 2, ["'127.0.0.1:pg'"]),
    "missing-path": ("duckdb://", 2, ["'duckdb://' has no file path"]),
    "sqlite-missing-path": ("sqlite:///", 2, ["'sqlite:///' has no file path"]),
    "directory": ("duckdb:///{folder}", 1, ["{folder} is a folder, not a database file"]),
    "sqlite-directory": ("sqlite:///{folder}", 1, ["{folder} is a folder, not a database file"]),
    "closed-port": (
        "postgresql://analyst@127.0.0.1:1/db",
        1,
        ["cannot open postgresql://analyst@127.0.0.1:1/db", "refused"],
    ),
    "empty-duckdb-file": ("duckdb:///{empty_duckdb}", 1, ["empty.duckdb"]),
    "garbage-duckdb-file": ("duckdb:///{garbage_db}", 1, ["garbage.db", "not a valid DuckDB"]),
    "garbage-sqlite-file": ("sqlite:///{garbage_db}", 1, ["garbage.db", "not a database"]),
}


@pytest.mark.parametrize("command", sorted(DB_COMMANDS))
@pytest.mark.parametrize("case", sorted(BAD_URLS))
def test_bad_database_urls(command: str, case: str, files: dict[str, str]) -> None:
    url, code, fragments = BAD_URLS[case]
    args = [a.format(**files) for a in DB_COMMANDS[command]]
    result = mci(*args, "--db", url.format(**files), cwd=Path(files["root"]))
    check(result, code, *(f.format(**files) for f in fragments))
    if command == "ingest-json" and code == 1:  # a per-file failure: still one JSON document
        outcome = json.loads(result.stdout)
        assert outcome["status"] == "failed" and outcome["exit_code"] == 1


def test_bad_url_from_the_environment(files: dict[str, str]) -> None:
    env = {"MCI_DB_URL": "postgresql://analyst@[::1/db"}
    check(mci("quality", cwd=Path(files["root"]), env=env), 2, "malformed host")


# -- bad files: inputs, mappings, outputs ----------------------------------------------------

FILE_CASES = {
    "ingest-missing": (["ingest", "{missing}"], 1, ["{missing}: no such file"]),
    "ingest-folder": (["ingest", "{folder}"], 1, ["{folder}: is a folder"]),
    "ingest-empty": (["ingest", "{empty_csv}"], 1, ["{empty_csv}, line 0: the file is empty"]),
    "ingest-garbage-csv": (["ingest", "{garbage_csv}"], 1, ["{garbage_csv}, line 0", "UTF-8"]),
    "ingest-garbage-parquet": (
        ["ingest", "{garbage_parquet}"],
        1,
        ["{garbage_parquet}: not a readable Parquet file"],
    ),
    "ingest-several-bad": (
        ["ingest", "{good}", "{empty_csv}", "{missing}"],
        1,
        ["{empty_csv}, line 0", "{missing}: no such file", "skipped: {good}"],
    ),
    "mapping-missing": (
        ["ingest", "{good}", "--mapping", "{missing}"],
        2,
        ["{missing}: no such mapping file"],
    ),
    "mapping-folder": (
        ["ingest", "{good}", "--mapping", "{folder}"],
        2,
        ["{folder}: is a folder, not a mapping file"],
    ),
    "mapping-empty": (["ingest", "{good}", "--mapping", "{empty_toml}"], 2, ["no [rename] table"]),
    "mapping-garbage": (
        ["ingest", "{good}", "--mapping", "{garbage_toml}"],
        2,
        ["{garbage_toml}: not a TOML file"],
    ),
    "generate-out-folder": (["generate", "--out", "{folder}"], 2, ["--out {folder} is a folder"]),
    "generate-truth-folder": (
        ["generate", "--out", "{root}/g.csv", "--truth", "{folder}"],
        2,
        ["--truth {folder} is a folder"],
    ),
    "generate-out-inside-a-file": (
        ["generate", "--out", "{garbage_csv}/g.csv"],
        2,
        ["{garbage_csv} is a file, not a folder"],
    ),
    "generate-out-unwritable": (
        ["generate", "--rows", "10", "--out", "/proc/mci-cannot-write.csv"],
        1,
        ["cannot write /proc/mci-cannot-write.csv"],
    ),
    "generate-out-suffix": (["generate", "--out", "{root}/g.txt"], 2, [".txt"]),
    "report-out-folder": (["report", "--out", "{folder}"], 2, ["--out {folder} is a folder"]),
    "report-out-inside-a-file": (
        ["report", "--out", "{garbage_csv}/r.md"],
        2,
        ["{garbage_csv} is a file, not a folder"],
    ),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_bad_files(case: str, files: dict[str, str], tmp_path: Path) -> None:
    args, code, fragments = FILE_CASES[case]
    argv = [a.format(**files) for a in args]
    if argv[0] in ("ingest", "report"):
        argv += ["--db", f"duckdb:///{tmp_path / 'w.duckdb'}"]
    result = mci(*argv, cwd=Path(files["root"]))
    check(result, code, *(f.format(**files) for f in fragments))


# -- bad arguments, every command ------------------------------------------------------------

ARG_CASES = {
    "unknown-command": (["nosuch"], 2, ["No such command"]),
    "unknown-global-option": (["--bogus"], 2, ["No such option"]),
    "generate-no-out": (["generate"], 2, ["--out"]),
    "generate-rows-not-a-number": (["generate", "--rows", "abc", "--out", "x.csv"], 2, ["--rows"]),
    "generate-bad-start": (
        ["generate", "--start", "2021-13-01", "--out", "x.csv"],
        2,
        ["--start '2021-13-01' is not an ISO date"],
    ),
    "generate-dirty-out-of-range": (
        ["generate", "--dirty", "0.9", "--out", "x.csv"],
        2,
        ["--dirty"],
    ),
    "ingest-no-file": (["ingest"], 2, ["Missing argument"]),
    "ingest-bad-rename": (["ingest", "{good}", "--rename", "nonsense"], 2, ["OLD=NEW"]),
    "ingest-rename-to-unknown": (
        ["ingest", "{good}", "--rename", "Dates=When"],
        2,
        ["not a contract column"],
    ),
    "quality-unknown-option": (["quality", "--bogus"], 2, ["No such option"]),
    "query-nothing": (["query"], 2, ["give a SQL statement or at least one --metric"]),
    "query-bad-format": (["query", "--format", "x", "SELECT 1"], 2, ["--format"]),
    "query-sql-and-metric": (["query", "SELECT 1", "--metric", "spend"], 2, ["not both"]),
    "query-write": (["query", "DELETE FROM load_log"], 2, ["refused"]),
    "query-unknown-metric": (["query", "--metric", "nope"], 2, ["unknown metric 'nope'"]),
    "query-unknown-dimension": (["query", "--metric", "spend", "--by", "nope"], 2, ["'nope'"]),
    "query-where-not-a-number": (
        ["query", "--metric", "spend", "--where", "duration_days=abc"],
        2,
        ["duration_days takes a whole number"],
    ),
    "query-where-no-equals": (
        ["query", "--metric", "spend", "--where", "channel"],
        2,
        ["DIMENSION=VALUE"],
    ),
    "query-bad-date": (
        ["query", "--metric", "spend", "--from", "01/02/2021"],
        2,
        ["'01/02/2021' is not an ISO date"],
    ),
    "query-bad-grain": (["query", "--metric", "spend", "--grain", "hour"], 2, ["'hour'"]),
    "metrics-unknown-option": (["metrics", "--bogus"], 2, ["No such option"]),
    "views-extra-argument": (["views", "extra"], 2, ["extra"]),
    "report-bad-lang": (["report", "--lang", "xx"], 2, ["--lang"]),
    "report-bad-format": (["report", "--format", "pdf"], 2, ["--format"]),
    "dashboard-bad-port": (["dashboard", "--port", "abc"], 2, ["--port"]),
    "demo-zero-rows": (["demo", "--no-serve", "--rows", "0"], 2, ["--rows"]),
    "demo-bad-port": (["demo", "--no-serve", "--port", "abc"], 2, ["--port"]),
}


@pytest.mark.parametrize("case", sorted(ARG_CASES))
def test_bad_arguments(case: str, files: dict[str, str], tmp_path: Path) -> None:
    args, code, fragments = ARG_CASES[case]
    argv = [a.format(**files) for a in args]
    if argv[:1] in (["ingest"], ["query"], ["report"]) and len(argv) > 1:
        argv += ["--db", f"duckdb:///{tmp_path / 'w.duckdb'}"]
    check(mci(*argv, cwd=Path(files["root"])), code, *fragments)


def test_no_command_shows_the_help_and_exits_2(files: dict[str, str]) -> None:
    result = mci(cwd=Path(files["root"]))
    assert result.returncode == 2 and "Usage" in result.stdout and "Traceback" not in result.stderr


def test_dashboard_help_only(files: dict[str, str]) -> None:
    result = mci("dashboard", "--help", cwd=Path(files["root"]))
    assert result.returncode == 0 and "Usage" in result.stdout and "--port" in result.stdout


def test_dashboard_refuses_a_malformed_url_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    import mci.dashboard.launch

    def serve(*args: object, **kwargs: object) -> int:
        raise AssertionError("the dashboard would have been served")

    monkeypatch.setattr(mci.dashboard.launch, "serve", serve)
    result = CliRunner().invoke(app, ["dashboard", "--db", "mysql://analyst:pw1234@h/db"])
    assert result.exit_code == 2
    assert "unsupported database URL 'mysql://analyst:***@h/db'" in result.stderr
    assert "pw1234" not in result.output + result.stderr


# -- --debug ---------------------------------------------------------------------------------


def test_tracebacks_only_with_debug(files: dict[str, str]) -> None:
    url = "postgresql://analyst:Zq7Wdebug@127.0.0.1:1/db"
    plain = mci("quality", "--db", url, cwd=Path(files["root"]))
    check(plain, 1, "error: cannot open postgresql://analyst:***@127.0.0.1:1/db")
    for debug in (
        mci("--debug", "quality", "--db", url, cwd=Path(files["root"])),
        mci("quality", "--db", url, cwd=Path(files["root"]), env={"MCI_DEBUG": "1"}),
    ):
        assert debug.returncode == 1
        assert "Traceback (most recent call last)" in debug.stderr
        assert debug.stderr.rstrip().splitlines()[-2].startswith("error: cannot open")
        assert "Zq7Wdebug" not in debug.stdout + debug.stderr
    unexpected = mci(
        "--debug",
        "ingest",
        files["good"],
        "--db",
        f"sqlite:///{files['garbage_db']}",
        cwd=Path(files["root"]),
    )
    assert unexpected.returncode == 1 and "Traceback" in unexpected.stderr


# -- property: no password ever printed ------------------------------------------------------

MARKER = "Zq7W"  # in every password: finding it anywhere is a (partial) leak
PASSWORD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("@:/?#&=%'\" \\+,;$!*()[]~"),
        st.characters(blacklist_categories=("Cc", "Cs")),
    ),
    max_size=10,
)
PASSWORDS = st.builds(lambda a, b: f"{a}{MARKER}{b}", PASSWORD_TEXT, PASSWORD_TEXT)


def _libpq_quoted(password: str) -> str:
    return "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"


URL_FORMS = {
    "userinfo-encoded": lambda pw: f"postgresql://analyst:{quote(pw, safe='')}@127.0.0.1:1/db",
    "userinfo-raw": lambda pw: f"postgresql://analyst:{pw}@127.0.0.1:1/db",
    "query-password": lambda pw: f"postgresql://analyst@127.0.0.1:1/db?password={quote(pw)}",
    "query-sslpassword": lambda pw: (
        f"postgresql://analyst@127.0.0.1:1/db?sslmode=disable&sslpassword={quote(pw, safe='')}"
    ),
    "keywords": lambda pw: f"host=127.0.0.1 port=1 password={_libpq_quoted(pw)} dbname=db",
    "unknown-scheme": lambda pw: f"mysql://analyst:{pw}@127.0.0.1:1/db",
    "malformed-host": lambda pw: f"postgresql://analyst:{quote(pw, safe='')}@[::1/db",
    "malformed-host-raw": lambda pw: f"postgresql://analyst:{pw}@127.0.0.1:port/db",
    "bad-socket-path": lambda pw: f"postgresql://analyst:{pw}@/db?host=/nonexistent/mci",
    "percent-encoded-nul": lambda pw: f"postgresql://analyst:{quote(pw)}%00@127.0.0.1:1/db",
}


def _leaks(password: str, text: str) -> list[str]:
    forms = {
        password,
        quote(password, safe=""),
        quote(password),
        json.dumps(password)[1:-1],
        repr(password)[1:-1],
        _libpq_quoted(password),
        MARKER,
    }
    return sorted(form for form in forms if form and form in text)


PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("form", sorted(URL_FORMS))
@PROPERTY_SETTINGS
@given(
    password=PASSWORDS,
    command=st.sampled_from(sorted(DB_COMMANDS)),
    via_env=st.booleans(),
    debug=st.booleans(),
)
def test_no_password_in_any_output(
    form: str, password: str, command: str, via_env: bool, debug: bool, files: dict[str, str]
) -> None:
    """In process (fast): every command's failure path, the URL as --db or MCI_DB_URL."""
    url = URL_FORMS[form](password)
    args = [a.format(**files) for a in DB_COMMANDS[command]]
    args = (["--debug"] if debug else []) + args + ([] if via_env else ["--db", url])
    env = {"MCI_DB_URL": url if via_env else None, "MCI_DEBUG": None}
    result = CliRunner().invoke(app, args, env=env)
    printed = result.output + result.stderr
    assert result.exit_code in (1, 2), printed
    assert debug or "Traceback" not in printed, printed
    assert not _leaks(password, printed), printed


@pytest.mark.parametrize("form", ["userinfo-raw", "keywords", "query-password", "unknown-scheme"])
@settings(max_examples=6, deadline=None, database=None)
@given(password=PASSWORDS, command=st.sampled_from(sorted(DB_COMMANDS)))
def test_no_password_in_any_output_of_the_real_command(
    form: str, password: str, command: str, files: dict[str, str]
) -> None:
    """The same through ``python -m mci`` (``main``: its own flush and exit)."""
    url = URL_FORMS[form](password)
    args = [a.format(**files) for a in DB_COMMANDS[command]]
    result = mci(*args, cwd=Path(files["root"]), env={"MCI_DB_URL": url})
    printed = result.stdout + result.stderr
    assert result.returncode in (1, 2) and "Traceback" not in printed, printed
    assert not _leaks(password, printed), printed
