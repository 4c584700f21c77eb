#!/usr/bin/env bash
# Install the system packages the test suite needs, from Debian's archive, only
# when they are missing.
#
#   scripts/install-system-deps.sh             PostgreSQL server binaries
#   scripts/install-system-deps.sh --browser   ... and Chromium + chromedriver
#
# Prints one line per dependency ("already present" or "installed"). Runs
# `apt-get update` at most once, and only when something has to be installed.
# Uses sudo when not root (and sudo exists). Exits non-zero with a message when
# an install fails.
set -euo pipefail

readonly PROG="${0##*/}"

die() {
    echo "${PROG}: error: $*" >&2
    exit 1
}

usage() {
    echo "usage: ${PROG} [--browser]"
    echo "  Installs PostgreSQL server binaries (and, with --browser, Chromium and"
    echo "  chromedriver) from Debian packages when they are missing."
}

want_browser=0
for arg in "$@"; do
    case "${arg}" in
        --browser) want_browser=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown argument: ${arg}"
            ;;
    esac
done

# -- privileges / apt -------------------------------------------------------------------------

SUDO=()
need_root() {
    if [[ ${EUID} -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        die "installing packages needs root, and sudo is not available; re-run as root"
    fi
    command -v apt-get >/dev/null 2>&1 \
        || die "apt-get not found: install $* with your system's package manager"
}

apt_updated=0
apt_install() {
    need_root "$@"
    if [[ ${apt_updated} -eq 0 ]]; then
        if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq; then
            die "apt-get update failed (needed to install: $*)"
        fi
        apt_updated=1
    fi
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
        die "apt-get install $* failed"
    fi
}

# -- PostgreSQL -------------------------------------------------------------------------------

# Prints the folder holding initdb/pg_ctl/postgres, the same way tests/support/postgres.py
# looks for it: $MCI_PG_BIN, then the highest /usr/lib/postgresql/*/bin.
find_pg_bin() {
    if [[ -n "${MCI_PG_BIN:-}" && -x "${MCI_PG_BIN}/initdb" && -x "${MCI_PG_BIN}/pg_ctl" ]]; then
        echo "${MCI_PG_BIN}"
        return 0
    fi
    local dir best="" best_version=-1 version
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "${dir}/initdb" && -x "${dir}/pg_ctl" && -x "${dir}/postgres" ]] || continue
        version="${dir#/usr/lib/postgresql/}"
        version="${version%%/*}"
        version="${version%%[!0-9]*}"
        if [[ -n "${version}" && ${version} -gt ${best_version} ]]; then
            best_version=${version}
            best="${dir}"
        fi
    done
    [[ -n "${best}" ]] || return 1
    echo "${best}"
}

if pg_bin="$(find_pg_bin)"; then
    echo "PostgreSQL server: already present (${pg_bin})"
else
    apt_install postgresql
    pg_bin="$(find_pg_bin)" \
        || die "installed the postgresql package, but no /usr/lib/postgresql/*/bin/initdb appeared"
    echo "PostgreSQL server: installed (${pg_bin})"
fi

# -- Chromium ---------------------------------------------------------------------------------

if [[ ${want_browser} -eq 1 ]]; then
    if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
        echo "Chromium: already present (/usr/bin/chromium, /usr/bin/chromedriver)"
    else
        apt_install chromium chromium-driver
        [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] \
            || die "installed chromium and chromium-driver, but /usr/bin/chromium or /usr/bin/chromedriver is missing"
        echo "Chromium: installed (/usr/bin/chromium, /usr/bin/chromedriver)"
    fi
fi
