"""Rendering the executive summary: Markdown or HTML, in English or Indonesian.

Every value that comes from data is escaped in HTML; charts are SVG images embedded as data
URIs (an SVG in an ``<img>`` runs no script).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from mci.report import numbers
from mci.report.findings import Report
from mci.report.sentences import channel_sentences
from mci.semantic.registry import METRICS

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Executive summary: marketing campaign performance",
        "period": "Months {first} to {last}: {campaigns} campaigns, spend {spend}, ROI {roi}.",
        "empty": "The warehouse holds no campaigns yet: load an export with `mci ingest`.",
        "headline": "Headline KPIs",
        "headline_note": "The last {days} days ({start} to {end}) against the {days} days "
        "before ({pstart} to {pend}).",
        "kpi": "KPI",
        "current": "current",
        "previous": "previous",
        "change": "change",
        "good": "better",
        "bad": "worse",
        "flat": "no change",
        "channels": "Which channels earn, and is the difference real?",
        "channel": "channel",
        "spend": "spend",
        "roi": "ROI",
        "interval": "95% interval",
        "shrunk": "ROI shrunk",
        "mix_adjusted": "mix-adjusted ROI",
        "quadrant": "quadrant",
        "vs_portfolio": "vs rest of portfolio",
        "above": "above",
        "below": "below",
        "same": "not different",
        "too_little": "too little data",
        "unclear_side": "(within noise)",
        "quadrants": "Efficiency vs scale",
        "stability": "Stability",
        "cv_within": "CV within months",
        "cv_across": "CV across months, around its level",
        "trends": "Trends",
        "recommendations": "Recommendations",
        "quality": "Data quality",
        "quality_line": "{loads} loads: {read} rows read, {loaded} loaded, {quarantined} "
        "quarantined, {duplicate} duplicates dropped.",
        "reasons": "Quarantined by reason: {reasons}.",
        "no_reasons": "Nothing quarantined.",
        "new_values": "New category values: {values}.",
    },
    "id": {
        "title": "Ringkasan eksekutif: kinerja kampanye pemasaran",
        "period": "Bulan {first} sampai {last}: {campaigns} kampanye, belanja {spend}, ROI {roi}.",
        "empty": "Gudang data belum berisi kampanye: muat ekspor dengan `mci ingest`.",
        "headline": "KPI utama",
        "headline_note": "{days} hari terakhir ({start} sampai {end}) dibandingkan {days} hari "
        "sebelumnya ({pstart} sampai {pend}).",
        "kpi": "KPI",
        "current": "saat ini",
        "previous": "sebelumnya",
        "change": "perubahan",
        "good": "lebih baik",
        "bad": "lebih buruk",
        "flat": "tetap",
        "channels": "Kanal mana yang menghasilkan, dan apakah perbedaannya nyata?",
        "channel": "kanal",
        "spend": "belanja",
        "roi": "ROI",
        "interval": "interval 95%",
        "shrunk": "ROI ditarik ke portofolio",
        "mix_adjusted": "ROI disesuaikan bauran",
        "quadrant": "kuadran",
        "vs_portfolio": "vs sisa portofolio",
        "above": "di atas",
        "below": "di bawah",
        "same": "tidak berbeda",
        "too_little": "data terlalu sedikit",
        "unclear_side": "(dalam batas noise)",
        "quadrants": "Efisiensi vs skala",
        "stability": "Stabilitas",
        "cv_within": "CV dalam bulan",
        "cv_across": "CV antar bulan, di sekitar tingkatnya",
        "trends": "Tren",
        "recommendations": "Rekomendasi",
        "quality": "Kualitas data",
        "quality_line": "{loads} kali muat: {read} baris dibaca, {loaded} dimuat, "
        "{quarantined} dikarantina, {duplicate} duplikat dibuang.",
        "reasons": "Dikarantina per alasan: {reasons}.",
        "no_reasons": "Tidak ada yang dikarantina.",
        "new_values": "Nilai kategori baru: {values}.",
    },
}

QUADRANT_NAMES: dict[str, dict[str, str]] = {
    "id": {
        "High Scale • High ROI": "Skala Tinggi • ROI Tinggi",
        "High Scale • Low ROI": "Skala Tinggi • ROI Rendah",
        "Low Scale • High ROI": "Skala Rendah • ROI Tinggi",
        "Low Scale • Low ROI": "Skala Rendah • ROI Rendah",
    },
}
LANGUAGES = tuple(TEXT)


def _kpi_value(metric: str, value: float | None, lang: str) -> str:
    if value is None:
        return numbers.MISSING
    unit = METRICS[metric].unit
    if unit == "percent":
        return numbers.percent(value, 2, lang)
    if unit == "currency":
        return numbers.money(value, lang)
    if unit == "count":
        return numbers.count(value, lang)
    return numbers.number(value, 3, lang)


class _Doc:
    """A small document builder with a Markdown and an HTML back end."""

    def __init__(self, fmt: str, lang: str = "en", title: str = "") -> None:
        self.fmt = fmt
        self.lang = lang
        self.title = title
        self.parts: list[str] = []

    def esc(self, text: Any) -> str:
        return html.escape(str(text)) if self.fmt == "html" else str(text)

    def heading(self, text: str, level: int = 2) -> None:
        if self.fmt == "html":
            self.parts.append(f"<h{level}>{self.esc(text)}</h{level}>")
        else:
            self.parts.append(f"{'#' * level} {text}\n")

    def para(self, text: str) -> None:
        """A paragraph; ``**bold**`` spans are kept (text is escaped before it is marked)."""
        if self.fmt == "html":
            escaped = self.esc(text)
            while "**" in escaped:
                escaped = escaped.replace("**", "<strong>", 1).replace("**", "</strong>", 1)
            self.parts.append(f"<p>{escaped}</p>")
        else:
            self.parts.append(f"{text}\n")

    def table(self, header: list[str], rows: list[list[Any]]) -> None:
        if self.fmt == "html":
            head = "".join(f"<th>{self.esc(h)}</th>" for h in header)
            body = "".join(
                "<tr>" + "".join(f"<td>{self.esc(c)}</td>" for c in row) + "</tr>" for row in rows
            )
            self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            return
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
        self.parts.append("\n".join(lines) + "\n")

    def image(self, alt: str, uri: str) -> None:
        if self.fmt == "html":
            self.parts.append(f'<img alt="{self.esc(alt)}" src="{self.esc(uri)}">')
        else:
            self.parts.append(f"![{alt}]({uri})\n")

    def text(self) -> str:
        if self.fmt == "html":
            style = (
                "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
                "color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
                "padding:.3rem .6rem;text-align:right}td:first-child,th:first-child"
                "{text-align:left}img{max-width:100%}"
            )
            return (
                f'<!doctype html><html lang="{self.esc(self.lang)}"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{self.esc(self.title)}</title><style>{style}</style></head>"
                f"<body>{''.join(self.parts)}</body></html>\n"
            )
        return "\n".join(self.parts)


def render(
    report: Report,
    fmt: str = "md",
    lang: str = "en",
    charts: Callable[[Report, str], dict[str, str]] | None = None,
) -> str:
    """The executive summary as Markdown or HTML.

    Args:
        report: from :func:`mci.report.findings.build_report`.
        fmt: ``md`` or ``html``.
        lang: ``en`` or ``id``.
        charts: returns ``{"quadrant": uri, "trend": uri}`` (SVG data URIs) for the report;
            ``None`` leaves the charts out.

    Returns:
        The document.
    """
    if lang not in TEXT:
        raise ValueError(f"unknown language {lang!r}; valid: {', '.join(TEXT)}")
    t, f = TEXT[lang], report.findings
    doc = _Doc(fmt, lang, t["title"])
    doc.heading(t["title"], 1)
    totals = f["totals"]
    if not totals["campaigns"]:
        doc.para(t["empty"])
        return doc.text()
    images = charts(report, lang) if charts else {}
    doc.para(
        t["period"].format(
            first=(f["period"]["first_month"] or numbers.MISSING)[:7],
            last=(f["period"]["last_month"] or numbers.MISSING)[:7],
            campaigns=numbers.count(totals["campaigns"], lang),
            spend=numbers.money(totals["spend"], lang),
            roi=numbers.number(totals["roi"], 3, lang),
        )
    )
    if f["headline"] is not None:
        _headline_section(doc, f["headline"], t, lang)
    ch = f["channels"]
    said = channel_sentences(ch, lang)
    doc.heading(t["channels"])
    for name in ("verdict", "mix", "evidence", "method"):
        for sentence in said[name]:
            doc.para(sentence)
    if ch["channels"]:
        doc.table(*_channel_table(ch, t, lang))
    if ch["status"] == "ok":
        doc.heading(t["quadrants"])
        for sentence in said["quadrants"]:
            doc.para(sentence)
        if "quadrant" in images:
            doc.image(t["quadrants"], images["quadrant"])
        doc.heading(t["stability"])
        for sentence in said["stability"]:
            doc.para(sentence)
        compared = [c for c in ch["channels"] if c["compared"]]
        doc.table(
            [t["channel"], t["cv_within"], t["cv_across"], t["interval"]],
            [
                [
                    c["entity"],
                    numbers.number(c["roi_cv_within"], 3, lang),
                    numbers.number(c["roi_cv_across"], 3, lang),
                    numbers.interval(c["cv_low"], c["cv_high"], 3, lang),
                ]
                for c in sorted(compared, key=lambda c: c["roi_cv_across"] or 0)
            ],
        )
    if "trend" in images:
        doc.heading(t["trends"])
        doc.image(t["trends"], images["trend"])
    doc.heading(t["recommendations"])
    for sentence in said["advice"]:
        doc.para(sentence)
    _quality_section(doc, f["data_quality"], t, lang)
    return doc.text()


def _headline_section(doc: _Doc, headline: dict[str, Any], t: dict[str, str], lang: str) -> None:
    doc.heading(t["headline"])
    window = headline["window"]
    days = (_date(window["end"]) - _date(window["start"])).days + 1
    doc.para(
        t["headline_note"].format(
            days=days,
            start=window["start"],
            end=window["end"],
            pstart=window["previous_start"],
            pend=window["previous_end"],
        )
    )
    rows = []
    for k in headline["kpis"]:
        arrow = "▲" if (k["delta"] or 0) > 0 else "▼" if (k["delta"] or 0) < 0 else "="
        if k["better"] == "neutral":
            verdict = ""
        else:
            verdict = t["flat"] if k["good"] is None else t["good"] if k["good"] else t["bad"]
        pct = (
            numbers.MISSING if k["delta_pct"] is None else numbers.percent(k["delta_pct"], 1, lang)
        )
        if k["delta_pct"] is not None and k["delta_pct"] > 0:
            pct = "+" + pct
        rows.append(
            [
                k["metric"].upper(),
                _kpi_value(k["metric"], k["current"], lang),
                _kpi_value(k["metric"], k["previous"], lang),
                f"{arrow} {pct}",
                verdict,
            ]
        )
    doc.table([t["kpi"], t["current"], t["previous"], t["change"], ""], rows)


def _channel_table(
    ch: dict[str, Any], t: dict[str, str], lang: str
) -> tuple[list[str], list[list[Any]]]:
    names = QUADRANT_NAMES.get(lang, {})
    header = [
        t["channel"],
        t["spend"],
        t["roi"],
        t["interval"],
        t["shrunk"],
        t["mix_adjusted"],
        t["vs_portfolio"],
        t["quadrant"],
    ]
    rows = []
    for c in ch["channels"]:
        if not c["compared"]:
            side = t["too_little"]
        elif c["vs_rest_significant"]:
            side = t["above"] if c["vs_rest_estimate"] > 0 else t["below"]
            side = f"{side} (p {numbers.p_value(c['vs_rest_p_adjusted'], lang)})"
        else:
            side = f"{t['same']} (p {numbers.p_value(c['vs_rest_p_adjusted'], lang)})"
        quadrant = names.get(c["quadrant"], c["quadrant"]) if c["quadrant"] else ""
        if quadrant and not c["roi_side_clear"]:
            quadrant = f"{quadrant} {t['unclear_side']}"
        rows.append(
            [
                c["entity"],
                numbers.money(c["spend"], lang),
                numbers.number(c["roi"], 3, lang),
                numbers.interval(c["roi_low"], c["roi_high"], 3, lang),
                numbers.number(c["roi_shrunk"], 3, lang),
                numbers.number(c["roi_mix_adjusted"], 3, lang),
                side,
                quadrant,
            ]
        )
    return header, rows


def _quality_section(doc: _Doc, q: dict[str, Any], t: dict[str, str], lang: str) -> None:
    doc.heading(t["quality"])
    qt = q["totals"]
    doc.para(
        t["quality_line"].format(
            loads=q["loads"],
            read=numbers.count(qt["rows_read"], lang),
            loaded=numbers.count(qt["rows_loaded"], lang),
            quarantined=numbers.count(qt["rows_quarantined"], lang),
            duplicate=numbers.count(qt["rows_duplicate"], lang),
        )
    )
    reasons = ", ".join(
        f"{code} {numbers.count(n, lang)}" for code, n in q["quarantine_by_reason"].items()
    )
    doc.para(t["reasons"].format(reasons=reasons) if reasons else t["no_reasons"])
    for column, values in q["new_categories"].items():
        doc.para(t["new_values"].format(values=f"{column}: {', '.join(values)}"))


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(str(text)[:10])


def chart_uris(report: Report, lang: str) -> dict[str, str]:
    """The quadrant and trend charts as SVG data URIs, titled in ``lang``."""
    from mci.report.charts import quadrant_chart, to_data_uri, trend_chart

    t, names = TEXT[lang], QUADRANT_NAMES.get(lang, {})
    axes = {"spend": t["spend"], "roi": t["roi"]}
    out = {}
    table = report.quadrant_table()
    thresholds = report.findings["channels"]["quadrant_thresholds"]
    if not table.empty and thresholds:
        table = table.assign(label=table["label"].map(lambda label: names.get(label, label)))
        quadrant = quadrant_chart(
            table, thresholds["spend_threshold"], thresholds["roi_threshold"], t["quadrants"], axes
        )
        out["quadrant"] = to_data_uri(quadrant)
    if not report.monthly.empty:
        trend = trend_chart(
            report.monthly[["period", "channel", "roi", "spend"]], t["trends"], axes
        )
        out["trend"] = to_data_uri(trend)
    return out
