"""Marketing Campaign Intelligence: trusted campaign KPIs over an embedded warehouse.

The public API is kept small and flat; heavy libraries are imported lazily so that
``mci --help`` stays fast.
"""

__version__ = "0.1.0"
