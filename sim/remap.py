"""A legacy run's per-commune results on the July 2025 map: `welfare-sim remap RUN_DIR --out DIR`.

The run's communes.parquet (legacy official codes) is re-keyed with the register's converter
(`register.remap_to_2025`: each old commune goes whole to one new commune, the register's default one for
an old commune that was split). Counts and money are summed, so totals are kept to the person and the
dong. Shares are recomputed from the summed counts, which is the old communes' shares weighted by their
beneficiaries; cost per payment is summed cost over summed payments. The mean days to money is weighted
by beneficiaries and the commune-point waits (p50, p95) by those paid at the commune point: a weighted
mean of the old communes' quantiles, not a quantile of the merged commune (the rows are not kept).

The remap folder holds communes.parquet (2025 codes and names, `legacy_communes` merged into each) and
manifest.json naming the run it came from; it is written atomically under the --out rules.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import yaml

from welfare_sim.sim import register
from welfare_sim.sim.publish import atomic_write_parquet, building, write_json

SUMMED = (
    "beneficiaries",
    "with_account",
    "paid_into_account",
    "paid_at_commune_point",
    "unpaid",
    "payments",
    "beneficiary_cost_vnd",
)
# weighted means: (column, its weight)
WEIGHTED = (
    ("days_to_money_mean", "beneficiaries"),
    ("commune_point_wait_min_p50", "paid_at_commune_point"),
    ("commune_point_wait_min_p95", "paid_at_commune_point"),
)


class RemapError(ValueError):
    """A run folder that cannot be remapped; `problems` holds one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _legacy_communes(run_dir: Path) -> pl.DataFrame:
    path = run_dir / "communes.parquet"
    if not path.is_file():
        raise RemapError(
            [f"{path}: not found; remap reads a run folder's communes.parquet (run the scenario again to write it)"]
        )
    scenario_file = run_dir / "scenario.resolved.yaml"
    try:
        scenario = yaml.safe_load(scenario_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        scenario = {}
    on_map = str((scenario.get("geography") or {}).get("register", "legacy"))
    if on_map == "2025":
        raise RemapError(
            [f'{scenario_file}: geography.register is "2025": the run is on the 2025 map already; remap a legacy run']
        )
    frame = pl.read_parquet(path)
    missing = [c for c in ("month", "period", "commune_code", *SUMMED, *(w[0] for w in WEIGHTED)) if c not in frame]
    if missing:
        raise RemapError([f"{path}: has no column {', '.join(missing)}; write the run again with this version"])
    if frame["commune_code"].null_count():
        raise RemapError(
            [
                f"{path}: {frame['commune_code'].null_count()} rows have no commune_code; only a run whose communes "
                "come from the legacy register (geography.register: legacy, with official codes) can be remapped"
            ]
        )
    return frame


def remap_communes(frame: pl.DataFrame) -> pl.DataFrame:
    """communes.parquet rows (legacy codes) as rows of 2025 communes, month by month; see the module."""
    weights = {f"{c}__w": pl.col(c).fill_null(0) * pl.col(w) for c, w in WEIGHTED}
    keyed = frame.with_columns(legacy_communes=pl.lit(1, pl.Int64), **weights)
    numeric = ["legacy_communes", *SUMMED, *weights]
    parts = []
    for (month, period), rows in keyed.group_by("month", "period", maintain_order=True):
        new = register.remap_to_2025(rows.select("commune_code", *numeric), "commune_code")
        parts.append(new.with_columns(month=pl.lit(month, pl.Int64), period=pl.lit(period, pl.Date)))
    out = pl.concat(parts)
    names = register.all_communes("2025").select(commune_code="code", commune_name="name")

    def ratio(num: str, den: str) -> pl.Expr:
        return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)

    return (
        out.join(names, on="commune_code", how="left")
        .with_columns(
            account_coverage=ratio("with_account", "beneficiaries"),
            paid_into_account_share=ratio("paid_into_account", "beneficiaries"),
            unpaid_share=ratio("unpaid", "beneficiaries"),
            beneficiary_cost_per_payment_vnd=ratio("beneficiary_cost_vnd", "payments").round(0),
            **{c: ratio(f"{c}__w", w) for c, w in WEIGHTED},
        )
        .select(
            "month",
            "period",
            "commune_code",
            "commune_name",
            "legacy_communes",
            *SUMMED[:6],
            "account_coverage",
            "paid_into_account_share",
            "unpaid_share",
            *(c for c, _ in WEIGHTED),
            "beneficiary_cost_vnd",
            "beneficiary_cost_per_payment_vnd",
        )
        .sort("month", "commune_code")
    )


def write_remap(run_dir: Path, out_dir: Path) -> pl.DataFrame:
    """Remap the run folder `run_dir` and write the remap folder `out_dir`; return its table."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    try:
        table = remap_communes(_legacy_communes(run_dir))
    except register.RegisterError as exc:
        raise RemapError([f"{run_dir / 'communes.parquet'}: {p}" for p in exc.problems]) from None
    try:
        source = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        source = {}
    with building(out_dir, "remap") as staging:
        atomic_write_parquet(staging / "communes.parquet", table)
        write_json(
            staging / "manifest.json",
            {
                "remapped_from": str(run_dir.resolve()),
                "scenario": source.get("scenario"),
                "seed": source.get("seed"),
                "register": "2025",
                "converter": "vietnamadminunits converter_2025 (a split commune goes to its default new commune)",
            },
        )
    return table
