"""`welfare-sim where`: the command over welfare_sim.sim.experiments.where (parse, run, print, write)."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated

import typer

from welfare_sim.sim.cli import DelayedProgress, err, fail, out, out_folder


def where(
    scenario: Annotated[Path, typer.Argument(help="the scenario to act in (the base)")],
    intervention: Annotated[str, typer.Option(help="commune_atm_points or drives")] = "commune_atm_points",
    top: Annotated[int, typer.Option(min=1, max=10_000, help="communes the written scenario acts in")] = 10,
    like: Annotated[
        Path | None,
        typer.Option(
            help="a strategy scenario whose last point or drive strategy is the one to place (its costs, "
            "hours, start, districts); default: the base's, else the model's defaults"
        ),
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=1000,
            help="seeds (the same for every run); default: 5 at a time until each of the top N communes is "
            "told from zero, up to --max-seeds",
        ),
    ] = None,
    max_seeds: Annotated[
        int, typer.Option(min=2, max=1000, help="without --seeds: the most seeds to run")
    ] = 30,
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check",
            help="also run the top N together (and, for ATM points, the strategy's own order for N "
            "communes) to see whether the single effects add up",
        ),
    ] = True,
    first_seed: Annotated[int | None, typer.Option(help="first seed (default: the scenario's seed)")] = None,
    months: Annotated[
        int | None, typer.Option(min=1, max=240, help="months to simulate (default: the scenario's)")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
    out_dir: Annotated[Path | None, typer.Option("--out", help="folder (default: outputs/where-SCENARIO-HASH)")] = None,
) -> None:
    """Rank communes by the intervention's effect per VND (common random numbers over the seeds),
    print the top of the list, and write it with a scenario file that applies the top N."""
    import polars as pl
    import yaml

    from welfare_sim.sim.experiments.where import EFFECT, INTERVENTIONS, top_scenario
    from welfare_sim.sim.publish import OutputError, atomic_write_bytes, atomic_write_parquet, building, write_json
    from welfare_sim.sim.scenario import ScenarioError, load_scenario

    if intervention not in INTERVENTIONS:
        fail([f"--intervention {intervention!r}: choose {' or '.join(INTERVENTIONS)}"])
    try:
        base = load_scenario(scenario)
        template = load_scenario(like) if like is not None else None
    except ScenarioError as exc:
        fail(exc.problems)
    kind = INTERVENTIONS[intervention]
    if template is not None and not getattr(template.interventions, kind):
        fail([f"{like}: has no {kind} strategy to place; give a scenario with one under interventions.{kind}"])
    start_seed = base.seed if first_seed is None else first_seed
    # the folder's name follows what was asked for: a fixed list of seeds, or the automatic choice
    asked = [start_seed + k for k in range(seeds)] if seeds is not None else ["auto", start_seed, max_seeds, top]
    digest = hashlib.sha256(
        json.dumps([base.digest(), template.digest() if template else None, intervention, asked, months]).encode()
    ).hexdigest()[:10]
    default = Path("outputs") / f"where-{base.name}-{intervention}-{digest}"
    folder = out_folder(out_dir, default, "where")
    from welfare_sim.sim.experiments.where import check_top, rank_until_separated

    planned = 2 * (seeds or max_seeds) + (2 if kind == "atm_points" else 1) * (seeds or max_seeds) * check
    progress = DelayedProgress(planned, "where: runs over the seeds (at most)")
    try:
        table, placed, results = rank_until_separated(
            base,
            intervention,
            start_seed,
            top,
            months,
            template,
            workers,
            max_seeds=seeds or max_seeds,
            on_done=progress.advance,
            step=seeds,
        )
        checked = (
            check_top(base, intervention, placed["strategy"], table, top, results, months, workers, progress.advance)
            if check and table.height
            else None
        )
    except ScenarioError as exc:
        fail(exc.problems)
    finally:
        progress.close()
    seed_list = placed["seeds"]
    n = min(top, table.height)
    chosen = table["commune"].head(n).to_list()
    scenario_name = f"{base.name}_where_{kind}_top{n}.yaml"
    try:
        with building(folder, "where") as staging:
            content = top_scenario(scenario, base, kind, placed["strategy"], chosen, folder)
            atomic_write_parquet(staging / "ranked.parquet", table)
            atomic_write_bytes(staging / "ranked.csv", table.write_csv().encode("utf-8"))
            atomic_write_bytes(
                staging / scenario_name,
                (
                    "# written by `welfare-sim where`: the top of ranked.csv\n"
                    + yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
                ).encode("utf-8"),
            )
            write_json(
                staging / "where.json",
                {
                    "scenario": str(scenario),
                    "like": str(like) if like else None,
                    "intervention": intervention,
                    "effect": EFFECT[intervention][0],
                    "seeds": seed_list,
                    "months": months or base.months,
                    "top": n,
                    "communes": chosen,
                    "scenario_file": scenario_name,
                    "cost_per_commune_vnd": placed["cost_per_commune_vnd"],
                    "strategy": placed["strategy"],
                    "seeds_chosen": "given (--seeds)" if seeds is not None else "automatic: until each of the "
                    f"top {n} is told from zero, at most {max_seeds}",
                    "not_separated": table.head(n).filter(~pl.col("separates"))["commune"].to_list(),
                    "method": "two runs over the same seeds (common random numbers): as it is, and with the "
                    "intervention in every candidate commune from its start; a commune's effect is the paired "
                    "difference of its own figures, with a 95 % t-interval over the seeds",
                    "check": _json_safe(checked),
                },
            )
    except OutputError as exc:
        fail(exc.problems)
    _print(table.head(n), EFFECT[intervention][1], len(seed_list), pl)
    _print_check(checked, EFFECT[intervention][1], n, len(seed_list))
    out.print(f"wrote {folder}/ (ranked.csv, ranked.parquet, where.json, {scenario_name})", highlight=False)


def _print(table, effect: str, seeds: int, pl) -> None:  # noqa: ANN001
    from rich.table import Table

    t = Table(title=f"communes ranked by {effect} per million VND · {seeds} seeds", header_style="bold")
    for col, right in (
        ("#", True),
        ("commune", False),
        ("code", False),
        ("district", False),
        (effect, True),
        ("cost", True),
        ("per M VND", True),
    ):
        t.add_column(col, justify="right" if right else "left")
    for r in table.iter_rows(named=True):
        lo, hi = r["effect_lo"], r["effect_hi"]
        interval = f" [{lo:,.1f}, {hi:,.1f}]" if math.isfinite(lo) and math.isfinite(hi) else ""
        mark = "" if r["separates"] else " ≈0"
        t.add_row(
            str(r["rank"]),
            r["commune_name"] or str(r["commune"]),
            r["commune_code"] or "–",
            r["district_name"] or "–",
            f"{r['effect_mean']:,.1f}{interval}{mark}",
            f"{r['cost_vnd'] / 1e6:,.1f} M VND",
            f"{r['effect_per_million_dong']:,.2f}",
        )
    out.print(t)
    if not table.height:
        err.print("[bold yellow]warning:[/] no commune is a candidate for this intervention", highlight=False)
        return
    loose = table.filter(~pl.col("separates"))
    if loose.height:
        names = ", ".join(r["commune_name"] or str(r["commune"]) for r in loose.iter_rows(named=True))
        err.print(
            f"[bold yellow]warning:[/] {loose.height} of the top {table.height} (≈0: {names}) cannot be told "
            f"from zero with {seeds} seeds; their place in the list is not sure: run more seeds (--seeds)",
            highlight=False,
        )


def _interval(d: dict) -> str:
    lo, hi = d["lo"], d["hi"]
    bounds = f" [{lo:,.1f}, {hi:,.1f}]" if math.isfinite(lo) and math.isfinite(hi) else ""
    return f"{d['mean']:,.1f}{bounds}"


def _print_check(checked: dict | None, effect: str, n: int, seeds: int) -> None:
    """Whether the top N together give what the single effects suggest, and whether the ranking
    beats the strategy's own order."""
    if checked is None:
        return
    out.print(
        f"the top {n} together, {effect} in the province: {_interval(checked['together'])}; "
        f"the sum of their single effects: {_interval(checked['sum_of_singles'])} "
        f"(together minus the sum: {_interval(checked['together_minus_sum'])}; {seeds} seeds)",
        highlight=False,
    )
    out.print(
        f"of the combined effect, in the top {n} themselves: {_interval(checked['together_in_top'])}; in the "
        f"other communes (shared queues): {_interval(checked['together_elsewhere'])}",
        highlight=False,
    )
    if checked["interact"]:
        ratio = checked["ratio_together_to_sum"]
        err.print(
            f"[bold yellow]warning:[/] the effects interact: the top {n} together give {ratio:.0%} of the sum "
            "of their single effects (each was measured with every commune treated); the list's order is "
            "a guide, the top-N scenario's own comparison is the figure to quote",
            highlight=False,
        )
    else:
        out.print("the single effects add up: the seeds cannot tell the difference from zero", highlight=False)
    if "order_top" in checked:
        verdict = "beats" if checked["ranked_beats_order"] else "cannot be told from"
        out.print(
            f"the strategy's own order ({checked['order_targeting']}) for {n} communes: "
            f"{_interval(checked['order_top'])}; the ranked top {n} {verdict} it "
            f"(ranked minus order: {_interval(checked['ranked_minus_order'])})",
            highlight=False,
        )


def _json_safe(value):  # noqa: ANN001, ANN202
    from welfare_sim.sim.experiments.effects import _json_safe as safe

    return safe(value)
