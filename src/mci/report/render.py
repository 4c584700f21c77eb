"""Rendering the executive summary: Markdown or HTML, in English or Indonesian.

Every value that comes from data is escaped in HTML; charts are SVG images embedded as data
URIs (an SVG in an ``<img>`` runs no script).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from mci.report.findings import Report
from mci.semantic.registry import METRICS

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Executive summary: marketing campaign performance",
        "period": "Period {first} to {last}: {campaigns} campaigns, spend {spend}, ROI {roi}.",
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
        "differs": "Channel ROI differs significantly (Welch ANOVA p {p}). Best: **{best}** "
        "(ROI {best_roi}, 95% interval {best_low} to {best_high}). Worst: **{worst}** "
        "(ROI {worst_roi}, 95% interval {worst_low} to {worst_high}).",
        "same": "No channel's ROI differs significantly from the others (Welch ANOVA p {p}, "
        "Kruskal-Wallis p {kp}): ranking channels by ROI on this data would order "
        "noise, so no best or worst channel is named.",
        "channel": "channel",
        "spend": "spend",
        "roi": "ROI",
        "interval": "95% interval",
        "quadrant": "quadrant",
        "vs_portfolio": "vs portfolio (Holm p)",
        "significant": "significant",
        "not_significant": "not significant",
        "excluded": "Left out of the comparisons for too little data (active on fewer than "
        "{days} days): {names}.",
        "quadrants": "Efficiency vs scale",
        "quadrants_note": "Thresholds at the medians: spend {spend}, ROI {roi}. Filled points "
        "differ significantly from the rest of the portfolio.",
        "quadrants_noise": "No channel differs significantly from the portfolio: the positions "
        "below are within noise.",
        "stability": "Stability",
        "volatile": "Most volatile month to month: **{name}** (CV of monthly ROI {cv}; "
        "permutation test p {p}).",
        "not_volatile": "No channel is significantly more volatile than the others "
        "(permutation test p {p}).",
        "ranking": "Consistency ranking (the original's rule: spend at or above the median, "
        "steadiest first): {names}.",
        "cv_within": "CV within months",
        "cv_across": "CV across months",
        "trends": "Trends",
        "recommendations": "Recommendations",
        "shift": "Move {amount} from **{source}** (ROI {roi_from}) to **{target}** (ROI "
        "{roi_to}): expected change in net return {gain} (95% interval {low} to "
        "{high}).",
        "shift_total": "In all, an expected {gain} more net return (95% interval {low} to "
        "{high}). {assumption}",
        "no_shift": "No budget shift is recommended: no channel's ROI differs significantly "
        "from the rest of the portfolio (smallest adjusted p {p}).",
        "quality": "Data quality",
        "quality_line": "{loads} loads: {read} rows read, {loaded} loaded, {quarantined} "
        "quarantined, {duplicate} duplicates dropped.",
        "reasons": "Quarantined by reason: {reasons}.",
        "no_reasons": "Nothing quarantined.",
        "new_values": "New category values: {values}.",
        "assumption": "Expected changes assume each channel's marginal ROI equals its average "
        "ROI over the period; shifts are capped at a tenth of a donor's spend.",
    },
    "id": {
        "title": "Ringkasan eksekutif: kinerja kampanye pemasaran",
        "period": "Periode {first} sampai {last}: {campaigns} kampanye, belanja {spend}, "
        "ROI {roi}.",
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
        "differs": "ROI berbeda secara signifikan antar kanal (Welch ANOVA p {p}). Terbaik: "
        "**{best}** (ROI {best_roi}, interval 95% {best_low} sampai {best_high}). "
        "Terburuk: **{worst}** (ROI {worst_roi}, interval 95% {worst_low} sampai "
        "{worst_high}).",
        "same": "Tidak ada kanal yang ROI-nya berbeda secara signifikan (Welch ANOVA p {p}, "
        "Kruskal-Wallis p {kp}): mengurutkan kanal berdasarkan ROI pada data ini "
        "sama dengan mengurutkan noise, jadi tidak ada kanal terbaik atau terburuk "
        "yang disebutkan.",
        "channel": "kanal",
        "spend": "belanja",
        "roi": "ROI",
        "interval": "interval 95%",
        "quadrant": "kuadran",
        "vs_portfolio": "vs portofolio (p Holm)",
        "significant": "signifikan",
        "not_significant": "tidak signifikan",
        "excluded": "Tidak diikutkan dalam perbandingan karena datanya terlalu sedikit (aktif "
        "kurang dari {days} hari): {names}.",
        "quadrants": "Efisiensi vs skala",
        "quadrants_note": "Ambang pada median: belanja {spend}, ROI {roi}. Titik penuh berbeda "
        "secara signifikan dari sisa portofolio.",
        "quadrants_noise": "Tidak ada kanal yang berbeda secara signifikan dari portofolio: "
        "posisi di bawah masih dalam batas noise.",
        "stability": "Stabilitas",
        "volatile": "Paling fluktuatif dari bulan ke bulan: **{name}** (CV ROI bulanan {cv}; "
        "uji permutasi p {p}).",
        "not_volatile": "Tidak ada kanal yang secara signifikan lebih fluktuatif dari yang "
        "lain (uji permutasi p {p}).",
        "ranking": "Peringkat konsistensi (aturan lama: belanja di atas atau sama dengan "
        "median, paling stabil lebih dulu): {names}.",
        "cv_within": "CV dalam bulan",
        "cv_across": "CV antar bulan",
        "trends": "Tren",
        "recommendations": "Rekomendasi",
        "shift": "Pindahkan {amount} dari **{source}** (ROI {roi_from}) ke **{target}** (ROI "
        "{roi_to}): perkiraan perubahan laba bersih {gain} (interval 95% {low} sampai "
        "{high}).",
        "shift_total": "Secara keseluruhan, perkiraan tambahan laba bersih {gain} (interval "
        "95% {low} sampai {high}). {assumption}",
        "no_shift": "Tidak ada pergeseran anggaran yang direkomendasikan: tidak ada kanal yang "
        "ROI-nya berbeda secara signifikan dari sisa portofolio (p terkoreksi "
        "terkecil {p}).",
        "quality": "Kualitas data",
        "quality_line": "{loads} kali muat: {read} baris dibaca, {loaded} dimuat, "
        "{quarantined} dikarantina, {duplicate} duplikat dibuang.",
        "reasons": "Dikarantina per alasan: {reasons}.",
        "no_reasons": "Tidak ada yang dikarantina.",
        "new_values": "Nilai kategori baru: {values}.",
        "assumption": "Perkiraan mengasumsikan ROI marjinal tiap kanal sama dengan ROI "
        "rata-ratanya selama periode; pergeseran dibatasi sepersepuluh belanja "
        "kanal asal.",
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


def _money(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:,.2f}" if abs(value) < 1e4 else f"${value:,.0f}"


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _p(value: float | None) -> str:
    """``< 0.0001`` or ``= 0.0314``: the templates write ``p {p}``."""
    if value is None:
        return "n/a"
    return "< 0.0001" if value < 1e-4 else f"= {value:.3g}"


def _kpi_value(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    unit = METRICS[metric].unit
    if unit == "percent":
        return f"{value:.2%}"
    if unit == "currency":
        return _money(value)
    if metric in ("campaigns", "conversions", "clicks", "impressions"):
        return f"{value:,.0f}"
    return _number(value)


class _Doc:
    """A small document builder with a Markdown and an HTML back end."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
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
                '<!doctype html><html><head><meta charset="utf-8"><title>mci report</title>'
                f"<style>{style}</style></head><body>{''.join(self.parts)}</body></html>\n"
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
    names = QUADRANT_NAMES.get(lang, {})
    doc = _Doc(fmt)
    images = charts(report, lang) if charts else {}
    doc.heading(t["title"], 1)
    totals = f["totals"]
    doc.para(
        t["period"].format(
            first=f["period"]["first_day"],
            last=f["period"]["last_day"],
            campaigns=f"{int(totals['campaigns']):,}",
            spend=_money(totals["spend"]),
            roi=_number(totals["roi"]),
        )
    )

    doc.heading(t["headline"])
    window = f["headline"]["window"]
    days = len(range((_date(window["end"]) - _date(window["start"])).days + 1))
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
    for k in f["headline"]["kpis"]:
        arrow = "▲" if (k["delta"] or 0) > 0 else "▼" if (k["delta"] or 0) < 0 else "="
        if k["better"] == "neutral":
            verdict = ""
        else:
            verdict = t["flat"] if k["good"] is None else t["good"] if k["good"] else t["bad"]
        pct = "n/a" if k["delta_pct"] is None else f"{k['delta_pct']:+.1%}"
        rows.append(
            [
                k["metric"].upper(),
                _kpi_value(k["metric"], k["current"]),
                _kpi_value(k["metric"], k["previous"]),
                f"{arrow} {pct}",
                verdict,
            ]
        )
    doc.table([t["kpi"], t["current"], t["previous"], t["change"], ""], rows)

    doc.heading(t["channels"])
    by_name = {c["entity"]: c for c in f["channels"]}
    if f["roi_differs_between_channels"]:
        best, worst = by_name[f["best_roi_channel"]], by_name[f["worst_roi_channel"]]
        doc.para(
            t["differs"].format(
                p=_p(f["p_value"]),
                best=best["entity"],
                best_roi=_number(best["roi"]),
                best_low=_number(best["roi_low"]),
                best_high=_number(best["roi_high"]),
                worst=worst["entity"],
                worst_roi=_number(worst["roi"]),
                worst_low=_number(worst["roi_low"]),
                worst_high=_number(worst["roi_high"]),
            )
        )
    else:
        doc.para(t["same"].format(p=_p(f["p_value"]), kp=_p(f["kruskal_p_value"])))
    if f["excluded_channels"]:
        doc.para(
            t["excluded"].format(
                days=f["min_days"],
                names=", ".join(f"{c['channel']} ({c['days']})" for c in f["excluded_channels"]),
            )
        )
    ordered = sorted(f["channels"], key=lambda c: -(c["roi"] or 0))
    doc.table(
        [t["channel"], t["spend"], t["roi"], t["interval"], t["quadrant"], t["vs_portfolio"]],
        [
            [
                c["entity"],
                _money(c["spend"]),
                _number(c["roi"]),
                f"{_number(c['roi_low'])} – {_number(c['roi_high'])}",
                names.get(c["label"], c["label"]),
                f"{t['significant'] if c['significant'] else t['not_significant']} "
                f"(p {_p(c['p_adjusted'])})",
            ]
            for c in ordered
        ],
    )

    doc.heading(t["quadrants"])
    thresholds = f["quadrant_thresholds"]
    doc.para(
        t["quadrants_note"].format(
            spend=_money(thresholds["spend_threshold"]), roi=_number(thresholds["roi_threshold"])
        )
    )
    if not any(c["significant"] for c in f["channels"]):
        doc.para(t["quadrants_noise"])
    if "quadrant" in images:
        doc.image(t["quadrants"], images["quadrant"])

    doc.heading(t["stability"])
    if f["most_volatile_channel"]:
        cv = by_name[f["most_volatile_channel"]]["roi_cv_across"]
        doc.para(
            t["volatile"].format(
                name=f["most_volatile_channel"], cv=_number(cv), p=_p(f["cv_p_value"])
            )
        )
    else:
        doc.para(t["not_volatile"].format(p=_p(f["cv_p_value"])))
    doc.para(t["ranking"].format(names=", ".join(f["stability_ranking"]) or "n/a"))
    doc.table(
        [t["channel"], t["cv_within"], t["cv_across"], t["interval"]],
        [
            [
                c["entity"],
                _number(c["roi_cv_within"]),
                _number(c["roi_cv_across"]),
                f"{_number(c['cv_low'])} – {_number(c['cv_high'])}",
            ]
            for c in sorted(f["channels"], key=lambda c: c["roi_cv_across"] or 0)
        ],
    )

    doc.heading(t["trends"])
    if "trend" in images:
        doc.image(t["trends"], images["trend"])

    doc.heading(t["recommendations"])
    advice = f["recommendations"]
    if advice["recommend"]:
        for s in advice["shifts"]:
            doc.para(
                t["shift"].format(
                    amount=_money(s["amount"]),
                    source=s["from"],
                    target=s["to"],
                    roi_from=_number(s["roi_from"]),
                    roi_to=_number(s["roi_to"]),
                    gain=_money(s["expected_gain"]),
                    low=_money(s["gain_low"]),
                    high=_money(s["gain_high"]),
                )
            )
        low, high = advice["gain_interval"]
        doc.para(
            t["shift_total"].format(
                gain=_money(advice["expected_gain"]),
                low=_money(low),
                high=_money(high),
                assumption=t["assumption"],
            )
        )
    else:
        smallest = min((c["p_adjusted"] for c in f["channels"]), default=None)
        doc.para(t["no_shift"].format(p=_p(smallest)))

    doc.heading(t["quality"])
    q = f["data_quality"]
    qt = q["totals"]
    doc.para(
        t["quality_line"].format(
            loads=q["loads"],
            read=f"{qt['rows_read']:,}",
            loaded=f"{qt['rows_loaded']:,}",
            quarantined=f"{qt['rows_quarantined']:,}",
            duplicate=f"{qt['rows_duplicate']:,}",
        )
    )
    reasons = ", ".join(f"{code} {n:,}" for code, n in q["quarantine_by_reason"].items())
    doc.para(t["reasons"].format(reasons=reasons) if reasons else t["no_reasons"])
    for column, values in q["new_categories"].items():
        doc.para(t["new_values"].format(values=f"{column}: {', '.join(values)}"))
    return doc.text()


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(str(text)[:10])


def chart_uris(report: Report, lang: str) -> dict[str, str]:
    """The quadrant and trend charts as SVG data URIs, titled in ``lang``."""
    from mci.report.charts import quadrant_chart, to_data_uri, trend_chart

    t, names = TEXT[lang], QUADRANT_NAMES.get(lang, {})
    axes = {"spend": t["spend"], "roi": t["roi"]}
    table = report.quadrant_table.assign(
        label=report.quadrant_table["label"].map(lambda label: names.get(label, label))
    )
    thresholds = report.findings["quadrant_thresholds"]
    quadrant = quadrant_chart(
        table, thresholds["spend_threshold"], thresholds["roi_threshold"], t["quadrants"], axes
    )
    trend = trend_chart(report.monthly[["period", "channel", "roi", "spend"]], t["trends"], axes)
    return {"quadrant": to_data_uri(quadrant), "trend": to_data_uri(trend)}
