"""Charts of the report: matplotlib figures (no pyplot, no global state) rendered to PNG bytes.

Each chart has a title, axis labels with units, and a one-sentence reading computed from the
same numbers it plots.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from welfare_sim.sim.report import data as d
from welfare_sim.sim.report.i18n import (
    Lang,
    figure_label,
    fmt_diff,
    interval_text,
    unit_kind,
    unit_text,
)

DPI = 110
WIDTH_IN = 9.6
PROVINCE_COLOR = "#111111"
BASE_COLOR = "#111111"
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
KIND_ORDER = ("commune_point", "post_office", "atm")
CHANNEL_ORDER = ("account", "cash_commune", "cash_counter", "home")
CHANNEL_COLORS = {
    "account": "#2ca02c",
    "cash_commune": "#ff7f0e",
    "cash_counter": "#d62728",
    "home": "#9467bd",
}


@dataclass
class Chart:
    key: str
    title: str
    reading: str
    png: bytes
    # what the picture carries, read back from the figure (tests check titles and units)
    drawn_titles: tuple[str, ...] = ()
    x_labels: tuple[str, ...] = ()
    y_labels: tuple[str, ...] = ()
    legend: tuple[str, ...] = ()


def _chart(key: str, title: str, reading: str, fig: Figure) -> Chart:
    """Render a figure and keep the titles and axis labels it shows."""
    axes = [ax for ax in fig.axes if ax.get_visible()]
    titles = [fig.get_suptitle()] + [
        ax.get_title(loc=loc) for ax in axes for loc in ("left", "center")
    ]
    return Chart(
        key,
        title,
        reading,
        _png(fig),
        drawn_titles=tuple(t for t in titles if t),
        x_labels=tuple(ax.get_xlabel() for ax in axes if ax.get_xlabel()),
        y_labels=tuple(ax.get_ylabel() for ax in axes if ax.get_ylabel()),
        legend=tuple(
            text.get_text()
            for legend in [ax.get_legend() for ax in axes] + list(fig.legends)
            if legend is not None
            for text in legend.get_texts()
        ),
    )


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _figure(height_in: float = 4.8) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    return fig


def _style(ax) -> None:  # noqa: ANN001 - a matplotlib Axes
    ax.grid(True, color="#dddddd", linewidth=0.7)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # no "Software" stamp: the same data gives the same bytes
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _pct_axis(ax, lang: Lang, axis: str = "y") -> None:  # noqa: ANN001
    def label(v: float, _pos: int) -> str:
        percent = 100 * v
        # as many decimals as the tick needs: 2.5%, not a rounded 2%
        for decimals in (0, 1, 2):
            if abs(percent - round(percent, decimals)) < 1e-6:
                return lang.pct(v, decimals)
        return lang.pct(v, 2)

    fmt = FuncFormatter(label)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _count_axis(ax, lang: Lang, axis: str = "y") -> None:  # noqa: ANN001
    fmt = FuncFormatter(lambda v, _pos: lang.count(v))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _num_axis(ax, lang: Lang, axis: str = "y") -> None:  # noqa: ANN001
    """Plain numbers with the reader's separators and as many decimals as the tick step needs."""
    target = ax.yaxis if axis == "y" else ax.xaxis

    def label(v: float, _pos: int) -> str:
        ticks = target.get_majorticklocs()
        step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 1.0
        decimals = 0
        while decimals < 4 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
            decimals += 1
        return lang.num(v, decimals)

    target.set_major_formatter(FuncFormatter(label))


def _month_axis(ax, periods: list[str], lang: Lang) -> None:  # noqa: ANN001
    n = len(periods)
    step = max(1, math.ceil(n / 8))
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks, [lang.period(periods[i]) for i in ticks])
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_xlabel(lang.t("c.month_x"))


def _legend_outside(ax, ncol: int = 1) -> None:  # noqa: ANN001
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8.5, ncol=ncol)


# --------------------------------------------------------------------------- a run


def run_charts(run: d.RunData, lang: Lang) -> list[Chart]:
    charts = [
        _district_lines(run, lang, "account_coverage", "c.coverage"),
        _district_lines(run, lang, "cashless_share", "c.cashless"),
    ]
    dist = d.days_distribution(run)
    charts.append(
        _days_distribution(run, dist, lang)
        if dist is not None and dist.height
        else _days_by_month(run, lang)
    )
    charts.append(_waits(run, lang))
    charts.append(_subgroups(run, lang))
    charts.append(_costs(run, lang))
    return charts


def _district_series(
    ax, run: d.RunData, dm: pl.DataFrame, first_month: int, column: str, lang: Lang
) -> None:  # noqa: ANN001 - a matplotlib Axes
    """One line per district. With more districts than colours, the three lowest and three
    highest in the last month are in colour and named; the others are grey, 'other districts'."""
    names = run.district_names
    shown = set(range(len(names)))
    if len(names) > len(PALETTE):
        ends = dm.filter(pl.col("month") == dm["month"].max()).drop_nulls(column).sort(column)
        ranked = ends["district"].to_list()
        shown = set(ranked[:3] + ranked[-3:])
    colour = 0
    for i, name in enumerate(names):
        rows = dm.filter(pl.col("district") == i).sort("month")
        if rows.height == 0:
            continue
        pos = rows["month"].to_numpy() - first_month
        if i in shown:
            ax.plot(pos, rows[column].to_numpy(), color=_color(colour), linewidth=1.4, label=name)
            colour += 1
        else:
            ax.plot(pos, rows[column].to_numpy(), color="#c8c8c8", linewidth=0.9, zorder=1)
    if len(shown) < len(names):
        ax.plot([], [], color="#c8c8c8", linewidth=0.9, label=lang.t("other_districts"))


def _district_lines(run: d.RunData, lang: Lang, column: str, key: str) -> Chart:
    months = d.by_month(run)
    dm = d.district_month(run)
    periods = months["period"].to_list()
    fig = _figure(5.0)
    ax = fig.add_subplot()
    _style(ax)
    x = np.arange(len(periods))
    _district_series(ax, run, dm, int(months["month"].min()), column, lang)
    ax.plot(
        x,
        months[column].to_numpy(),
        color=PROVINCE_COLOR,
        linewidth=3.0,
        label=f"{lang.t('province_line')} ({run.province})"
        if run.province
        else lang.t("province_line"),
    )
    title = lang.t(f"{key}.title")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_ylabel(lang.t(f"{key}.y"))
    _month_axis(ax, periods, lang)
    _pct_axis(ax, lang)
    ax.set_ylim(
        0, max(0.05, float(np.nanmax(np.r_[dm[column].fill_null(0).to_numpy(), 0.0])) * 1.08)
    )
    _legend_outside(ax)

    last = dm.filter(pl.col("month") == dm["month"].max()).drop_nulls(column)
    values = months[column].to_list()
    first_v = next((v for v in values if v is not None), None)
    fields = {
        "first": lang.pct(first_v, 0),
        "last": lang.pct(values[-1], 0),
        "p0": lang.period(periods[0]),
        "p1": lang.period(periods[-1]),
        "low": "–",
        "low_v": "–",
        "high": "–",
        "high_v": "–",
    }
    if last.height:
        low = last.sort(column).row(0, named=True)
        high = last.sort(column).row(-1, named=True)
        fields.update(
            low=low["district_name"],
            low_v=lang.pct(low[column], 0),
            high=high["district_name"],
            high_v=lang.pct(high[column], 0),
        )
    return _chart(key, title, lang.t(f"{key}.read", **fields), fig)


def _days_distribution(run: d.RunData, dist: pl.DataFrame, lang: Lang) -> Chart:
    total = int(dist["payments"].sum())
    top = int(dist["days_to_money"].max())
    days = np.arange(0, top + 1)
    fig = _figure(4.8)
    ax = fig.add_subplot()
    _style(ax)
    bottom = np.zeros(days.size)
    means: dict[str, tuple[float, int]] = {}
    channels = [c for c in CHANNEL_ORDER if c in set(dist["channel"].to_list())]
    channels += sorted(set(dist["channel"].to_list()) - set(channels))
    for channel in channels:
        rows = dist.filter(pl.col("channel") == channel)
        counts = np.zeros(days.size)
        counts[rows["days_to_money"].to_numpy().astype(int)] = rows["payments"].to_numpy()
        share = counts / total
        ax.bar(
            days,
            share,
            bottom=bottom,
            width=0.85,
            color=CHANNEL_COLORS.get(channel, "#7f7f7f"),
            label=lang.name("channel", channel),
        )
        bottom += share
        n = int(counts.sum())
        if n:
            means[channel] = (float((days * counts).sum() / n), n)
    title = lang.t("c.days.title")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_xlabel(lang.t("c.days.x", start=run.run_start_day))
    ax.set_ylabel(lang.t("c.days.y"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _pct_axis(ax, lang)
    _legend_outside(ax)
    # the long tail holds a handful of payments: stop where 99.9% are in hand
    cum_all = np.cumsum(bottom)
    last_day = int(days[min(np.searchsorted(cum_all, 0.999), days.size - 1)])
    ax.set_xlim(-0.6, last_day + 0.6)

    all_counts = dist.group_by("days_to_money").agg(pl.col("payments").sum()).sort("days_to_money")
    cum = np.cumsum(all_counts["payments"].to_numpy()) / total
    day_values = all_counts["days_to_money"].to_numpy()
    p50 = int(day_values[np.searchsorted(cum, 0.5)])
    p95 = int(day_values[np.searchsorted(cum, 0.95)])
    # channels with too few payments would make a noisy claim
    solid = {c: m for c, (m, n) in means.items() if n >= 100} or {
        c: m for c, (m, _n) in means.items()
    }
    fast = min(solid, key=solid.get)
    slow = max(solid, key=solid.get)
    reading = lang.t(
        "c.days.read",
        p50=p50,
        p95=p95,
        fast=lang.name("channel", fast),
        fast_v=lang.num(solid[fast], 1),
        slow=lang.name("channel", slow),
        slow_v=lang.num(solid[slow], 1),
    )
    return _chart("days", title, reading, fig)


def _days_by_month(run: d.RunData, lang: Lang) -> Chart:
    """Without payments.parquet: mean days to money by month and district."""
    months = d.by_month(run)
    dm = d.district_month(run)
    periods = months["period"].to_list()
    fig = _figure(5.0)
    ax = fig.add_subplot()
    _style(ax)
    _district_series(ax, run, dm, int(months["month"].min()), "days_to_money_mean", lang)
    ax.plot(
        np.arange(len(periods)),
        months["days_to_money_mean"].to_numpy(),
        color=PROVINCE_COLOR,
        linewidth=3.0,
        label=lang.t("province_line"),
    )
    title = lang.t("c.days.title")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_ylabel(lang.t("c.days_month.y"))
    _month_axis(ax, periods, lang)
    ax.set_ylim(bottom=0)
    _legend_outside(ax)
    whole = d.by_district(run).drop_nulls("days_to_money_mean").sort("days_to_money_mean")
    values = months["days_to_money_mean"].to_list()
    reading = lang.t(
        "c.days_month.read",
        first=lang.num(values[0], 1),
        last=lang.num(values[-1], 1),
        p0=lang.period(periods[0]),
        p1=lang.period(periods[-1]),
        slow=whole["district_name"][-1] if whole.height else "–",
        slow_v=lang.num(whole["days_to_money_mean"][-1], 1) if whole.height else "–",
    )
    return _chart("days", title, reading, fig)


def _waits(run: d.RunData, lang: Lang) -> Chart:
    w = d.waits_by_day(run).with_columns(pl.col("kind").cast(pl.String))
    kinds = [k for k in KIND_ORDER if k in set(w["kind"].to_list())] or list(KIND_ORDER)
    fig = _figure(4.6)
    axes = fig.subplots(1, len(kinds), sharey=True, squeeze=False)[0]
    top_visits = float(w["visits_per_month"].max() or 1.0) * 1.1
    twins = []
    for i, (ax, kind) in enumerate(zip(axes, kinds, strict=True)):
        rows = w.filter(pl.col("kind") == kind).sort("day")
        twin = ax.twinx()
        twins.append(twin)
        twin.bar(
            rows["day"].to_numpy(),
            rows["visits_per_month"].to_numpy(),
            width=0.8,
            color="#c9d6e3",
            label=lang.t("c.waits.visits"),
            zorder=0,
        )
        twin.set_ylim(0, top_visits)
        _count_axis(twin, lang)
        if i < len(kinds) - 1:
            twin.tick_params(labelright=False, right=False)
        else:
            twin.set_ylabel(lang.t("c.waits.visits"), color="#5a7590")
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        _style(ax)
        ax.plot(
            rows["day"].to_numpy(),
            rows["wait_mean"].to_numpy(),
            color="#1f4e79",
            linewidth=2.0,
            marker="o",
            markersize=3,
            label=lang.t("c.waits.mean"),
        )
        ax.plot(
            rows["day"].to_numpy(),
            rows["wait_p95"].to_numpy(),
            color="#c0392b",
            linewidth=1.5,
            linestyle="--",
            label=lang.t("c.waits.p95"),
        )
        ax.set_title(_cap(lang.name("kind", kind)), fontsize=10)
        ax.set_xlim(0.5, 31.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        ax.set_xlabel(lang.t("day").lower())
        if i == 0:
            ax.set_ylabel(lang.t("c.waits.y"))
    axes[0].set_ylim(bottom=0)
    handles = axes[0].get_legend_handles_labels()
    bars = twins[0].get_legend_handles_labels()
    fig.legend(
        handles[0] + bars[0],
        handles[1] + bars[1],
        loc="outside lower center",
        ncol=3,
        frameon=False,
        fontsize=8.5,
    )
    title = lang.t("c.waits.title")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")

    worst = w.drop_nulls("wait_mean").sort("wait_mean").row(-1, named=True)
    peak_by_kind = w.group_by("kind").agg(pl.col("wait_mean").max()).drop_nulls().sort("wait_mean")
    calm = peak_by_kind.row(0, named=True)
    reading = lang.t(
        "c.waits.read",
        kind=lang.name("kind", worst["kind"]),
        day=int(worst["day"]),
        mean=lang.num(worst["wait_mean"], 0),
        p95=lang.num(worst["wait_p95"], 0),
        calm=lang.name("kind", calm["kind"]),
        calm_v=lang.num(max(calm["wait_mean"], 0.0), 1),
    )
    return _chart("waits", title, reading, fig)


def _subgroups(run: d.RunData, lang: Lang) -> Chart:
    s = d.subgroup_summary(run)
    groups = s["subgroup"].to_list()
    labels = [lang.name("group", g) for g in groups]
    y = np.arange(len(groups))[::-1]
    fig = _figure(4.4)
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    colors = ["#555555" if g == "all" else "#1f77b4" for g in groups]
    for ax, column, xlabel, color_alt in (
        (ax1, "unpaid_share", "c.groups.unpaid_x", None),
        (ax2, "suspended_last_share", "c.groups.suspended_x", "#d62728"),
    ):
        _style(ax)
        values = s[column].fill_null(0).to_numpy()
        bar_colors = [
            "#555555" if g == "all" else (color_alt or c)
            for g, c in zip(groups, colors, strict=True)
        ]
        ax.barh(y, values, color=bar_colors, height=0.65)
        for yy, v in zip(y, values, strict=True):
            ax.text(v, yy, " " + lang.pct(float(v), 1), va="center", fontsize=8.5)
        ax.set_xlabel(lang.t(xlabel))
        _pct_axis(ax, lang, axis="x")
        ax.set_xlim(0, max(float(values.max()) * 1.3, 0.001))
    ax1.set_yticks(y, labels)
    title = lang.t("c.groups.title")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")

    others = s.filter(pl.col("subgroup") != "all").drop_nulls("unpaid_share")
    everyone = s.filter(pl.col("subgroup") == "all")
    worst = others.sort("unpaid_share").row(-1, named=True) if others.height else None
    susp = others.drop_nulls("suspended_last_share").sort("suspended_last_share")
    susp_row = susp.row(-1, named=True) if susp.height else None
    reading = lang.t(
        "c.groups.read",
        worst=_cap(lang.name("group", worst["subgroup"])) if worst else "–",
        worst_v=lang.pct(worst["unpaid_share"], 1) if worst else "–",
        all_v=lang.pct(everyone["unpaid_share"][0], 1) if everyone.height else "–",
        susp=lang.name("group", susp_row["subgroup"]) if susp_row else "–",
        susp_v=lang.pct(susp_row["suspended_last_share"], 1) if susp_row else "–",
    )
    return _chart("subgroups", title, reading, fig)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _costs(run: d.RunData, lang: Lang) -> Chart:
    months = d.by_month(run)
    periods = months["period"].to_list()
    x = np.arange(len(periods))
    fig = _figure(4.6)
    ax = fig.add_subplot()
    _style(ax)
    state = months["state_per_payment"].to_numpy()
    ben = months["beneficiary_per_payment"].to_numpy()
    ax.plot(
        x,
        state,
        color="#1f4e79",
        linewidth=2.2,
        marker="o",
        markersize=3,
        label=lang.t("c.cost.state"),
    )
    ax.plot(
        x,
        ben,
        color="#e67e22",
        linewidth=2.2,
        marker="s",
        markersize=3,
        label=lang.t("c.cost.beneficiary"),
    )
    title = lang.t("c.cost.title")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_ylabel(lang.t("c.cost.y"))
    _month_axis(ax, periods, lang)
    _count_axis(ax, lang)
    ax.set_ylim(bottom=0)
    _legend_outside(ax)
    reading = lang.t(
        "c.cost.read",
        s0=lang.vnd(_first(state)),
        s1=lang.vnd(_last(state)),
        b0=lang.vnd(_first(ben)),
        b1=lang.vnd(_last(ben)),
        p0=lang.period(periods[0]),
        p1=lang.period(periods[-1]),
    )
    return _chart("costs", title, reading, fig)


def _first(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite[0]) if finite.size else None


def _last(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else None


# --------------------------------------------------------------------------- a comparison


def comparison_charts(data: d.ComparisonData, lang: Lang) -> list[Chart]:
    series = d.scenario_series(data)
    return [
        _scenario_lines(data, series, lang, "account_coverage", "c.scen_coverage", "c.coverage.y"),
        _scenario_lines(data, series, lang, "cashless_share", "c.scen_cashless", "c.cashless.y"),
        _forest(data, lang),
    ]


def _scenario_lines(
    data: d.ComparisonData, series: pl.DataFrame, lang: Lang, column: str, key: str, ylabel: str
) -> Chart:
    periods = series.select("month", "period").unique().sort("month")["period"].to_list()
    first_month = int(series["month"].min())
    fig = _figure(4.8)
    ax = fig.add_subplot()
    _style(ax)
    others = [s for s in data.scenarios if s != data.base]
    for i, name in enumerate([data.base, *others]):
        rows = series.filter(pl.col("scenario") == name).sort("month")
        if rows.height == 0:
            continue
        x = rows["month"].to_numpy() - first_month
        color = BASE_COLOR if name == data.base else _color(i - 1)
        label = f"{name} ({lang.t('base')})" if name == data.base else name
        ax.fill_between(
            x,
            rows[f"{column}_min"].to_numpy(),
            rows[f"{column}_max"].to_numpy(),
            color=color,
            alpha=0.15,
            linewidth=0,
        )
        ax.plot(
            x,
            rows[f"{column}_mean"].to_numpy(),
            color=color,
            linewidth=2.6 if name == data.base else 1.8,
            label=label,
        )
    title = lang.t(f"{key}.title")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_ylabel(lang.t(ylabel))
    _month_axis(ax, periods, lang)
    _pct_axis(ax, lang)
    ax.set_ylim(bottom=0)
    _legend_outside(ax)
    ax.text(0.0, -0.2, lang.t("c.scen.band"), transform=ax.transAxes, fontsize=8, color="#555555")

    last = series.filter(pl.col("month") == series["month"].max()).drop_nulls(f"{column}_mean")
    fields = {
        "period": lang.period(periods[-1]),
        "base": data.base,
        "best": "–",
        "best_v": "–",
        "base_v": "–",
        "worst": "–",
        "worst_v": "–",
    }
    if last.height:
        ranked = last.sort(f"{column}_mean")
        best, worst = ranked.row(-1, named=True), ranked.row(0, named=True)
        base_row = last.filter(pl.col("scenario") == data.base)
        fields.update(
            best=best["scenario"],
            best_v=lang.pct(best[f"{column}_mean"], 0),
            worst=worst["scenario"],
            worst_v=lang.pct(worst[f"{column}_mean"], 0),
            base_v=lang.pct(base_row[f"{column}_mean"][0], 0) if base_row.height else "–",
        )
    template = "c.scen.read"
    if last.height and fields["worst"] == data.base:
        template = "c.scen.read_base_lowest"
    elif last.height and fields["best"] == data.base:
        template = "c.scen.read_base_best"
    return _chart(key, title, lang.t(template, **fields), fig)


def _forest_scale(lang: Lang, unit: str, values: list[float]) -> tuple[float, str]:
    """(divisor, axis unit) of a panel: shares in percentage points, large VND sums in millions
    or billions, so tick labels stay short."""
    kind = unit_kind(unit)
    if kind == "share":
        return 0.01, lang.t("unit.pp")
    if kind == "vnd":
        top = max((abs(v) for v in values), default=0.0)
        if top >= 1e10:
            return 1e9, lang.t("unit.bn_vnd")
        if top >= 1e7:
            return 1e6, lang.t("unit.mn_vnd")
    return 1.0, unit_text(lang, unit)


def _forest(data: d.ComparisonData, lang: Lang) -> Chart:
    table = data.table
    figures = d.comparison_figures(data)
    others = [s for s in data.scenarios if s != data.base]
    n = max(figures.height, 1)
    ncols = 3 if n >= 3 else n
    nrows = math.ceil(n / ncols)
    label_w = max((len(s) for s in others), default=4)
    fig = Figure(
        figsize=(WIDTH_IN, 0.9 + nrows * (0.85 + 0.28 * max(len(others), 1))),
        dpi=DPI,
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    n_yes = n_all = n_intervals = 0
    for ax, fig_row in zip(axes, figures.iter_rows(named=True), strict=False):
        _style(ax)
        rows = table.filter(pl.col("figure") == fig_row["figure"])
        label = figure_label(lang, fig_row["figure"], fig_row["label"])
        values = [
            v
            for c in ("diff_mean", "diff_lo", "diff_hi")
            for v in (_finite(x) for x in rows[c].to_list())
            if v is not None
        ]
        scale, unit = _forest_scale(lang, str(fig_row["unit"]), values)
        for j, name in enumerate(others):
            r = rows.filter(pl.col("scenario") == name)
            if r.height == 0 or _finite(r["diff_mean"][0]) is None:
                continue
            row = r.row(0, named=True)
            yes = bool(row["distinguishable"])
            lo, hi, mid = _finite(row["diff_lo"]), _finite(row["diff_hi"]), row["diff_mean"]
            yy = len(others) - 1 - j
            color = "#1f77b4" if yes else "#999999"
            if lo is not None and hi is not None:
                ax.plot([lo / scale, hi / scale], [yy, yy], color=color, linewidth=2.6)
                n_intervals += 1
            ax.plot([mid / scale], [yy], marker="o", color=color, markersize=5.5)
            n_all += 1
            n_yes += yes
        ax.axvline(0, color="#333333", linewidth=1.0)
        ax.set_yticks(range(len(others)), list(reversed(others)), fontsize=8)
        ax.set_ylim(-0.6, len(others) - 0.4)
        ax.set_title("\n".join(_wrap(label, 44)), fontsize=8.5)
        ax.set_xlabel(lang.t("c.forest.x", unit=unit), fontsize=8)
        ax.tick_params(axis="x", labelsize=7.5)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        _num_axis(ax, lang, "x")
        # zero always in view: the reader measures each dot from the base
        left, right = ax.get_xlim()
        ax.set_xlim(min(left, 0.0), max(right, 0.0))
    for ax in axes[figures.height :]:
        ax.set_visible(False)
    del label_w
    title = lang.t("c.forest.title", base=data.base)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    fig.supxlabel(lang.t("c.forest.legend"), x=0.01, ha="left", fontsize=8, color="#555555")
    reading = _forest_reading(data, figures, lang, n_yes, n_all, n_intervals)
    return _chart("forest", title, reading, fig)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _forest_reading(
    data: d.ComparisonData,
    figures: pl.DataFrame,
    lang: Lang,
    n_yes: int,
    n_all: int,
    n_intervals: int,
) -> str:
    """The strategy that moves the first (main) figure most, with its interval and what it does
    to the state's total cost; then how many differences the seeds can tell from zero."""
    if n_all and not n_intervals:
        return lang.t("c.forest.read_one_seed")
    if n_yes == 0 or figures.height == 0:
        return lang.t("c.forest.read_none", n_all=n_all)
    table = data.table.filter(pl.col("scenario") != data.base)
    main = figures.row(0, named=True)
    rows = table.filter(pl.col("figure") == main["figure"]).drop_nulls("diff_mean")
    rows = rows.filter(pl.col("diff_mean").is_finite())
    if rows.height == 0:
        return lang.t("c.forest.read_none", n_all=n_all)
    best = rows.sort(pl.col("diff_mean").abs()).row(-1, named=True)
    unit = str(main["unit"])
    label = figure_label(lang, main["figure"], main["label"])
    cost = ""
    cost_row = table.filter(
        (pl.col("figure") == "state_cost_total_vnd") & (pl.col("scenario") == best["scenario"])
    )
    if cost_row.height:
        c = cost_row.row(0, named=True)
        cost = lang.t(
            "c.forest.cost",
            diff=fmt_diff(lang, c["diff_mean"], "VND", short=True),
            interval=interval_text(lang, c["diff_lo"], c["diff_hi"], "VND", short=True),
        )
    return lang.t(
        "c.forest.read",
        scenario=best["scenario"],
        figure=label[:1].lower() + label[1:],
        diff=fmt_diff(lang, best["diff_mean"], unit),
        interval=interval_text(lang, best["diff_lo"], best["diff_hi"], unit),
        cost=cost,
        n_yes=n_yes,
        n_all=n_all,
    )


def _finite(value: object) -> float | None:
    if value is None:
        return None
    value = float(value)  # type: ignore[arg-type]
    return value if math.isfinite(value) else None
