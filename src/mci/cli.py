"""The ``mci`` command line: each command calls one function of the package.

Heavy libraries (DuckDB, pandas, pyarrow) are imported inside the commands, so that
``mci --help`` answers at once. Annotations here are evaluated when the module loads (no
``from __future__ import annotations``): Typer reads every command's annotations on each
run, and evaluating them from strings cost 0.006 s a command.
"""

import sys

# Commands that write a DuckDB warehouse start DuckDB now, on a thread, so that its start-up
# overlaps loading Typer and parsing the command line (mci.warehouse.warmup).
if [a for a in sys.argv[1:3] if a != "--debug"][:1] in (["ingest"], ["demo"]):
    from mci.warehouse import warmup

    warmup.start()

import datetime as dt
import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from mci import errors

# Typer's usage errors (bad options and arguments) are Click exceptions; from Typer 0.27 on,
# of the copy of Click that Typer carries. Found from a public class, for either.
_UsageErrorBase: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


class _Group(TyperGroup):
    """The ``mci`` group: an error of any command ends here, as one cleaned message.

    Exceptions a command raises are printed as ``error: ...`` (see :mod:`mci.errors`) with
    their exit code; usage errors keep Typer's display and exit code 2, with their message
    cleaned of secrets. Overriding ``main`` (not ``__call__``) covers both the ``mci``
    command and ``typer.testing.CliRunner``.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        errors.begin(argv)
        return super().main(
            argv, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
        )

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: typer.Context | None = None,
        **extra: Any,
    ) -> typer.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _UsageErrorBase as exc:
            _clean_usage(exc)
            raise

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except _UsageErrorBase as exc:
            _clean_usage(exc)
            raise
        except Exception as exc:
            _, code = errors.report(exc)
            raise typer.Exit(code) from None


def _clean_usage(exc: Exception) -> None:
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        exc.message = errors.clean(message)  # type: ignore[attr-defined]


app = typer.Typer(
    name="mci",
    cls=_Group,
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


def _fail(message: str, code: int = errors.ERROR) -> NoReturn:
    errors.fail(message, code)


@app.callback()
def _options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="On an error, show the traceback too (also MCI_DEBUG=1).",
            show_default=False,
        ),
    ] = False,
) -> None:
    if debug:
        errors.set_debug()


def _check_db(db: str | None) -> None:
    """Refuses a malformed database URL before any work (exit 2)."""
    from mci.config import parse_db_url, resolve_db_url

    parse_db_url(resolve_db_url(db))


def _check_output(path: Path | None, option: str) -> None:
    """Refuses an output path that is a folder, or inside a file (exit 2)."""
    if path is None:
        return
    if path.is_dir():
        _fail(f"{option} {path} is a folder: give a file name", errors.USAGE)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                _fail(f"{option} {path}: {parent} is a file, not a folder", errors.USAGE)
            return


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
    _check_output(out, "--out")
    _check_output(truth, "--truth")
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
    except OSError as exc:
        name = str(exc.filename or out).removesuffix(".partial")
        _fail(f"cannot write {name}: {(exc.strerror or str(exc)).lower()}")
    typer.echo(f"wrote {rows:,} rows to {out}" + (f" and the truth to {truth}" if truth else ""))


class Encoding(StrEnum):
    """Text encodings ``mci ingest`` reads."""

    utf_8 = "utf-8"
    latin_1 = "latin-1"
    cp1252 = "cp1252"


DEFAULT_WAIT_S = 300.0


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        # Not Typer's readability check: it would exit 2 (usage) on an unreadable file, where
        # the ingest's own check says why and exits 1 (an error reading, not a bad command).
        typer.Argument(help="Export files (.csv or .parquet).", readable=False),
    ],
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
        bool,
        typer.Option("--json", help="Print one JSON document on stdout (messages go to stderr)."),
    ] = False,
    encoding: Annotated[
        Encoding,
        typer.Option(
            help="Text encoding of CSV files: utf-8, latin-1 or cp1252 (Windows-1252). In "
            "UTF-8, a line that is not valid UTF-8 is quarantined as bad_encoding and the "
            "rest loads."
        ),
    ] = Encoding.utf_8,
    wait: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Seconds to wait for another process writing to the warehouse (0: fail at once).",
        ),
    ] = DEFAULT_WAIT_S,
) -> None:
    """Validate, clean and load exports; faulty rows go to quarantine with a reason.

    Files load one at a time, each in its own transaction, and each summary is printed as
    its load lands. When every file is given, their columns are all checked first, so a
    contract error loads nothing. A file that fails stops the run: its error is printed,
    the files after it are named as skipped, and the exit code is that error's.
    """
    from mci.ingest.pipeline import ingest as run_ingest

    renames = _renames(mapping, rename)
    _check_db(db)
    say = (lambda text: typer.echo(text, err=True)) if as_json else typer.echo
    problems = _check_sources(paths, renames, encoding.value)
    outcomes: list[dict[str, Any]] = []
    code = errors.OK
    for index, path in enumerate(paths):
        if problems:
            if index in problems:
                message, failed = errors.report(problems[index])
                outcomes.append(_failed(path, message, failed))
                code = code or failed
            else:
                outcomes.append(_skipped(path, "no file is loaded while one fails its checks"))
            continue
        try:
            [result] = run_ingest(
                [path],
                db,
                renames=renames,
                replace=replace,
                encoding=encoding.value,
                wait=wait,
                on_wait=lambda text: typer.echo(f"waiting: {text}", err=True),
            )
        except Exception as exc:
            message, code = errors.report(exc, db)
            outcomes.append(_failed(path, message, code))
            outcomes += [
                _skipped(p, f"not attempted after the error in {path}") for p in paths[index + 1 :]
            ]
            break
        _say_result(result, say)
        outcomes.append(result.summary())
    if as_json:
        typer.echo(json.dumps(outcomes[0] if len(outcomes) == 1 else outcomes))
    if code:
        raise typer.Exit(code)


def _renames(mapping: Path | None, rename: list[str] | None) -> dict[str, str]:
    """The renamed headers of ``--mapping`` and ``--rename`` (exit 2 when they are bad)."""
    from mci.ingest.source import parse_renames, read_mapping_file

    renames: dict[str, str] = {}
    if mapping is not None:
        try:
            renames = read_mapping_file(mapping)
        except UnicodeDecodeError as exc:
            _fail(f"{mapping}: not a TOML file (not UTF-8 text: {exc.reason})", errors.USAGE)
        except ValueError as exc:
            _fail(str(exc), errors.USAGE)
        except OSError as exc:
            _fail(f"--mapping {errors.describe(exc)[0]}", errors.USAGE)
        if not renames:
            _fail(
                f'{mapping}: no [rename] table to apply (write [rename], then OLD = "NEW" lines)',
                errors.USAGE,
            )
    try:
        renames.update(parse_renames(rename or []))
    except ValueError as exc:
        _fail(str(exc), errors.USAGE)
    return renames


def _check_sources(
    paths: list[Path], renames: dict[str, str], encoding: str = "utf-8"
) -> dict[int, Exception]:
    """Checks the files before any is loaded; returns the errors, by position.

    A folder is refused at once; with several files, every file's columns are checked too
    (a single file's are checked by the load itself).
    """
    from mci.ingest.errors import IngestError
    from mci.ingest.source import read_layout

    problems: dict[int, Exception] = {}
    for index, path in enumerate(paths):
        if path.is_dir():
            problems[index] = IngestError(
                path, "is a folder, not a file: give the export file itself"
            )
        elif len(paths) > 1:
            try:
                read_layout(path, renames, encoding)
            except IngestError as exc:
                problems[index] = exc
    return problems


def _failed(path: Path, message: str, code: int) -> dict[str, Any]:
    return {
        "source": path.name,
        "path": str(path),
        "status": "failed",
        "error": message,
        "exit_code": code,
    }


def _skipped(path: Path, why: str) -> dict[str, Any]:
    typer.echo(f"skipped: {path} ({why})", err=True)
    return {"source": path.name, "path": str(path), "status": "skipped"}


def _say_result(result: Any, say: Any) -> None:
    if result.status == "unchanged":
        say(
            f"{result.source}: already loaded as load {result.load_id} (same sha256); "
            "nothing to do (use --replace to reload)"
        )
        return
    say(
        f"{result.source}: load {result.load_id}: {result.rows_read:,} read, "
        f"{result.rows_loaded:,} loaded, {result.rows_quarantined:,} quarantined, "
        f"{result.rows_duplicate:,} duplicate, {result.rows_outlier:,} flagged as outliers "
        f"in {result.seconds:.2f} s"
    )
    for column, values in result.new_categories.items():
        say(f"  new {column} values: {', '.join(values)}")


@app.command()
def quality(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Report loads, quarantine counts per reason, sample faults, outliers and new values."""
    from mci.ingest.quality import quality_report

    report = quality_report(db)
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

    if metric:
        if sql:
            _fail("give either SQL or --metric options, not both", 2)
        from mci.semantic.api import INTEGER_DIMENSIONS
        from mci.semantic.api import query as semantic_query
        from mci.semantic.registry import DIMENSIONS, GRAINS, METRICS, check_names

        # Names are checked before the warehouse is opened: a typo is a usage error (2).
        check_names("metric", metric, tuple(METRICS))
        check_names("dimension", by or [], DIMENSIONS)
        check_names("grain", [grain] if grain else [], GRAINS)
        filters: dict[str, list[str]] = {}
        for item in where or []:
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or not name:
                _fail(f"--where takes DIMENSION=VALUE, got {item!r}", 2)
            check_names("dimension", [name], DIMENSIONS)
            if name in INTEGER_DIMENSIONS and not _whole_number(value):
                _fail(
                    f"--where {name}={value!r}: {name} takes a whole number "
                    f"(e.g. --where {name}=30)",
                    2,
                )
            filters.setdefault(name, []).append(value)
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
        except ValueError as exc:  # a bad date or filter, or a malformed URL: usage
            _fail(str(exc), 2)
        rows = [
            tuple(None if _missing(v) else v for v in row) for row in frame.itertuples(index=False)
        ]
        render_rows(list(frame.columns), rows, output.value, sys.stdout)
        return
    if not sql:
        _fail("give a SQL statement or at least one --metric", 2)
    from mci.warehouse.connection import WarehouseError
    from mci.warehouse.readonly import WriteRefused, run_read_only

    _check_db(db)
    try:
        columns, rows = run_read_only(sql, db)
    except WriteRefused as exc:
        _fail(str(exc), 2)
    except WarehouseError:
        raise
    except Exception as exc:  # the engine's own error for a bad query
        from mci.config import parse_db_url, resolve_db_url

        _fail(f"query failed on {parse_db_url(resolve_db_url(db)).redacted()}: {exc}")
    render_rows(columns, rows, output.value, sys.stdout)


def _whole_number(text: str) -> bool:
    """Whether ``int()`` reads the text.

    Example:
        >>> _whole_number(" 30"), _whole_number("abc"), _whole_number("7.5")
        (True, False, False)
    """
    try:
        int(text)
    except ValueError:
        return False
    return True


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
    from mci.warehouse.connection import connect
    from mci.warehouse.schema import ensure_schema

    with connect(db) as wh:
        ensure_schema(wh)
        names = apply_views(wh)
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
    _check_output(out, "--out")
    from mci.report import build_report, render
    from mci.report.render import chart_uris

    built = build_report(db)
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
    _check_db(db)
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
    _check_db(db)
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
    print(errors.clean(str(status)), file=sys.stderr)
    return 1


def main() -> None:
    """The ``mci`` command: runs the app, then ends the process at once.

    By the time a command returns it has closed what it opened (the warehouse, files, the
    progress bar) and printed its output. The interpreter's teardown that would follow,
    freeing every module (DuckDB's among them), took about 0.015 s per command: 2 % of a
    200,000-row ingest, whose speed is a target. So output is flushed and the process
    exits without it. Errors of the commands are reported by the app itself (``_Group``);
    anything that escapes it still ends as ``error: ...`` and exit code 1, with the
    traceback only under ``--debug``.
    """
    import os

    try:
        app()
        status: object = None
    except SystemExit as exc:
        status = exc.code
    except Exception as exc:
        status = errors.report(exc)[1]
    code = exit_code(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass  # the reader left early (``mci query ... | head``): nothing to deliver
        except OSError:
            code = code or 1
    os._exit(code)
