"""Sidebar filters, kept in the URL query string so that a link reproduces the view.

The query string names each filter after its dimension (``?channel=Email&channel=Facebook``)
with ``from`` and ``to`` for the date range.

Example:
    >>> f = parse_params({"channel": ["Facebook", "Email"], "from": ["2021-01-01"]})
    >>> f.where()
    {'channel': ['Email', 'Facebook']}
    >>> f.start
    datetime.date(2021, 1, 1)
    >>> to_params(f)
    {'channel': ['Email', 'Facebook'], 'from': ['2021-01-01']}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FILTER_DIMENSIONS: tuple[str, ...] = (
    "channel",
    "campaign_type",
    "company",
    "customer_segment",
    "location",
    "language",
    "target_audience",
)

LABELS = {
    "channel": "Channel",
    "campaign_type": "Campaign type",
    "company": "Company",
    "customer_segment": "Customer segment",
    "location": "Location",
    "language": "Language",
    "target_audience": "Target audience",
}

Selection = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Filters:
    """One filter set: frozen, sorted and hashable, so it can key a cache.

    Attributes:
        selection: ``(dimension, sorted values)`` pairs for the non-empty filters, sorted.
        start: the first day, or None for no lower bound.
        end: the last day, or None for no upper bound.
    """

    selection: Selection = ()
    start: dt.date | None = None
    end: dt.date | None = None

    @classmethod
    def make(
        cls,
        where: Mapping[str, Sequence[str]],
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> Filters:
        """Builds the canonical (sorted, de-duplicated, non-empty) form of a filter set."""
        selection = tuple(
            (dim, tuple(sorted({str(v) for v in values})))
            for dim, values in sorted(where.items())
            if dim in FILTER_DIMENSIONS and values
        )
        return cls(selection, start, end)

    def where(self) -> dict[str, list[str]]:
        """The ``where=`` argument of :func:`mci.semantic.query`."""
        return {dim: list(values) for dim, values in self.selection}

    def key(self) -> tuple:
        """A plain-tuple cache key."""
        return (
            self.selection,
            self.start.isoformat() if self.start else None,
            self.end.isoformat() if self.end else None,
        )


def _date(values: Sequence[str]) -> dt.date | None:
    for value in values:
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            continue
    return None


def parse_params(params: Mapping[str, Sequence[str]]) -> Filters:
    """Reads filters from query parameters (each key to all of its values).

    Unknown keys and unreadable dates are ignored.
    """
    where = {dim: list(params.get(dim, ())) for dim in FILTER_DIMENSIONS}
    return Filters.make(
        where, _date(list(params.get("from", ()))), _date(list(params.get("to", ())))
    )


def to_params(filters: Filters) -> dict[str, list[str]]:
    """The query parameters that reproduce ``filters``."""
    params: dict[str, list[str]] = {dim: list(values) for dim, values in filters.selection}
    if filters.start:
        params["from"] = [filters.start.isoformat()]
    if filters.end:
        params["to"] = [filters.end.isoformat()]
    return params


def sidebar(db: str) -> Filters:
    """Draws the sidebar filters, synced with ``st.query_params``, and returns them.

    On the first run of a session the widgets start from the query string; afterwards the
    widgets (whose state persists across pages) are the truth and are written back to it.
    """
    import streamlit as st

    from mci.dashboard import data

    state = st.session_state
    if not state.get("_mci_filters_ready"):
        initial = parse_params({k: st.query_params.get_all(k) for k in st.query_params})
        for dim in FILTER_DIMENSIONS:
            state[f"filter_{dim}"] = list(dict(initial.selection).get(dim, ()))
        first, last = data.date_bounds(db)
        state["filter_from"] = initial.start or first
        state["filter_to"] = initial.end or last
        state["_mci_filters_ready"] = True

    with st.sidebar:
        st.header("Filters")
        # One per row: side by side, the sidebar is too narrow to show a whole date.
        start = st.date_input("From", key="filter_from", format="YYYY-MM-DD")
        end = st.date_input("To", key="filter_to", format="YYYY-MM-DD")
        where: dict[str, list[str]] = {}
        for dim in FILTER_DIMENSIONS:
            chosen = list(state.get(f"filter_{dim}", []))
            options = list(data.dimension_values(db, dim))
            options += [v for v in chosen if v not in options]  # a link may name unknown values
            where[dim] = st.multiselect(LABELS[dim], options, key=f"filter_{dim}")
        if st.button("Clear filters"):
            for name in (*FILTER_DIMENSIONS, "from", "to"):
                state.pop(f"filter_{name}", None)
            state.pop("_mci_filters_ready", None)
            st.query_params.clear()
            st.rerun()

    filters = Filters.make(
        where,
        start if isinstance(start, dt.date) else None,
        end if isinstance(end, dt.date) else None,
    )
    wanted = to_params(filters)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)
    return filters
