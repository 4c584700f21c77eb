"""Database URLs: parsing per engine, resolution order and redaction."""

from __future__ import annotations

import pytest

from mci.config import (
    DB_URL_ENV,
    DEFAULT_DB_URL,
    ConfigError,
    parse_db_url,
    resolve_db_url,
)


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_embedded_relative_path(engine: str) -> None:
    url = f"{engine}:///data/warehouse.db"
    parsed = parse_db_url(url)
    assert parsed.engine == engine
    assert parsed.path == "data/warehouse.db"
    assert parsed.url == url


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_embedded_absolute_path(engine: str) -> None:
    parsed = parse_db_url(f"{engine}:////tmp/deep/warehouse.db")
    assert parsed.engine == engine
    assert parsed.path == "/tmp/deep/warehouse.db"


def test_scheme_is_case_insensitive() -> None:
    parsed = parse_db_url("DuckDB:///x.duckdb")
    assert parsed.engine == "duckdb"
    assert parsed.path == "x.duckdb"


def test_default_url_is_the_embedded_duckdb_file() -> None:
    parsed = parse_db_url(DEFAULT_DB_URL)
    assert parsed.engine == "duckdb"
    assert parsed.path == "data/ads_analytics.duckdb"


def test_postgresql_url_is_kept_for_the_driver() -> None:
    url = "postgresql://analyst@db.internal:5433/marketing"
    parsed = parse_db_url(url)
    assert parsed.engine == "postgresql"
    assert parsed.path == ""
    assert parsed.url == url


@pytest.mark.parametrize(
    "scheme", ["postgres", "postgresql+psycopg", "postgresql+psycopg2", "POSTGRES"]
)
def test_postgresql_aliases_are_normalised(scheme: str) -> None:
    parsed = parse_db_url(f"{scheme}://analyst@localhost:5432/mci")
    assert parsed.engine == "postgresql"
    # the URL handed to the driver has the scheme libpq understands
    assert parsed.url == "postgresql://analyst@localhost:5432/mci"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://user@host/db",
        "duck:///x.duckdb",
        "data/ads_analytics.duckdb",  # a bare path
        "duckdb:/x.duckdb",
        "",
    ],
)
def test_unknown_schemes_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_db_url(url)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert repr(url) in message
    assert "duckdb:///" in message  # says what is expected


@pytest.mark.parametrize(
    "url", ["duckdb://", "duckdb:///", "sqlite://", "sqlite:///", "duckdb://relative.duckdb"]
)
def test_missing_paths_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="no file path"):
        parse_db_url(url)


def test_resolve_prefers_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DB_URL_ENV, "sqlite:///from-env.sqlite")
    assert resolve_db_url("duckdb:///from-option.duckdb") == "duckdb:///from-option.duckdb"


def test_resolve_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DB_URL_ENV, "sqlite:///from-env.sqlite")
    assert resolve_db_url(None) == "sqlite:///from-env.sqlite"
    assert resolve_db_url() == "sqlite:///from-env.sqlite"


def test_resolve_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    assert resolve_db_url(None) == DEFAULT_DB_URL


def test_empty_environment_value_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DB_URL_ENV, "")
    assert resolve_db_url(None) == DEFAULT_DB_URL


def test_env_name_is_the_documented_one() -> None:
    assert DB_URL_ENV == "MCI_DB_URL"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://analyst:s3cret-pw@db.internal:5432/mci",
            "postgresql://analyst:***@db.internal:5432/mci",
        ),
        ("postgres://analyst:hunter2@localhost/mci", "postgresql://analyst:***@localhost/mci"),
        # a password equal to the user name: only the password is hidden
        ("postgresql://mci:mci@localhost/mci", "postgresql://mci:***@localhost/mci"),
        ("postgresql://u:pa:ss@h/db", "postgresql://u:***@h/db"),
    ],
)
def test_redacted_hides_the_password(url: str, expected: str) -> None:
    parsed = parse_db_url(url)
    redacted = parsed.redacted()
    assert redacted == expected
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert f":{password}@" not in redacted
    assert parsed.url != redacted  # the driver still gets the real URL


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://analyst@db.internal:5432/mci",
        "postgresql:///mci",
        "duckdb:///data/ads_analytics.duckdb",
        "sqlite:////tmp/x.sqlite",
    ],
)
def test_redacted_leaves_urls_without_a_password_unchanged(url: str) -> None:
    assert parse_db_url(url).redacted() == url


@pytest.mark.parametrize(
    ("url", "driver_url"),
    [
        # a password written without percent-encoding reaches the driver encoded
        ("postgresql://u:p@ss@127.0.0.1:5432/db", "postgresql://u:p%40ss@127.0.0.1:5432/db"),
        ("postgresql://u:p/s?s#@h/db", "postgresql://u:p%2Fs%3Fs%23@h/db"),
        ("postgresql://u:a b@h/db", "postgresql://u:a%20b@h/db"),
        ("postgresql://u:100%@h/db", "postgresql://u:100%25@h/db"),
        # a password starting with / would leave "u:" as a host with an empty port
        ("postgresql://u:/pw x@127.0.0.1:1/db", "postgresql://u:%2Fpw%20x@127.0.0.1:1/db"),
        ("postgresql://u:12/pw@h/db", "postgresql://u:12%2Fpw@h/db"),
        # already well formed: unchanged
        ("postgresql://u:p%40ss@h/db", "postgresql://u:p%40ss@h/db"),
        ("postgresql://h/db?user=me@corp", "postgresql://h/db?user=me@corp"),
        ("postgresql://u@h1:5432,h2:5433/db", "postgresql://u@h1:5432,h2:5433/db"),
        ("postgresql://u@[::1]:5432/db", "postgresql://u@[::1]:5432/db"),
    ],
)
def test_postgresql_userinfo_is_encoded_for_the_driver(url: str, driver_url: str) -> None:
    parsed = parse_db_url(url)
    assert parsed.url == driver_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:Hunter2pw@[::1/db",  # an unclosed IPv6 bracket
        "postgresql://u:Hunter2pw@db.internal:port/db",  # a port that is not a number
        "postgresql://u:Hunter2pw@db.internal:99999/db",  # a port out of range
        "postgresql://u:Hunter2pw@db internal/db",  # a space in the host
        "postgresql://u:Hunter2pw@db/x%00y",  # a NUL character
    ],
)
def test_malformed_postgresql_hosts_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_db_url(url)
    assert "Hunter2pw" not in str(info.value)
    assert "postgresql://u:***@" in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "mysql://analyst:Hunter2pw@db/x",
        "host=db password=Hunter2pw",
        "host=db password='Hunter2pw",
        "analyst:Hunter2pw@db",
        "duckdb:Hunter2pw@x",
    ],
)
def test_refused_urls_are_shown_redacted(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_db_url(url)
    assert "Hunter2pw" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://analyst@db:5432/mci?sslmode=require&password=Hunter2pw",
            "postgresql://analyst@db:5432/mci?sslmode=require&password=***",
        ),
        ("postgresql://analyst:p@ss@db/mci", "postgresql://analyst:***@db/mci"),
    ],
)
def test_redacted_hides_query_passwords_and_unencoded_at_signs(url: str, expected: str) -> None:
    assert parse_db_url(url).redacted() == expected
