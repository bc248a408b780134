"""Write a fit's outputs: the calibrated scenario, the fit report (Markdown and JSON), the plot."""

from __future__ import annotations

import datetime as dt
import io
import math
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from welfare_sim.calibration.fit import FitResult
from welfare_sim.calibration.targets import QUANTITIES, Target
from welfare_sim.models.params import month_label, month_offset
from welfare_sim.sim.publish import atomic_write_bytes, write_json

CALIBRATED = "scenario.calibrated.yaml"
UNACCEPTED = "scenario.NOT-ACCEPTED.yaml"


def _fmt(value: float | None, kind: str) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if kind == "share":
        return f"{100 * value:.2f} %"
    if kind == "vnd":
        return f"{value:,.0f} VND"
    return f"{value:,.0f}"


def _sd(value: float, kind: str) -> str:
    return f"{100 * value:.2f} pt" if kind == "share" else _fmt(value, kind)


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:+.1f} %"


def _num(value: float) -> str:
    return f"{value:.4g}"


def status_line(result: FitResult) -> str:
    if result.accepted:
        return "ACCEPTED: the optimiser converged and every fitted target is within --max-error"
    if not result.converged:
        return "NOT CONVERGED: " + result.message
    return "NOT ACCEPTED: " + result.message


def markdown(result: FitResult, command: str, targets_file: str) -> str:
    lines = [
        f"# Calibration of `{result.scenario}`",
        "",
        f"- command: `{command}`",
        f"- targets: `{targets_file}`",
        f"- method: {result.method}; seeds {result.seeds} (common random numbers); "
        f"{result.months} months simulated; sample fraction {result.sample_fraction:g} "
        "(counts scaled by 1 / sample fraction)",
        f"- model evaluations: {result.evaluations} (each runs every seed)",
        f"- cost (sum of squared standardised residuals): {result.start_cost:.3g} at the start → "
        f"{result.cost:.3g} at the fit",
        f"- **{status_line(result)}**",
        "",
        "## Targets",
        "",
        "Model value = mean over seeds ± sd over seeds (min–max over seeds in brackets). Relative error = "
        "(model − target) / target. Leave-one-out (LOO): the target is dropped, the others refitted "
        "from the prior (the values before any fit, not the fit's), "
        "and the dropped figure predicted. A check is never fitted, so its LOO prediction is the "
        "fit's own value.",
        "",
        *(
            [
                f"Each leave-one-out refit ran seeds {result.seeds[: result.loo_seeds]} "
                f"({result.loo_seeds} of the fit's {len(result.seeds)}).",
                "",
            ]
            if result.loo_seeds
            else []
        ),
        "| target | month | scope | quantity | target | model | rel. error | LOO prediction | LOO error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for t in result.targets:
        kind = QUANTITIES[t.quantity].kind
        role = "" if t.fitted else f" (check {t.relation}: {'pass' if t.passes else 'FAIL'})"
        loo = _fmt(t.loo_model, kind) if t.loo_model is not None else "–"
        if t.loo_converged is False:
            loo += " (not converged)"
        lines.append(
            f"| {t.name}{role} | {t.month} | {t.scope} | {t.quantity} | {t.relation} {_fmt(t.observed, kind)} | "
            f"{_fmt(t.model, kind)} ± {_sd(t.model_seed_sd, kind)} "
            f"[{_fmt(t.model_seed_min, kind)}–{_fmt(t.model_seed_max, kind)}] | "
            f"{_pct(t.rel_error)} | {loo} | {_pct(t.loo_rel_error) if t.loo_model is not None else '–'} |"
        )
    lines += [
        "",
        "## Fitted parameters",
        "",
        "Uncertainty: an approximate posterior (Laplace / Gauss-Newton: a central-difference "
        "Jacobian of the standardised residuals, with the bounds as a uniform prior approximated "
        "by a normal of the same sd), clipped to the bounds. A parameter is flagged when its "
        "residuals barely move across its range (flat), its sd stays above 60 % of the "
        "prior's (not pinned down), or it ends at a bound (the bound, not the figures, sets it).",
        "",
        "| parameter | prior | start | fitted | ± sd | approx. 95 % interval | bounds | warnings |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in result.parameters:
        warn = "; ".join(p.warnings) if p.warnings else "–"
        lines.append(
            f"| `{p.path}` | {'–' if p.prior is None else _num(p.prior)} | {_num(p.start)} |"
            f" **{_num(p.value)}** | {_num(p.sd or 0.0)} | "
            f"{_num(p.low95)} – {_num(p.high95)} | [{_num(p.lower)}, {_num(p.upper)}] {p.scale} | {warn} |"
        )
    warnings = list(result.warnings) + [
        f"`{p.path}`: {w}" for p in result.parameters for w in p.warnings
    ]
    lines += ["", "## Warnings", ""]
    lines += [f"- {w}" for w in warnings] or ["- none"]
    names = [
        p.path.split(".")[-1] if p.path.split(".")[-1] != "reach" else p.path
        for p in result.parameters
    ]
    lines += [
        "",
        "## Correlation of the fitted parameters (approximate)",
        "",
        "| | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for name, row in zip(names, result.correlation, strict=True):
        lines.append(f"| {name} | " + " | ".join(f"{x:+.2f}" for x in row) + " |")
    lines += ["", "Plot: `fit.png` (model trajectories over seeds against the target points).", ""]
    lines += projection_markdown(result)
    return "\n".join(lines)


def projection_markdown(result: FitResult, start: str | None = None) -> list[str]:
    band = result.projection
    if band is None:
        return []
    start = start or result.start
    out = [
        "## Projection: account coverage to the end of the run",
        "",
        f"Share of beneficiaries with an account ({band.scope}), every month of the run. Central: the "
        f"fitted values, mean over the {band.seeds} fit seeds. Band: 5 %–95 % over {band.draws} parameter "
        f"vectors drawn from the approximate posterior above (normal in unit coordinates, clipped to "
        f"the bounds), each run on the same {band.seeds} seeds, so it holds both the parameters' "
        "uncertainty and the seed noise. The scenario's strategies are as written; no new ones.",
        "",
        "![projection](projection.png)",
        "",
        "| month | central | 5 % | 95 % |",
        "|---|---|---|---|",
    ]
    for m in range(band.months):
        if m % 3 == 2 or m == band.months - 1:
            out.append(
                f"| {month_label(start, m)} | {100 * band.central[m]:.1f} % | "
                f"{100 * band.low[m]:.1f} % | {100 * band.high[m]:.1f} % |"
            )
    out.append("")
    return out


def _finite(value: Any) -> Any:
    """JSON has no NaN: missing model values become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def as_json(result: FitResult, command: str, targets_file: str) -> dict[str, Any]:
    return _finite(
        {
            "scenario": result.scenario,
            "command": command,
            "targets_file": targets_file,
            "status": status_line(result),
            "converged": result.converged,
            "accepted": result.accepted,
            "message": result.message,
            "method": result.method,
            "seeds": result.seeds,
            "months": result.months,
            "sample_fraction": result.sample_fraction,
            "evaluations": result.evaluations,
            "cost_start": result.start_cost,
            "cost": result.cost,
            "max_rel_error": result.max_rel_error,
            "loo_seeds": result.loo_seeds,
            "targets": [vars(t) for t in result.targets],
            "parameters": [vars(p) for p in result.parameters],
            "correlation": result.correlation,
            "warnings": result.warnings,
            "projection": None
            if result.projection is None
            else {
                "quantity": result.projection.quantity,
                "scope": result.projection.scope,
                "months": [month_label(result.start, m) for m in range(result.projection.months)],
                "draws": result.projection.draws,
                "seeds": result.projection.seeds,
                "central": result.projection.central.tolist(),
                "low_5": result.projection.low.tolist(),
                "high_95": result.projection.high.tolist(),
            },
        }
    )


def plot_png(result: FitResult, targets: list[Target], start: str) -> bytes:
    with warnings.catch_warnings():
        # a drive-visited scope has no people before the first visit: NaN there is expected
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        return _plot_png(result, targets, start)


def _plot_png(result: FitResult, targets: list[Target], start: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[tuple[str, str, str], list[int]] = {}
    for i, t in enumerate(targets):
        groups.setdefault((t.quantity, t.scope_label(), t.communes), []).append(i)
    n = len(groups)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.6 * rows), squeeze=False)
    months = result.series.shape[2]
    x = np.arange(months)
    labels = [month_label(start, m) for m in range(months)]
    for ax, ((quantity, scope, _c), idx) in zip(axes.flat, groups.items(), strict=False):
        kind = QUANTITIES[quantity].kind
        scale = 100.0 if kind == "share" else (1e-9 if kind == "vnd" else 1.0)
        unit = "%" if kind == "share" else ("bn VND" if kind == "vnd" else "people")
        ser = result.series[:, idx[0], :] * scale
        ax.fill_between(
            x,
            np.nanmin(ser, axis=0),
            np.nanmax(ser, axis=0),
            alpha=0.25,
            color="C0",
            label="model, range over seeds",
        )
        ax.plot(x, np.nanmean(ser, axis=0), color="C0", label="model, mean over seeds")
        for i in idx:
            t = targets[i]
            m = month_offset(start, t.month)
            marker = {"=": "o", ">=": "^", "<=": "v"}[t.relation]
            color = "C3" if t.fitted else "C2"
            ax.errorbar(
                [m],
                [t.value * scale],
                yerr=[2 * t.sd_rel * abs(t.value) * scale] if t.fitted else None,
                fmt=marker,
                color=color,
                capsize=3,
                label="target (fitted, ±2 sd)" if t.fitted else f"check ({t.relation})",
            )
        ax.set_title(f"{quantity}\n" + textwrap.fill(scope, 55), fontsize=9)
        ax.set_ylabel(unit)
        step = max(1, months // 6)
        ax.set_xticks(x[::step], labels[::step], rotation=30, fontsize=7)
        ax.grid(alpha=0.3)
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=6, loc="best")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"{result.scenario}: model against targets ({status_line(result).split(':')[0]})",
        fontsize=11,
    )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def projection_png(result: FitResult, targets: list[Target], start: str) -> bytes:
    """The coverage band over the whole run, with the account-share targets on it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    band = result.projection
    assert band is not None
    x = np.arange(band.months)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.fill_between(
        x, 100 * band.low, 100 * band.high, alpha=0.3, color="C0",
        label=f"5 %–95 % over {band.draws} posterior draws × {band.seeds} seeds",
    )
    ax.plot(x, 100 * band.central, color="C0", label="fitted values, mean over seeds")
    for t in targets:
        if t.quantity == band.quantity and t.scope == band.scope:
            m = month_offset(start, t.month)
            ax.errorbar(
                [m], [100 * t.value], yerr=[200 * t.sd_rel * t.value], fmt="o", color="C3",
                capsize=3, label=f"target {t.name} (±2 sd)",
            )
    fit_end = result.months - 1
    ax.axvline(fit_end, color="grey", ls=":", lw=1)
    ax.text(fit_end + 0.2, ax.get_ylim()[0] + 2, "last target month", fontsize=7, color="grey")
    labels = [month_label(start, m) for m in range(band.months)]
    step = max(1, band.months // 8)
    ax.set_xticks(x[::step], labels[::step], rotation=30, fontsize=7)
    ax.set_ylabel("% of beneficiaries with an account")
    ax.set_title(f"{result.scenario}: projected account coverage ({band.scope})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def calibrated_yaml(data: dict[str, Any], result: FitResult, command: str) -> str:
    today = dt.date.today().isoformat()
    head = [
        f"# Calibrated scenario written by `{command}` on {today}.",
        f"# {status_line(result)}",
        "# Fitted values (see fit_report.md for the fit error on every target):",
    ]
    head += [
        f"#   {p.path} = {_num(p.value)}  (started at {_num(p.start)})" for p in result.parameters
    ]
    if not result.accepted:
        head.insert(
            0, "# WARNING: THIS FIT WAS NOT ACCEPTED; do not use these values as calibrated."
        )
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + body


def write_outputs(
    out_dir: Path,
    result: FitResult,
    targets: list[Target],
    calibrated: dict[str, Any],
    start: str,
    command: str,
    targets_file: str,
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    md = out_dir / "fit_report.md"
    atomic_write_bytes(md, markdown(result, command, targets_file).encode())
    js = out_dir / "fit_report.json"
    write_json(js, as_json(result, command, targets_file))
    png = out_dir / "fit.png"
    atomic_write_bytes(png, plot_png(result, targets, start))
    proj = out_dir / "projection.png"
    if result.projection is not None:
        atomic_write_bytes(proj, projection_png(result, targets, start))
        written.append(proj)
    else:
        proj.unlink(missing_ok=True)  # never leave an older fit's band beside this fit
    name = CALIBRATED if result.accepted else UNACCEPTED
    stale = out_dir / (UNACCEPTED if result.accepted else CALIBRATED)
    stale.unlink(missing_ok=True)  # never leave an older accepted fit beside a failed one
    sc = out_dir / name
    atomic_write_bytes(sc, calibrated_yaml(calibrated, result, command).encode())
    written += [md, js, png, sc]
    return written
