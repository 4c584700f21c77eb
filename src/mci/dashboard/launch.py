"""Serves the dashboard: ``mci dashboard`` becomes a Streamlit server running ``app.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mci.config import DB_URL_ENV, resolve_db_url

APP = Path(__file__).with_name("app.py")


def command(host: str = "127.0.0.1", port: int = 8501) -> list[str]:
    """The Streamlit command line that serves the dashboard.

    Example:
        >>> command(port=8600)[1:4]
        ['-m', 'streamlit', 'run']
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        # An analyst's local dashboard: no "Deploy" button or developer menu.
        "--client.toolbarMode",
        "minimal",
    ]


def serve(db: str | None, host: str = "127.0.0.1", port: int = 8501) -> int:
    """Runs the dashboard until it stops, against ``db`` (else ``MCI_DB_URL`` or the default).

    On POSIX the process is replaced by Streamlit (``exec``), so stopping ``mci dashboard``
    (Ctrl-C, SIGTERM from a supervisor or a test) stops the server: a child process would
    be left running. Elsewhere Streamlit runs as a child and its exit code is returned.

    Returns:
        Streamlit's exit code (only where ``exec`` is not available).
    """
    env = {**os.environ, DB_URL_ENV: resolve_db_url(db)}
    argv = command(host, port)
    if os.name == "posix":
        os.execve(argv[0], argv, env)  # noqa: S606 - our own fixed command line
    try:
        return subprocess.call(argv, env=env)
    except KeyboardInterrupt:
        return 130
