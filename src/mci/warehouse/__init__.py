"""Warehouse: connections per engine, the table schema and the load log."""

from mci.warehouse.connection import Warehouse, connect
from mci.warehouse.dialects import DIALECTS, Dialect

__all__ = ["DIALECTS", "Dialect", "Warehouse", "connect"]
