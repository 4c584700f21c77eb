"""The executive summary: findings from every diagnostic, in Markdown, HTML or JSON.

Example:
    >>> from mci.report import LANGUAGES
    >>> LANGUAGES
    ('en', 'id')
"""

from mci.report.findings import Report, build_findings, build_report
from mci.report.render import LANGUAGES, render

__all__ = ["LANGUAGES", "Report", "build_findings", "build_report", "render"]
