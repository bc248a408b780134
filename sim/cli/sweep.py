"""`welfare-sim sweep` and `welfare-sim sensitivity`: the commands over welfare_sim.sim.experiments.sweep
and .sensitivity (parse, run, print)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from welfare_sim.sim.cli import err, fail, out

if TYPE_CHECKING:
    from welfare_sim.sim.experiments.sweep import Sweep


def _describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


def sweep_command(
    sweep_file: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    out_dir: Path | None = None,
) -> None:
    """Run a parameter sweep: every point of a grid or design, with the same seeds."""
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from welfare_sim.sim.experiments.sweep import (
        EXIT_INTERRUPTED,
        EXIT_SOME_FAILED,
        load_sweep,
        run_sweep,
    )
    from welfare_sim.sim.scenario import ScenarioError

    try:
        sweep = load_sweep(sweep_file, out_dir)
    except ScenarioError as exc:
        fail(exc.problems)
    n_points, n_runs = len(sweep.points), len(sweep.points) * len(sweep.seeds)
    where = (
        f"Dask scheduler {scheduler}"
        if scheduler
        else (
            "this process" if (workers or os.cpu_count() or 1) == 1 else f"{workers or os.cpu_count()} worker processes"
        )
    )
    err.print(
        f"sweep {sweep.name}: {n_points} points × {len(sweep.seeds)} seeds = {n_runs} runs of "
        f"{sweep.months} months, on {where}",
        highlight=False,
    )
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} runs · {task.fields[points]}/" + f"{n_points} points ·"),
        TextColumn("[red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
    )
    bar = progress.add_task(sweep.name, total=n_runs, points=0, failed=0)

    started = False

    def on_run(done: int, points_done: int, failed: int, total: int) -> None:
        nonlocal started
        if not started:  # runs already done count for the bar, not for the speed behind the eta
            progress.reset(bar, completed=done, points=points_done, failed=failed)
            started = True
        progress.update(bar, completed=done, points=points_done, failed=failed)

    progress.start()
    try:
        result = run_sweep(sweep, workers=workers, scheduler=scheduler, on_run=on_run)
    except ScenarioError as exc:  # also an out: folder that must not be written (checked before any run)
        progress.stop()
        fail(exc.problems)
    except KeyboardInterrupt:
        progress.stop()
        err.print(
            "interrupted: finished runs are kept; run the same command again to go on",
            highlight=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except OSError as exc:
        progress.stop()
        err.print(
            f"[bold red]error:[/] cannot write the sweep folder {sweep.out}: "
            f"{exc.strerror or exc}; "
            "choose another out:",
            highlight=False,
        )
        raise typer.Exit(1) from None
    progress.stop()
    _print_points(sweep)
    out.print(
        f"{result.runs} runs: {result.ran} ran now, {result.skipped} were already done, "
        f"{len(result.failures)} failed · {result.wall_s:.1f} s · results in {sweep.out}/results/ "
        "(one Parquet file per run, hive-partitioned by point and seed)",
        highlight=False,
    )
    if result.failures:
        err.print(
            f"[bold red]{len(result.failures)} run(s) failed[/] "
            f"(recorded in {sweep.out}/failures/; "
            "fix the cause and run the sweep again to retry them):",
            highlight=False,
        )
        by_point: dict[str, list[dict[str, Any]]] = {}
        for f in result.failures:
            by_point.setdefault(f["point"], []).append(f)
        order = {p.id: i for i, p in enumerate(sweep.points)}
        shown = sorted(by_point, key=lambda pid: order.get(pid, 0))
        for pid in shown[:20]:
            fails = sorted(by_point[pid], key=lambda f: f["seed"])
            seeds = ", ".join(str(f["seed"]) for f in fails)
            first = fails[0]
            err.print(
                f"  point {pid} ({_describe(first['parameters'])}), "
                f"seed{'s' * (len(fails) > 1)} {seeds}: {first['kind']}: "
                f"{first['error']}",
                markup=False,
                highlight=False,
            )
        if len(shown) > 20:
            err.print(f"  ... and {len(shown) - 20} more points", highlight=False)
        raise typer.Exit(EXIT_SOME_FAILED)


_TABLE_FIGURES = {
    "account_coverage.last_month": ("accounts, last month", "pct"),
    "cashless_share.run_payments": ("cashless", "pct"),
    "unpaid_by_subgroup.all.unpaid_share": ("unpaid", "pct"),
    "queue_wait.post_office.p95_min": ("p95 wait PO", "min"),
    "cost_vnd.state_per_payment": ("state cost/payment", "vnd"),
}


def _print_points(sweep: Sweep, limit: int = 30) -> None:
    """Mean over seeds of a few headline figures per point, for sweeps small enough to read."""
    import polars as pl
    from rich.table import Table

    from welfare_sim.sim.experiments.sweep import read_results

    rows = read_results(sweep.out)
    if rows.is_empty() or len(sweep.points) > limit:
        return
    ids = [p.id for p in sweep.points]
    figures = [f for f in _TABLE_FIGURES if f in rows.columns]
    means = (
        rows.filter(pl.col("point").is_in(ids), pl.col("seed").is_in(sweep.seeds))
        .group_by("point")
        .agg(pl.len().alias("seeds"), *[pl.col(f).mean() for f in figures])
    )
    by_id = {r["point"]: r for r in means.iter_rows(named=True)}
    table = Table(title=f"{sweep.name}: mean over seeds", header_style="bold")
    for p in sweep.dtypes:
        table.add_column(".".join(p.split(".")[-2:]))
    table.add_column("seeds", justify="right")
    for f in figures:
        table.add_column(_TABLE_FIGURES[f][0], justify="right")
    for p in sweep.points:
        r = by_id.get(p.id)
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in p.values.values()]
        if r is None:
            table.add_row(*cells, "0", *["failed"] * len(figures))
            continue
        fmt = {
            "pct": lambda x: f"{100 * x:.1f} %",
            "min": lambda x: f"{x:,.0f} min",
            "vnd": lambda x: f"{x:,.0f} VND",
        }
        table.add_row(
            *cells,
            str(r["seeds"]),
            *["n/a" if r[f] is None else fmt[_TABLE_FIGURES[f][1]](r[f]) for f in figures],
        )
    out.print(table)


def sweep_cli(
    sweep_file: Annotated[Path, typer.Argument(help="sweep YAML file (see docs/sweeps.md)")],
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="worker processes (default: one per core; 1 runs serially)"),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address, e.g. tcp://host:8786: run the sweep there"),
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="output folder (default: the file's out:)")] = None,
) -> None:
    """Run a parameter sweep (a grid or a design of values, the same seeds at every point).

    Re-running the same sweep skips finished runs. Exit code 3 if some runs failed.
    """
    sweep_command(sweep_file, workers, scheduler, out_dir)


def sensitivity_command(
    sweep_dir: Annotated[Path, typer.Argument(help="output folder of a sweep with design method saltelli")],
    figure: Annotated[
        list[str] | None,
        typer.Option("--figure", help="headline figure to analyse, e.g. cost_vnd.state_total (repeatable)"),
    ] = None,
    resamples: Annotated[int, typer.Option(min=10, help="bootstrap resamples for the confidence intervals")] = 1000,
    conf_level: Annotated[float, typer.Option(min=0.5, max=0.999, help="confidence level of the intervals")] = 0.95,
) -> None:
    """Which assumptions drive the answer: Sobol' indices from a saltelli-design sweep.

    Averages each headline figure over the seeds at each point, then prints first-order and
    total indices with confidence intervals, and writes sensitivity/ (PNG, Parquet, CSV).
    """
    import polars as pl
    from rich.table import Table

    from welfare_sim.sim.experiments.sensitivity import (
        DEFAULT_FIGURES,
        DRIVER_ST,
        _num,
        plot_indices,
        reliability_warnings,
        sobol_indices,
    )
    from welfare_sim.sim.experiments.sweep import read_manifest
    from welfare_sim.sim.publish import atomic_write_bytes, atomic_write_parquet
    from welfare_sim.sim.scenario import ScenarioError

    try:
        table, notes = sobol_indices(sweep_dir, figure, resamples, conf_level)
    except ScenarioError as exc:
        fail(exc.problems)
    manifest = read_manifest(sweep_dir)
    pct = f"{conf_level:.0%}"
    for fig in table["figure"].unique(maintain_order=True):
        part = table.filter(pl.col("figure") == fig).sort("ST", descending=True)
        first = part.row(0, named=True)
        t = Table(
            title=f"{DEFAULT_FIGURES.get(fig, fig)} — mean {_num(first['mean'])}, "
            f"sd {_num(first['std'])} across points",
            header_style="bold",
            title_justify="left",
        )
        t.add_column("parameter", overflow="fold")
        t.add_column(f"first order S1 (± {pct})", justify="right")
        t.add_column(f"total ST (± {pct})", justify="right")
        for r in part.iter_rows(named=True):
            t.add_row(
                r["parameter"],
                f"{r['S1']:.3f} ± {r['S1_conf']:.3f}",
                f"{r['ST']:.3f} ± {r['ST_conf']:.3f}",
            )
        out.print(t)
    for note in notes:
        err.print(f"note: {note}", highlight=False, markup=False)
    warnings = reliability_warnings(table, int(manifest["parameters"]["design"].get("samples", 0)))
    for warning in warnings:
        err.print(f"warning: {warning}", highlight=False, markup=False)
    if table.is_empty():
        fail([f"{sweep_dir}: no figure varies across the sweep's points; nothing to analyse"])
    target = Path(sweep_dir) / "sensitivity"
    target.mkdir(exist_ok=True)
    atomic_write_parquet(target / "indices.parquet", table)
    atomic_write_bytes(target / "indices.csv", table.write_csv().encode())
    n = len(manifest["design"])
    marks = plot_indices(
        table,
        target / "sensitivity.png",
        f"{manifest['name']}: Sobol' indices ({n} points × {len(manifest['seeds'])} seeds, mean over seeds)",
    )
    for mark in marks:
        err.print(f"note: sensitivity.png marks a value past its axis: {mark}", highlight=False, markup=False)
    out.print(
        "[bold]what drives each figure[/] (total index ST ≥ 0.1, largest first"
        + ("; unreliable, see the warnings" if warnings else "")
        + "):"
    )
    for fig in table["figure"].unique(maintain_order=True):
        part = table.filter(pl.col("figure") == fig, pl.col("ST") >= DRIVER_ST).sort("ST", descending=True)
        drivers = ", ".join(f"{r['parameter']} ({r['ST']:.2f})" for r in part.iter_rows(named=True))
        out.print(
            f"  {DEFAULT_FIGURES.get(fig, fig)}: {drivers or 'no parameter matters much'}",
            highlight=False,
        )
    out.print(f"wrote {target}/indices.parquet, indices.csv and sensitivity.png", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `sweep` and `sensitivity` to `welfare-sim` (entry point group welfare_sim.commands)."""
    app.command(name="sweep")(sweep_cli)
    app.command(name="sensitivity")(sensitivity_command)
