"""Redaction: every URL form, keyword strings and messages lose their secrets."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mci.config import parse_db_url
from mci.secrets import MASK, redact, scrub, secrets_in, split_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # userinfo
        ("postgresql://u:s3cret@db:5432/mci", "postgresql://u:***@db:5432/mci"),
        ("postgresql://u:p@ss@host/db", "postgresql://u:***@host/db"),  # unencoded @
        ("postgresql://u:p/s?s#x@host/db", "postgresql://u:***@host/db"),  # unencoded / ? #
        ("postgresql://u:a b@host/db", "postgresql://u:***@host/db"),  # a space
        ("postgresql://u:pa:ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql:///mci", "postgresql:///mci"),
        ("postgresql://h/db?user=me@corp", "postgresql://h/db?user=me@corp"),
        # query parameters
        ("postgresql://u@h/db?password=x1", "postgresql://u@h/db?password=***"),
        (
            "postgresql://u@h/db?sslmode=require&sslpassword=x1&application_name=a",
            "postgresql://u@h/db?sslmode=require&sslpassword=***&application_name=a",
        ),
        (
            "postgresql://h/db?api_token=t&secret_key=k",
            "postgresql://h/db?api_token=***&secret_key=***",
        ),
        ("postgresql://h/db?PASS%77ORD=x1", "postgresql://h/db?PASS%77ORD=***"),  # encoded key
        ("postgresql://h/db#fragment", "postgresql://h/db#***"),
        # libpq keyword strings
        ("host=h password=secret dbname=d", "host=h password=*** dbname=d"),
        ("host=h password = 'a b\\'c' dbname=d", "host=h password=*** dbname=d"),
        ("password='unterminated", "password=***"),
        # an unknown scheme, a malformed host
        ("mysql://root:hunter2@db/x", "mysql://root:***@db/x"),
        ("postgresql://u:pw@[::1/db", "postgresql://u:***@[::1/db"),
        ("postgresql://u:pw@ho st:port/db", "postgresql://u:***@ho st:port/db"),
        # messages
        (
            "cannot open postgresql://u:pw@h/db: refused",
            "cannot open postgresql://u:***@h/db: refused",
        ),
        ("bad setting password=x9 here", "bad setting password=*** here"),
        ("login u:hunter2@db failed", "login u:***@db failed"),
        ("plain message, nothing secret", "plain message, nothing secret"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data/ads_analytics.duckdb", "data/ads_analytics.duckdb"),
        ("duckdb:/x.duckdb", "duckdb:/x.duckdb"),
        ("", ""),
        ("u:hunter2@db", "u:***@db"),
        ("my password is hunter2", MASK),  # not a URL, not keywords: hidden whole
        ("user@host", MASK),
        ("host=x oops", MASK),
        ("password='unterminated", MASK),
    ],
)
def test_strict_redaction_of_a_value_given_as_a_url(text: str, expected: str) -> None:
    assert redact(text, strict=True) == expected


def test_db_url_redacted_is_redact() -> None:
    for url in ("postgresql://u:p@ss@h/db", "postgresql://u@h/db?password=x1&sslmode=require"):
        parsed = parse_db_url(url)
        assert parsed.redacted() == redact(parsed.url, strict=True)
        assert "ss@" not in parsed.redacted() and "x1" not in parsed.redacted()


def test_split_url_reads_an_unencoded_password_the_cautious_way() -> None:
    parts = split_url("postgresql://u:a/b@c@h:5432/db?x=1")
    assert parts is not None
    assert (parts.userinfo, parts.hosts, parts.tail) == ("u:a/b@c", "h:5432", "/db?x=1")


def test_scrub_removes_each_spelling_of_the_secrets() -> None:
    secrets = secrets_in("postgresql://u:p%zz%C3%A9secret@h/db")
    message = 'invalid percent-encoded token: "p%zz%C3%A9secret" (p%zzésecret)'
    assert scrub(message, secrets) == 'invalid percent-encoded token: "***" (***)'
    keywords = secrets_in("host=h password='it\\'s secret'")
    assert scrub("it's secret, 'it\\'s secret'", keywords) == "***, ***"
    assert "my password is hunter2" in secrets_in("my password is hunter2")
    # a driver that misreads the URL may quote a piece of the password: pieces go too
    pieces = secrets_in("postgresql://analyst:/Zq7W x@127.0.0.1:1/db")
    assert scrub('unexpected spaces found in "Zq7W x@127.0.0.1:1/db"', pieces) == (
        'unexpected spaces found in "*** x@127.0.0.1:1/db"'
    )
    assert secrets_in("duckdb:///x.duckdb") == []
    assert secrets_in(None) == []


# -- property: a random password never survives redaction, in any URL form ------------------

MARKER = "Zq7W"  # in every password: finding it in an output is a (partial) leak
PASSWORD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("@:/?#&=%'\" \\+,;$!*()[]~"),
        st.characters(blacklist_categories=("Cc", "Cs")),
    ),
    max_size=12,
)
PASSWORDS = st.builds(lambda a, b: f"{a}{MARKER}{b}", PASSWORD_TEXT, PASSWORD_TEXT)


def libpq_quoted(password: str) -> str:
    return "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"


FORMS = {
    "userinfo-encoded": lambda pw: f"postgresql://user:{quote(pw, safe='')}@127.0.0.1:1/db",
    "userinfo-raw": lambda pw: f"postgresql://user:{pw}@127.0.0.1:1/db",
    "query-password": lambda pw: f"postgresql://user@127.0.0.1:1/db?password={quote(pw)}",
    "query-sslpassword": lambda pw: (
        f"postgresql://user@h:1/db?sslmode=require&sslpassword={quote(pw, safe='')}&x=1"
    ),
    "keywords": lambda pw: f"host=127.0.0.1 port=1 password={libpq_quoted(pw)} dbname=db",
    "unknown-scheme": lambda pw: f"mysql://user:{pw}@127.0.0.1:1/db",
    "malformed-host": lambda pw: f"postgresql://user:{quote(pw, safe='')}@[::1/db",
    "bad-path": lambda pw: f"postgresql://user:{pw}@/db?host=/nonexistent/socket",
}


def leaked(password: str, text: str) -> bool:
    forms = {password, quote(password, safe=""), json.dumps(password)[1:-1], MARKER}
    return any(form in text for form in forms)


@pytest.mark.parametrize("form", sorted(FORMS))
@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(password=PASSWORDS)
def test_no_password_survives_redaction(form: str, password: str) -> None:
    url = FORMS[form](password)
    shown = [redact(url), redact(url, strict=True)]
    if not any(c.isspace() for c in url):  # in a message, a URL ends at a space
        shown.append(redact(f"cannot open {url}: x"))
    for text in shown:
        assert not leaked(password, text), text
    assert not leaked(password, repr(redact(url)))
    assert not leaked(password, scrub(f"driver said: {url} ({password})", secrets_in(url)))
