"""Global sensitivity of the headline figures: Sobol' indices from a Saltelli-design sweep.

The sweep must use ``design: {method: saltelli, samples: N, ranges: ...}``: SALib's Sobol'
sample (Saltelli's scheme with Sobol' sequences, first-order and total indices only), which
gives N·(D+2) points for D ranges. Each figure is first averaged over the sweep's seeds at each
point (common random numbers, so the seed noise is the same at every point and averaging
lowers it); SALib's ``sobol.analyze`` then estimates, per parameter:

- S1, the first-order index: the share of the figure's variance due to that parameter alone;
- ST, the total index: its share including every interaction with the others;

each with a bootstrap confidence interval (half-width at the chosen level). A parameter with
ST near 0 does not matter for that figure over the ranges given.

Writes SWEEP_DIR/sensitivity/indices.parquet and .csv (one row per figure × parameter) and
sensitivity.png (bar charts of S1 and ST).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from welfare_sim.sim.experiments.sweep import read_manifest, read_results
from welfare_sim.sim.scenario import ScenarioError

DEFAULT_FIGURES = {
    "account_coverage.last_month": "account coverage, last month",
    "cashless_share.run_payments": "cashless share of payments",
    "unpaid_by_subgroup.all.unpaid_share": "unpaid share (all)",
    "unpaid_by_subgroup.aged_80_plus.unpaid_share": "unpaid share (aged 80+)",
    "days_to_money.mean_days": "days to money, mean",
    "queue_wait.commune_point.p95_min": "p95 wait at commune points (min)",
    "queue_wait.post_office.p95_min": "p95 wait at post offices (min)",
    "cost_vnd.state_per_payment": "state cost per payment (VND)",
    "cost_vnd.beneficiary_per_payment": "beneficiary cost per payment (VND)",
    "cost_vnd.state_total": "state total cost (VND)",
}


# a parameter with a total index below this explains under a tenth of the variance
DRIVER_ST = 0.1


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def point_means(sweep_dir: Path, figures: list[str]) -> tuple[dict[str, Any], pl.DataFrame]:
    """The manifest and, in design order, each figure's mean over the sweep's seeds per point."""
    manifest = read_manifest(sweep_dir)
    where = f"{sweep_dir}/sweep.json"
    params = manifest["parameters"]
    design = params.get("design")
    if not design or design.get("method") != "saltelli":
        method = design.get("method") if design else "grid"
        raise ScenarioError(
            [
                f"{where}: the sweep is a {method} design; Sobol' indices need "
                "parameters.design.method: saltelli (samples: N); run such a sweep first"
            ]
        )
    rows = read_results(sweep_dir)
    missing = [f for f in figures if f not in rows.columns] if not rows.is_empty() else []
    if missing:
        raise ScenarioError(
            [f"--figure {f}: not a headline figure of this sweep; known: {', '.join(DEFAULT_FIGURES)}" for f in missing]
        )
    order = pl.DataFrame({"point": [d["point"] for d in manifest["design"]]}).with_row_index("row")
    means = (
        rows.filter(pl.col("seed").is_in(manifest["seeds"]))
        .group_by("point")
        .agg(pl.len().alias("seeds"), *[pl.col(f).cast(pl.Float64).mean() for f in figures])
        if not rows.is_empty()
        else pl.DataFrame(schema={"point": pl.String, "seeds": pl.UInt32, **{f: pl.Float64 for f in figures}})
    )
    joined = order.join(means, on="point", how="left").sort("row")
    absent = joined.filter(pl.col("seeds").is_null())["point"].unique(maintain_order=True).to_list()
    if absent:
        raise ScenarioError(
            [
                f"{sweep_dir}: {len(absent)} of {joined['point'].n_unique()} points have no "
                f"finished run (e.g. {', '.join(absent[:3])}); run the sweep again to finish "
                "them (see failures/)"
            ]
        )
    return manifest, joined


def sobol_indices(
    sweep_dir: Path,
    figures: list[str] | None = None,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> tuple[pl.DataFrame, list[str]]:
    """Sobol' indices per figure and parameter; also notes on figures that were left out."""
    from SALib.analyze import sobol

    figures = list(figures or DEFAULT_FIGURES)
    manifest, means = point_means(sweep_dir, figures)
    ranges = manifest["parameters"]["design"]["ranges"]
    names = list(ranges)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(ranges[n]) for n in names]}
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    for fig in figures:
        y = means[fig].to_numpy()
        if np.isnan(y).any():
            notes.append(f"{fig}: undefined at some points (no payments of that kind); left out")
            continue
        if np.ptp(y) == 0:
            notes.append(f"{fig}: the same at every point ({y[0]:.6g}); no parameter moves it")
            continue
        si = sobol.analyze(
            problem,
            y,
            calc_second_order=False,
            num_resamples=resamples,
            conf_level=conf_level,
            seed=seed,
        )
        for j, name in enumerate(names):
            records.append(
                {
                    "figure": fig,
                    "parameter": name,
                    "S1": float(si["S1"][j]),
                    "S1_conf": float(si["S1_conf"][j]),
                    "ST": float(si["ST"][j]),
                    "ST_conf": float(si["ST_conf"][j]),
                    "mean": float(y.mean()),
                    "std": float(y.std(ddof=1)),
                }
            )
    schema = {
        "figure": pl.String,
        "parameter": pl.String,
        "S1": pl.Float64,
        "S1_conf": pl.Float64,
        "ST": pl.Float64,
        "ST_conf": pl.Float64,
        "mean": pl.Float64,
        "std": pl.Float64,
    }
    return pl.DataFrame(records, schema=schema, orient="row"), notes


# Saltelli's estimators need samples: below this many per parameter (N of N·(D+2) points) the
# bootstrap intervals are mostly noise (SALib's examples use N = 1024; 64 is a floor, not a target)
MIN_SAMPLES = 64
# an index whose interval is wider than this either way cannot rank parameters (indices run 0 to 1)
MAX_CONF = 0.25
AXIS = (-0.2, 1.2)  # the chart's index axis; values past it are marked, not silently clipped


def _unsure(index: float, conf: float) -> bool:
    """Too wide an interval, or an index outside 0 to 1 by more than its interval (and a margin)."""
    return not conf <= MAX_CONF or not -conf - 0.05 <= index <= 1 + conf + 0.05


def reliability_warnings(table: pl.DataFrame, samples: int) -> list[str]:
    """Why the indices cannot be trusted, if they cannot: too few samples for the design, or
    intervals too wide to tell the parameters apart, or indices far outside 0 to 1."""
    warnings = []
    if samples < MIN_SAMPLES:
        warnings.append(
            f"the design has samples: {samples} (N of N·(D+2) points); Sobol' indices and their intervals "
            f"from fewer than {MIN_SAMPLES} are unreliable: set parameters.design.samples to {MIN_SAMPLES} or more "
            "and run the sweep again"
        )
    for fig in table["figure"].unique(maintain_order=True).to_list():
        part = table.filter(pl.col("figure") == fig)
        wide = [
            f"{r['parameter']} {name} {r[name]:.3f} ± {r[f'{name}_conf']:.3f}"
            for r in part.iter_rows(named=True)
            for name in ("S1", "ST")
            if _unsure(r[name], r[f"{name}_conf"])
        ]
        if wide:
            warnings.append(
                f"{fig}: intervals too wide to rank the parameters ({'; '.join(wide[:3])}"
                f"{'; …' if len(wide) > 3 else ''}); more samples narrow them"
            )
    return warnings


def plot_indices(table: pl.DataFrame, path: Path, title: str) -> list[str]:
    """Bar charts of S1 and ST with their intervals; returns the values marked past the axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = table["figure"].unique(maintain_order=True).to_list()
    params = table["parameter"].unique(maintain_order=True).to_list()
    ncols = 2 if len(figures) > 1 else 1
    nrows = -(-len(figures) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(6.5 * ncols, 0.45 * len(params) * nrows + 1.4 * nrows + 0.6),
        squeeze=False,
        sharex=False,
    )
    y = np.arange(len(params))
    marks: list[str] = []
    for ax, name in zip(axes.flat, figures, strict=False):
        part = table.filter(pl.col("figure") == name)
        by = {r["parameter"]: r for r in part.iter_rows(named=True)}
        s1 = [by[p]["S1"] for p in params]
        st = [by[p]["ST"] for p in params]
        ax.barh(
            y + 0.2,
            s1,
            0.4,
            xerr=[by[p]["S1_conf"] for p in params],
            label="first order S1",
            color="#4c72b0",
        )
        ax.barh(
            y - 0.2,
            st,
            0.4,
            xerr=[by[p]["ST_conf"] for p in params],
            label="total ST",
            color="#dd8452",
        )
        ax.set_yticks(
            y,
            [p.removeprefix("assumptions.").removeprefix("interventions.") for p in params],
            fontsize=8,
        )
        ax.invert_yaxis()
        ax.axvline(0, color="grey", lw=0.6)
        ax.set_title(DEFAULT_FIGURES.get(name, name), fontsize=10)
        ax.set_xlim(*AXIS)
        for offset, key in ((0.2, "S1"), (-0.2, "ST")):
            for k, p in enumerate(params):
                value, conf = by[p][key], by[p][f"{key}_conf"]
                if AXIS[0] <= value - conf and value + conf <= AXIS[1]:
                    continue
                # a bar or its interval runs past the axis: an arrow at the edge and the figures
                edge = AXIS[1] if value + conf > AXIS[1] else AXIS[0]
                text = f"{key} {value:.2f} ± {conf:.2f}"
                marks.append(f"{name} / {p}: {text}")
                ax.annotate(
                    text + (" ▶" if edge == AXIS[1] else ""),
                    xy=(edge, k + offset),
                    xytext=(-3 if edge == AXIS[1] else 3, 0),
                    textcoords="offset points",
                    ha="right" if edge == AXIS[1] else "left",
                    va="center",
                    fontsize=7,
                    color="#b00000",
                )
    for ax in list(axes.flat)[len(figures) :]:
        ax.set_visible(False)
    fig.supxlabel(
        "share of the figure's variance (Sobol' index)"
        + ("; red: a value or interval past the axis, as printed" if marks else ""),
        fontsize=10,
    )
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", fontsize=8, ncols=2)
    fig.suptitle(title, fontsize=11, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    from welfare_sim.sim.publish import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return marks
