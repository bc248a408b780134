"""Count error against sample fraction: Việt Nam runs at several sample fractions beside a full run.

    python -m welfare_sim.calibration.sample_fraction run 7 20220101 1.0,0.02,0.05,0.1 > frac.jsonl
    python -m welfare_sim.calibration.sample_fraction table frac.jsonl

`run MONTHS SEED FRACTIONS` runs scenarios/vietnam.yaml for MONTHS months at each fraction (same
seed) and prints one JSON line per fraction: the monthly national counts of calibration/targets.py,
scaled to full size as a sampled fit scales them. `table FILE` prints each fraction's error against
the fraction 1.0 line, month by month (per cent).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

COUNTS = (
    "beneficiaries",
    "with_account",
    "without_account",
    "on_account_list",
    "paid_into_account",
    "account_holders_not_paid_into_account",
    "paid_into_account_vnd",
)


def run(months: int, seed: int, fractions: list[float], scenario: Path = Path("scenarios/vietnam.yaml")) -> None:
    from welfare_sim.calibration.targets import Target, first_month_entries, quantity_series
    from welfare_sim.sim.run import run_scenario
    from welfare_sim.sim.scenario import apply_overrides, read_yaml, resolve_extends, validate_scenario

    base = resolve_extends(scenario.resolve(), read_yaml(scenario))
    for f in fractions:
        sc = validate_scenario(apply_overrides(base, [f"geography.sample_fraction={f!r}"]), str(scenario))
        t0 = time.perf_counter()
        res = run_scenario(sc, seed=seed, months=months, payments_dir=None)
        row: dict = {"fraction": f, "seed": seed, "months": months, "wall_s": round(time.perf_counter() - t0, 1)}
        entries0 = first_month_entries(res.funnel)
        for q in COUNTS:
            target = Target(name=q, date="-", month=str(sc.start), scope="national", quantity=q, value=1, source="-")
            row[q] = [float(x) for x in quantity_series(res.monthly, sc, target, months, entries0)]
        print(json.dumps(row), flush=True)


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    full = next(r for r in rows if r["fraction"] == 1.0)
    lines = [
        "| fraction | wall s | " + " | ".join(COUNTS) + " |",
        "|---|---|" + "---|" * len(COUNTS),
    ]
    for r in sorted(rows, key=lambda r: r["fraction"]):
        if r["fraction"] == 1.0:
            continue
        cells = [
            "/".join(f"{100 * (a - b) / b:+.1f}" if b else "–" for a, b in zip(r[q], full[q], strict=True))
            for q in COUNTS
        ]
        lines.append(f"| {r['fraction']:g} | {r['wall_s']:g} | " + " | ".join(cells) + " |")
    lines.append(
        f"| full run (1.0): month 1 / last | {full['wall_s']:g} | "
        + " | ".join(f"{full[q][0]:,.0f} / {full[q][-1]:,.0f}" for q in COUNTS)
        + " |"
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "run":
        run(int(argv[1]), int(argv[2]), [float(x) for x in argv[3].split(",")])
        return 0
    if len(argv) == 2 and argv[0] == "table":
        print(table(Path(argv[1])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
