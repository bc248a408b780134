"""The comparison report's answer: the recommendation, the cost-effectiveness chart and table, who
gains and who loses, and the warnings, all computed from the comparison folder (never written by
hand). Its words live in `TEXT` here and join the report's catalogue (`i18n.TEXT`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from welfare_sim.sim.report.i18n import Lang

from welfare_sim.sim.report.decision_text import TEXT  # noqa: F401  (the words, kept importable here)


def _vnd(words: Lang, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return words.vnd_short(value)


def _count(words: Lang, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return words.num(value, 0)


def _group_name(words: Lang, level: str, name: str) -> str:
    if level == "subgroup":
        return words.name("group", name)
    return name if level != "programme" else words.name("programme", name)


def recommendation_text(words: Lang, answer: dict[str, Any] | None, criterion: str | None = None) -> str:
    """The recommendation as sentences, from the figures of `comparison.json`."""
    t = words.t
    if answer is None:
        return t("dec.none", criterion=t(f"dec.crit.{criterion or 'cost_per_account_holder'}"))
    crit = t(f"dec.crit.{answer['rank_by']}")
    saves = answer["state_cost_mean_vnd"] < 0
    sign = -1.0 if saves else 1.0
    # a saving reads as a positive sum, its interval from the smaller saving to the larger
    lo, hi = (
        (answer["state_cost_hi_vnd"], answer["state_cost_lo_vnd"])
        if saves
        else (answer["state_cost_lo_vnd"], answer["state_cost_hi_vnd"])
    )
    parts = [
        t("dec.best_budget", budget=_vnd(words, answer["budget_vnd"]), criterion=crit, best=answer["best"])
        if answer.get("budget_vnd") is not None
        else t("dec.best", criterion=crit, best=answer["best"]),
        t(
            "dec.cost" if not saves else "dec.saves_cost",
            cost=_vnd(words, sign * answer["state_cost_mean_vnd"]),
            cost_lo=_vnd(words, None if lo is None else sign * lo),
            cost_hi=_vnd(words, None if hi is None else sign * hi),
            gain=_count(words, answer["gain_mean"]),
            unit=t(f"dec.unit.{answer['effect_unit']}"),
            gain_lo=_count(words, answer["gain_lo"]),
            gain_hi=_count(words, answer["gain_hi"]),
        ),
    ]
    if answer["verdict"] == "dominant":
        parts.append(t("dec.dominant"))
    elif math.isfinite(answer["ratio_lo_vnd"] or math.nan) and math.isfinite(answer["ratio_hi_vnd"] or math.nan):
        parts.append(
            t(
                "dec.ratio",
                ratio=_vnd(words, answer["ratio_vnd"]),
                ratio_lo=_vnd(words, answer["ratio_lo_vnd"]),
                ratio_hi=_vnd(words, answer["ratio_hi_vnd"]),
            )
        )
    else:
        parts.append(t("dec.ratio_open", ratio=_vnd(words, answer["ratio_vnd"])))
    parts.append(
        t(
            "dec.beneficiaries",
            change=words.signed(
                _vnd(words, answer["beneficiary_cost_mean_vnd"]), answer["beneficiary_cost_mean_vnd"] or 0.0
            ),
        )
    )
    behind = answer.get("left_behind") or []
    worse = [_group_name(words, b["level"], b["name"]) for b in behind if b["how"] == "worse"]
    flat = [_group_name(words, b["level"], b["name"]) for b in behind if b["how"] == "unchanged"]
    if worse:
        parts.append(t("dec.behind_worse", groups=", ".join(worse)))
    elif flat:
        parts.append(t("dec.behind_flat", groups=", ".join(flat)))
    else:
        parts.append(t("dec.behind_none"))
    if answer.get("runner_up"):
        parts.append(t("dec.sure", runner=answer["runner_up"], ahead=answer["seeds_ahead"], seeds=answer["n_seeds"]))
    else:
        parts.append(t("dec.sure_alone", seeds=answer["n_seeds"]))
    return " ".join(parts)


def _ratio_cell(words: Lang, r: dict[str, Any]) -> str:
    if r["verdict"] == "no_gain":
        return words.t("dec.no_gain")
    if r["verdict"] == "dominant":
        return words.t("dec.saves")
    text = _vnd(words, r["ratio_vnd"])
    if math.isfinite(r["ratio_lo_vnd"]) and math.isfinite(r["ratio_hi_vnd"]):
        return f"{text} ({_vnd(words, r['ratio_lo_vnd'])} – {_vnd(words, r['ratio_hi_vnd'])})"
    return f"{text} ({words.t('dec.unbounded')})"


def ce_chart(ce: pl.DataFrame, words: Lang):  # noqa: ANN201 - a charts.Chart
    """Gain against extra cost, a panel per measure, intervals both ways."""
    from welfare_sim.sim.experiments.effects import MEASURES
    from welfare_sim.sim.report.charts import _chart, _color, _figure, _style

    fig = _figure(4.6)
    axes = fig.subplots(1, len(MEASURES))
    names = ce["scenario"].unique(maintain_order=True).to_list()
    for ax, measure in zip(axes, MEASURES, strict=True):
        _style(ax)
        for r in ce.filter(pl.col("measure") == measure).iter_rows(named=True):
            x, y = r["state_cost_mean_vnd"] / 1e9, r["gain_mean"]
            bounded = all(math.isfinite(r[k]) for k in ("state_cost_lo_vnd", "state_cost_hi_vnd", "gain_lo", "gain_hi"))
            ax.errorbar(
                x,
                y,
                xerr=[[x - r["state_cost_lo_vnd"] / 1e9], [r["state_cost_hi_vnd"] / 1e9 - x]] if bounded else None,
                yerr=[[y - r["gain_lo"]], [r["gain_hi"] - y]] if bounded else None,
                fmt="o",
                color=_color(names.index(r["scenario"])),
                capsize=3,
                label=r["scenario"],
            )
        ax.axhline(0, color="#888888", linewidth=0.7)
        ax.axvline(0, color="#888888", linewidth=0.7)
        ax.set_xlabel(words.t("dec.ce_x"), fontsize=8)
        ax.set_ylabel(words.t(f"dec.unit.{MEASURES[measure][3]}"), fontsize=8)
        ax.set_title(words.t(f"dec.crit.{measure}"), fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, max(1, len(labels))), fontsize=7)
    return _chart("cost-effectiveness", words.t("dec.ce_chart"), words.t("dec.ce_read"), fig)


def decision_sections(data: Any, words: Lang) -> list[str]:
    """The sections a comparison report opens with: the answer, the warnings, the cost-effectiveness
    chart and ranking, who gains and who loses. Empty for a comparison folder written before them."""
    from welfare_sim.sim.experiments.effects import MEASURES
    from welfare_sim.sim.report import page

    t = words.t
    folder = data.folder
    if not (folder / "cost_effectiveness.parquet").is_file():
        return []
    ce = pl.read_parquet(folder / "cost_effectiveness.parquet")
    meta = data.meta
    answer = meta.get("recommendation")
    out = [
        f'<section id="answer"><h2>{page.esc(t("dec.section"))}</h2>'
        f'<p class="answer">{page.esc(recommendation_text(words, answer, meta.get("rank_by")))}</p></section>'
    ]
    warnings = meta.get("warnings") or []
    if warnings:
        texts = [t("dec.warn." + w["kind"], scenario=w["scenario"], strategy=w["strategy"]) for w in warnings]
        items = "".join(f"<li>{page.esc(text)}</li>" for text in texts)
        out.append(f'<section id="warnings"><h2>{page.esc(t("dec.warnings"))}</h2><ul>{items}</ul></section>')
    if ce.height:
        header = [
            (t("dec.rank"), True),
            (t("dec.strategy"), False),
            (t("dec.extra_cost"), True),
            (t("dec.ben_cost"), True),
            *((t(f"dec.crit.{m}"), True) for m in MEASURES),
        ]
        rows = []
        for k, name in enumerate(meta.get("ranking") or [], 1):
            by = {r["measure"]: r for r in ce.filter(pl.col("scenario") == name).iter_rows(named=True)}
            if not by:
                continue
            first = next(iter(by.values()))
            rows.append(
                [
                    (str(k), True),
                    (name, False),
                    (words.signed(_vnd(words, first["state_cost_mean_vnd"]), first["state_cost_mean_vnd"]), True),
                    (
                        words.signed(
                            _vnd(words, first["beneficiary_cost_mean_vnd"]), first["beneficiary_cost_mean_vnd"]
                        ),
                        True,
                    ),
                    *((_ratio_cell(words, by[m]), True) for m in MEASURES),
                ]
            )
        out.append(
            f'<section id="cost-effectiveness"><h2>{page.esc(t("dec.ce_title"))}</h2>'
            + page.figure(ce_chart(ce, words), words)
            + page.table(header, rows, css_class="cmp")
            + "</section>"
        )
    gains_path = folder / "gains.parquet"
    if gains_path.is_file():
        out.append(gains_section(pl.read_parquet(gains_path), words))
    return out


def gains_section(gains: pl.DataFrame, words: Lang) -> str:
    """Per strategy, the change for each district, subgroup and programme (communes: workbook)."""
    from welfare_sim.sim.report import page

    t = words.t

    def change(r: dict[str, Any], m: str, kind: str) -> str:
        from welfare_sim.sim.experiments.effects import _gain_col as col

        value = r[col(m, "change")]
        if value is None or not math.isfinite(value):
            return "–"
        if kind == "share":
            text = f"{words.signed(words.num(100 * value, 1), value)} {words.t('unit.pp_short')}"
        elif kind == "vnd":
            text = words.signed(_vnd(words, value), value)
        else:
            text = words.signed(words.num(value, 2), value)
        from welfare_sim.sim.experiments.effects import prints_as_zero

        lo, hi = r[col(m, "lo")], r[col(m, "hi")]
        # a change that prints as zero is not marked, whatever its interval
        return text + (" ●" if lo is not None and (lo > 0 or hi < 0) and not prints_as_zero(text) else "")

    header = [
        (t("dec.group"), False),
        (t("dec.coverage"), True),
        (t("dec.unpaid"), True),
        (t("dec.days"), True),
        (t("dec.hours"), True),
        (t("dec.cost_change"), True),
    ]
    parts = [f'<section id="gains"><h2>{page.esc(t("dec.gains_title"))}</h2>']
    for name in gains["scenario"].unique(maintain_order=True).to_list():
        rows = []
        part = gains.filter((pl.col("scenario") == name) & (pl.col("group_level") != "commune"))
        for r in part.iter_rows(named=True):
            level = r["group_level"]
            rows.append(
                [
                    (f"{t('dec.level.' + level)}: {_group_name(words, level, r['group_name'])}", False),
                    (change(r, "coverage", "share"), True),
                    (change(r, "unpaid_share", "share"), True),
                    (change(r, "days_to_money", "num"), True),
                    (change(r, "hours_per_month", "num"), True),
                    (change(r, "beneficiary_cost_vnd", "vnd"), True),
                ]
            )
        parts.append(f"<h3>{page.esc(name)}</h3>" + page.table(header, rows, css_class="cmp"))
    parts.append(f'<p class="note">{page.esc(t("dec.gains_note"))}</p></section>')
    return "".join(parts)


def decision_sheets(data: Any, words: Lang, kind_of: Any) -> list[Any]:
    """The workbook's sheets of what each strategy buys and of who gains (every commune too)."""
    from welfare_sim.sim.report.workbook import Sheet

    sheets = []
    for name, key in (("cost_effectiveness.parquet", "dec.sheet_ce"), ("gains.parquet", "dec.sheet_gains")):
        path = data.folder / name
        if not path.is_file():
            continue
        frame = pl.read_parquet(path)
        sheets.append(Sheet(words.t(key), frame, [(c, c, kind_of(frame, c)) for c in frame.columns]))
    return sheets
