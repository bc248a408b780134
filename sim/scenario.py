"""Scenario files: load YAML, apply overrides, validate, and report every problem clearly.

A problem is reported as one line: the file, the key path, what is wrong, the value found, and
how to fix it, e.g.
``scenarios/hoa_binh.yaml › assumptions.points.commune_point.counters: must be ≥ 1 (got 0)``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from welfare_sim.models.geography import Places
from welfare_sim.models.params import (
    MAX_MONTHS,
    STRATEGY_KINDS,
    Assumptions,
    District,
    Frozen,
    Geography,
    GroupSettings,
    Interventions,
    Month,
    PaymentRun,
    Population,
    Registers,
    month_index,
)
from welfare_sim.sim.free_parameters import CalibrationBlock, check_free_parameters
from welfare_sim.sim.roster import RosterError, RosterInput
from welfare_sim.sim.yaml_limits import YamlLimitError, load_yaml_text, read_limited_text

MAX_PROBLEMS = 20  # lines of one error report; past that the first ones are what to fix
MAX_PROVINCES = 63  # the legacy register's provinces


class ScenarioError(Exception):
    """Bad input. `problems` holds one human-readable line per problem, at most MAX_PROBLEMS of
    them and a last line saying how many more there were."""

    def __init__(self, problems: list[str]) -> None:
        problems = list(problems)
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], f"... and {more:,} more problem(s); fix these first"]
        super().__init__("\n".join(problems))
        self.problems = problems


class ProvinceSettings(GroupSettings):
    """One province of a many-province scenario (`geography.provinces`): its own figures, each left
    out falling back to `geography.defaults`. Its districts and communes come from the legacy register,
    as for a one-province scenario; its beneficiaries and ATMs are shared out to the districts by
    commune count, `post_offices` is per district."""

    province: str = Field(min_length=1, description="the province, by name or official code, in the legacy register")
    region: str | None = Field(
        None, description="the socio-economic region the province's assumptions come from (a label, not used)"
    )


class CountryGeography(Geography):
    """A one-province geography, or with `provinces` the country as independent provinces."""

    # declared again: inherited, pydantic looked its default up on the class and found ABCMeta.register
    # (a method), so a geography that left `register:` out was refused with a method as the bad value
    register: Registers = Field(
        "legacy", description=Geography.model_fields["register"].description
    )
    provinces: list[ProvinceSettings] | None = Field(
        None, min_length=1, max_length=MAX_PROVINCES,
        description="legacy map: many provinces, each run as its own province (`defaults` holds the "
        "country-wide values; `province` is then only the country's label)",
    )

    @model_validator(mode="after")
    def _country(self) -> CountryGeography:
        if self.provinces is None:
            return self
        if self.register != "legacy":
            raise ValueError(
                f"geography.provinces is for the legacy register (the map with districts); got register "
                f"{self.register!r}: write register: legacy"
            )
        if self.districts is not None or self.areas or self.commune_data is not None:
            raise ValueError(
                "with geography.provinces, leave out districts, areas and commune_data: each province's "
                "districts come from the register"
            )
        return self

    @property
    def n_beneficiaries(self) -> int:
        if self.provinces is None:
            return super().n_beneficiaries
        fallback = self.defaults.beneficiaries if self.defaults is not None else None
        return sum((p.beneficiaries if p.beneficiaries is not None else fallback) or 0 for p in self.provinces)

    @property
    def n_communes(self) -> int:
        parts = getattr(self, "_parts", None)
        if self.provinces is not None and parts:
            return sum(sc.geography.n_communes for _, sc in parts)
        return super().n_communes

    @property
    def groups(self) -> list[District]:
        if self.provinces is not None and self._parts:
            return [d for _, sc in self._parts for d in sc.geography.groups]
        return super().groups

    _parts: tuple = PrivateAttr(())  # the provinces as one-province scenarios, in code order


class Scenario(Frozen):
    name: str = Field(min_length=1)
    description: str = ""
    start: Month = Field(description="first simulated month, YYYY-MM")
    months: int = Field(ge=1, le=MAX_MONTHS, description="number of simulated months")
    seed: int = Field(0, ge=0, lt=2**63, description="run seed; every random stream derives from it")
    geography: CountryGeography
    population: Population
    payment_run: PaymentRun
    assumptions: Assumptions
    interventions: Interventions = Interventions()
    calibration: CalibrationBlock | None = Field(
        None, description="free parameters and their bounds, for `welfare-sim calibrate`"
    )
    roster: RosterInput | None = Field(
        None, description="start from a real beneficiary roster instead of a synthetic population (docs/roster.md)"
    )
    _roster: object = PrivateAttr(None)  # the ResolvedRoster (import counts; pseudonyms stay in sim/)
    _namespace: str = PrivateAttr("")  # the random streams' namespace: a province's code in a many-province run

    @property
    def stream_namespace(self) -> str:
        return self._namespace

    @property
    def parts(self) -> tuple[tuple[str, Scenario], ...]:
        """A many-province scenario's provinces as (official code, one-province scenario), in code
        order; empty for a one-province scenario."""
        return self.geography._parts

    @property
    def resolved_roster(self):  # noqa: ANN201 (a sim.roster.ResolvedRoster, or None)
        return self._roster

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        from welfare_sim.sim.names import did_you_mean

        districts = set(self.geography.group_names)
        problems = []
        country = self.geography.provinces is not None
        for kind, i, strategy in self.interventions.scoped():
            if strategy.provinces is not None and not country:
                problems.append(
                    f"{AT}interventions.{kind}[{i}].provinces: only for a many-province scenario "
                    "(geography.provinces); a one-province scenario's strategies are in its province: leave "
                    "the key out"
                )
        # a many-province scenario's districts are looked up in each strategy's provinces (country_parts)
        for where, named in [] if country else self.interventions.district_references():
            for name in sorted(set(named or ()) - districts):
                guess = did_you_mean(name, districts)
                hint = f'did you mean "{guess}"?' if guess else f"known: {', '.join(sorted(districts))}"
                problems.append(f"{AT}{where}: names unknown district {name!r}; {hint}")
        if problems:
            raise ValueError("\n".join(problems))
        if self.geography.register == "none" and self.assumptions.costs.travel_cost_vnd_per_min is None:
            raise ValueError(
                f"{AT}assumptions.costs.travel_cost_vnd_per_min: required key missing with geography.register "
                "none (trips have no distance to cost); add it"
            )
        first = min(month_index(a.start) for a in self.population.base_level)
        if first > month_index(self.start):
            raise ValueError(
                f"population.base_level has no amount for the start month {self.start}; "
                "add an entry that starts on or before it"
            )
        return self

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form: equal for equal scenarios."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------- loading


def read_yaml(path: Path) -> dict[str, Any]:
    """A scenario (or sweep, or `extends:` base) file as a mapping, read within the limits of
    `welfare_sim.sim.yaml_limits`. Raises ScenarioError with one line naming the file."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError([f"{path}: file not found; check the path (from {Path.cwd()})"])
    if path.is_dir():
        raise ScenarioError([f"{path}: is a folder; give a scenario .yaml file"])
    try:
        data = load_yaml_text(read_limited_text(path))
    except YamlLimitError as exc:
        raise ScenarioError([f"{path}: {exc}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(
            [f"{path}:{where}: not valid YAML: {problem}; fix the syntax (indentation, colons, quotes)"]
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError([f"{path}: not UTF-8 text; save the file as UTF-8"]) from None
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot be read: {exc.strerror or exc}; check the file"]) from None
    if not isinstance(data, dict):
        raise ScenarioError([f"{path}: a scenario must be a YAML mapping of keys (got {type(data).__name__})"])
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `over` onto `base`: mappings merge key by key, anything else replaces, except
    that a key written `NAME+` with a list appends that list to the base's list NAME (so a
    strategy file can add a drive to the base's drives: `drives+: [...]`)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(key, str) and key.endswith("+") and isinstance(value, list):
            current = out.get(key[:-1])
            if current is None or isinstance(current, list):
                out[key[:-1]] = [*(current or []), *copy.deepcopy(value)]
                continue
        if isinstance(value, dict):
            prior = out.get(key)
            out[key] = _merge(prior if isinstance(prior, dict) else {}, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_extends(path: Path, data: dict[str, Any], seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """`extends: base.yaml` (relative to the file) plus the keys this file overrides."""
    roster = data.get("roster")
    if isinstance(roster, dict) and isinstance(roster.get("path"), str):
        roster["path"] = str((path.parent / roster["path"]).resolve())  # beside the scenario that names it
    geography = data.get("geography")
    if isinstance(geography, dict) and isinstance(geography.get("commune_data"), str):
        # the planner's file sits next to the scenario that names it, whichever file extends it
        geography["commune_data"] = str((path.parent / geography["commune_data"]).resolve())
    parent = data.pop("extends", None)
    if parent is None:
        return _merge({}, data)  # `NAME+: [...]` appends to nothing
    if not isinstance(parent, str):
        raise ScenarioError([f"{path} › extends: must be a file name (got {parent!r})"])
    parent_path = (path.parent / parent).resolve()
    if parent_path in seen:
        raise ScenarioError([f"{path} › extends: {parent} extends itself in a loop; break the cycle"])
    if not parent_path.exists():
        raise ScenarioError([f"{path} › extends: {parent}: file not found next to {path.name}"])
    base = resolve_extends(parent_path, read_yaml(parent_path), (*seen, parent_path))
    return _merge(base, data)


def _parse_value(text: str, source: str, item: str) -> Any:
    try:
        return load_yaml_text(text)
    except YamlLimitError as exc:
        raise ScenarioError([f"{source} {item!r}: the value breaks a limit: {exc}"]) from None
    except yaml.YAMLError:
        return text


def _model_keys(model: type[Frozen], parts: list[str]) -> list[str] | None:
    """Valid keys at the end of `parts` if that path walks pydantic models, else None."""
    current: Any = model
    for part in parts:
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return None
        annotation = fields[part].annotation
        current = annotation if isinstance(annotation, type) else None
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else None


def apply_overrides(data: dict[str, Any], overrides: list[str], source: str = "--set") -> dict[str, Any]:
    """Apply ``key.path=value`` overrides; list items are addressed by index (``districts.0.atms``)."""
    out = copy.deepcopy(data)
    problems: list[str] = []
    for item in overrides:
        if "=" not in item:
            problems.append(f"{source} {item!r}: write key.path=value, e.g. months=12")
            continue
        path, raw = item.split("=", 1)
        parts = [p for p in path.strip().split(".") if p]
        if not parts:
            problems.append(f"{source} {item!r}: empty key path; write key.path=value")
            continue
        node: Any = out
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            where = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    problems.append(
                        f"{source} {path}: {where} is not an item of a list of {len(node)}; "
                        f"use an index from 0 to {len(node) - 1}"
                    )
                    break
                if last:
                    node[int(part)] = _parse_value(raw, source, item)
                else:
                    node = node[int(part)]
                continue
            if not isinstance(node, dict):
                problems.append(f"{source} {path}: {'.'.join(parts[:depth])} holds a value, not keys")
                break
            if part not in node:
                valid = _model_keys(Scenario, parts[:depth]) if all(
                    not p.isdigit() for p in parts[:depth]
                ) else None
                valid = valid or sorted(node)
                if part not in valid:
                    problems.append(
                        f"{source} {path}: unknown key {part!r} at {where}; "
                        f"valid keys there: {', '.join(valid)}"
                    )
                    break
                if not last:
                    node[part] = {}
            if last:
                node[part] = _parse_value(raw, source, item)
            else:
                node = node[part]
    if problems:
        raise ScenarioError(problems)
    return out


def _loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _allowed(model: type[Frozen], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        annotation = fields[part].annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        current = next((c for c in candidates if hasattr(c, "model_fields")), None)
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


_RULES = {
    "greater_than_equal": "must be ≥ {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be ≤ {le}",
    "less_than": "must be < {lt}",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number, not inf or nan",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys",
    "model_type": "must be a mapping of keys",
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "may hold at most {max_length} item(s)",
    "string_too_short": "must not be empty",
}


AT = "@"  # a cross-check's message that starts with this names its own key path: "@a.b[0].c: ..."


def format_validation_error(source: str, exc: ValidationError, model: type[Frozen] = Scenario) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        got = _short(err.get("input"))
        where = f"{source} › {_loc(loc)}"
        if kind == "extra_forbidden":
            valid = _allowed(model, loc)
            hint = f"valid keys here: {', '.join(valid)}" if valid else "remove it"
            lines.append(f"{where}: unknown key; {hint}; check the spelling or remove it")
        elif kind == "missing":
            lines.append(f"{where}: required key missing; add it (see `welfare-sim schema`)")
        elif kind in _RULES:
            ctx = {k: _number(v) for k, v in err.get("ctx", {}).items()}
            fix = "fix the value"
            if kind in ("int_type", "float_type") and isinstance(err.get("input"), str):
                fix = "write the number without quotes"
            lines.append(f"{where}: {_RULES[kind].format(**ctx)} (got {got}); {fix}")
        else:
            message = err["msg"].removeprefix("Value error, ")
            if message.startswith(AT):  # problems a cross-check found, each at its own key path
                lines.extend(f"{source} › {line.removeprefix(AT)}" for line in message.split("\n"))
            elif "(got" in message:
                lines.append(f"{where}: {message}")
            else:
                lines.append(f"{where}: {message} (got {got}); fix the value")
    return lines


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read, resolve `extends`, apply overrides and validate. Raises ScenarioError."""
    path = Path(path)
    data = resolve_extends(path.resolve(), read_yaml(path))
    if overrides:
        data = apply_overrides(data, overrides)
    return validate_scenario(data, str(path))


def validate_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_register_problems(data, source) + format_validation_error(source, exc)) from None
    if scenario.geography.provinces is not None:
        scenario.geography._parts = country_parts(scenario, source)
        return scenario
    # the register is read once the scenario is valid, so its problems come at their own key paths
    scenario.geography._places = resolve_places(scenario.geography, source)
    if scenario.roster is not None:
        from welfare_sim.sim.roster import resolve_roster

        try:
            resolved, places = resolve_roster(
                scenario.roster, scenario.geography, scenario.population, scenario.start, source
            )
        except RosterError as exc:
            raise ScenarioError(exc.problems) from None
        scenario.geography._places = places
        scenario.geography._roster = resolved.people
        scenario._roster = resolved
    problems = _commune_scope_problems(scenario, scenario.geography.n_communes, source)
    if problems:
        raise ScenarioError(problems)
    if scenario.calibration is not None:
        # free-parameter paths point into the rest of the scenario, so check them once it is valid
        problems = check_free_parameters(scenario.calibration, scenario.model_dump(mode="json"))
        if problems:
            raise ScenarioError([f"{source} › {line}" for line in problems])
    return scenario


def _commune_scope_problems(scenario: Scenario, n_communes: int, source: str) -> list[str]:
    """Strategies scoped to communes (by index) that the map does not have."""
    return [
        f"{source} › interventions.{kind}[{i}].communes: commune {c} does not exist; the geography has "
        f"communes 0 to {n_communes - 1} (the commune column of places.parquet)"
        for kind in ("drives", "atm_points", "agents")
        for i, strategy in enumerate(getattr(scenario.interventions, kind))
        for c in sorted(set(strategy.communes or ()) - set(range(n_communes)))
    ]


# --------------------------------------------------------------------------- the map


def _district_from(settings: list[GroupSettings | None], name: str, n: int, beneficiaries: int) -> District:
    """A group's complete settings: the first of `settings` that sets each field (area, then defaults)."""

    def pick(field: str, default: Any = None) -> Any:
        return next((getattr(s, field) for s in settings if s is not None and getattr(s, field) is not None), default)

    return District.model_construct(
        name=name,
        communes=n,
        beneficiaries=beneficiaries,
        terrain=pick("terrain"),
        ethnic_minority_share=pick("ethnic_minority_share"),
        post_offices=pick("post_offices", 1),
        post_office_counters=pick("post_office_counters", 2),
        atms=pick("atms"),
        chip_id_share=pick("chip_id_share"),
        smartphone_share=pick("smartphone_share"),
        cashless_start=pick("cashless_start"),
        commune_beneficiaries=None,
    )


def _column(table: pl.DataFrame, name: str, dtype: pl.DataType, missing: Any) -> np.ndarray:
    if name not in table.columns:
        return np.full(table.height, missing, dtype=np.float64 if dtype == pl.Float64 else np.int64)
    return table[name].cast(dtype).fill_null(missing).to_numpy()


def resolve_places(geo: Geography, source: str) -> Places:
    """The scenario's communes from the register (and the planner's per-commune file), in the model's
    order: group by group, then by official code. Raises ScenarioError at the key path.

    Without a planner's file (whose contents may change between loads) the result is kept per
    geography: a country re-resolves 63 provinces whenever any value changes (a sweep, a `--set`)."""
    if geo.register == "none" or geo.commune_data is not None:
        return _resolve_places(geo, source)
    key = geo.model_dump_json()
    places = _PLACES.get(key)
    if places is None:
        places = _PLACES[key] = _resolve_places(geo, source)
        while len(_PLACES) > 4 * MAX_PROVINCES:
            _PLACES.pop(next(iter(_PLACES)))
    return places


_PLACES: dict[str, Places] = {}


def _resolve_places(geo: Geography, source: str) -> Places:
    from welfare_sim.models.geography import anonymous_places
    from welfare_sim.models.params import TERRAINS
    from welfare_sim.sim import register as reg

    if geo.register == "none":
        return anonymous_places(geo.districts or [])
    at = f"{source} › geography"
    try:
        prov = reg.find_province(geo.province, geo.register)
    except reg.RegisterError as exc:
        hint = ' (or, for a made-up province with anonymous communes, set geography.register: "none")'
        raise ScenarioError([f"{at}.province: {exc}{hint}"]) from None
    try:
        table = reg.commune_table(prov.code, geo.register, geo.commune_data)
    except reg.RegisterError as exc:
        raise ScenarioError([f"{at}.commune_data: {line}" for line in exc.problems]) from None
    problems: list[str] = []
    benef_cols = [c for c in table.columns if c.startswith("beneficiaries_")]
    if "beneficiaries" in table.columns:
        counts = _column(table, "beneficiaries", pl.Int64, -1)
        if benef_cols:
            by_cat = table.select(pl.sum_horizontal(benef_cols)).to_series().cast(pl.Int64).fill_null(-1).to_numpy()
            for i in np.flatnonzero((by_cat >= 0) & (counts >= 0) & (by_cat != counts))[:5]:
                problems.append(
                    f"{at}.commune_data: commune {table['name'][i]} ({table['code'][i]}): beneficiaries "
                    f"{counts[i]} but the per-category columns sum to {by_cat[i]}; make them agree"
                )
    elif benef_cols:
        given = table.select(pl.any_horizontal(pl.col(benef_cols).is_not_null())).to_series().to_numpy()
        total = table.select(pl.sum_horizontal(benef_cols)).to_series().cast(pl.Int64).to_numpy()
        counts = np.where(given, total, -1)
    else:
        counts = np.full(table.height, -1, np.int64)
    terrain = np.full(table.height, -1, np.int8)
    if "terrain" in table.columns:
        named = table["terrain"].to_list()
        terrain = np.array([TERRAINS.index(t) if t else -1 for t in named], np.int8)

    group = np.full(table.height, -1, np.int32)
    groups: list[District] = []
    codes: list[str] = []
    seats: list[tuple[float, float]] = []
    if geo.districts is not None:
        if geo.register != "legacy":
            raise ScenarioError(
                [
                    f"{at}.districts: the {geo.register} map has no districts; name groups of communes in "
                    "`geography.areas` and give the province-wide values in `geography.defaults` (docs/geography.md)"
                ]
            )
        seen: dict[str, int] = {}
        for i, d in enumerate(geo.districts):
            try:
                unit = reg.find_district(d.name, prov.code)
            except reg.RegisterError as exc:
                problems.append(f"{at}.districts[{i}].name: {exc}")
                continue
            if unit.code in seen:
                problems.append(
                    f"{at}.districts[{i}].name: {d.name!r} is {unit.name} ({unit.code}), already given as "
                    f"districts[{seen[unit.code]}]; name each district once"
                )
                continue
            seen[unit.code] = i
            here = (table["district_code"] == unit.code).to_numpy()
            n = int(here.sum())
            if d.communes is not None and d.communes != n:
                problems.append(
                    f"{at}.districts[{i}].communes: {unit.name} has {n} communes in the legacy register "
                    f"(got {d.communes}); write {n} or leave the key out"
                )
            if d.commune_beneficiaries is not None and len(d.commune_beneficiaries) != n:
                problems.append(
                    f"{at}.districts[{i}].commune_beneficiaries: lists {len(d.commune_beneficiaries)} communes "
                    f"but {unit.name} has {n} in the register (in the order of their codes)"
                )
            known = counts[here]
            if (known >= 0).any():
                got = int(known[known >= 0].sum())
                if got > d.beneficiaries or ((known >= 0).all() and got != d.beneficiaries):
                    problems.append(
                        f"{at}.districts[{i}].beneficiaries: {d.beneficiaries} (got), but the commune file "
                        f"counts {got} in {unit.name}'s communes; make them agree"
                    )
            group[here] = len(groups)
            groups.append(d.model_copy(update={"communes": n}))
            codes.append(unit.code)
            seats.append((unit.latitude, unit.longitude))
    else:
        member = np.full(table.height, -1, np.int32)
        for i, area in enumerate(geo.areas):
            for j, name in enumerate(area.communes):
                try:
                    row = reg._match(name, table, "commune", "commune", f"province {prov.name}", ["district"])
                except reg.RegisterError as exc:
                    problems.append(f"{at}.areas[{i}].communes[{j}]: {exc}")
                    continue
                k = table["code"].to_list().index(row["code"])
                if member[k] >= 0:
                    problems.append(
                        f"{at}.areas[{i}].communes[{j}]: {row['name']} ({row['code']}) is already in area "
                        f"{geo.areas[member[k]].name!r}; a commune belongs to one area"
                    )
                member[k] = i
        rest = member < 0
        settings = [*[(a, a.name, member == i) for i, a in enumerate(geo.areas)]]
        if rest.any():
            settings.append((None, prov.short_name, rest))
        for k, (area, name, here) in enumerate(settings):
            where = f"{at}.areas[{k}]" if area is not None else f"{at}.defaults"
            known = counts[here]
            total = area.beneficiaries if area is not None and area.beneficiaries is not None else None
            if total is None and area is None:
                total = geo.defaults.beneficiaries
            if (known < 0).any() and total is None:
                problems.append(
                    f"{where}.beneficiaries: {int((known < 0).sum())} communes have no beneficiaries in the "
                    "commune file; give the group's total here (it is split across them) or count them in the file"
                )
            got = int(known[known >= 0].sum())
            if total is not None and (got > total or ((known >= 0).all() and got != total)):
                problems.append(
                    f"{where}.beneficiaries: {total} (got), but the commune file counts {got} in its communes; "
                    "make them agree, or leave the key out"
                )
            district = _district_from([area, geo.defaults], name, int(here.sum()), got if total is None else total)
            for field in ("ethnic_minority_share", "atms", "cashless_start"):
                if getattr(district, field) is None:
                    problems.append(f"{where}.{field}: required key missing; set it here or in geography.defaults")
            if district.terrain is None and (terrain[here] < 0).any():
                problems.append(
                    f"{where}.terrain: required key missing ({int((terrain[here] < 0).sum())} communes have no terrain "
                    "in the commune file); set it here or in geography.defaults"
                )
            group[here] = k
            groups.append(district)
            codes.append("")
            lat, lon = table["latitude"].to_numpy()[here], table["longitude"].to_numpy()[here]
            seats.append((float(lat.mean()), float(lon.mean())) if here.any() else (np.nan, np.nan))
    if problems:
        raise ScenarioError(problems)
    # Communes of districts the scenario leaves out are not simulated; the rest go group by group.
    keep = np.flatnonzero(group >= 0)
    keep = keep[np.argsort(group[keep], kind="stable")]
    t = table[keep]
    group = group[keep]
    facilities = {c: _column(t, c, pl.Int64, -1) for c in reg.COUNT_COLUMNS if c in t.columns}
    # where the file counts a group's post offices or ATMs, the group has those (models.geography.place_facilities)
    for k, grp in enumerate(groups):
        counted = {
            field: int(np.maximum(facilities[column][group == k], 0).sum())
            for field, column in (("post_offices", "post_offices"), ("atms", "atms"))
            if column in facilities and (facilities[column][group == k] >= 0).any()
        }
        if counted.get("post_offices") == 0:
            raise ScenarioError(
                [f"{at}.commune_data: column 'post_offices' counts no post office in {grp.name}; a group needs one"]
            )
        if counted:
            groups[k] = grp.model_copy(update=counted)
    return Places(
        code=tuple(t["code"].to_list()),
        name=tuple(t["name"].to_list()),
        type=tuple(t["type"].to_list()),
        group=group,
        groups=tuple(groups),
        group_codes=tuple(codes),
        seat_latitude=np.array([s[0] for s in seats], np.float64),
        seat_longitude=np.array([s[1] for s in seats], np.float64),
        latitude=_column(t, "latitude", pl.Float64, np.nan),
        longitude=_column(t, "longitude", pl.Float64, np.nan),
        area_km2=_column(t, "area_km2", pl.Float64, np.nan),
        beneficiaries=counts[keep],
        terrain=terrain[keep],
        ethnic_minority_share=_column(t, "ethnic_minority_share", pl.Float64, np.nan),
        chip_id_share=_column(t, "chip_id_share", pl.Float64, np.nan),
        smartphone_share=_column(t, "smartphone_share", pl.Float64, np.nan),
        facilities=facilities,
    )


# --------------------------------------------------------------------------- many provinces


def share_out(total: int, weights: list[int]) -> list[int]:
    """`total` shared in proportion to integer `weights` by largest remainder (ties to the earlier
    item): whole numbers that sum to `total` exactly."""
    w = np.asarray(weights, dtype=np.int64)
    if total == 0 or w.size == 0 or w.sum() == 0:
        return [0] * w.size
    exact = np.int64(total) * w
    base, remainder = np.divmod(exact, w.sum())
    base[np.argsort(-remainder, kind="stable")[: total - int(base.sum())]] += 1
    return [int(v) for v in base]


def country_parts(scenario: Scenario, source: str) -> tuple[tuple[str, Scenario], ...]:
    """A many-province scenario's provinces, each a one-province legacy scenario resolved as one
    written alone would be, in the order of their official codes. Raises ScenarioError at the key path."""
    from welfare_sim.sim import register as reg
    from welfare_sim.sim.names import did_you_mean

    geo = scenario.geography
    at = f"{source} › geography.provinces"
    problems: list[str] = []
    units: list[tuple[int, reg.Unit]] = []
    seen: dict[str, int] = {}
    fallback = geo.defaults.beneficiaries if geo.defaults is not None else None
    for k, p in enumerate(geo.provinces or []):
        try:
            unit = _legacy_province(p.province)
        except reg.RegisterError as exc:
            names = reg.provinces("legacy")["short_name"].to_list()
            guess = did_you_mean(p.province, names)
            hint = f' (did you mean "{guess}"?)' if guess and "did you mean" not in str(exc) else ""
            problems.append(f"{at}[{k}].province: {exc}{hint}")
            continue
        if unit.code in seen:
            problems.append(
                f"{at}[{k}].province: {p.province!r} is {unit.name} ({unit.code}), already given as "
                f"provinces[{seen[unit.code]}]; name each province once"
            )
            continue
        seen[unit.code] = k
        units.append((k, unit))
        if p.beneficiaries is None and fallback is None:
            problems.append(f"{at}[{k}].beneficiaries: required key missing; set it here or in geography.defaults")
    if scenario.roster is not None:
        problems.append(f"{source} › roster: a roster run is of one province; leave out geography.provinces")
    if problems:
        raise ScenarioError(problems)
    units.sort(key=lambda u: u[1].code)
    scopes = _strategy_scopes(scenario, [u for _, u in units], source)
    n_communes = _province_communes()
    # A drive's teams are shared out to the provinces it covers by commune count (of its districts
    # there, if it names districts; an assumption): the country keeps its number of teams, and a
    # province given none has no drive.
    teams = []
    for i, d in enumerate(scenario.interventions.drives):
        scope = scopes[("drives", i)]
        weights = [
            0 if scope is not None and u.code not in scope
            else _communes_in(u.code, scope[u.code]) if scope is not None and scope[u.code] is not None
            else int(n_communes.get(u.code, 0))
            for _, u in units
        ]
        teams.append(share_out(d.teams, weights))
    # Each province is the country's scenario with its own geography and its share of the drives: only
    # those are validated again (the rest is the country's, valid already), so a `--set`, a sweep or a
    # calibration step re-resolves 63 provinces in well under a second (the register look-ups are kept
    # per geography by resolve_places).
    geography = geo.model_dump(mode="json")
    parts: list[tuple[str, Scenario]] = []
    for j, (k, unit) in enumerate(units):
        where = f"{at}[{k}] ({unit.short_name})"
        own_data = province_geography(geography, k, unit)
        key = json.dumps(own_data, sort_keys=True, ensure_ascii=False)
        own = _GEOGRAPHIES.get(key)
        if own is None:
            try:
                own = CountryGeography.model_validate(own_data)
            except ValidationError as exc:
                problems.extend(format_validation_error(where, exc, CountryGeography))
                continue
            try:
                own._places = resolve_places(own, where)
            except ScenarioError as exc:
                problems.extend(exc.problems)
                continue
            _GEOGRAPHIES[key] = own
            while len(_GEOGRAPHIES) > 4 * MAX_PROVINCES:
                _GEOGRAPHIES.pop(next(iter(_GEOGRAPHIES)))
        drives = [
            _in_province(d, scopes[("drives", i)], unit.code).model_copy(update={"teams": t[j]})
            for i, (d, t) in enumerate(zip(scenario.interventions.drives, teams, strict=True))
            if t[j] > 0
        ]
        own_strategies: dict[str, list] = {"drives": drives}
        for kind in STRATEGY_KINDS:
            own_strategies[kind] = [
                _in_province(st, scopes[(kind, i)], unit.code)
                for i, st in enumerate(getattr(scenario.interventions, kind))
                if scopes[(kind, i)] is None or unit.code in scopes[(kind, i)]
            ]
        part = scenario.model_copy(
            update={
                "description": f"{unit.name}, a province of {scenario.name}",
                "geography": own,
                "interventions": scenario.interventions.model_copy(update=own_strategies),
                "calibration": None,
            }
        )
        part._namespace = unit.code
        parts.append((unit.code, part))
    if problems:
        raise ScenarioError(problems)
    return tuple(parts)


# What a strategy covers in a many-province scenario: None (every province, whole), or official
# province code -> the register names of its districts the strategy names there (None: the whole province).
Scope = dict[str, list[str] | None] | None


def _strategy_scopes(scenario: Scenario, units: list[Any], source: str) -> dict[tuple[str, int], Scope]:
    """Each strategy's provinces and districts, looked up in the register; raises ScenarioError at the
    key paths (unknown or absent province, a district in none of the strategy's provinces, districts or
    commune numbers without the provinces they are in)."""
    from welfare_sim.sim import register as reg
    from welfare_sim.sim.names import did_you_mean

    present = {u.code: u for u in units}
    problems: list[str] = []
    scopes: dict[tuple[str, int], Scope] = {}
    for kind, i, strategy in scenario.interventions.scoped():
        at = f"{source} › interventions.{kind}[{i}]"
        if strategy.provinces is None:
            if strategy.districts:
                problems.append(
                    f"{at}.districts: in a many-province scenario, name the provinces too (district names "
                    "repeat from province to province): add provinces: [<province>]"
                )
            if getattr(strategy, "communes", None):
                problems.append(
                    f"{at}.communes: commune numbers are a place in one province's list (places.parquet): "
                    "add provinces: [<that province>]"
                )
            scopes[(kind, i)] = None
            continue
        codes: list[str] = []
        for k, name in enumerate(strategy.provinces):
            try:
                unit = _legacy_province(name)
            except reg.RegisterError as exc:
                names = [u.short_name for u in units]
                guess = did_you_mean(name, names)
                hint = f' (did you mean "{guess}"?)' if guess and "did you mean" not in str(exc) else ""
                problems.append(f"{at}.provinces[{k}]: {exc}{hint}")
                continue
            if unit.code not in present:
                problems.append(
                    f"{at}.provinces[{k}]: {name!r} is {unit.name} ({unit.code}), which is not among "
                    "geography.provinces; add it there or leave it out here"
                )
                continue
            codes.append(unit.code)
        if getattr(strategy, "communes", None) and len(set(codes)) != 1:
            problems.append(
                f"{at}.communes: commune numbers are a place in one province's list (places.parquet): "
                f"name exactly one province in provinces (got {len(set(codes))})"
            )
        scope: dict[str, list[str] | None] = {code: None for code in codes}
        if strategy.districts:
            scope = {code: [] for code in codes}
            for k, name in enumerate(strategy.districts):
                found, first_error = False, None
                for code in codes:
                    try:
                        district = reg.find_district(name, code)
                    except reg.RegisterError as exc:
                        first_error = first_error or exc
                        continue
                    scope[code].append(district.name)  # type: ignore[union-attr]
                    found = True
                if not found and codes:
                    problems.append(f"{at}.districts[{k}]: {first_error}")
            scope = {code: named for code, named in scope.items() if named}
        scopes[(kind, i)] = scope
    if problems:
        raise ScenarioError(problems)
    return scopes


def _in_province(strategy: Any, scope: Scope, code: str) -> Any:
    """The strategy as a one-province scenario of province `code` has it: no `provinces`, and only its
    districts there (by their register names, as that province's geography names them)."""
    districts = strategy.districts if scope is None else scope[code]
    return strategy.model_copy(update={"provinces": None, "districts": districts})


def _communes_in(province_code: str, districts: list[str]) -> int:
    names, sizes = _district_sizes(province_code)
    return sum(n for name, n in zip(names, sizes, strict=True) if name in districts)


# A province's resolved geography by its one-province `geography:` (frozen, so shareable): a `--set`,
# a sweep point or a calibration step that leaves a province's geography alone reuses it.
_GEOGRAPHIES: dict[str, CountryGeography] = {}


@functools.lru_cache(maxsize=4 * MAX_PROVINCES)
def _legacy_province(name_or_code: str) -> Any:
    from welfare_sim.sim import register as reg

    return reg.find_province(name_or_code, "legacy")


@functools.lru_cache(maxsize=1)
def _province_communes() -> dict[str, int]:
    """Communes per legacy province code, from the register."""
    from welfare_sim.sim import register as reg

    counts = reg.all_communes("legacy").group_by("province_code").len()
    return dict(zip(counts["province_code"], counts["len"], strict=True))


@functools.lru_cache(maxsize=MAX_PROVINCES)
def _district_sizes(province_code: str) -> tuple[list[str], list[int]]:
    """A legacy province's districts (names, in code order) and their commune counts, from the register."""
    from welfare_sim.sim import register as reg

    in_district = reg.communes(province_code, "legacy").group_by("district_code").len()
    table = (
        reg.districts(province_code)
        .join(in_district, left_on="code", right_on="district_code", how="inner")
        .sort("code")
    )
    return table["name"].to_list(), table["len"].to_list()


def province_geography(geography: dict[str, Any], k: int, unit: Any) -> dict[str, Any]:
    """The one-province legacy `geography:` of `geography.provinces[k]` (a JSON-ready dict): the
    register's districts, each with the province's settings (else the country's defaults), the
    province's beneficiaries and ATMs shared out by commune count."""
    mine, defaults = geography["provinces"][k], geography.get("defaults") or {}

    def pick(field: str, default: Any = None) -> Any:
        value = mine.get(field)
        value = defaults.get(field) if value is None else value
        return default if value is None else value

    names, sizes = _district_sizes(unit.code)
    beneficiaries = share_out(int(pick("beneficiaries", 0)), sizes)
    atms = share_out(int(pick("atms", 0)), sizes)
    districts = []
    for name, n, b, a in zip(names, sizes, beneficiaries, atms, strict=True):
        district = {
            "name": name,
            "communes": n,
            "beneficiaries": b,
            "terrain": pick("terrain"),
            "ethnic_minority_share": pick("ethnic_minority_share"),
            "post_offices": pick("post_offices", 1),
            "post_office_counters": pick("post_office_counters", 2),
            "atms": a,
            "chip_id_share": pick("chip_id_share"),
            "smartphone_share": pick("smartphone_share"),
            "cashless_start": pick("cashless_start"),
        }
        districts.append({key: v for key, v in district.items() if v is not None})
    return {
        "register": "legacy",
        "province": unit.code,
        "districts": districts,
        "travel": geography["travel"],
        "sample_fraction": geography["sample_fraction"],
    }


def _register_problems(data: dict[str, Any], source: str) -> list[str]:
    """The map's problems of a scenario that fails elsewhere: a misspelt district is the cause to fix
    first, not the strategies that name it as the scenario spells it."""
    try:
        geography = CountryGeography.model_validate(data.get("geography"))
        if geography.provinces is not None:
            return []
        if geography.register == "none":
            return []  # a made-up map has no register to misspell (and its communes are only counted)
        resolve_places(geography, source)
    except (ValidationError, ScenarioError) as exc:
        return exc.problems if isinstance(exc, ScenarioError) else []
    return []


def dump_scenario(scenario: Scenario) -> str:
    return yaml.safe_dump(
        scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
    )


def json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "welfare-sim scenario"
    return schema
