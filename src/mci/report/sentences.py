"""Every sentence about channels, generated from the findings' own fields, in each language.

The report (Markdown and HTML, English and Indonesian) and the dashboard's Channels page
print these sentences and nothing else about channels, so words cannot disagree with the
numbers: a channel is called best here only when ``best`` is set in the findings, and the
JSON carries the same fields the sentences were made from.

Example:
    >>> from mci.datagen.scenarios import SCENARIOS, cells, simulate, spread
    >>> from mci.analytics.channels import diagnose
    >>> rows = simulate(SCENARIOS["month_shocks"], seed=2, rows=30_000)
    >>> found = diagnose(cells(rows), spread(rows)).to_dict()
    >>> channel_sentences(found)["verdict"][0][:44]
    "No channel's ROI differs significantly from "
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mci.report.numbers import count, money, number, p_value, percent

SECTIONS = ("verdict", "method", "evidence", "mix", "quadrants", "stability", "advice")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "no_data": "There is no spend in this selection, so there is nothing to compare.",
        "too_few_periods": "Channels are not compared: the data spans {periods} month(s), and "
        "telling a channel apart from the shocks of its months needs at least {min} months.",
        "too_few_channels": "Channels are not compared: fewer than two channels have enough "
        "data (at least {campaigns} campaigns, {periods} months with spend and {share} of "
        "the spend).",
        "best": "**{name}** earns the highest ROI ({roi}, 95% interval {low} to {high}) and "
        "beats every other channel (the weakest of those comparisons, against **{runner}**: "
        "adjusted p {p}).",
        "leading": "**{names}** lead: each beats every other channel, but they cannot be told "
        "apart from each other.",
        "no_leader": "No channel beats every other: the highest ROI, **{name}** ({roi}), "
        "cannot be told apart from **{runner}** ({runner_roi}; adjusted p {p}).",
        "worst": "**{name}** earns the lowest ROI ({roi}, 95% interval {low} to {high}) and "
        "trails every other channel (the weakest of those comparisons, against **{runner}**: "
        "adjusted p {p}).",
        "trailing": "**{names}** trail: each is below every other channel, but they cannot be "
        "told apart from each other.",
        "no_trailer": "No channel trails every other: the lowest ROI, **{name}** ({roi}), "
        "cannot be told apart from **{runner}** ({runner_roi}; adjusted p {p}).",
        "noise": "No channel's ROI differs significantly from another's (smallest adjusted p "
        "{p}): ranking channels on this data would order noise, so no best or worst channel "
        "is named.",
        "method": "Channels are compared month by month ({periods} months): campaigns in one "
        "month share its shocks, so months, not days or rows, are the replicates. Each of "
        "the {pairs} pairs is tested; p-values are Holm-adjusted, at the {alpha} level.",
        "thin": "Too little data to compare (shown with their ROI shrunk toward the portfolio; "
        "never named or handed budget): {names}.",
        "thin_one": "**{name}** ({campaigns} campaigns, {periods} months, {share} of spend)",
        "flip": "Mix: **{raw}** ranks above **{adjusted}** on raw ROI ({raw_roi} against "
        "{adjusted_roi}), but **{adjusted}** earns more within each {dimension} "
        "(mix-adjusted ROI {adjusted_adj} against {raw_adj}; adjusted p {p}). **{raw}** runs "
        "{raw_share} of its spend in {raw_main}, **{adjusted}** {adjusted_share} in "
        "{adjusted_main}. No budget advice rests on this pair's raw ranking.",
        "quadrants": "Quadrant thresholds at the medians of the channels compared: spend "
        "{spend}, ROI {roi}.",
        "unclear": "Within noise of the ROI threshold, so their High or Low ROI label is not "
        "a finding: {names}.",
        "shift": "**{name}**'s ROI moved to a new level in {month}: from {before} to {after} "
        "(adjusted p {p}). That is a shift, not volatility: its volatility is measured around "
        "each level, and budget advice uses the level since {month}.",
        "most_volatile": "Most volatile month to month: **{name}** (its monthly ROI varies "
        "{cv} around its level, more than every other channel's).",
        "more_volatile": "More volatile month to month than the others: **{names}** (they "
        "cannot be told apart from each other).",
        "not_volatile": "No channel's ROI is significantly more volatile month to month than "
        "every other's.",
        "ranking": "Consistency ranking (the original's rule: spend at or above the median, "
        "steadiest within months first): {names}.",
        "ranking_noise": "This order is not a finding: volatility does not separate the channels.",
        "move": "Move {amount} from **{source}** (ROI {roi_from}) to **{target}** (ROI "
        "{roi_to}): expected change in net return {gain} (95% interval {low} to {high}).",
        "total": "In all, an expected {gain} more net return (95% interval {low} to {high}).",
        "assumption": "This assumes each channel's next dollar earns its current ROI. Each "
        "donor gives {share} of its spend; each recipient takes at most {cap} of its own and "
        "never more than its busiest month's level, so no channel is taken outside the range "
        "it has run at.",
        "capped": "Capped by the most they have spent in a month: {names}.",
        "reason_too_few_channels": "No budget shift is recommended: fewer than two channels "
        "can be compared.",
        "reason_no_difference": "No budget shift is recommended: no channel's current ROI "
        "differs significantly from the rest of the portfolio.",
        "reason_one_sided": "No budget shift is recommended: {names} differ from the rest "
        "of the portfolio, but no channel differs on the other side to move budget "
        "{direction}.",
        "reason_no_separated_pair": "No budget shift is recommended: no channel below the "
        "portfolio can be told apart from one above it.",
        "reason_mix": "No budget shift is recommended: the channels that differ from the "
        "portfolio ({names}) differ because of their campaign mix.",
        "reason_no_headroom": "No budget shift is recommended: the channels above the "
        "portfolio already run at the most they have ever spent in a month, and advice would "
        "have to extrapolate.",
        "to": "to",
        "from": "from",
        "and": "and",
    },
    "id": {
        "no_data": "Tidak ada belanja pada pilihan ini, jadi tidak ada yang dibandingkan.",
        "too_few_periods": "Kanal tidak dibandingkan: data hanya mencakup {periods} bulan, "
        "padahal membedakan kanal dari guncangan bulanannya butuh sedikitnya {min} bulan.",
        "too_few_channels": "Kanal tidak dibandingkan: kurang dari dua kanal yang datanya "
        "cukup (sedikitnya {campaigns} kampanye, {periods} bulan dengan belanja, dan {share} "
        "dari belanja).",
        "best": "**{name}** menghasilkan ROI tertinggi ({roi}, interval 95% {low} sampai "
        "{high}) dan mengungguli setiap kanal lain (perbandingan terlemah, terhadap "
        "**{runner}**: p terkoreksi {p}).",
        "leading": "**{names}** memimpin: masing-masing mengungguli setiap kanal lain, tetapi "
        "keduanya tidak dapat dibedakan satu sama lain.",
        "no_leader": "Tidak ada kanal yang mengungguli semua kanal lain: ROI tertinggi, "
        "**{name}** ({roi}), tidak dapat dibedakan dari **{runner}** ({runner_roi}; p "
        "terkoreksi {p}).",
        "worst": "**{name}** menghasilkan ROI terendah ({roi}, interval 95% {low} sampai "
        "{high}) dan berada di bawah setiap kanal lain (perbandingan terlemah, terhadap "
        "**{runner}**: p terkoreksi {p}).",
        "trailing": "**{names}** tertinggal: masing-masing berada di bawah setiap kanal lain, "
        "tetapi tidak dapat dibedakan satu sama lain.",
        "no_trailer": "Tidak ada kanal yang tertinggal dari semua kanal lain: ROI terendah, "
        "**{name}** ({roi}), tidak dapat dibedakan dari **{runner}** ({runner_roi}; p "
        "terkoreksi {p}).",
        "noise": "Tidak ada kanal yang ROI-nya berbeda secara signifikan dari kanal lain (p "
        "terkoreksi terkecil {p}): mengurutkan kanal pada data ini sama dengan mengurutkan "
        "noise, jadi tidak ada kanal terbaik atau terburuk yang disebutkan.",
        "method": "Kanal dibandingkan per bulan ({periods} bulan): kampanye dalam satu bulan "
        "berbagi guncangan bulan itu, jadi bulanlah ulangannya, bukan hari atau baris. "
        "Setiap {pairs} pasangan diuji; p dikoreksi dengan metode Holm, pada taraf {alpha}.",
        "thin": "Datanya terlalu sedikit untuk dibandingkan (ditampilkan dengan ROI yang "
        "ditarik ke arah portofolio; tidak pernah disebut terbaik atau diberi anggaran): "
        "{names}.",
        "thin_one": "**{name}** ({campaigns} kampanye, {periods} bulan, {share} dari belanja)",
        "flip": "Bauran: **{raw}** berada di atas **{adjusted}** menurut ROI mentah ({raw_roi} "
        "terhadap {adjusted_roi}), tetapi **{adjusted}** menghasilkan lebih banyak di dalam "
        "setiap {dimension} (ROI disesuaikan bauran {adjusted_adj} terhadap {raw_adj}; p "
        "terkoreksi {p}). **{raw}** membelanjakan {raw_share} anggarannya di {raw_main}, "
        "**{adjusted}** {adjusted_share} di {adjusted_main}. Tidak ada saran anggaran yang "
        "didasarkan pada urutan mentah pasangan ini.",
        "quadrants": "Ambang kuadran pada median kanal yang dibandingkan: belanja {spend}, "
        "ROI {roi}.",
        "unclear": "Masih dalam batas noise dari ambang ROI, jadi label ROI Tinggi atau "
        "Rendah mereka bukan temuan: {names}.",
        "shift": "ROI **{name}** berpindah ke tingkat baru pada {month}: dari {before} ke "
        "{after} (p terkoreksi {p}). Itu pergeseran, bukan fluktuasi: fluktuasinya diukur di "
        "sekitar setiap tingkat, dan saran anggaran memakai tingkat sejak {month}.",
        "most_volatile": "Paling fluktuatif dari bulan ke bulan: **{name}** (ROI bulanannya "
        "bervariasi {cv} di sekitar tingkatnya, lebih dari setiap kanal lain).",
        "more_volatile": "Lebih fluktuatif dari bulan ke bulan daripada yang lain: **{names}** "
        "(tidak dapat dibedakan satu sama lain).",
        "not_volatile": "Tidak ada kanal yang ROI-nya secara signifikan lebih fluktuatif dari "
        "bulan ke bulan daripada setiap kanal lain.",
        "ranking": "Peringkat konsistensi (aturan lama: belanja di atas atau sama dengan "
        "median, paling stabil dalam bulan lebih dulu): {names}.",
        "ranking_noise": "Urutan ini bukan temuan: fluktuasi tidak membedakan kanal.",
        "move": "Pindahkan {amount} dari **{source}** (ROI {roi_from}) ke **{target}** (ROI "
        "{roi_to}): perkiraan perubahan laba bersih {gain} (interval 95% {low} sampai "
        "{high}).",
        "total": "Secara keseluruhan, perkiraan tambahan laba bersih {gain} (interval 95% "
        "{low} sampai {high}).",
        "assumption": "Ini mengasumsikan dolar berikutnya di tiap kanal menghasilkan ROI "
        "saat ini. Setiap kanal asal memberikan {share} belanjanya; setiap kanal penerima "
        "menerima paling banyak {cap} dari belanjanya sendiri dan tidak pernah melebihi "
        "tingkat bulan tersibuknya, sehingga tidak ada kanal yang dibawa ke luar rentang yang "
        "pernah dijalaninya.",
        "capped": "Dibatasi oleh belanja bulanan tertinggi mereka: {names}.",
        "reason_too_few_channels": "Tidak ada pergeseran anggaran yang direkomendasikan: "
        "kurang dari dua kanal yang dapat dibandingkan.",
        "reason_no_difference": "Tidak ada pergeseran anggaran yang direkomendasikan: tidak "
        "ada kanal yang ROI saat ini berbeda secara signifikan dari sisa portofolio.",
        "reason_one_sided": "Tidak ada pergeseran anggaran yang direkomendasikan: {names} "
        "berbeda dari sisa portofolio, tetapi tidak ada kanal yang berbeda di sisi lain "
        "untuk memindahkan anggaran {direction}.",
        "reason_no_separated_pair": "Tidak ada pergeseran anggaran yang direkomendasikan: "
        "tidak ada kanal di bawah portofolio yang dapat dibedakan dari kanal di atasnya.",
        "reason_mix": "Tidak ada pergeseran anggaran yang direkomendasikan: kanal yang "
        "berbeda dari portofolio ({names}) berbeda karena bauran kampanyenya.",
        "reason_no_headroom": "Tidak ada pergeseran anggaran yang direkomendasikan: kanal di "
        "atas portofolio sudah berjalan pada belanja bulanan tertingginya, dan saran harus "
        "mengekstrapolasi.",
        "to": "ke sana",
        "from": "dari sana",
        "and": "dan",
    },
}

DIMENSION_NAMES = {
    "en": {"campaign_type": "campaign type"},
    "id": {"campaign_type": "jenis kampanye"},
}


def _names(names: list[str], lang: str) -> str:
    """``A``, ``A and B``, ``A, B and C`` (bold marks go around the whole list)."""
    joiner = TEXT[lang]["and"]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {joiner} {names[-1]}"


def _bold_names(names: list[str], lang: str) -> str:
    return _names([f"**{n}**" for n in names], lang).strip("*") if names else ""


def _pair(pairs: list[dict[str, Any]], a: str, b: str) -> dict[str, Any] | None:
    for row in pairs:
        if {row["a"], row["b"]} == {a, b}:
            return row
    return None


def _closest(
    name: str, others: list[str], pairs: list[dict[str, Any]]
) -> tuple[str, dict[str, Any]] | None:
    """The other channel whose comparison with ``name`` is least significant."""
    found = [(o, _pair(pairs, name, o)) for o in others]
    found = [(o, row) for o, row in found if row is not None]
    if not found:
        return None
    return max(found, key=lambda item: item[1]["p_adjusted"] or 0.0)


def _month(date_text: str, lang: str) -> str:
    import datetime as dt

    day = dt.date.fromisoformat(str(date_text)[:10])
    months = {
        "en": "January February March April May June July August September October "
        "November December",
        "id": "Januari Februari Maret April Mei Juni Juli Agustus September Oktober "
        "November Desember",
    }[lang].split()
    return f"{months[day.month - 1]} {day.year}"


def channel_sentences(
    ch: dict[str, Any], lang: str = "en", escape: Callable[[str], str] | None = None
) -> dict[str, list[str]]:
    """The sentences of every channel section, from :meth:`ChannelFindings.to_dict`.

    Args:
        ch: the channel findings as a dict.
        lang: ``en`` or ``id``.
        escape: applied to every name that comes from data (channels, campaign types)
            before it enters a sentence, e.g. Markdown escaping for the dashboard.

    Returns:
        ``{section: [sentence, ...]}`` for every name in :data:`SECTIONS` (some empty);
        ``**`` marks bold spans.
    """
    if escape is not None:
        ch = _escaped(ch, escape)
    t = TEXT[lang]
    out: dict[str, list[str]] = {name: [] for name in SECTIONS}
    rows = {c["entity"]: c for c in ch["channels"]}
    compared = [c["entity"] for c in ch["channels"] if c["compared"]]
    if ch["status"] != "ok":
        out["verdict"].append(_status(ch, lang))
    else:
        out["verdict"].extend(_verdicts(ch, rows, compared, lang))
        out["method"].append(
            t["method"].format(
                periods=ch["periods"],
                pairs=len(ch["pairs"]),
                alpha=number(ch["alpha"], 2, lang),
            )
        )
    thin = [c for c in ch["channels"] if not c["compared"] and (c["spend"] or 0) > 0]
    if thin and ch["status"] in ("ok", "too_few_channels"):
        listed = [
            t["thin_one"].format(
                name=c["entity"],
                campaigns=count(c["campaigns"], lang),
                periods=c["periods"],
                share=percent(c["spend_share"], 1, lang),
            )
            for c in thin
        ]
        out["evidence"].append(t["thin"].format(names=_names(listed, lang)))
    if ch["status"] != "ok":
        out["advice"].append(t["reason_too_few_channels"])
        return out
    out["mix"].extend(_mix(ch, rows, lang))
    out["quadrants"].extend(_quadrants(ch, rows, compared, lang))
    out["stability"].extend(_stability(ch, rows, lang))
    out["advice"].extend(_advice(ch, rows, lang))
    return out


def _escaped(ch: dict[str, Any], escape: Callable[[str], str]) -> dict[str, Any]:
    """A copy of the findings with every data name passed through ``escape``."""

    def names(value: Any) -> Any:
        return [escape(v) for v in value] if isinstance(value, list) else value

    out = dict(ch)
    out["channels"] = [{**c, "entity": escape(c["entity"])} for c in ch["channels"]]
    out["pairs"] = [{**p, "a": escape(p["a"]), "b": escape(p["b"])} for p in ch["pairs"]]
    out["shifts"] = [{**x, "entity": escape(x["entity"])} for x in ch["shifts"]]
    out["ranking"] = [{**r, "entity": escape(r["entity"])} for r in ch["ranking"]]
    for key in ("leading", "trailing", "more_volatile"):
        out[key] = names(ch[key])
    for key in ("best", "worst", "most_volatile"):
        out[key] = escape(ch[key]) if ch[key] else ch[key]
    if ch["mix"]:
        flips = []
        for f in ch["mix"]["flips"]:
            flip = {**f, "raw_winner": escape(f["raw_winner"])}
            flip["adjusted_winner"] = escape(f["adjusted_winner"])
            for key in ("raw_winner_main", "adjusted_winner_main"):
                if f[key]:
                    flip[key] = [escape(f[key][0]), f[key][1]]
            flips.append(flip)
        pairs = [{**p, "a": escape(p["a"]), "b": escape(p["b"])} for p in ch["mix"]["pairs"]]
        out["mix"] = {**ch["mix"], "flips": flips, "pairs": pairs}
    advice = dict(ch["advice"])
    advice["shifts"] = [
        {**x, "from": escape(x["from"]), "to": escape(x["to"])} for x in advice["shifts"]
    ]
    for key in ("donors", "recipients", "capped", "excluded_for_mix"):
        advice[key] = names(advice[key])
    out["advice"] = advice
    return out


def _status(ch: dict[str, Any], lang: str) -> str:
    t, evidence = TEXT[lang], ch["evidence"]
    if ch["status"] == "no_data":
        return t["no_data"]
    if ch["status"] == "too_few_periods":
        return t["too_few_periods"].format(periods=ch["periods"], min=evidence["min_periods"])
    return t["too_few_channels"].format(
        campaigns=count(evidence["min_campaigns"], lang),
        periods=evidence["min_periods"],
        share=percent(evidence["min_spend_share"], 0, lang),
    )


def _verdicts(
    ch: dict[str, Any], rows: dict[str, Any], compared: list[str], lang: str
) -> list[str]:
    t, pairs = TEXT[lang], ch["pairs"]
    if not any(p["significant"] for p in pairs):
        smallest = min(
            (p["p_adjusted"] for p in pairs if p["p_adjusted"] is not None), default=None
        )
        return [t["noise"].format(p=p_value(smallest, lang))]
    order = [c["entity"] for c in ch["channels"] if c["compared"]]
    out = []
    for side, group, one in (
        ("best", ch["leading"], ch["best"]),
        ("worst", ch["trailing"], ch["worst"]),
    ):
        ends = order if side == "best" else order[::-1]
        if one:
            others = [e for e in compared if e != one]
            runner, row = _closest(one, others, pairs) or (others[0], {"p_adjusted": None})
            c = rows[one]
            out.append(
                t[side].format(
                    name=one,
                    roi=number(c["roi"], 3, lang),
                    low=number(c["roi_low"], 3, lang),
                    high=number(c["roi_high"], 3, lang),
                    p=p_value(row["p_adjusted"], lang),
                    runner=runner,
                )
            )
        elif group:
            out.append(
                t["leading" if side == "best" else "trailing"].format(
                    names=_bold_names(group, lang)
                )
            )
        else:
            top, second = ends[0], ends[1]
            row = _pair(pairs, top, second) or {"p_adjusted": None}
            out.append(
                t["no_leader" if side == "best" else "no_trailer"].format(
                    name=top,
                    roi=number(rows[top]["roi"], 3, lang),
                    runner=second,
                    runner_roi=number(rows[second]["roi"], 3, lang),
                    p=p_value(row["p_adjusted"], lang),
                )
            )
    return out


def _mix(ch: dict[str, Any], rows: dict[str, Any], lang: str) -> list[str]:
    t, mix = TEXT[lang], ch["mix"]
    if not mix:
        return []
    dimension = DIMENSION_NAMES[lang].get(mix["dimension"], mix["dimension"])
    out = []
    for flip in mix["flips"]:
        raw, adjusted = flip["raw_winner"], flip["adjusted_winner"]
        row = _pair(mix["pairs"], raw, adjusted) or {"p_adjusted": None}
        raw_main = flip["raw_winner_main"] or ["n/a", None]
        adjusted_main = flip["adjusted_winner_main"] or ["n/a", None]
        out.append(
            t["flip"].format(
                raw=raw,
                adjusted=adjusted,
                raw_roi=number(rows[raw]["roi"], 3, lang),
                adjusted_roi=number(rows[adjusted]["roi"], 3, lang),
                dimension=dimension,
                adjusted_adj=number(rows[adjusted]["roi_mix_adjusted"], 3, lang),
                raw_adj=number(rows[raw]["roi_mix_adjusted"], 3, lang),
                p=p_value(row["p_adjusted"], lang),
                raw_share=percent(raw_main[1], 0, lang),
                raw_main=raw_main[0],
                adjusted_share=percent(adjusted_main[1], 0, lang),
                adjusted_main=adjusted_main[0],
            )
        )
    return out


def _quadrants(
    ch: dict[str, Any], rows: dict[str, Any], compared: list[str], lang: str
) -> list[str]:
    t, thresholds = TEXT[lang], ch["quadrant_thresholds"]
    out = [
        t["quadrants"].format(
            spend=money(thresholds.get("spend_threshold"), lang),
            roi=number(thresholds.get("roi_threshold"), 3, lang),
        )
    ]
    unclear = [e for e in compared if not rows[e]["roi_side_clear"]]
    if unclear:
        out.append(t["unclear"].format(names=_names(unclear, lang)))
    return out


def _stability(ch: dict[str, Any], rows: dict[str, Any], lang: str) -> list[str]:
    t = TEXT[lang]
    out = []
    for shift in ch["shifts"]:
        month = _month(shift["date"], lang)
        out.append(
            t["shift"].format(
                name=shift["entity"],
                month=month,
                before=number(shift["before"], 3, lang),
                after=number(shift["after"], 3, lang),
                p=p_value(shift["p_adjusted"], lang),
            )
        )
    if ch["most_volatile"]:
        name = ch["most_volatile"]
        out.append(
            t["most_volatile"].format(name=name, cv=percent(rows[name]["roi_cv_across"], 1, lang))
        )
    elif ch["more_volatile"]:
        out.append(t["more_volatile"].format(names=_bold_names(ch["more_volatile"], lang)))
    else:
        out.append(t["not_volatile"])
    ranking = [r["entity"] for r in ch["ranking"]]
    if ranking:
        out.append(t["ranking"].format(names=", ".join(ranking)))
        if not ch["more_volatile"]:
            out.append(t["ranking_noise"])
    return out


def _advice(ch: dict[str, Any], rows: dict[str, Any], lang: str) -> list[str]:
    t, advice = TEXT[lang], ch["advice"]
    if not advice["recommend"]:
        reason = advice["reason"]
        if reason == "one_sided":
            names = advice["donors"] or advice["recipients"]
            direction = t["to"] if advice["donors"] else t["from"]
            return [t["reason_one_sided"].format(names=_names(names, lang), direction=direction)]
        if reason == "mix":
            names = advice["excluded_for_mix"] or advice["donors"] + advice["recipients"]
            return [t["reason_mix"].format(names=_names(names, lang))]
        return [t[f"reason_{reason}"]]
    out = [
        t["move"].format(
            amount=money(s["amount"], lang),
            source=s["from"],
            target=s["to"],
            roi_from=number(s["roi_from"], 3, lang),
            roi_to=number(s["roi_to"], 3, lang),
            gain=money(s["expected_gain"], lang),
            low=money(s["gain_low"], lang),
            high=money(s["gain_high"], lang),
        )
        for s in advice["shifts"]
    ]
    low, high = advice["gain_interval"]
    out.append(
        t["total"].format(
            gain=money(advice["expected_gain"], lang), low=money(low, lang), high=money(high, lang)
        )
    )
    out.append(
        t["assumption"].format(
            share=percent(advice["share"], 0, lang), cap=percent(advice["receive_cap"], 0, lang)
        )
    )
    if advice["capped"]:
        out.append(t["capped"].format(names=_names(advice["capped"], lang)))
    return out
