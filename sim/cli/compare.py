"""`welfare-sim compare`: the command over welfare_sim.sim.experiments.compare (parse, run, print)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from welfare_sim.sim.cli import DelayedProgress, err, fail, out, out_folder


def compare(
    base: Annotated[Path, typer.Argument(help="the base scenario (the plan the others are compared with)")],
    others: Annotated[list[Path], typer.Argument(help="the strategy scenarios to compare with the base")],
    seeds: Annotated[int, typer.Option(min=1, max=1000, help="seeds per scenario (the same seeds for all)")] = 5,
    first_seed: Annotated[int | None, typer.Option(help="first seed (default: the base scenario's seed)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
    months: Annotated[
        int | None,
        typer.Option(min=1, max=240, help="months to simulate (default: the scenarios')"),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="comparison folder (default: outputs/compare-BASE-HASH)"),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="also write the report of the comparison (welfare_sim.sim.report)")
    ] = False,
    lang: Annotated[str, typer.Option(help="language of the report: en or vi")] = "en",
) -> None:
    """Compare strategies: run every scenario over the same seeds (common random numbers), print
    each headline figure with its difference from the base and a 95 % interval, and write the
    comparison folder (tables as parquet, a PNG of coverage and cashless share over time)."""
    from welfare_sim.sim.experiments.compare import (
        console_groups,
        default_out,
        run_all,
        table_for_console,
        unique_names,
        write_comparison,
    )
    from welfare_sim.sim.publish import OutputError
    from welfare_sim.sim.report.i18n import Lang
    from welfare_sim.sim.scenario import ScenarioError, load_scenario

    if lang not in ("en", "vi"):
        fail([f"--lang {lang!r}: must be en or vi"])
    paths = [base, *others]
    scenarios, problems = [], []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        fail(problems)
    ref = scenarios[0]
    for path, sc in zip(paths[1:], scenarios[1:], strict=True):
        if sc.start != ref.start or (months is None and sc.months != ref.months):
            problems.append(
                f"{path}: covers {sc.start} for {sc.months} months but the base {base} covers "
                f"{ref.start} for {ref.months}; give them the same start and months "
                "(or pass --months)"
            )
    if problems:
        fail(problems)
    start_seed = ref.seed if first_seed is None else first_seed
    if not 0 <= start_seed <= 2**63 - 1 - seeds:
        fail([f"--first-seed {start_seed}: must be ≥ 0 and leave room for {seeds} seeds below 2**63"])
    seed_list = [start_seed + k for k in range(seeds)]
    sources = [str(p) for p in paths]
    names = unique_names(scenarios, sources)
    out_dir = out_folder(out_dir, default_out(scenarios, seed_list, months), "comparison")

    n_runs = len(scenarios) * len(seed_list)
    progress = DelayedProgress(n_runs, f"compare: {len(scenarios)} scenarios × {len(seed_list)} seeds")
    t0 = time.perf_counter()
    try:
        results = run_all(scenarios, sources, seed_list, months, workers, progress.advance)
    finally:
        progress.close()
    run_s = time.perf_counter() - t0
    try:
        table = write_comparison(
            out_dir,
            names,
            sources,
            seed_list,
            results,
            {"months": months or ref.months, "start": ref.start},
        )
    except OutputError as exc:  # the folder changed while the runs ran
        fail(exc.problems)
    except OSError as exc:
        err.print(
            f"[bold red]error:[/] cannot write the comparison folder {out_dir}: "
            f"{exc.strerror or exc}; "
            "choose another --out",
            highlight=False,
        )
        raise typer.Exit(1) from None
    wall = time.perf_counter() - t0
    words = Lang(lang)
    title = words.t(
        "term.compare_title",
        scenarios=len(scenarios),
        seeds=len(seed_list),
        first=seed_list[0],
        last=seed_list[-1],
        start=ref.start,
        months=months or ref.months,
    )
    groups = console_groups(names, out.width)
    for k, group in enumerate(groups):
        part = words.t("term.compare_part", k=k + 1, n=len(groups)) if len(groups) > 1 else ""
        out.print(table_for_console(table, group, len(seed_list), title + part, lang))
    if len(seed_list) < 2:
        out.print(words.t("term.one_seed"), highlight=False)
    else:
        out.print(words.t("term.delta_note", seeds=len(seed_list)), highlight=False)
    out.print(
        words.t(
            "term.wrote_comparison",
            folder=out_dir,
            runs=n_runs,
            run_seconds=words.num(run_s, 1),
            seconds=words.num(wall, 1),
            workers=workers,
        ),
        highlight=False,
    )
    if report:
        _write_report(out_dir, lang)


def _write_report(folder: Path, lang: str) -> None:
    try:
        import welfare_sim.sim.report as report_module
    except ImportError:
        report_module = None
    write_report = getattr(report_module, "write_report", None)
    if write_report is None:
        err.print(
            "[bold red]error:[/] --report needs the report module (welfare_sim.sim.report), which this "
            "install "
            f"does not have; the comparison itself is written to {folder}",
            highlight=False,
        )
        raise typer.Exit(1)
    try:
        path = write_report(folder, lang)
    except Exception as exc:  # the report's own input errors carry their problems, one per line
        problems = getattr(exc, "problems", None)
        if not problems:
            raise
        err.print(
            f"[bold red]error:[/] the report could not be written: {'; '.join(problems)}",
            highlight=False,
        )
        raise typer.Exit(1) from None
    out.print(f"wrote the report {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `compare` to `welfare-sim` (entry point group welfare_sim.commands)."""
    app.command(name="compare")(compare)
