"""Calibration targets: dated figures the authorities reported, and the model's value for each.

A target file is YAML, one per region::

    region: Hòa Bình                 # must equal the scenario's geography.province
    targets:
      - name: accounts_2023_10
        date: 15 Oct 2023            # as reported
        month: 2023-10               # the simulated month it is compared with
        scope: province              # province | national | district
        quantity: account_share      # see QUANTITIES
        value: 0.378
        source: baohoabinh.com.vn, 2023
        sd_rel: 0.03                 # relative uncertainty of the figure (default 0.05)

`scope: district` takes `districts: [...]`; `communes: drive_visited` narrows a scope to the
communes an account-opening drive had visited by that month. `relation: ">="` or `"<="`
(or `fit: false`) makes a target a check, reported but not fitted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from welfare_sim.models.params import Frozen, Month, month_offset
from welfare_sim.sim.scenario import Scenario, ScenarioError, format_validation_error
from welfare_sim.sim.yaml_limits import YamlLimitError, load_yaml_text, read_limited_text


@dataclass(frozen=True)
class Quantity:
    kind: Literal["count", "vnd", "share"]
    description: str
    value: Callable[[dict[str, np.ndarray]], np.ndarray]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(np.shape(num), np.nan), where=np.asarray(den) > 0)


def _payments(c: dict[str, np.ndarray]) -> np.ndarray:
    return c["paid_into_account"] + c["paid_in_cash"] + c["paid_at_home"]


QUANTITIES: dict[str, Quantity] = {
    "beneficiaries": Quantity(
        "count", "beneficiaries on the programme", lambda c: c["beneficiaries"]
    ),
    "with_account": Quantity("count", "beneficiaries with an account", lambda c: c["with_account"]),
    "account_share": Quantity(
        "share",
        "share of beneficiaries with an account",
        lambda c: _ratio(c["with_account"], c["beneficiaries"]),
    ),
    "without_account": Quantity(
        "count", "beneficiaries without an account", lambda c: c["without_account"]
    ),
    "without_account_share": Quantity(
        "share",
        "share of beneficiaries without an account",
        lambda c: _ratio(c["without_account"], c["beneficiaries"]),
    ),
    "on_account_list": Quantity(
        "count", "account holders on the account payment list", lambda c: c["on_account_list"]
    ),
    "paid_into_account": Quantity(
        "count", "beneficiaries paid into an account in the month", lambda c: c["paid_into_account"]
    ),
    "paid_into_account_share": Quantity(
        "share",
        "share of beneficiaries paid into an account in the month",
        lambda c: _ratio(c["paid_into_account"], c["beneficiaries"]),
    ),
    "paid_into_account_vnd": Quantity(
        "vnd", "VND paid into accounts in the month", lambda c: c["paid_into_account_vnd"]
    ),
    "account_holders_not_paid_into_account": Quantity(
        "count",
        "account holders not paid into their account in the month",
        lambda c: c["with_account"] - c["paid_into_account"],
    ),
    "account_holders_not_paid_share": Quantity(
        "share",
        "share of account holders not paid into their account in the month",
        lambda c: _ratio(c["with_account"] - c["paid_into_account"], c["with_account"]),
    ),
    "cashless_share_of_payments": Quantity(
        "share",
        "share of the month's payments made into accounts",
        lambda c: _ratio(c["paid_into_account"], _payments(c)),
    ),
    "cash_share_of_payments": Quantity(
        "share",
        "share of the month's payments made in cash (points, counters, home)",
        lambda c: _ratio(c["paid_in_cash"] + c["paid_at_home"], _payments(c)),
    ),
}

COLUMNS = (
    "beneficiaries",
    "with_account",
    "without_account",
    "on_account_list",
    "paid_into_account",
    "paid_in_cash",
    "paid_at_home",
    "paid_into_account_vnd",
)


class Target(Frozen):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    date: str = Field(
        min_length=1, description="the date as reported, e.g. '15 Oct 2023', 'early 2024'"
    )
    month: Month = Field(description="the simulated month the figure is compared with (YYYY-MM)")
    scope: Literal["province", "national", "district"]
    districts: list[str] | None = Field(None, description="scope: district: the districts summed")
    communes: Literal["all", "drive_visited"] = Field(
        "all", description="drive_visited: only communes a drive had visited by `month`"
    )
    quantity: str
    value: float
    relation: Literal["=", ">=", "<="] = Field(
        "=", description="'=': fitted; '>=' or '<=': a check on the fitted model, not fitted"
    )
    fit: bool = Field(True, description="false: report the target but do not fit it")
    sd_rel: float = Field(0.05, gt=0.0, le=5.0, description="relative uncertainty of the figure")
    source: str = Field(min_length=1, description="where the figure comes from")
    note: str = ""

    @field_validator("date", mode="before")
    @classmethod
    def _date_text(cls, value: Any) -> Any:
        if isinstance(value, dt.date):
            return value.isoformat()
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )

    @field_validator("quantity")
    @classmethod
    def _known_quantity(cls, value: str) -> str:
        if value not in QUANTITIES:
            raise ValueError(
                f"unknown quantity {value!r}; known quantities: {', '.join(QUANTITIES)}"
            )
        return value

    @model_validator(mode="after")
    def _scope(self) -> Target:
        if self.scope == "district" and not self.districts:
            raise ValueError("scope: district needs `districts: [names]`")
        if self.scope != "district" and self.districts:
            raise ValueError(f"`districts` needs scope: district (got scope: {self.scope})")
        if self.relation == "=" and self.fit and self.value == 0:
            raise ValueError(
                "a fitted target cannot be 0 (relative error); use relation '<=' for a check"
            )
        return self

    @property
    def fitted(self) -> bool:
        return self.fit and self.relation == "="

    @property
    def kind(self) -> str:
        return QUANTITIES[self.quantity].kind

    def scope_label(self) -> str:
        where = self.scope if self.scope != "district" else ", ".join(self.districts or [])
        return where + (" (drive-visited communes)" if self.communes == "drive_visited" else "")


class TargetFile(Frozen):
    region: str = Field(min_length=1, description="the region the figures are for")
    description: str = ""
    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> TargetFile:
        names = [t.name for t in self.targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"target names must be unique; repeated: {', '.join(dupes)}")
        return self


NATIONAL_NAMES = {"vietnam", "việt nam", "viet nam"}


def load_targets(path: str | Path) -> TargetFile:
    """Read and validate a target file. Raises ScenarioError (one line per problem)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError([f"{path}: target file not found; check the path (from {Path.cwd()})"])
    try:
        data = load_yaml_text(read_limited_text(path))
    except (YamlLimitError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{path}: {exc}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ScenarioError([f"{path}:{where}: not valid YAML; fix the syntax"]) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            [f"{path}: a target file must be a YAML mapping with region and targets"]
        )
    try:
        return TargetFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(str(path), exc, TargetFile)) from None


def check_targets(targets: TargetFile, scenario: Scenario, source: str) -> list[str]:
    """Problems matching the targets to the scenario: region, districts, months."""
    problems = []
    province = scenario.geography.province
    region = targets.region.strip()
    national = region.casefold() in NATIONAL_NAMES
    if region.casefold() != province.strip().casefold():
        problems.append(
            f"{source} › region: the targets are for {region!r} but the scenario models "
            f"{province!r}; use the target file for {province!r} or another scenario"
        )
    known = [d.name for d in scenario.geography.groups]
    last = scenario.months - 1
    for i, t in enumerate(targets.targets):
        where = f"{source} › targets[{i}] ({t.name})"
        if t.scope == "national" and not national:
            problems.append(
                f"{where}.scope: national in a file for region {region!r}; use province"
            )
        if t.scope == "province" and national:
            problems.append(f"{where}.scope: province in the national file; use national")
        unknown = [d for d in t.districts or [] if d not in known]
        if unknown:
            problems.append(
                f"{where}.districts: unknown district(s) {', '.join(unknown)}; "
                f"the scenario has: {', '.join(known)}"
            )
        offset = month_offset(scenario.start, t.month)
        if not 0 <= offset <= last:
            problems.append(
                f"{where}.month: {t.month} is outside the scenario's run "
                f"({scenario.start} for {scenario.months} months); map the figure to a month in it"
            )
        if t.communes == "drive_visited" and not scenario.interventions.drives:
            problems.append(f"{where}.communes: drive_visited but the scenario has no drives")
    return problems


# --------------------------------------------------------------------------- model values


def _sums(frame: pl.DataFrame, months: int) -> dict[str, np.ndarray]:
    by_month = (
        frame.group_by("month")
        .agg([pl.col(c).cast(pl.Float64).sum() for c in COLUMNS])
        .sort("month")
    )
    out = {c: np.zeros(months) for c in COLUMNS}
    idx = by_month["month"].to_numpy().astype(np.int64)
    keep = idx < months
    for c in COLUMNS:
        out[c][idx[keep]] = by_month[c].to_numpy()[keep]
    return out


def quantity_series(
    monthly: pl.DataFrame, scenario: Scenario, target: Target, months: int, entries0: int = 0
) -> np.ndarray:
    """The target's quantity in its scope, for every simulated month (counts scaled to full size).
    `entries0`: the run's new approvals of its first month (the funnel's `entries`), which the
    scaling of a sampled run's counts leaves out (see `sample_scale`)."""
    frame = monthly
    geo = scenario.geography
    wanted = list(range(len(geo.groups)))
    if target.scope == "district":
        names = [d.name for d in geo.groups]
        wanted = [names.index(d) for d in target.districts or []]
        frame = frame.filter(pl.col("district").is_in(wanted))
    if target.communes == "drive_visited":
        first = (
            frame.filter(pl.col("reached_by_drive") > 0)
            .group_by("commune")
            .agg(pl.col("month").min().alias("first_visit"))
        )
        frame = frame.join(first, on="commune", how="inner").filter(
            pl.col("month") >= pl.col("first_visit")
        )
    sums = _sums(frame, months)
    series = np.asarray(QUANTITIES[target.quantity].value(sums), dtype=np.float64)
    if target.kind != "share" and geo.sample_fraction < 1.0:
        series = series * sample_scale(monthly, scenario, wanted, entries0)
    return series


def sample_scale(monthly: pl.DataFrame, scenario: Scenario, districts: list[int], entries0: int = 0) -> float:
    """Full-size people per simulated person in `districts`: the listed people at the start of the
    run (the scenario's beneficiaries) over the sample's listed people.

    A sample keeps round(sample_fraction × size) people of each commune; with a few people per
    commune the rounding moves the realised fraction well away from sample_fraction, so counts
    are scaled by the realised one. The sample's listed people are the first month's beneficiaries
    less that month's new approvals (`entries0`, the run's; new approvals arrive at the same rate in
    every commune, so a part of the districts takes its share of the communes); counting the
    approvals in made every scaled count about 0.5 % low nationally. (1 / sample_fraction if the
    first month is missing.)
    """
    geo = scenario.geography
    month0 = monthly.filter(pl.col("month") == 0)
    first = month0.filter(pl.col("district").is_in(districts))
    simulated = float(first["beneficiaries"].sum()) if first.height else 0.0
    if entries0 and first.height:
        communes_all = month0["commune"].n_unique()
        simulated -= entries0 * first["commune"].n_unique() / communes_all
    full = float(sum(geo.groups[d].beneficiaries for d in districts))
    return full / simulated if simulated > 0 else 1.0 / geo.sample_fraction


def first_month_entries(funnel: pl.DataFrame | None) -> int:
    """The new approvals of a run's first month, from its funnel table (0 if it has none)."""
    if funnel is None or "entries" not in funnel.columns or funnel.height == 0:
        return 0
    return int(funnel.filter(pl.col("month") == 0)["entries"].sum())


def model_values(
    monthly: pl.DataFrame, scenario: Scenario, targets: list[Target], months: int,
    funnel: pl.DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each target's model value at its month, and every target's monthly series (targets × months).
    `funnel`: the run's funnel table, for the scaling of a sampled run's counts."""
    entries0 = first_month_entries(funnel)
    series = np.stack([quantity_series(monthly, scenario, t, months, entries0) for t in targets])
    at = np.array([month_offset(scenario.start, t.month) for t in targets])
    return series[np.arange(len(targets)), at], series


def relative_error(model: float, target: float) -> float:
    return float((model - target) / abs(target)) if target else float("nan")


def check_passes(target: Target, model: float) -> bool:
    """For checks: whether the model satisfies the relation (a '=' check passes within 2 sd)."""
    if not np.isfinite(model):
        return False
    if target.relation == ">=":
        return model >= target.value
    if target.relation == "<=":
        return model <= target.value
    return abs(model - target.value) <= 2 * target.sd_rel * abs(target.value)
