"""Shared fixtures: one suite runs against every engine (DuckDB, SQLite, PostgreSQL).

PostgreSQL is a real server started once per test session on 127.0.0.1; each test gets a
fresh database. When PostgreSQL is missing the session fails: it is never skipped.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from tests.support.postgres import fresh_database, running_postgres

ENGINES = ("duckdb", "sqlite", "postgresql")
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "tests" / "data" / "kaggle_export_head.csv"  # the genuine export's head


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running_postgres(tmp_path_factory.mktemp("pg")) as url:
        yield url


def url_for(engine: str, request: pytest.FixtureRequest, folder: Path, name: str = "w") -> str:
    """A fresh, empty warehouse URL on ``engine``."""
    if engine == "postgresql":
        server = request.getfixturevalue("pg_server")
        digest = hashlib.sha1(f"{request.node.nodeid}/{name}".encode()).hexdigest()[:16]
        return fresh_database(server, f"t_{digest}")
    return f"{engine}:///{folder / f'{name}.{engine}'}"


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return url_for(request.param, request, tmp_path)


@pytest.fixture(scope="session")
def sample() -> Path:
    assert SAMPLE.is_file(), f"the genuine export head is missing: {SAMPLE}"
    return SAMPLE


def _generated(folder: Path, name: str, **options: Any) -> tuple[Path, dict[str, Any]]:
    from mci.datagen import generate

    out = folder / name
    truth = out.with_suffix(".truth.json")
    generate(out, truth=truth, **options)
    return out, json.loads(truth.read_text())


@pytest.fixture(scope="session")
def dirty_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 6,000-row planted export with 3% planted faults, and its truth."""
    return _generated(
        tmp_path_factory.mktemp("dirty"), "dirty.csv", rows=6_000, seed=11, dirty=0.03
    )


@pytest.fixture(scope="session")
def clean_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 3,000-row planted export without faults, and its truth."""
    return _generated(tmp_path_factory.mktemp("clean"), "clean.csv", rows=3_000, seed=5)
