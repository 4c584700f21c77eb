r"""Secrets kept out of every message: database URLs and free text, redacted before display.

One function, :func:`redact`, takes a database URL, a libpq keyword string or a message
and hides what could be a secret: the password of a URL's userinfo (an unencoded ``@``,
``/``, ``?`` or ``#`` inside it included), every query parameter or keyword whose name
holds ``pass``, ``pwd``, ``secret``, ``token`` or ``key``, and a URL's fragment. A value
given as a database URL that it cannot read (an unbalanced quote, words with spaces) is
hidden whole rather than risk showing a secret.

The error paths add a second lock: :func:`secrets_in` lists the secret values of the
database URL in use, in every spelling they could be printed in, and :func:`scrub` removes
them from any text (a driver's message may quote part of a URL).

Example:
    >>> redact("postgresql://analyst:s3cret@db.internal:5432/mci")
    'postgresql://analyst:***@db.internal:5432/mci'
    >>> redact("postgresql://u:p@ss@host/db")
    'postgresql://u:***@host/db'
    >>> redact("postgresql://u@host/db?sslmode=require&sslpassword=s3cret")
    'postgresql://u@host/db?sslmode=require&sslpassword=***'
    >>> redact("host=db.internal password='a b\\'c' dbname=mci")
    'host=db.internal password=*** dbname=mci'
    >>> redact("password='never closed", strict=True)
    '***'
    >>> redact("cannot open mysql://root:hunter2@db/x: refused")
    'cannot open mysql://root:***@db/x: refused'
    >>> scrub('bad token: "p%zz"', secrets_in("postgresql://u:p%zz@h/db"))
    'bad token: "***"'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote

MASK = "***"
SECRET_WORDS = ("pass", "pwd", "secret", "token", "key")
# A secret shorter than this is not looked for in free text: it would match everywhere
# and a one- or two-character secret is no secret to protect.
MIN_SCRUB_LENGTH = 3

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_EMBEDDED_URL = re.compile(r"(?<![\w+.\-])[A-Za-z][A-Za-z0-9+.\-]*://\S*")
_KEYWORD_START = re.compile(r"\s*[A-Za-z_][\w.\-]*\s*=")
_PAIR = re.compile(
    r"(?P<key>[A-Za-z_%][\w.%\-]*)(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'?|\"(?:[^\"\\]|\\.)*\"?|[^\s&#'\"]*)"
)
_CREDENTIALS = re.compile(r"(?<!\S)(?P<user>[^\s:@/]*):(?!//)(?P<password>\S*)@(?=\S)")
_HOST = re.compile(r"(\[[0-9A-Za-z:.%_\-]*\]|[A-Za-z0-9._~%!$&'()*+;=\-]*)(:(\d*))?")


def is_secret_key(key: str) -> bool:
    """Whether a query parameter or keyword of this name holds a secret.

    Example:
        >>> [is_secret_key(k) for k in ("password", "sslpassword", "api_token", "host")]
        [True, True, True, False]
    """
    name = unquote(key).lower()
    return any(word in name for word in SECRET_WORDS)


@dataclass(frozen=True)
class UrlParts:
    """A URL cut where a driver would cut it, every part as written (not decoded).

    Attributes:
        scheme: the scheme with its ``://``.
        userinfo: what comes before the ``@`` that ends the userinfo, or ``None``.
        hosts: the host list (``host:port``, comma-separated).
        tail: the path, query and fragment (empty, or starting with ``/``, ``?`` or ``#``).
    """

    scheme: str
    userinfo: str | None
    hosts: str
    tail: str

    @property
    def password(self) -> str | None:
        """The password as written (after the first ``:`` of the userinfo), or ``None``."""
        if self.userinfo is None or ":" not in self.userinfo:
            return None
        return self.userinfo.split(":", 1)[1]

    def join(self) -> str:
        """The URL put back together."""
        credentials = "" if self.userinfo is None else self.userinfo + "@"
        return f"{self.scheme}{credentials}{self.hosts}{self.tail}"


def _first_of(text: str, characters: str) -> int:
    found = [i for i in (text.find(c) for c in characters) if i != -1]
    return min(found) if found else len(text)


def valid_hosts(hosts: str) -> bool:
    """Whether a URL's host list is well formed: ``host[:port]``, comma-separated.

    A host may be empty (the driver's default), a name, an IPv4 address or a bracketed
    IPv6 address; a port is a number from 1 to 65535.

    Example:
        >>> [valid_hosts(h) for h in ("db:5432", "a,b:5433", "", "[::1]:5432")]
        [True, True, True, True]
        >>> [valid_hosts(h) for h in ("[::1", "db:port", "db:99999", "d b", "db:p@ss")]
        [False, False, False, False, False]
    """
    for host in hosts.split(","):
        match = _HOST.fullmatch(host)
        if match is None:
            return False
        port = match.group(3)
        if port and not 0 < int(port) < 65536:
            return False
    return True


def split_url(url: str, *, cautious: bool = True) -> UrlParts | None:
    """Cuts ``scheme://userinfo@hosts/path?query#fragment``; ``None`` without a scheme.

    An ``@`` inside the userinfo (a password written unencoded) belongs to the userinfo:
    the host list starts after the last ``@`` before the path. When an ``@`` also
    follows the first ``/``, ``?`` or ``#``, the URL is ambiguous: a password may hold an
    unencoded ``/``, ``?`` or ``#``, or the path or query may hold an ``@``. ``cautious``
    (for redaction) then takes everything up to the last ``@`` as the userinfo, so that no
    part of such a password is shown. Otherwise (for the driver) the plain reading is kept
    when its host list is well formed and the ``@`` is in the query, not in the path (a
    database name with an ``@`` is rarer than a password with a ``/``).

    Example:
        >>> split_url("postgresql://u:p/ss@h/db").password
        'p/ss'
        >>> split_url("postgresql://h/db?user=me@corp", cautious=False).hosts
        'h'
    """
    match = _SCHEME.match(url)
    if match is None:
        return None
    scheme, rest = url[: match.end()], url[match.end() :]
    end = _first_of(rest, "/?#")
    at = rest.rfind("@", 0, end)
    plain = (
        UrlParts(scheme, None, rest[:end], rest[end:])
        if at == -1
        else UrlParts(scheme, rest[:at], rest[at + 1 : end], rest[end:])
    )
    if "@" not in rest[end:]:
        return plain
    if not cautious and valid_hosts(plain.hosts):
        path = plain.tail[: _first_of(plain.tail, "?#")]
        if "@" not in path:
            return plain
    at = rest.rfind("@")
    after = rest[at + 1 :]
    cut = _first_of(after, "/?#")
    return UrlParts(scheme, rest[:at], after[:cut], after[cut:])


def _mask_query(tail: str) -> str:
    path, question, query = tail.partition("?")
    fragment = ""
    if "#" in (query if question else path):
        if question:
            query, _, _ = query.partition("#")
        else:
            path, _, _ = path.partition("#")
        fragment = "#" + MASK
    if question:
        pairs = []
        for pair in query.split("&"):
            key, eq, _ = pair.partition("=")
            pairs.append(f"{key}={MASK}" if eq and is_secret_key(key) else pair)
        query = "&".join(pairs)
    return path + question + query + fragment


def _redact_url(url: str) -> str:
    parts = split_url(url)
    if parts is None:
        return url
    userinfo = parts.userinfo
    if userinfo is not None and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":" + MASK
    masked = UrlParts(parts.scheme, userinfo, parts.hosts, _mask_query(parts.tail))
    return _mask_pairs(masked.join())


def _mask_pairs(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        if not is_secret_key(match["key"]):
            return match[0]
        return match["key"] + match["eq"] + MASK

    return _PAIR.sub(mask, text)


def parse_keywords(text: str) -> list[tuple[str, str, str]] | None:
    r"""Reads a libpq keyword string: ``(key, value as written, value)`` per setting.

    Values may be single-quoted, with ``\'`` and ``\\`` escapes. Returns ``None`` when
    the text is not such a string (a word without ``=``, an unbalanced quote).

    Example:
        >>> parse_keywords("host=db password = 'it\\'s' port=5432")
        [('host', 'db', 'db'), ('password', "'it\\'s'", "it's"), ('port', '5432', '5432')]
        >>> parse_keywords("host=db oops") is None
        True
    """
    settings: list[tuple[str, str, str]] = []
    position = 0
    pattern = re.compile(
        r"\s*(?P<key>[A-Za-z_][\w.\-]*)\s*=\s*"
        r"(?P<value>'(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)*)(?=\s|$)"
    )
    text = text.rstrip()
    while position < len(text):
        match = pattern.match(text, position)
        if match is None or match.end() == position:
            return None
        written = match["value"]
        inner = written[1:-1] if written.startswith("'") else written
        settings.append((match["key"], written, re.sub(r"\\(.)", r"\1", inner)))
        position = match.end()
    return settings or None


def _redact_keywords(text: str) -> str | None:
    settings = parse_keywords(text)
    if settings is None:
        return None
    return " ".join(
        f"{key}={MASK if is_secret_key(key) else written}" for key, written, _ in settings
    )


def _looks_plain(text: str) -> bool:
    return not any(c.isspace() or c in "@=" for c in text) and text.isprintable()


def redact(text: str, *, strict: bool = False) -> str:
    """Returns ``text`` with every secret in it replaced by ``***``.

    ``text`` may be a URL (``scheme://...``: the whole of it is read as one URL, spaces
    included), a libpq keyword string (``host=... password=...``), or a message holding
    URLs, ``key=value`` settings or ``user:password@host`` credentials.

    Args:
        text: what is about to be shown.
        strict: ``text`` is a database URL as given (``--db``, ``MCI_DB_URL``): when it is
            neither a URL, nor a keyword string, nor a plain word (a path), all of it is
            hidden.

    Returns:
        The text, safe to print or log.

    Example:
        >>> redact("data/ads_analytics.duckdb", strict=True)
        'data/ads_analytics.duckdb'
        >>> redact("my password is hunter2", strict=True)
        '***'
        >>> redact("u:hunter2@db")
        'u:***@db'
    """
    stripped = text.lstrip()
    if _SCHEME.match(stripped):
        return text[: len(text) - len(stripped)] + _redact_url(stripped)
    if _KEYWORD_START.match(text):
        keywords = _redact_keywords(text)
        if keywords is not None:
            return keywords
        if strict:
            return MASK
    elif (
        strict
        and not _looks_plain(text)
        and (any(c.isspace() for c in text) or not _CREDENTIALS.search(text))
    ):
        return MASK
    masked = _EMBEDDED_URL.sub(lambda m: _redact_url(m[0]), text)
    masked = _CREDENTIALS.sub(lambda m: f"{m['user']}:{MASK}@", masked)
    return _mask_pairs(masked)


_DELIMITERS = re.compile(r"[\s/?#&=@:;,'\"\\]+")


def _spellings(secret: str) -> set[str]:
    """A secret as written, decoded, quoted, escaped, and the pieces between delimiters.

    The pieces are there because a driver may quote a misread part of a URL: a password
    with an unencoded ``/`` can end up in a database name it echoes.
    """
    forms: set[str] = set()
    for text in (secret, unquote(secret)):
        forms |= {text, quote(text, safe=""), quote(text), repr(text)[1:-1]}
        forms.add(json.dumps(text)[1:-1])
        forms |= {piece for piece in _DELIMITERS.split(text) if piece}
    return forms


def secrets_in(url: str | None) -> list[str]:
    """The secret values of a database URL, in every spelling a message could show them.

    Covers the URL's password, its secret query parameters and fragment (as written and
    decoded, quoted, ``repr``- and JSON-escaped); a keyword string's secret values; and
    the whole value when it is none of a URL, a keyword string or a plain word.

    Args:
        url: the database URL (or ``None``).

    Returns:
        The strings to :func:`scrub`, longest first.

    Example:
        >>> secrets_in("postgresql://u:p%40ss@h/db")
        ['p%2540ss', 'p%40ss', 'p@ss']
    """
    if not url:
        return []
    found: list[str] = []
    parts = split_url(url.strip())
    if parts is not None:
        if parts.password:
            found.append(parts.password)
        _, question, query = parts.tail.partition("?")
        query, hash_mark, fragment = (query if question else parts.tail).partition("#")
        if hash_mark and fragment:
            found.append(fragment)
        if question:
            for pair in query.split("&"):
                key, eq, value = pair.partition("=")
                if eq and value and is_secret_key(key):
                    found.append(value)
    elif _KEYWORD_START.match(url) and (settings := parse_keywords(url)) is not None:
        for key, written, value in settings:
            if is_secret_key(key) and value:
                found += [written, value]
    elif not _looks_plain(url):
        found.append(url)
        found += [m["password"] for m in _CREDENTIALS.finditer(url) if m["password"]]
    spellings = {form for secret in found for form in _spellings(secret)}
    return sorted((s for s in spellings if len(s) >= MIN_SCRUB_LENGTH), key=lambda s: (-len(s), s))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replaces every occurrence of each secret in ``text`` by ``***``.

    Args:
        text: what is about to be shown.
        secrets: the strings to hide (from :func:`secrets_in`); longer ones first.

    Returns:
        The text without them.
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text
