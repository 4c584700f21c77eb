"""Ingest: the source contract, cleaning rules, quarantine and the quality report."""
