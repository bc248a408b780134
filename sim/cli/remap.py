"""`welfare-sim remap`: a legacy run's per-commune results on the 2025 map (welfare_sim.sim.remap)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from welfare_sim.sim.cli import fail, out, out_folder


def register(app: typer.Typer) -> None:
    """Add `remap` to `welfare-sim` (entry point group welfare_sim.commands)."""
    app.command("remap")(remap)


def remap(
    run_dir: Annotated[Path, typer.Argument(help="a run folder of a scenario on the legacy register")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="remap folder (default: outputs/remap-RUN_FOLDER_NAME)")
    ] = None,
) -> None:
    """Remap a legacy run's communes.parquet to the July 2025 communes with the register's converter:
    counts and money summed, shares weighted by beneficiaries; writes communes.parquet in --out."""
    from welfare_sim.sim.remap import RemapError, write_remap

    if not run_dir.is_dir():
        fail([f"{run_dir}: no such run folder; give the folder `welfare-sim run` wrote"])
    target = out_folder(out_dir, Path("outputs") / f"remap-{run_dir.resolve().name}", "remap")
    try:
        table = write_remap(run_dir, target)
    except RemapError as exc:
        fail(exc.problems)
    months = table["month"].n_unique()
    merged = int(table.filter(table["month"] == table["month"].min())["legacy_communes"].sum())
    out.print(
        f"wrote {target}/communes.parquet: {merged} legacy communes onto "
        f"{table['commune_code'].n_unique()} communes of the 2025 map, {months} months",
        highlight=False,
    )
