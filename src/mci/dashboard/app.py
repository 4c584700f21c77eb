"""The dashboard's entry point (``streamlit run``): sidebar filters, then the chosen page.

The warehouse URL comes from ``MCI_DB_URL`` (``mci dashboard --db`` sets it); every
connection is read-only.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent

PAGES: tuple[tuple[str, str, str], ...] = (
    ("views/overview.py", "Overview", "overview"),
    ("views/channels.py", "Channels", "channels"),
    ("views/trends.py", "Trends", "trends"),
    ("views/monthly.py", "Monthly", "monthly"),
    ("views/quality.py", "Data quality", "quality"),
)

HOW_TO_LOAD = """The warehouse holds no campaign data yet.

Load an export:

```
mci ingest FILE.csv --db {db}
```

or build the 200,000-row demo warehouse:

```
mci demo --no-serve --db {db}
```

then reload this page."""


def _empty_page() -> None:
    import streamlit as st

    from mci.config import parse_db_url
    from mci.dashboard import data

    st.title("Marketing Campaign Intelligence")
    st.info(HOW_TO_LOAD.format(db=parse_db_url(data.db_url()).redacted()))


def main() -> None:
    """Builds the navigation and runs the chosen page."""
    import streamlit as st

    from mci.dashboard import data

    st.set_page_config(page_title="Marketing Campaign Intelligence", layout="wide")
    with data.run_scope():
        _run_page(data.db_url())


REFRESHING = (
    "Refreshing: a load is being written to the warehouse. {what} The page updates by itself "
    "when the load commits."
)


def _run_page(db: str) -> None:
    import streamlit as st

    from mci.dashboard import data
    from mci.dashboard.filters import sidebar
    from mci.dashboard.format import plain
    from mci.warehouse.connection import WarehouseBusy, WarehouseError

    try:
        rows = data.warehouse_rows(db)
    except WarehouseBusy:
        st.info(REFRESHING.format(what="Its data will show as soon as it can be read."))
        _poll_until_readable(db)
        return
    except WarehouseError as exc:
        from mci.secrets import redact, scrub, secrets_in

        st.error(plain(scrub(redact(str(exc)), secrets_in(db))))
        return
    if not rows:
        st.navigation([st.Page(_empty_page, title="Get started", url_path="start")]).run()
        return
    st.session_state["_mci_db"] = db
    st.session_state["_mci_current_filters"] = sidebar(db)
    pages = [
        st.Page(HERE / path, title=title, url_path=slug, default=i == 0)
        for i, (path, title, slug) in enumerate(PAGES)
    ]
    if data.busy(db):
        st.info(REFRESHING.format(what="Shown: the data as of the last committed load."))
        _poll_until_readable(db)
    try:
        st.navigation(pages).run()
    except WarehouseBusy:  # a view not computed before the load started
        st.info(REFRESHING.format(what="This view will show as soon as it can be read."))
        _poll_until_readable(db)


def _poll_until_readable(db: str) -> None:
    """Re-runs the page once the warehouse can be read again (checked every two seconds)."""
    import streamlit as st

    from mci.warehouse.connection import WarehouseBusy, connect

    @st.fragment(run_every=2.0)
    def poll() -> None:
        try:
            connect(db, read_only=True).close()
        except WarehouseBusy:
            return
        st.rerun()

    poll()


if __name__ == "__main__":
    main()
