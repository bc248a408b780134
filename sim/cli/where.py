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
    seeds: Annotated[int, typer.Option(min=2, max=1000, help="seeds (the same for both runs)")] = 5,
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

    from welfare_sim.sim.experiments.where import EFFECT, INTERVENTIONS, rank_communes, top_scenario
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
    seed_list = [start_seed + k for k in range(seeds)]
    digest = hashlib.sha256(
        json.dumps([base.digest(), template.digest() if template else None, intervention, seed_list, months]).encode()
    ).hexdigest()[:10]
    default = Path("outputs") / f"where-{base.name}-{intervention}-{digest}"
    folder = out_folder(out_dir, default, "where")
    progress = DelayedProgress(2 * seeds, f"where: 2 runs × {seeds} seeds")
    try:
        table, placed = rank_communes(base, intervention, seed_list, months, template, workers, progress.advance)
    except ScenarioError as exc:
        fail(exc.problems)
    finally:
        progress.close()
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
                    "method": "two runs over the same seeds (common random numbers): as it is, and with the "
                    "intervention in every candidate commune from its start; a commune's effect is the paired "
                    "difference of its own figures, with a 95 % t-interval over the seeds",
                },
            )
    except OutputError as exc:
        fail(exc.problems)
    _print(table.head(n), EFFECT[intervention][1], seeds, pl)
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
        t.add_row(
            str(r["rank"]),
            r["commune_name"] or str(r["commune"]),
            r["commune_code"] or "–",
            r["district_name"] or "–",
            f"{r['effect_mean']:,.1f}{interval}",
            f"{r['cost_vnd'] / 1e6:,.1f} M VND",
            f"{r['effect_per_million_dong']:,.2f}",
        )
    out.print(t)
    if not table.height:
        err.print("[bold yellow]warning:[/] no commune is a candidate for this intervention", highlight=False)
