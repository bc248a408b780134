"""`welfare-sim calibrate`: fit a scenario's free parameters to dated targets, and report the fit."""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated

import typer


def calibrate(
    scenario: Annotated[
        Path, typer.Argument(help="scenario YAML file with a `calibration:` block")
    ],
    targets: Annotated[
        Path, typer.Option("--targets", help="target file, e.g. calibration/targets/hoa_binh.yaml")
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="output folder (default outputs/calibrate-NAME)")
    ] = None,
    seeds: Annotated[
        int, typer.Option(min=1, max=64, help="seeds per evaluation (common random numbers)")
    ] = 3,
    method: Annotated[
        str, typer.Option(help="least_squares or differential_evolution")
    ] = "least_squares",
    budget: Annotated[
        int, typer.Option(min=4, help="most model evaluations for the fit (each runs every seed)")
    ] = 150,
    loo: Annotated[
        bool, typer.Option(help="leave-one-out: refit without each target and predict it")
    ] = True,
    loo_budget: Annotated[
        int | None,
        typer.Option(min=4, help="evaluations per leave-one-out refit (default --budget)"),
    ] = None,
    loo_seeds: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="seeds per leave-one-out refit, the first of --seeds (default all): a cost cap, "
            "said in the report",
        ),
    ] = None,
    sample_fraction: Annotated[
        float | None,
        typer.Option(
            min=0.0001,
            max=1.0,
            help="fit on this fraction of each commune (counts scaled up); "
            "the calibrated scenario keeps its own sample_fraction",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = min(
        2, os.cpu_count() or 1
    ),
    max_error: Annotated[
        float,
        typer.Option(
            min=0.0, help="largest accepted relative error on a fitted target (0.25 = 25 %)"
        ),
    ] = 0.25,
    band_draws: Annotated[
        int,
        typer.Option(
            min=0,
            max=200,
            help="parameter vectors drawn from the fit's approximate posterior for the projection "
            "band (coverage to the end of the run; each runs every seed); 0: no band",
        ),
    ] = 8,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a scenario value: key.path=value")
    ] = None,
) -> None:
    """Fit the scenario's free parameters to the targets; write the calibrated scenario, fit report and plot.

    Exit codes: 0 accepted fit; 1 fit not converged or not accepted (nothing is written as
    scenario.calibrated.yaml); 2 bad input.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from welfare_sim.calibration.fit import METHODS, FitError, fitted_data
    from welfare_sim.calibration.fit import calibrate as run_fit
    from welfare_sim.calibration.report import CALIBRATED, UNACCEPTED, write_outputs
    from welfare_sim.calibration.targets import check_targets, load_targets
    from welfare_sim.sim.cli import fail, out_folder
    from welfare_sim.sim.publish import OutputError, building
    from welfare_sim.sim.scenario import (
        ScenarioError,
        apply_overrides,
        read_yaml,
        resolve_extends,
        validate_scenario,
    )

    out = Console()
    err = Console(stderr=True, soft_wrap=True)
    if method not in METHODS:
        fail([f"--method {method}: unknown method; use one of {', '.join(METHODS)}"])
    overrides = list(set_ or [])
    try:
        data = resolve_extends(scenario.resolve(), read_yaml(scenario))
        if overrides:
            data = apply_overrides(data, overrides)
        sc = validate_scenario(data, str(scenario))
        if sc.calibration is None:
            raise ScenarioError(
                [
                    f"{scenario} › calibration: no free parameters declared; add a `calibration: "
                    "free_parameters:` list (path, lower, upper) to the scenario"
                ]
            )
        fit_data = data
        if sample_fraction is not None:
            fit_data = apply_overrides(data, [f"geography.sample_fraction={sample_fraction!r}"])
        fit_sc = validate_scenario(fit_data, str(scenario))
        tf = load_targets(targets)
        problems = check_targets(tf, fit_sc, str(targets))
        if problems:
            raise ScenarioError(problems)
    except ScenarioError as exc:
        fail(exc.problems)

    out_dir = out_folder(out_dir, Path("outputs") / f"calibrate-{sc.name}", "calibration")
    seed_list = [sc.seed + i for i in range(seeds)]
    command = (
        "welfare-sim calibrate " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        if len(sys.argv) > 2
        else f"welfare-sim calibrate {scenario} --targets {targets}"
    )
    n_fit = sum(t.fitted for t in tf.targets)
    k = len(sc.calibration.free_parameters)
    estimate = budget + 1 + 2 * k + (n_fit * (loo_budget or budget) if loo and n_fit > 1 else 0)
    estimate += band_draws + 1 if band_draws else 0
    out.print(
        f"calibrating {sc.name}: {k} free parameters, {n_fit} fitted targets "
        f"({len(tf.targets) - n_fit} checks), seeds {seed_list}, method {method}, "
        f"sample fraction {fit_sc.geography.sample_fraction:g}, {workers} worker(s)",
        highlight=False,
    )
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} evaluations (≤ ~{task.total})"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = progress.add_task("fit", total=estimate)
    t0 = time.perf_counter()
    # a log (stderr not a terminal) gets plain lines instead of the bar: each stage as it starts,
    # then the count of evaluations at most once a minute, so a long fit shows it is moving
    plain = not err.is_terminal
    last_line = [t0, "fit"]

    def log_line(text: str) -> None:
        minutes, seconds = divmod(int(time.perf_counter() - t0), 60)
        err.print(f"{text} ({minutes} min {seconds:02d} s)", highlight=False, markup=False)
        last_line[0] = time.perf_counter()

    def on_stage(label: str, total: int) -> None:
        progress.update(task, description=label)
        last_line[1] = label
        if plain:
            log_line(f"{label}: started, at most ~{total} evaluations")

    def on_evaluation(n: int) -> None:
        progress.update(task, completed=n)
        if plain and time.perf_counter() - last_line[0] >= 60:
            log_line(f"{last_line[1]}: {n} evaluations done (≤ ~{estimate} in all)")

    try:
        with progress:
            result = run_fit(
                fit_sc,
                fit_data,
                list(tf.targets),
                seed_list,
                method=method,
                budget=budget,
                loo=loo,
                loo_budget=loo_budget,
                workers=workers,
                max_rel_error=max_error,
                band_draws=band_draws,
                loo_seeds=loo_seeds,
                on_evaluation=on_evaluation,
                on_stage=on_stage,
            )
    except FitError as exc:
        fail([f"{scenario}: {exc}"])
    except ScenarioError as exc:
        fail(exc.problems)
    wall = time.perf_counter() - t0

    free = sc.calibration.free_parameters
    from welfare_sim.calibration.fit import Evaluator

    integers = Evaluator(data, list(free), [], (), 1).integers
    calibrated = fitted_data(data, free, integers, result.u)
    validate_scenario(calibrated, "calibrated scenario")
    try:
        with building(out_dir, "calibration") as staging:
            write_outputs(staging, result, list(tf.targets), calibrated, sc.start, command, str(targets))
    except OutputError as exc:  # the folder changed while the fit ran
        fail(exc.problems)
    except OSError as exc:
        err.print(
            f"[bold red]error:[/] cannot write {out_dir}: {exc.strerror or exc}; choose another --out",
            highlight=False,
        )
        raise typer.Exit(1) from None

    from rich.table import Table

    table = Table(title=f"{sc.name}: fit ({wall:.0f} s, {result.evaluations} evaluations)")
    for col in ("target", "month", "target value", "model", "rel. error", "LOO error"):
        table.add_column(col, justify="left" if col in ("target", "month") else "right")
    for t in result.targets:
        name = t.name if t.fitted else f"{t.name} (check {'pass' if t.passes else 'FAIL'})"
        loo_err = "–" if t.loo_rel_error is None else f"{100 * t.loo_rel_error:+.1f} %"
        table.add_row(
            name,
            t.month,
            f"{t.relation} {t.observed:,.4g}",
            f"{t.model:,.4g}",
            f"{100 * t.rel_error:+.1f} %",
            loo_err,
        )
    out.print(table)
    ptable = Table(title="fitted parameters")
    for col in ("parameter", "start", "fitted", "approx. 95 % interval", "warning"):
        ptable.add_column(col)
    for p in result.parameters:
        ptable.add_row(
            p.path,
            f"{p.start:.4g}",
            f"{p.value:.4g}",
            f"{p.low95:.4g} – {p.high95:.4g}",
            "; ".join(w.split(":")[0] for w in p.warnings) or "–",
        )
    out.print(ptable)
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    for p in result.parameters:
        for w in p.warnings:
            err.print(f"[yellow]warning:[/] {p.path}: {w}", highlight=False)
    if result.accepted:
        out.print(
            f"wrote {out_dir}/{CALIBRATED}, fit_report.md, fit_report.json, fit.png"
            + (", projection.png" if result.projection is not None else ""),
            highlight=False,
        )
        return
    label = "did not converge" if not result.converged else "was not accepted"
    err.print(
        f"[bold red]error:[/] the fit {label}: {result.message}\n"
        f"  stopped at: " + ", ".join(f"{p.path}={p.value:.4g}" for p in result.parameters) + "\n"
        f"  nothing written as {CALIBRATED}; the values are in {out_dir}/{UNACCEPTED} for inspection",
        highlight=False,
    )
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)
