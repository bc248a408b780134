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
    rank_by: Annotated[
        str,
        typer.Option(
            help="rank the strategies on: cost_per_account_holder, cost_per_unpaid_avoided, "
            "cost_per_hour_saved or beneficiary_cost_change"
        ),
    ] = "cost_per_account_holder",
    budget: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="extra state spending (VND, over the run) to spend at most: the best plan within it, "
            "combinations of strategies included (run as combined scenarios)",
        ),
    ] = None,
    max_combinations: Annotated[
        int, typer.Option(min=0, max=100, help="with --budget: combined scenarios to run at most")
    ] = 12,
) -> None:
    """Compare strategies: run every scenario over the same seeds (common random numbers), print
    each headline figure with its difference from the base and a 95 % interval, and write the
    comparison folder (tables as parquet, a PNG of coverage and cashless share over time)."""
    from welfare_sim.sim.experiments.compare import (
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
    from welfare_sim.sim.experiments.effects import RANK_CHOICES

    if rank_by not in RANK_CHOICES:
        fail([f"--rank-by {rank_by!r}: not a figure to rank on; choose one of {', '.join(RANK_CHOICES)}"])
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
    if budget is not None and len(scenarios) > 2:
        combined = _combinations(
            scenarios, names, results, seed_list, months, workers, rank_by, budget, max_combinations
        )
        for sc, result_list in combined:
            offset = len(scenarios)
            scenarios.append(sc)
            sources.append(f"combined: {sc.description}")
            names.append(sc.name)
            results.extend({**r, "index": offset} for r in result_list)
    run_s = time.perf_counter() - t0
    from welfare_sim.sim.experiments.compare import strategies_frame
    from welfare_sim.sim.experiments.effects import strategy_warnings

    warnings = strategy_warnings(scenarios, names, months, strategies_frame(names, results))
    try:
        table = write_comparison(
            out_dir,
            names,
            sources,
            seed_list,
            results,
            {"months": months or ref.months, "start": ref.start},
            warnings=warnings,
            rank_by=rank_by,
            budget=budget,
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
    _print_decision(out_dir, words, title)
    out.print(table_for_console(table, names, len(seed_list), title, lang))
    for w in warnings:
        err.print(f"[bold yellow]warning:[/] {w['text']}", highlight=False)
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


def _print_decision(folder: Path, words, title: str) -> None:  # noqa: ANN001
    """The strategies side by side, ranked, and the recommendation, as the comparison wrote them."""
    import json

    import polars as pl

    from welfare_sim.sim.experiments.compare import decision_table_for_console, gains_table_for_console
    from welfare_sim.sim.report.decision import recommendation_text

    meta = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    if not meta.get("ranking"):
        return
    ce = pl.read_parquet(folder / "cost_effectiveness.parquet")
    ranked_title = f"{title} · ranked by {meta['rank_by']}"
    out.print(decision_table_for_console(ce, meta["ranking"], ranked_title))
    out.print(recommendation_text(words, meta.get("recommendation")), highlight=False)
    gains_path = folder / "gains.parquet"
    if gains_path.is_file():
        gains = pl.read_parquet(gains_path)
        if gains.height:
            out.print(gains_table_for_console(gains, meta["scenarios"], len(meta["seeds"]), words.code))
            out.print(words.t("dec.gains_terminal_note"), highlight=False)


def _combinations(scenarios, names, results, seeds, months, workers, rank_by, budget, max_runs):  # noqa: ANN001, ANN202
    """The combined scenarios worth running for `budget`, run over the same seeds: (scenario, results)."""
    from welfare_sim.sim.experiments.compare import run_all
    from welfare_sim.sim.experiments.effects import (
        candidate_combinations,
        cost_effectiveness,
        counts_frame,
        merge_strategies,
    )
    from welfare_sim.sim.scenario import ScenarioError, validate_scenario

    measure = "cost_per_account_holder" if rank_by == "beneficiary_cost_change" else rank_by
    ce = cost_effectiveness(counts_frame(names, results), names)
    by_name = dict(zip(names, scenarios, strict=True))
    out_list = []
    for combo in candidate_combinations(ce, measure, budget, max_runs=max_runs):
        name = " + ".join(combo)
        try:
            data = merge_strategies(scenarios[0], [by_name[n] for n in combo], name)
            sc = validate_scenario(data, f"combined: {name}")
        except (ValueError, ScenarioError) as exc:
            err.print(f"[bold yellow]note:[/] {name} cannot be combined: {exc}", highlight=False)
            continue
        out_list.append((sc, run_all([sc], [f"combined: {name}"], seeds, months, workers)))
    return out_list


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
    from welfare_sim.sim.cli.where import where

    app.command(name="where")(where)
