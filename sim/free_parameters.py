"""The `calibration:` block of a scenario: the values calibration may move, and their bounds.

It lives in `sim/` (not `calibration/`) because it is part of the scenario file, and `sim/`
must not import `calibration/`. The fitting itself is in `calibration/`.

A free parameter names a dotted key path into the scenario, with list items addressed by
index, e.g. ``assumptions.opening.monthly_apply_prob`` or ``interventions.drives.0.reach``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from welfare_sim.models.params import Frozen


class FreeParameter(Frozen):
    path: str = Field(
        min_length=1,
        description="dotted key path of a number in the scenario, list items by index "
        "(e.g. interventions.drives.0.reach)",
    )
    lower: float = Field(description="lowest value the fit may choose (required)")
    upper: float = Field(description="highest value the fit may choose (required)")
    scale: Literal["linear", "log"] = Field(
        "linear",
        description="search scale; log suits rates spanning orders of magnitude (needs lower > 0)",
    )
    tied_paths: list[str] = Field(
        default_factory=list,
        description="other key paths that always take the same value (e.g. the reach of two "
        "drives run by the same teams)",
    )
    prior: float | None = Field(
        None,
        description="the value before any fit (the assumption); leave-one-out refits start here, "
        "so they do not borrow from the fit they test. None: the scenario's value",
    )
    note: str = Field("", description="why this value is free, and where its bounds come from")

    @property
    def paths(self) -> list[str]:
        return [self.path, *self.tied_paths]

    @model_validator(mode="after")
    def _bounds(self) -> FreeParameter:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
            raise ValueError(
                f"bounds must be finite numbers (got lower={self.lower}, upper={self.upper})"
            )
        if not self.lower < self.upper:
            raise ValueError(
                f"lower must be below upper (got lower={self.lower}, upper={self.upper}); "
                "swap or widen the bounds"
            )
        if self.prior is not None and not self.lower <= self.prior <= self.upper:
            raise ValueError(
                f"prior {self.prior} is outside the bounds [{self.lower}, {self.upper}]; "
                "give the value before the fit, within the bounds"
            )
        if self.scale == "log" and self.lower <= 0:
            raise ValueError(
                f"scale: log needs lower > 0 (got {self.lower}); use a small positive bound"
            )
        return self


class CalibrationBlock(Frozen):
    free_parameters: list[FreeParameter] = Field(
        min_length=1, description="values the `calibrate` command fits, with their bounds"
    )

    @model_validator(mode="after")
    def _unique(self) -> CalibrationBlock:
        paths = [path for p in self.free_parameters for path in p.paths]
        dupes = sorted({p for p in paths if paths.count(p) > 1})
        if dupes:
            raise ValueError(f"free_parameters lists a path more than once: {', '.join(dupes)}")
        return self


def lookup_path(data: Any, path: str) -> Any:
    """The value at a dotted key path in plain data (dicts, lists). KeyError says why not."""
    node = data
    walked: list[str] = []
    for part in path.split("."):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                where = ".".join(walked) or "(top level)"
                raise KeyError(
                    f"{where} is a list of {len(node)}; "
                    f"address an item by index 0 to {len(node) - 1}"
                )
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                where = ".".join(walked) or "(top level)"
                valid = ", ".join(sorted(str(k) for k in node)) or "none"
                raise KeyError(f"no key {part!r} at {where}; valid keys there: {valid}")
            node = node[part]
        else:
            raise KeyError(f"{'.'.join(walked)} holds a value, not keys")
        walked.append(part)
    return node


def check_free_parameters(block: CalibrationBlock, scenario_data: dict[str, Any]) -> list[str]:
    """Problems with the free parameters against the scenario's own values (one line each)."""
    problems = []
    for i, par in enumerate(block.free_parameters):
        problems += _check_path(f"calibration.free_parameters[{i}].path", par.path, scenario_data)
        for j, path in enumerate(par.tied_paths):
            where = f"calibration.free_parameters[{i}].tied_paths[{j}]"
            problems += _check_path(where, path, scenario_data)
    return problems


_NOT_FREE = ("calibration", "seed", "months", "start", "name", "description")


def _check_path(where: str, path: str, scenario_data: dict[str, Any]) -> list[str]:
    if path.split(".")[0] in _NOT_FREE:
        return [f"{where}: {path!r} cannot be calibrated; free a value of the model instead"]
    try:
        value = lookup_path(scenario_data, path)
    except KeyError as exc:
        return [f"{where}: {path!r} is not in the scenario: {exc.args[0]}"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [f"{where}: {path!r} holds {value!r}, not a number; free a numeric value"]
    return []
