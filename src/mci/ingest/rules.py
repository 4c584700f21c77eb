"""The cleaning rules: how each raw text column is typed, and the row checks, in order.

Rules are data: :data:`PARSERS` says how a raw column becomes a typed one, :data:`CHECKS`
lists the row faults in the order they are tried (a row gets the first that applies). The
SQL they produce is DuckDB's; the ingest always parses in DuckDB, whatever the target engine.

Example:
    >>> CHECKS[0].reason_code
    'missing_value'
    >>> sorted({check.reason_code for check in CHECKS}) == sorted(
    ...     {"missing_value", "bad_number", "bad_money", "bad_date", "negative_value",
    ...      "out_of_range", "clicks_exceed_impressions"})
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from mci.ingest.contract import DATE_RANGE, VALUE_RANGES
from mci.ingest.errors import SHORT_TEXT

# Money: "$16,174.00", "16174.00", "16,174", "-$1,200.00", "$-1,200.00".
MONEY_PATTERN = r"^-?\$?-?\s*([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$"
DURATION_PATTERN = r"(?i)^([0-9]+)(\s*days?)?$"

# Each rule is exact SQL over the trimmed text (``RULES``). Most values in a real export take a
# cheaper path to the same result (``PARSERS``), and a test checks the two agree on edge cases.
# ``trim`` decodes every character of its input (it removes Unicode spaces), so it is skipped
# for ASCII values with no space at either end; numbers and dates whose text is already the
# canonical form of their typed value skip the regular expression.


def _t(raw: str) -> str:
    """``trim(r.<raw>)``, without calling ``trim`` where it changes nothing."""
    col = f"r.{raw}"
    # LIKE with a fixed prefix or suffix costs less than starts_with/ends_with here
    # (0.107 against 0.127 CPU-s over seven columns of 200,000 values).
    return (
        f"CASE WHEN strlen({col}) = length({col}) AND {col} NOT LIKE ' %' "
        f"AND {col} NOT LIKE '% ' THEN {col} ELSE trim({col}) END"
    )


def _canonical_or(raw: str, kind: str, rule: str, guard: str = "true") -> str:
    """``rule``, or the plain cast of ``r.<raw>`` when the text is the cast value's own form.

    The text then holds no white space, no sign or zero the form would drop, nothing else,
    so ``rule`` would give the same value. ``guard`` narrows the forms taken.
    """
    col = f"r.{raw}"
    value = f"TRY_CAST({col} AS {kind})"
    return f"CASE WHEN {guard} AND CAST({value} AS VARCHAR) = {col} THEN {value} ELSE {rule} END"


def _money_value(text: str) -> str:
    return f"TRY_CAST(replace(replace(replace({text}, '$', ''), ',', ''), ' ', '') AS DOUBLE)"


def money_sql(raw: str) -> str:
    """Parses money text in either form into a DOUBLE (NULL when unparseable)."""
    text = f"trim(r.{raw})"
    return f"CASE WHEN regexp_full_match({text}, '{MONEY_PATTERN}') THEN {_money_value(text)} END"


def _money_fast(raw: str) -> str:
    # Text the pattern takes untrimmed is ASCII with at most leading spaces, which the
    # value's own ``replace`` drops: the same value as from the trimmed text.
    col = f"r.{raw}"
    return (
        f"CASE WHEN regexp_full_match({col}, '{MONEY_PATTERN}') THEN {_money_value(col)} "
        f"ELSE {money_sql(raw)} END"
    )


def _whole(raw: str, kind: str = "BIGINT") -> str:
    # TRY_CAST alone rounds '506.7' to 507 and takes '1e3' or '0x10': digits only.
    text = f"trim(r.{raw})"
    return f"CASE WHEN regexp_full_match({text}, '-?[0-9]+') THEN TRY_CAST({text} AS {kind}) END"


def _finite(raw: str) -> str:
    # 'NaN' and 'inf' cast to DOUBLE, and would poison every sum: not numbers here.
    value = f"TRY_CAST(trim(r.{raw}) AS DOUBLE)"
    return f"CASE WHEN isfinite({value}) THEN {value} END"


def _finite_fast(raw: str) -> str:
    # The cast skips white space at both ends, so a text it reads trims to the same value.
    fast = f"TRY_CAST(r.{raw} AS DOUBLE)"
    return (
        f"CASE WHEN {fast} IS NOT NULL THEN (CASE WHEN isfinite({fast}) THEN {fast} END) "
        f"ELSE {_finite(raw)} END"
    )


def _duration(raw: str) -> str:
    return (
        f"TRY_CAST(NULLIF(regexp_extract(trim(r.{raw}), '{DURATION_PATTERN}', 1), '') AS INTEGER)"
    )


def _duration_fast(raw: str) -> str:
    return f"TRY_CAST(NULLIF(regexp_extract({_t(raw)}, '{DURATION_PATTERN}', 1), '') AS INTEGER)"


def _text(raw: str) -> str:
    return f"NULLIF(trim(r.{raw}), '')"


# ISO dates, exactly 'YYYY-MM-DD': a four-digit year ('21-01-01' would otherwise read as the
# year 21), a two-digit month and day ('2021-2-3' is not the contract's form).
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _date(raw: str) -> str:
    text = f"trim(r.{raw})"
    return (
        f"CASE WHEN regexp_full_match({text}, '{DATE_PATTERN}') "
        f"THEN TRY_CAST(try_strptime({text}, '%Y-%m-%d') AS DATE) END"
    )


_TEXT_COLUMNS = {
    "company": "company",
    "campaign_type": "campaign_type",
    "target_audience": "target_audience",
    "channel": "channel_used",
    "location": "location",
    "language": "language",
    "customer_segment": "customer_segment",
}
_ORDER = (
    "campaign_id",
    "company",
    "campaign_type",
    "target_audience",
    "duration_days",
    "channel",
    "conversion_rate",
    "spend",
    "roi",
    "location",
    "language",
    "clicks",
    "impressions",
    "engagement_score",
    "customer_segment",
    "date",
)
# Typed column -> the raw column it is parsed from.
RAW_OF: dict[str, str] = {
    **{name: name for name in _ORDER},
    **_TEXT_COLUMNS,
    "duration_days": "duration",
    "spend": "acquisition_cost",
}
_WHOLE_KINDS = {
    "campaign_id": "BIGINT",
    "clicks": "BIGINT",
    "impressions": "BIGINT",
    "engagement_score": "INTEGER",
}


def _rule(name: str) -> str:
    raw = RAW_OF[name]
    if name in _TEXT_COLUMNS:
        return _text(raw)
    if name in _WHOLE_KINDS:
        return _whole(raw, _WHOLE_KINDS[name])
    return {
        "duration_days": _duration,
        "conversion_rate": _finite,
        "roi": _finite,
        "spend": money_sql,
        "date": _date,
    }[name](raw)


def _parser(name: str) -> str:
    raw = RAW_OF[name]
    if name in _TEXT_COLUMNS:
        return f"NULLIF({_t(raw)}, '')"
    if name in _WHOLE_KINDS:
        return _canonical_or(raw, _WHOLE_KINDS[name], _rule(name))
    if name == "date":
        # Ten characters in a date's own form: 'YYYY-MM-DD', a four-digit year.
        return _canonical_or(raw, "DATE", _rule(name), guard=f"strlen(r.{raw}) = 10")
    return {
        "duration_days": _duration_fast,
        "conversion_rate": _finite_fast,
        "roi": _finite_fast,
        "spend": _money_fast,
    }[name](raw)


# Typed column name -> SQL over the raw row ``r`` (DuckDB dialect): the exact rule, and the
# same rule behind its fast paths (what the ingest runs).
RULES: dict[str, str] = {name: _rule(name) for name in _ORDER}
PARSERS: dict[str, str] = {name: _parser(name) for name in _ORDER}


@dataclass(frozen=True)
class Check:
    """One row fault.

    Attributes:
        reason_code: the quarantine reason code.
        column: the contract column the fault is about (as in the source header).
        condition: SQL that is true when the row has this fault; it may use the raw row
            ``r`` and the typed values ``v_<name>``.
        message: SQL for the readable message.
    """

    reason_code: str
    column: str
    condition: str
    message: str


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def short_text_sql(text: str, limit: int = SHORT_TEXT) -> str:
    """SQL shortening a text value for a message, as :func:`mci.ingest.errors.shorten` does."""
    return (
        f"CASE WHEN length({text}) > {limit} THEN left({text}, {limit}) || '… (' || "
        f"format('{{:,}}', length({text})) || ' characters)' ELSE {text} END"
    )


def _quoted(raw: str) -> str:
    return f"'''' || {short_text_sql(f'r.{raw}')} || ''''"


def _missing(source: str, raw: str, typed: str) -> Check:
    # Every parser gives NULL for blank text, so the trim runs only where a value is NULL.
    condition = f"v_{typed} IS NULL AND trim(r.{raw}) = ''"
    return Check("missing_value", source, condition, f"'{source} is empty'")


def _unparseable(code: str, source: str, raw: str, typed: str, what: str) -> Check:
    return Check(
        code,
        source,
        f"v_{typed} IS NULL AND trim(r.{raw}) <> ''",
        f"'{source} ' || {_quoted(raw)} || ' is not {_sql_text(what)}'",
    )


def _negative(source: str, typed: str) -> Check:
    return Check(
        "negative_value",
        source,
        f"v_{typed} < 0",
        f"'{source} is negative (' || CAST(v_{typed} AS VARCHAR) || ')'",
    )


def _bound(value: float) -> str:
    """A range bound as a message shows it: ``1,000,000,000,000``, ``-1,000``, ``0.5``."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return str(value)


def _out_of_range(source: str, raw: str, typed: str) -> Check:
    low, high = VALUE_RANGES[typed]
    return Check(
        "out_of_range",
        source,
        f"v_{typed} < {low!r} OR v_{typed} > {high!r}",
        f"'{source} ' || {_quoted(raw)} || ' is outside {_bound(low)} to {_bound(high)}'",
    )


def _date_out_of_range() -> Check:
    low, high = DATE_RANGE
    return Check(
        "out_of_range",
        "Date",
        f"v_date < DATE '{low}' OR v_date > DATE '{high}'",
        f"'Date ' || {_quoted('date')} || ' is outside {low} to {high}'",
    )


REQUIRED = (
    ("Campaign_ID", "campaign_id"),
    ("Channel_Used", "channel_used"),
    ("Acquisition_Cost", "acquisition_cost"),
    ("Conversion_Rate", "conversion_rate"),
    ("ROI", "roi"),
    ("Clicks", "clicks"),
    ("Impressions", "impressions"),
    ("Date", "date"),
)
# The typed column each required raw column becomes.
_TYPED_OF_REQUIRED = {"channel_used": "channel", "acquisition_cost": "spend"}

CHECKS: tuple[Check, ...] = (
    *(_missing(source, raw, _TYPED_OF_REQUIRED.get(raw, raw)) for source, raw in REQUIRED),
    _unparseable("bad_number", "Campaign_ID", "campaign_id", "campaign_id", "a whole number"),
    _unparseable("bad_money", "Acquisition_Cost", "acquisition_cost", "spend", "a money amount"),
    _unparseable("bad_date", "Date", "date", "date", "an ISO date (YYYY-MM-DD)"),
    _unparseable("bad_number", "Conversion_Rate", "conversion_rate", "conversion_rate", "a number"),
    _unparseable("bad_number", "ROI", "roi", "roi", "a number"),
    _unparseable("bad_number", "Clicks", "clicks", "clicks", "a whole number"),
    _unparseable("bad_number", "Impressions", "impressions", "impressions", "a whole number"),
    _unparseable("bad_number", "Duration", "duration", "duration_days", "a duration ('30 days')"),
    _unparseable(
        "bad_number", "Engagement_Score", "engagement_score", "engagement_score", "a whole number"
    ),
    _negative("Acquisition_Cost", "spend"),
    _negative("Clicks", "clicks"),
    _negative("Impressions", "impressions"),
    # Ranges after signs: a negative count is reported as negative, not as out of range.
    _out_of_range("Conversion_Rate", "conversion_rate", "conversion_rate"),
    _out_of_range("Acquisition_Cost", "acquisition_cost", "spend"),
    _out_of_range("ROI", "roi", "roi"),
    _out_of_range("Clicks", "clicks", "clicks"),
    _out_of_range("Impressions", "impressions", "impressions"),
    _out_of_range("Engagement_Score", "engagement_score", "engagement_score"),
    _out_of_range("Duration", "duration", "duration_days"),
    _date_out_of_range(),
    Check(
        "clicks_exceed_impressions",
        "Clicks",
        "v_clicks > v_impressions",
        "'Clicks (' || CAST(v_clicks AS VARCHAR) || ') exceed Impressions (' "
        "|| CAST(v_impressions AS VARCHAR) || ')'",
    ),
)


def typed_select_sql(prefix: str = "v_") -> str:
    """SQL select-list items typing every raw column of ``r`` (``expr AS <prefix><name>``)."""
    return ",\n    ".join(f"{sql} AS {prefix}{name}" for name, sql in PARSERS.items())


def check_index_sql() -> str:
    """A CASE giving the 1-based index of the first failing check, NULL when the row is clean."""
    whens = " ".join(f"WHEN {c.condition} THEN {i}" for i, c in enumerate(CHECKS, start=1))
    return f"CASE {whens} END"


def check_field_sql(field: str) -> str:
    """A CASE mapping a check index ``check_idx`` to that check's ``field`` as SQL."""
    whens = []
    for i, check in enumerate(CHECKS, start=1):
        value = getattr(check, field)
        sql = value if field == "message" else "'" + value.replace("'", "''") + "'"
        whens.append(f"WHEN {i} THEN {sql}")
    return f"CASE check_idx {' '.join(whens)} END"
