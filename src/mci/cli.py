"""The ``mci`` command line: each command calls one function of the package.

Heavy libraries (DuckDB, pandas, pyarrow) are imported inside the commands, so that
``mci --help`` answers at once. Annotations here are evaluated when the module loads (no
``from __future__ import annotations``): Typer reads every command's annotations on each
run, and evaluating them from strings cost 0.006 s a command.
"""

import sys

# Commands that write a DuckDB warehouse start DuckDB now, on a thread, so that its start-up
# overlaps loading Typer and parsing the command line (mci.warehouse.warmup).
if sys.argv[1:2] in (["ingest"], ["demo"]):
    from mci.warehouse import warmup

    warmup.start()

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="mci",
    help="Marketing Campaign Intelligence: trusted campaign KPIs from your exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (else MCI_DB_URL, else duckdb:///data/ads_analytics.duckdb)."
    ),
]


class Profile(StrEnum):
    """Generator profiles."""

    planted = "planted"
    noise = "noise"


class OutputFormat(StrEnum):
    """Output formats of ``mci query``."""

    table = "table"
    csv = "csv"
    json = "json"


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Output file (.csv or .parquet).")],
    rows: Annotated[int, typer.Option(min=1, help="Data rows.")] = 200_000,
    days: Annotated[int, typer.Option(min=1, help="Days covered.")] = 365,
    start: Annotated[str, typer.Option(help="First date (ISO).")] = "2021-01-01",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same file.")] = 0,
    profile: Annotated[
        Profile, typer.Option(help="planted structure, or the real export's noise.")
    ] = Profile.planted,
    dirty: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Fraction of rows with planted faults.")
    ] = 0.0,
    truth: Annotated[
        Path | None, typer.Option(help="Write what was planted to this JSON file.")
    ] = None,
) -> None:
    """Write a synthetic export in the source format, with its planted truth."""
    from mci.datagen import generate as run_generate

    try:
        start_date = dt.date.fromisoformat(start)
    except ValueError:
        _fail(f"--start {start!r} is not an ISO date (YYYY-MM-DD)", 2)
    try:
        run_generate(
            out,
            rows=rows,
            days=days,
            start=start_date,
            seed=seed,
            profile=profile.value,
            dirty=dirty,
            truth=truth,
        )
    except ValueError as exc:
        _fail(str(exc), 2)
    typer.echo(f"wrote {rows:,} rows to {out}" + (f" and the truth to {truth}" if truth else ""))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Export files (.csv or .parquet).")],
    db: DbOption = None,
    rename: Annotated[
        list[str] | None, typer.Option(help="Map a renamed header: OLD=NEW (repeatable).")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="TOML file whose [rename] table maps renamed headers.")
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Reload files loaded before, replacing their rows.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary as the last line.")
    ] = False,
) -> None:
    """Validate, clean and load exports; faulty rows go to quarantine with a reason."""
    from mci.ingest.errors import IngestError
    from mci.ingest.pipeline import ingest as run_ingest
    from mci.ingest.source import parse_renames, read_mapping_file
    from mci.warehouse.connection import WarehouseError

    try:
        renames = read_mapping_file(mapping) if mapping else {}
        renames.update(parse_renames(rename or []))
    except ValueError as exc:
        _fail(str(exc), 2)
    try:
        results = run_ingest(paths, db, renames=renames, replace=replace)
    except IngestError as exc:
        _fail(str(exc), exc.exit_code)
    except WarehouseError as exc:
        _fail(str(exc))
    for result in results:
        if result.status == "unchanged":
            typer.echo(
                f"{result.source}: already loaded as load {result.load_id} (same sha256); "
                "nothing to do (use --replace to reload)"
            )
            continue
        typer.echo(
            f"{result.source}: load {result.load_id}: {result.rows_read:,} read, "
            f"{result.rows_loaded:,} loaded, {result.rows_quarantined:,} quarantined, "
            f"{result.rows_duplicate:,} duplicate, {result.rows_outlier:,} flagged as outliers "
            f"in {result.seconds:.2f} s"
        )
        for column, values in result.new_categories.items():
            typer.echo(f"  new {column} values: {', '.join(values)}")
    if as_json:
        summaries = [r.summary() for r in results]
        typer.echo(json.dumps(summaries[0] if len(summaries) == 1 else summaries))


@app.command()
def quality(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Report loads, quarantine counts per reason, sample faults, outliers and new values."""
    from mci.ingest.quality import quality_report
    from mci.warehouse.connection import WarehouseError

    try:
        report = quality_report(db)
    except WarehouseError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    from mci.cli_render import render_quality

    render_quality(report)


class Compare(StrEnum):
    """Comparisons of ``mci query``."""

    previous_period = "previous_period"


@app.command()
def query(
    sql: Annotated[str | None, typer.Argument(help="One read-only SQL statement.")] = None,
    db: DbOption = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, csv or json.")
    ] = OutputFormat.table,
    metric: Annotated[
        list[str] | None, typer.Option(help="A registry metric (repeatable; see `mci metrics`).")
    ] = None,
    by: Annotated[
        list[str] | None, typer.Option(help="A dimension to group by (repeatable).")
    ] = None,
    grain: Annotated[str | None, typer.Option(help="day, week, month or quarter.")] = None,
    where: Annotated[
        list[str] | None, typer.Option(help="DIMENSION=VALUE filter (repeatable).")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day (ISO).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day (ISO).")] = None,
    compare: Annotated[
        Compare | None, typer.Option(help="Add the previous window of equal length.")
    ] = None,
) -> None:
    """Query metrics from the semantic layer (--metric ...), or run one read-only SQL statement."""
    from mci.cli_render import render_rows
    from mci.warehouse.connection import WarehouseError

    if metric:
        if sql:
            _fail("give either SQL or --metric options, not both", 2)
        from mci.semantic.api import query as semantic_query

        filters: dict[str, list[str]] = {}
        for item in where or []:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                _fail(f"--where takes DIMENSION=VALUE, got {item!r}", 2)
            filters.setdefault(name.strip(), []).append(value)
        try:
            frame = semantic_query(
                metric,
                by or [],
                grain,
                filters,
                date_from,
                date_to,
                compare.value if compare else None,
                db,
            )
        except ValueError as exc:
            _fail(str(exc), 2)
        except WarehouseError as exc:
            _fail(str(exc))
        rows = [
            tuple(None if _missing(v) else v for v in row) for row in frame.itertuples(index=False)
        ]
        render_rows(list(frame.columns), rows, output.value, sys.stdout)
        return
    if not sql:
        _fail("give a SQL statement or at least one --metric", 2)
    from mci.warehouse.readonly import WriteRefused, run_read_only

    try:
        columns, rows = run_read_only(sql, db)
    except WriteRefused as exc:
        _fail(str(exc), 2)
    except WarehouseError as exc:
        _fail(str(exc))
    except Exception as exc:  # the engine's own error for a bad query
        _fail(f"query failed: {exc}")
    render_rows(columns, rows, output.value, sys.stdout)


def _missing(value: Any) -> bool:
    try:
        return value is None or value != value  # NaN and pandas.NA
    except TypeError:
        return True


@app.command()
def metrics(
    markdown: Annotated[bool, typer.Option(help="Print the README's Markdown table.")] = False,
) -> None:
    """List the metric registry: every KPI's definition, used everywhere."""
    from mci.semantic.registry import DIMENSIONS, GRAINS, METRICS, metrics_markdown

    if markdown:
        typer.echo(metrics_markdown())
        return
    from mci.cli_render import render_rows

    rows = [(m.name, m.kind, m.definition, m.description) for m in METRICS.values()]
    render_rows(["metric", "kind", "definition", "meaning"], rows, "table", sys.stdout)
    typer.echo(f"dimensions: {', '.join(DIMENSIONS)}")
    typer.echo(f"grains: {', '.join(GRAINS)}")


@app.command()
def views(db: DbOption = None) -> None:
    """Create or refresh the semantic views (also done after every ingest)."""
    from mci.semantic.views import apply_views
    from mci.warehouse.connection import WarehouseError, connect
    from mci.warehouse.schema import ensure_schema

    try:
        with connect(db) as wh:
            ensure_schema(wh)
            names = apply_views(wh)
    except WarehouseError as exc:
        _fail(str(exc))
    typer.echo(f"views ready: {', '.join(names)}")


class ReportFormat(StrEnum):
    """Formats of ``mci report``."""

    md = "md"
    html = "html"
    json = "json"


class Language(StrEnum):
    """Languages of ``mci report``."""

    en = "en"
    id = "id"


@app.command()
def report(
    db: DbOption = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file (else print).")] = None,
    lang: Annotated[Language, typer.Option(help="en (English) or id (Indonesian).")] = Language.en,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md, html or json.")] = (
        ReportFormat.md
    ),
    charts: Annotated[bool, typer.Option(help="Embed the charts (md and html).")] = True,
) -> None:
    """Write the executive summary: KPIs, which channels earn (and whether it is real), advice."""
    from mci.report import build_report, render
    from mci.report.render import chart_uris
    from mci.warehouse.connection import WarehouseError

    try:
        built = build_report(db)
    except WarehouseError as exc:
        _fail(str(exc))
    if fmt == ReportFormat.json:
        text = json.dumps(built.findings, ensure_ascii=False, indent=2) + "\n"
    else:
        text = render(built, fmt.value, lang.value, chart_uris if charts else None)
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")


@app.command()
def dashboard(
    db: DbOption = None,
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Serve the executive dashboard (Streamlit) on the warehouse, read-only."""
    from mci.dashboard.launch import serve

    raise typer.Exit(serve(db, host=host, port=port))


@app.command()
def demo(
    db: DbOption = None,
    rows: Annotated[int, typer.Option(min=1, help="Rows of the generated demo export.")] = 200_000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard afterwards.")
    ] = True,
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Build the demo warehouse if it is missing, show its headline KPIs, serve the dashboard."""
    from mci.cli_render import render_kpis
    from mci.demo import build_demo, headline_kpis

    url = build_demo(db, rows=rows, echo=typer.echo)
    render_kpis(headline_kpis(url))
    if serve:
        from mci.dashboard.launch import serve as serve_dashboard

        typer.echo(f"dashboard: http://{host}:{port} (Ctrl-C stops it)")
        raise typer.Exit(serve_dashboard(url, host=host, port=port))


def exit_code(status: object) -> int:
    """The process exit code ``sys.exit(status)`` would give (a message prints to stderr).

    Example:
        >>> exit_code(None), exit_code(2), exit_code(True)
        (0, 2, 1)
    """
    if status is None:
        return 0
    if isinstance(status, int):
        return int(status)
    print(status, file=sys.stderr)
    return 1


def main() -> None:
    """The ``mci`` command: runs the app, then ends the process at once.

    By the time a command returns it has closed what it opened (the warehouse, files, the
    progress bar) and printed its output. The interpreter's teardown that would follow,
    freeing every module (DuckDB's among them), took about 0.015 s per command: 2 % of a
    200,000-row ingest, whose speed is a target. So output is flushed and the process
    exits without it. An exception that escapes a command still ends the usual way, with its
    traceback.
    """
    import os

    try:
        app()
        status: object = None
    except SystemExit as exc:
        status = exc.code
    code = exit_code(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass  # the reader left early (``mci query ... | head``): nothing to deliver
        except OSError:
            code = code or 1
    os._exit(code)
