"""The dashboard on every engine: each page runs and the tiles equal the semantic layer's."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from mci.dashboard import app as app_module
from mci.dashboard.format import fmt
from mci.dashboard.views.overview import KPIS
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress
from mci.semantic import query

APP = str(Path(app_module.__file__))
PAGES = ("channels.py", "trends.py", "monthly.py", "quality.py")


def test_every_page_on_every_engine(monkeypatch, db_url, clean_export):
    export, _ = clean_export
    ingest([export], db_url, progress=NoProgress())
    monkeypatch.setenv("MCI_DB_URL", db_url)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["channel"] = ["Email", "Facebook"]
    at.run()
    assert not at.exception, at.exception
    daily = query(["campaigns"], grain="day", db=db_url)
    first, last = daily["period"].min().date(), daily["period"].max().date()
    frame = query(
        [name for name, _ in KPIS],
        where={"channel": ["Email", "Facebook"]},
        start=first,
        end=last,
        db=db_url,
    ).iloc[0]
    shown = {m.label: m.value for m in at.metric[: len(KPIS)]}
    assert shown == {label: fmt(name, frame[name]) for name, label in KPIS}
    for page in PAGES:
        at.switch_page(f"views/{page}").run()
        assert not at.exception, (page, at.exception)
        assert at.title
