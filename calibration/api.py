"""`welfare_sim.calibrate`: fit a scenario's free parameters to dated targets, from code.

The same steps as `welfare-sim calibrate` (calibration/cli.py), returning an object instead of
printing: the fit (`calibration.fit.calibrate`), its tables as polars frames, the calibrated
scenario, and `save()` writing the command's output folder (`calibration.report.write_outputs`).
Lives in calibration/, which imports the engine, because the engine never imports calibration/.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from welfare_sim.sim.api import Scenario, ScenarioLike, as_scenario
from welfare_sim.sim.scenario import ScenarioError, apply_overrides, format_validation_error, validate_scenario

if TYPE_CHECKING:
    import polars as pl

    from welfare_sim.calibration.fit import FitResult
    from welfare_sim.calibration.targets import Target


class Calibration:
    """A finished fit: `result` (calibration.fit.FitResult), `targets` and `parameters` as polars
    frames, `accepted`, and `scenario`, the calibrated scenario (validated; run it like any other)."""

    def __init__(
        self, base: Scenario, result: FitResult, targets: list[Target], targets_file: str, calibrated: dict[str, Any]
    ) -> None:
        self.base = base
        self.result = result
        self.target_list = targets
        self.targets_file = targets_file
        self.calibrated_data = calibrated
        self.scenario = Scenario(validate_scenario(calibrated, "calibrated scenario"), calibrated, base.source)
        self.folder: Path | None = None

    @property
    def accepted(self) -> bool:
        return self.result.accepted

    @property
    def targets(self) -> pl.DataFrame:
        """Per target: the observed value, the model's (mean over seeds), the relative error and,
        with leave-one-out, the refit's prediction."""
        import dataclasses

        import polars as pl

        # the leave-one-out columns are empty without leave-one-out; they keep their types
        loo = {"loo_model": pl.Float64, "loo_rel_error": pl.Float64, "loo_converged": pl.Boolean}
        return pl.DataFrame([dataclasses.asdict(t) for t in self.result.targets], schema_overrides=loo)

    @property
    def parameters(self) -> pl.DataFrame:
        """Per free parameter: start, fitted value, approximate 95 % interval and warnings."""
        import dataclasses

        import polars as pl

        rows = [dataclasses.asdict(p) for p in self.result.parameters]
        for row in rows:
            row["warnings"] = "; ".join(row["warnings"])
        return pl.DataFrame(rows)

    def save(self, path: str | Path) -> list[Path]:
        """Write the fit report (.md, .json), fit.png and the calibrated scenario (accepted fits
        only; otherwise scenario.NOT-ACCEPTED.yaml) into `path`, as `welfare-sim calibrate --out`."""
        from welfare_sim.calibration.report import write_outputs

        path = Path(path)
        command = f"welfare_sim.calibrate({self.base.source!r}, {self.targets_file!r})"
        written = write_outputs(
            path,
            self.result,
            self.target_list,
            self.calibrated_data,
            self.base.model.start,
            command,
            self.targets_file,
        )
        self.folder = path
        return written

    def __repr__(self) -> str:
        state = "accepted" if self.accepted else ("not accepted" if self.result.converged else "not converged")
        fitted = ", ".join(f"{p.path}={p.value:.4g}" for p in self.result.parameters)
        return f"<Calibration of {self.base.name!r}: {state}; {fitted}>"


def calibrate(
    scenario: ScenarioLike,
    targets: str | Path | Sequence[Mapping[str, Any] | Target],
    seeds: int | Sequence[int] = 3,
    method: str = "least_squares",
    budget: int = 150,
    loo: bool = True,
    loo_budget: int | None = None,
    sample_fraction: float | None = None,
    workers: int = 1,
    max_error: float = 0.25,
    region: str | None = None,
    band_draws: int = 0,
    loo_seeds: int | None = None,
) -> Calibration:
    """Fit the scenario's free parameters (its `calibration:` block) to `targets`: a target file,
    or a list of targets (dicts as in a target file, with `region` naming their region; default
    the scenario's province). The options are the `welfare-sim calibrate` command's
    (`band_draws`: its --band-draws, 0 here by default: the band costs (draws + 1) × seeds full runs).
    Raises ScenarioError for bad input, calibration.fit.FitError when the fit cannot go on."""
    from pydantic import ValidationError

    from welfare_sim.calibration.fit import METHODS, Evaluator, fitted_data
    from welfare_sim.calibration.fit import calibrate as run_fit
    from welfare_sim.calibration.targets import TargetFile, check_targets, load_targets

    sc = as_scenario(scenario)
    if method not in METHODS:
        raise ValueError(f"method {method!r}: unknown method; use one of {', '.join(METHODS)}")
    if sc.model.calibration is None:
        raise ScenarioError(
            [
                f"{sc.source} › calibration: no free parameters declared; add a `calibration: "
                "free_parameters:` list (path, lower, upper) to the scenario"
            ]
        )
    if isinstance(targets, str | Path):
        target_file, targets_name = load_targets(targets), str(targets)
    else:
        targets_name = "calibrate(targets=...)"
        try:
            target_file = TargetFile.model_validate(
                {"region": region or sc.model.geography.province, "targets": [_plain(t) for t in targets]}
            )
        except ValidationError as exc:
            raise ScenarioError(format_validation_error(targets_name, exc, TargetFile)) from None
    fit_data = sc.data
    if sample_fraction is not None:
        fit_data = apply_overrides(sc.data, [f"geography.sample_fraction={sample_fraction!r}"])
    fit_sc = validate_scenario(fit_data, sc.source)
    problems = check_targets(target_file, fit_sc, targets_name)
    if problems:
        raise ScenarioError(problems)
    seed_list = [sc.seed + i for i in range(seeds)] if isinstance(seeds, int) else [int(s) for s in seeds]
    target_list = list(target_file.targets)
    result = run_fit(
        fit_sc,
        fit_data,
        target_list,
        seed_list,
        method=method,
        budget=budget,
        loo=loo,
        loo_budget=loo_budget,
        workers=workers,
        max_rel_error=max_error,
        band_draws=band_draws,
        loo_seeds=loo_seeds,
    )
    free = list(sc.model.calibration.free_parameters)
    integers = Evaluator(sc.data, free, [], (), 1).integers
    calibrated = fitted_data(sc.data, free, integers, result.u)
    return Calibration(sc, result, target_list, targets_name, calibrated)


def _plain(target: Any) -> Any:
    dump = getattr(target, "model_dump", None)
    return dump(mode="json") if dump is not None else dict(target)
