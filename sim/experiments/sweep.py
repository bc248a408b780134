"""Parameter sweeps: many runs of one base scenario, serial, on a process pool, or on Dask.

A sweep file names a base scenario, the values to vary (a grid, or a space-filling design
over ranges), the seeds and the output folder. A *point* is one vector of parameter values; a
*run* is one (point, seed). Every point runs with the same seeds (common random numbers), so
differences between points are not blurred by different random draws.

Results form one hive-partitioned Parquet dataset, one file per run::

    OUT/sweep.json                                  what was swept (points, seeds, base digest)
    OUT/results/point=<id>/seed=<seed>/part.parquet one row: parameters + headline figures
    OUT/monthly/point=<id>/seed=<seed>/part.parquet month rows (only with `monthly: true`)
    OUT/failures/point=<id>/seed=<seed>.json        a run that failed, with its error

Workers only compute: they receive plain data (the base scenario once, then the point's
values and a seed) and return plain dicts. This process alone writes files, each first to
`OUT/.tmp/` (same file system, outside the dataset so no reader ever sees a half file) and then
renamed into place with `os.replace`. A result file exists only once complete, so a re-run,
even after SIGKILL, skips exactly the finished runs; leftovers in `OUT/.tmp/` are removed.

Exit codes of `welfare-sim sweep`: 0 all runs finished; 2 bad input; 3 some runs failed (they
are listed and recorded; re-running retries them); 130 interrupted.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import Field, ValidationError, field_validator, model_validator

from welfare_sim.models.params import Frozen
from welfare_sim.sim.publish import WRITER, OutputError, atomic_write_parquet, check_out, write_json
from welfare_sim.sim.scenario import (
    ScenarioError,
    apply_overrides,
    format_validation_error,
    read_yaml,
    resolve_extends,
    validate_scenario,
)

SCHEMA_VERSION = 1
EXIT_SOME_FAILED = 3
EXIT_INTERRUPTED = 130
_NOT_SWEEPABLE = ("seed", "months", "name", "calibration")


# --------------------------------------------------------------------------- the sweep file


class Design(Frozen):
    """A space-filling design over ranges of values."""

    method: Literal["sobol", "lhs", "saltelli"] = Field(
        description="sobol: scrambled Sobol' sequence; lhs: Latin hypercube "
        "(both scipy.stats.qmc); "
        "saltelli: SALib's Sobol'-sensitivity sample, for `welfare-sim sensitivity`"
    )
    # bounds: a design is built whole in memory before any run, so a huge count would hang here
    points: int | None = Field(None, ge=1, le=2**20, description="sobol and lhs: number of points")
    samples: int | None = Field(
        None,
        ge=2,
        le=2**16,
        description="saltelli: base samples N (a power of 2); the sweep has N·(D+2) points",
    )
    seed: int = Field(0, ge=0, description="seed of the design itself (not of the runs)")
    ranges: dict[str, list[float]] = Field(min_length=1, description="key path: [low, high] of the values to explore")
    integer: list[str] = Field(default_factory=list, description="key paths whose values are rounded to whole numbers")

    @field_validator("ranges")
    @classmethod
    def _bounds(cls, ranges: dict[str, list[float]]) -> dict[str, list[float]]:
        for path, bounds in ranges.items():
            if len(bounds) != 2:
                raise ValueError(
                    f"ranges.{path} must be two numbers [low, high] (got {bounds}); "
                    "list the lowest and the highest value to explore"
                )
            low, high = bounds
            if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
                raise ValueError(f"ranges.{path} must be [low, high] with low < high (got [{low}, {high}])")
        return ranges

    @model_validator(mode="after")
    def _sizes(self) -> Design:
        unknown = sorted(set(self.integer) - set(self.ranges))
        if unknown:
            raise ValueError(f"integer names {', '.join(unknown)}, which ranges does not; add their ranges")
        if self.method == "saltelli":
            if self.samples is None or self.points is not None:
                raise ValueError(
                    "method saltelli takes samples: N (base samples, a power of 2), not points; "
                    "the sweep then has N·(number of ranges + 2) points"
                )
            if self.samples & (self.samples - 1):
                raise ValueError(f"samples must be a power of 2, such as 16, 32 or 64 (got {self.samples})")
        else:
            if self.points is None or self.samples is not None:
                raise ValueError(f"method {self.method} takes points: N (the number of points), not samples")
            if self.method == "sobol" and self.points & (self.points - 1):
                raise ValueError(
                    "a Sobol' sequence keeps its balance only with a power of 2 points, "
                    f"such as 16, 32 "
                    f"or 64 (got {self.points}); change points or use method: lhs"
                )
        return self


class Parameters(Frozen):
    grid: dict[str, list[Any]] | None = Field(
        None, description="key path: list of values; the sweep runs every combination"
    )
    design: Design | None = None

    @model_validator(mode="after")
    def _one(self) -> Parameters:
        if (self.grid is None) == (self.design is None):
            raise ValueError("give exactly one of grid: or design:")
        if self.grid is not None:
            if not self.grid:
                raise ValueError("grid is empty; name at least one key path and its values")
            for path, values in self.grid.items():
                if not values:
                    raise ValueError(f"grid.{path} has no values; list at least one")
                canon = [_canonical(v) for v in values]
                if len(set(canon)) != len(canon):
                    raise ValueError(f"grid.{path} lists a value more than once (got {values}); remove the repeat")
        return self

    @property
    def paths(self) -> list[str]:
        return list(self.grid) if self.grid is not None else list(self.design.ranges)  # type: ignore[union-attr]


MAX_SEEDS = 10_000


class SweepFile(Frozen):
    description: str = ""
    base: str = Field(description="base scenario file, relative to the sweep file")
    parameters: Parameters
    seeds: int | list[int] = Field(
        description="number of seeds (the base scenario's seed, +1, +2, ...) or a list of seeds; "
        "every point runs with the same seeds"
    )
    months: int | None = Field(None, ge=1, le=240, description="months per run (default: the base scenario's)")
    out: str | None = Field(None, description="output folder, relative to the sweep file (default: outputs/sweep-NAME)")
    monthly: bool = Field(False, description="also keep each run's month-by-month coverage table")

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds_shape(cls, seeds: Any) -> Any:
        # one message instead of one per member of the union
        ok = (isinstance(seeds, int) and not isinstance(seeds, bool)) or (
            isinstance(seeds, list) and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
        )
        if not ok:
            raise ValueError(
                "seeds must be a number of seeds, such as 5, or a list of whole-number seeds, "
                f"such as [1, 2, 3] (got {seeds!r})"
            )
        return seeds

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: int | list[int]) -> int | list[int]:
        if isinstance(seeds, int):
            if seeds < 1:
                raise ValueError(f"seeds must be ≥ 1 or a list of seeds (got {seeds})")
            if seeds > MAX_SEEDS:  # the seeds are listed in full before any run
                raise ValueError(f"seeds must be ≤ {MAX_SEEDS:,} (got {seeds}); a sweep needs a few")
        else:
            if not seeds:
                raise ValueError("seeds lists no seed; give a number of seeds or a list")
            if len(set(seeds)) != len(seeds) or min(seeds) < 0:
                raise ValueError(f"seeds must be distinct whole numbers ≥ 0 (got {seeds})")
            if max(seeds) >= 2**63:  # a run's seed is below 2**63
                raise ValueError(f"seeds must be < 2**63 (got {max(seeds)})")
        return seeds


# --------------------------------------------------------------------------- the resolved sweep


@dataclass(frozen=True)
class Point:
    id: str
    values: dict[str, Any]


@dataclass
class Sweep:
    source: Path
    name: str
    base_file: Path
    base: dict[str, Any]  # resolved base scenario (plain data, `extends` applied)
    base_sha256: str
    months: int
    seeds: list[int]
    monthly: bool
    out: Path
    dtypes: dict[str, str]  # parameter path -> polars dtype name
    design: list[Point]  # in design order; a Saltelli design may repeat a point
    spec: dict[str, Any] = field(default_factory=dict)  # the `parameters:` block as written

    @property
    def points(self) -> list[Point]:
        """Distinct points in design order."""
        seen: dict[str, Point] = {}
        for p in self.design:
            seen.setdefault(p.id, p)
        return list(seen.values())

    def identity(self) -> dict[str, Any]:
        """What must not change between a run of the sweep and its resumption."""
        return {
            "schema_version": SCHEMA_VERSION,
            "base_sha256": self.base_sha256,
            "months": self.months,
            "monthly": self.monthly,
            "parameters": self.dtypes,
        }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def point_id(values: dict[str, Any]) -> str:
    """Stable id of a parameter vector: 'p' and 12 hex digits of the hash of its canonical form.

    The leading letter keeps readers from taking the hive partition value for a number.
    """
    return "p" + hashlib.sha256(_canonical(values).encode()).hexdigest()[:12]


def _dtype_of(values: list[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "Boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "Int64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "Float64"
    if all(isinstance(v, str) for v in values):
        return "String"
    return "Json"  # lists or mappings: kept as JSON text


def _column_value(value: Any, dtype: str) -> Any:
    if dtype == "Float64":
        return float(value)
    if dtype == "Json":
        return _canonical(value)
    return value


def design_matrix(design: Design) -> list[list[float]]:
    """Rows of values in [low, high] for each range, in the order of `design.ranges`."""
    import numpy as np

    names = list(design.ranges)
    bounds = np.array([design.ranges[n] for n in names], dtype=np.float64)
    if design.method == "saltelli":
        from SALib.sample import sobol as saltelli

        problem = {"num_vars": len(names), "names": names, "bounds": bounds.tolist()}
        # first-order and total indices only: N·(D+2) points instead of N·(2D+2)
        rows = saltelli.sample(problem, design.samples, calc_second_order=False, seed=design.seed)
    else:
        from scipy.stats import qmc

        engine = (
            qmc.Sobol(d=len(names), scramble=True, seed=design.seed)
            if design.method == "sobol"
            else qmc.LatinHypercube(d=len(names), seed=design.seed)
        )
        rows = qmc.scale(engine.random(design.points), bounds[:, 0], bounds[:, 1])
    rows = np.asarray(rows, dtype=np.float64)
    for j, name in enumerate(names):
        if name in design.integer:
            rows[:, j] = np.rint(rows[:, j])
    return rows.tolist()


def _points(params: Parameters) -> list[dict[str, Any]]:
    if params.grid is not None:
        import itertools

        paths = list(params.grid)
        return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*params.grid.values())]
    design = params.design
    assert design is not None
    integer = set(design.integer)
    return [
        {name: int(v) if name in integer else float(v) for name, v in zip(design.ranges, row, strict=True)}
        for row in design_matrix(design)
    ]


def load_sweep(path: str | Path, out: Path | None = None) -> Sweep:
    """Read and check a sweep file and its base scenario. Raises ScenarioError (bad input)."""
    path = Path(path)
    try:
        data = read_yaml(path)
    except ScenarioError as exc:  # read_yaml speaks of scenarios; this is a sweep file
        raise ScenarioError(
            [
                p.replace("a scenario must be", "a sweep file must be").replace(
                    "mapping of keys", "mapping of keys (base:, parameters:, seeds:, ...)"
                )
                for p in exc.problems
            ]
        ) from None
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        lines = format_validation_error(str(path), exc, SweepFile)
        raise ScenarioError([ln.replace("see `welfare-sim schema`", "see docs/sweeps.md") for ln in lines]) from None

    base_file = (path.parent / spec.base).resolve()
    if not base_file.exists():
        raise ScenarioError([f"{path} › base: {spec.base}: file not found next to {path.name}; check the path"])
    base = resolve_extends(base_file, read_yaml(base_file))
    base_scenario = validate_scenario(base, spec.base)

    problems = []
    where = "parameters.grid" if spec.parameters.grid is not None else "parameters.design.ranges"
    for p in spec.parameters.paths:
        if p.split(".")[0] in _NOT_SWEEPABLE:
            problems.append(
                f"{path} › {where}.{p}: cannot be swept; "
                + (
                    "use the sweep's seeds: and months: keys"
                    if p in ("seed", "months")
                    else "vary a value of the model"
                )
            )
            continue
        try:
            apply_overrides(base, [f"{p}=0"], source=f"{path} › {where}")
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)

    values = _points(spec.parameters)
    if spec.parameters.grid is not None:
        dtypes = {p: _dtype_of(v) for p, v in spec.parameters.grid.items()}
    else:
        design = spec.parameters.design
        assert design is not None
        dtypes = {p: "Int64" if p in design.integer else "Float64" for p in design.ranges}
    design_points = [Point(point_id(v), v) for v in values]

    seeds = [base_scenario.seed + i for i in range(spec.seeds)] if isinstance(spec.seeds, int) else list(spec.seeds)
    if out is None:
        out = Path(os.path.normpath(path.parent / spec.out)) if spec.out else Path("outputs") / f"sweep-{path.stem}"
    return Sweep(
        source=path,
        name=path.stem,
        base_file=base_file,
        base=base,
        base_sha256=base_scenario.digest(),
        months=spec.months or base_scenario.months,
        seeds=seeds,
        monthly=spec.monthly,
        out=Path(out),
        dtypes=dtypes,
        design=design_points,
        spec=spec.parameters.model_dump(mode="json", exclude_none=True),
    )


# --------------------------------------------------------------------------- one run (worker side)


def scenario_data(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The base scenario with the point's values set at their key paths (plain data)."""
    data = copy.deepcopy(base)
    for path, value in values.items():
        # creates keys the scenario allows but the file leaves out, as `--set` does
        data = apply_overrides(data, [f"{path}=0"])
        node: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(parts[-1])] = copy.deepcopy(value)
        else:
            node[parts[-1]] = copy.deepcopy(value)
    return data


def flatten_summary(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Headline figures as scalar columns named by their path, e.g. ``cost_vnd.state_total``."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_summary(value, name + "."))
        elif key == "period" and isinstance(value, list) and len(value) == 2:
            flat[f"{name}.start"], flat[f"{name}.end"] = value
        elif isinstance(value, list):
            flat[name] = _canonical(value)
        else:
            flat[name] = value
    return flat


def _figure_dtype(name: str, value: Any) -> str:
    """Column type of a headline figure; the same for every run, so partition files agree.

    Counts and VND are whole numbers (Int64); shares, quantiles and means are Float64. A figure
    that is undefined in a run (None, e.g. a cost per payment with no payment) keeps the type
    its name implies.
    """
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Int64"
    if isinstance(value, float):
        return "Float64"
    if isinstance(value, str):
        return "String"
    leaf = name.rsplit(".", 1)[-1]
    money = name.startswith(("cost_vnd.", "money_vnd.", "payments.")) or leaf.endswith("vnd")
    return "Int64" if money or leaf in ("count", "visits") else "Float64"


def run_point(
    base: dict[str, Any],
    values: dict[str, Any],
    seed: int,
    months: int,
    monthly: bool = False,
    point: str = "",
    source: str = "sweep",
) -> dict[str, Any]:
    """Run one (point, seed). Plain data in, plain data out; never raises for a bad point."""
    from welfare_sim.sim.results import coverage_by_month
    from welfare_sim.sim.run import run_scenario

    label = f"{source} › point {point}"
    try:
        scenario = validate_scenario(scenario_data(base, values), label)
    except ScenarioError as exc:
        return {
            "ok": False,
            "kind": "invalid scenario",
            "error": "; ".join(exc.problems),
            "details": exc.problems,
        }
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    try:
        result = run_scenario(scenario, seed=seed, months=months)
    except Exception as exc:  # a model error at one point must not sink the sweep
        return {
            "ok": False,
            "kind": "model error",
            "error": f"{type(exc).__name__}: {exc}",
            "details": traceback.format_exc().splitlines(),
        }
    out: dict[str, Any] = {"ok": True, "figures": flatten_summary(result.summary)}
    if monthly:
        out["monthly"] = coverage_by_month(result).to_dict(as_series=False)
    # time spent in the run itself, for the benchmark's overhead split; never written to a row
    out["run_s"] = time.perf_counter() - t0
    # CPU seconds of the whole worker process meanwhile (all its threads): above the run's own
    # CPU time when the executor's threads (Dask's event loop, profiler) compete with the run
    out["run_cpu_s"] = time.process_time() - cpu0
    return out


# process-pool workers keep the base scenario from their start, so tasks carry only the values
_WORKER_BASE: dict[str, Any] = {}


def _init_worker(base: dict[str, Any]) -> None:
    _WORKER_BASE.clear()
    _WORKER_BASE.update(base)


def _pool_run(task: dict[str, Any]) -> dict[str, Any]:
    return run_point(_WORKER_BASE, **task)


# --------------------------------------------------------------------------- executors


Task = dict[str, Any]
Outcome = dict[str, Any]


def _serial(base: dict[str, Any], tasks: list[Task]) -> Iterator[tuple[Task, Outcome]]:
    for task in tasks:
        yield task, run_point(base, **task)


def _pool(base: dict[str, Any], tasks: list[Task], workers: int) -> Iterator[tuple[Task, Outcome]]:
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    from welfare_sim.sim.pool import process_pool

    pool = process_pool(min(workers, len(tasks)), _init_worker, (base,))
    try:
        futures = {pool.submit(_pool_run, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except BrokenProcessPool as exc:
                outcome = {
                    "ok": False,
                    "kind": "worker lost",
                    "error": f"a worker process died: {exc}",
                }
            yield futures[future], outcome
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _quiet_dask_worker(dask_worker: Any) -> None:
    """Stop the worker's statistical profiler for the sweep: every 10 ms it takes the GIL from
    the running model to walk its stack, for a dashboard profile nobody reads in a batch sweep.
    (Its cost was within the noise of a shared machine, under 5 % of a run's CPU: docs/performance.md.)
    The worker is otherwise untouched."""
    for name in ("profile", "profile-cycle"):
        callback = dask_worker.periodic_callbacks.get(name)
        if callback is not None:
            callback.stop()


def _dask(base: dict[str, Any], tasks: list[Task], address: str) -> Iterator[tuple[Task, Outcome]]:
    from distributed import as_completed

    from welfare_sim.sim.pool import connect_dask

    client = connect_dask(address)
    futures: dict[Any, Task] = {}
    try:
        client.run(_quiet_dask_worker)
        # the base scenario goes to every worker once; each task then carries only its values
        [base_future] = client.scatter([base], broadcast=True, hash=False)
        futures = {client.submit(run_point, base_future, pure=False, **task): task for task in tasks}
        for future in as_completed(list(futures)):
            try:
                outcome = future.result()
            except Exception as exc:  # e.g. KilledWorker: the worker died running it
                outcome = {
                    "ok": False,
                    "kind": "worker lost",
                    "error": f"{type(exc).__name__}: {exc}",
                }
            task = futures.pop(future)
            future.release()
            yield task, outcome
    finally:
        for future in futures:
            future.cancel()
        client.close()


# --------------------------------------------------------------------------- files


def result_path(out: Path, point: str, seed: int, table: str = "results") -> Path:
    return out / table / f"point={point}" / f"seed={seed}" / "part.parquet"


def failure_path(out: Path, point: str, seed: int) -> Path:
    return out / "failures" / f"point={point}" / f"seed={seed}.json"


def _staging(out: Path) -> Path:
    return out / ".tmp"


def _write_parquet(out: Path, target: Path, frame: pl.DataFrame) -> None:
    # temporary files go to OUT/.tmp, outside the dataset, so no reader ever globs a half file
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_parquet(target, frame, _staging(out))


def _write_json(out: Path, target: Path, data: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    write_json(target, data, _staging(out))


def _remove_empty_dirs(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty


def prepare_out(sweep: Sweep) -> None:
    """Create or reopen the output folder: check it holds this sweep, clear interrupted writes."""
    out = sweep.out
    manifest = out / "sweep.json"
    # (a folder holding only OUT/.tmp is a set-up killed before sweep.json was written)
    if not (out.is_dir() and not out.is_symlink() and {p.name for p in out.iterdir()} <= {_staging(out).name}):
        try:
            check_out(out, "sweep", f"{sweep.source} › out:")
        except OutputError as exc:
            raise ScenarioError(exc.problems) from None
    if manifest.exists():
        try:
            old = json.loads(manifest.read_text(encoding="utf-8")).get("identity")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            old = None
        if old != sweep.identity():
            changed = (
                ", ".join(k for k in sweep.identity() if (old or {}).get(k) != sweep.identity()[k]) or "sweep.json"
            )
            raise ScenarioError(
                [
                    f"{sweep.source} › out: {out} holds results of a different sweep "
                    f"({changed} changed); "
                    "choose another out: folder or delete that one"
                ]
            )
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(_staging(out), ignore_errors=True)  # temporary files of an interrupted sweep
    _staging(out).mkdir()
    for table in ("results", "monthly", "failures"):
        _remove_empty_dirs(out / table)
    _write_json(out, manifest, manifest_data(sweep))


def manifest_data(sweep: Sweep) -> dict[str, Any]:
    return {
        "written_by": WRITER,
        "kind": "sweep",
        "sweep_file": str(sweep.source),
        "name": sweep.name,
        "base": str(sweep.base_file),
        "identity": sweep.identity(),
        "seeds": sweep.seeds,
        "parameters": sweep.spec,
        "design": [{"point": p.id, "values": p.values} for p in sweep.design],
    }


def read_manifest(out: Path) -> dict[str, Any]:
    path = Path(out) / "sweep.json"
    if not path.exists():
        raise ScenarioError([f"{out}: not a sweep folder (no sweep.json); give the out: folder of a sweep"])
    return json.loads(path.read_text(encoding="utf-8"))


def read_results(out: Path) -> pl.DataFrame:
    """All result rows of a sweep folder, with `point` and `seed` from the partition names."""
    files = sorted((Path(out) / "results").glob("point=*/seed=*/part.parquet"))
    if not files:
        return pl.DataFrame()
    return (
        pl.scan_parquet(Path(out) / "results" / "**" / "*.parquet", hive_partitioning=True)
        .collect()
        .sort("point", "seed")
    )


# --------------------------------------------------------------------------- running a sweep


@dataclass
class SweepOutcome:
    out: Path
    runs: int
    points: int
    skipped: int = 0
    ran: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    busy_s: float = 0.0  # sum over the runs done now of the time spent running the model
    busy_cpu_s: float = 0.0  # the same runs' CPU seconds, their worker process's threads all counted

    @property
    def ok(self) -> bool:
        return not self.failures


def _schema(sweep: Sweep, figures: dict[str, Any]) -> dict[str, Any]:
    dtypes = {**sweep.dtypes, **{k: _figure_dtype(k, v) for k, v in figures.items()}}
    return {k: getattr(pl, "String" if t == "Json" else t) for k, t in dtypes.items()}


def run_sweep(
    sweep: Sweep,
    workers: int | None = None,
    scheduler: str | None = None,
    on_run: Callable[[int, int, int, int], None] | None = None,
) -> SweepOutcome:
    """Run every (point, seed) not yet finished in `sweep.out`.

    `workers`: 1 runs here, in this process; more uses a spawn process pool (default: one per
    core). `scheduler`: the address of a Dask scheduler, which then runs everything.
    `on_run(runs_done, points_done, failed, runs_total)` is called after each run, for progress.
    """
    t0 = time.perf_counter()
    prepare_out(sweep)
    out = sweep.out
    points = sweep.points
    outcome = SweepOutcome(out=out, runs=len(points) * len(sweep.seeds), points=len(points))
    todo: list[Task] = []
    remaining = {p.id: 0 for p in points}
    for p in points:
        for seed in sweep.seeds:
            if result_path(out, p.id, seed).exists():
                outcome.skipped += 1
                # a retried run that succeeded, killed before its old failure record was removed
                failure_path(out, p.id, seed).unlink(missing_ok=True)
            else:
                remaining[p.id] += 1
                todo.append(
                    {
                        "values": p.values,
                        "seed": seed,
                        "months": sweep.months,
                        "monthly": sweep.monthly,
                        "point": p.id,
                        "source": str(sweep.source),
                    }
                )
    points_done = sum(1 for n in remaining.values() if n == 0)
    if on_run is not None:
        on_run(outcome.skipped, points_done, 0, outcome.runs)
    if todo:
        if scheduler:
            runs = _dask(sweep.base, todo, scheduler)
        elif (workers or os.cpu_count() or 1) > 1 and len(todo) > 1:
            runs = _pool(sweep.base, todo, workers or os.cpu_count() or 1)
        else:
            runs = _serial(sweep.base, todo)
        for task, result in runs:
            _record(sweep, task, result, outcome)
            outcome.ran += 1
            outcome.busy_s += result.get("run_s", 0.0)
            outcome.busy_cpu_s += result.get("run_cpu_s", 0.0)
            remaining[task["point"]] -= 1
            points_done += remaining[task["point"]] == 0
            if on_run is not None:
                on_run(outcome.skipped + outcome.ran, points_done, len(outcome.failures), outcome.runs)
    shutil.rmtree(_staging(out), ignore_errors=True)
    outcome.wall_s = time.perf_counter() - t0
    return outcome


def _record(sweep: Sweep, task: Task, result: Outcome, outcome: SweepOutcome) -> None:
    out, point, seed = sweep.out, task["point"], task["seed"]
    if not result["ok"]:
        failure = {
            "point": point,
            "seed": seed,
            "parameters": task["values"],
            "kind": result["kind"],
            "error": result["error"],
            "details": result.get("details", []),
        }
        _write_json(out, failure_path(out, point, seed), failure)
        outcome.failures.append(failure)
        return
    figures = result["figures"]
    row = {p: _column_value(task["values"][p], t) for p, t in sweep.dtypes.items()} | figures
    frame = pl.DataFrame([row], schema=_schema(sweep, figures), orient="row")
    if sweep.monthly:
        _write_parquet(out, result_path(out, point, seed, "monthly"), pl.DataFrame(result["monthly"]))
    # the result file last: its presence marks the run finished
    _write_parquet(out, result_path(out, point, seed), frame)
    failure_path(out, point, seed).unlink(missing_ok=True)  # an earlier failure, now retried
