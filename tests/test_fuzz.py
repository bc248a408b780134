"""The scenario fuzzer: mutants of every file in scenarios/ (and scenarios/sweeps/) and bad
`--set` values, each answered with a valid scenario (exit 0) or ScenarioError (exit 2) and one
line per problem; never another exception, a traceback or a hang.

Most mutants go through the library in this process (the functions the CLI calls: read, resolve
`extends:`, apply `--set`, validate, and for a sample of the valid ones a 1-month run); a few go
through `python -m welfare_sim` in a subprocess with their bases beside them in a temp folder.
The mutants are the same on every run (no randomness), so a failure names a mutant that
reproduces."""

from __future__ import annotations

import copy
import math
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from welfare_sim.sim.experiments.sweep import load_sweep
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import (
    Scenario,
    ScenarioError,
    _merge,
    apply_overrides,
    read_yaml,
    resolve_extends,
    validate_scenario,
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SCENARIO_FILES = sorted(SCENARIOS.glob("*.yaml"))
SWEEP_FILES = sorted((SCENARIOS / "sweeps").glob("*.yaml"))

# values put in place of a scenario value: wrong types, edge numbers, non-finite, empty
BAD_VALUES: list[Any] = [
    0,
    -1,
    10**30,
    2**63,
    1e300,
    -1e300,
    math.inf,
    -math.inf,
    math.nan,
    0.5,
    -0.5,
    "text",
    "12",
    "",
    True,
    False,
    None,
    [],
    {},
    [1, 2],
    {"x": 1},
]
# raw `--set` values, as a user types them
BAD_RAW = [
    "0",
    "-1",
    "1e400",
    "1e11",
    ".inf",
    "-.inf",
    ".nan",
    "true",
    "no",
    "abc",
    "'12'",
    "[]",
    "{}",
    "",
    "99999999999999999999999",
    "9" * 5000,
    "[" * 200,
    "{a: &a [*a]}",
    "2023-13-45",
    "null",
    "~",
]
RUNS_PER_FILE = 4  # valid mutants run for a month, per file (the rest are validated only)
EXTREMES = (10**30, 2**63, 1e300, -1e300, math.inf, -math.inf, math.nan)  # valid with one of these: always run
STEP_LIMIT_S = 60  # one validation or run taking longer than this is a hang

# the national scenario is run on a small sample so its valid mutants cost what Hòa Bình's do
RUN_SAMPLE = {"vietnam": 0.002}


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def answer(step: Callable[[], Any]) -> tuple[str, Any]:
    """('ok', value) or ('refused', problems); any other exception, or a hang, is raised."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(STEP_LIMIT_S)
    try:
        return "ok", step()
    except ScenarioError as exc:
        assert exc.problems and all(isinstance(p, str) and p.strip() for p in exc.problems), exc.problems
        assert all("\n" not in p for p in exc.problems), exc.problems  # one line each
        return "refused", exc.problems
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def leaves(data: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """(path, value) of every value in a parsed YAML document, containers included."""
    if path:
        yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaves(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from leaves(value, (*path, i))


def _set(data: Any, path: tuple, value: Any) -> Any:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


_DELETE = object()


def mutants(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Deterministic mutants: every key deleted; every value replaced by each of BAD_VALUES;
    every list emptied and given a repeated first item."""
    for path, value in leaves(data):
        where = ".".join(map(str, path))
        yield f"delete {where}", _set(data, path, _DELETE), None
        for bad in BAD_VALUES:
            yield f"{where}={bad!r}", _set(data, path, bad), bad
        if isinstance(value, list) and value:
            yield f"{where}=[]", _set(data, path, []), None
            yield f"{where} first item twice", _set(data, path, [value[0], *value]), None


class Base:
    """The resolved `extends:` base of a file, read once (mutants of the file merge onto it)."""

    def __init__(self) -> None:
        self.cache: dict[Path, dict[str, Any]] = {}

    def resolve(self, path: Path, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        parent = data.get("extends")
        if not isinstance(parent, str) or not (path.parent / parent).is_file():
            return resolve_extends(path, data)  # the loader's own answer for a bad `extends:`
        data.pop("extends")
        base_path = (path.parent / parent).resolve()
        if base_path not in self.cache:
            self.cache[base_path] = resolve_extends(base_path, read_yaml(base_path))
        return _merge(self.cache[base_path], data)


def run_one_month(scenario: Scenario) -> None:
    sample = RUN_SAMPLE.get(scenario.name)
    if sample is not None and scenario.geography.sample_fraction > sample:
        scenario = validate_scenario(
            apply_overrides(scenario.model_dump(mode="json"), [f"geography.sample_fraction={sample}"])
        )
    result = run_scenario(scenario, months=1)
    assert result.ledger.height == 1


@pytest.fixture(scope="module")
def tally() -> dict[str, int]:
    counts = {"mutants": 0, "valid": 0, "refused": 0, "runs": 0, "set_values": 0, "subprocess": 0}
    yield counts
    print("\nfuzz:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_scenario_mutants(path: Path, tally: dict[str, int]) -> None:
    data = read_yaml(path)
    bases = Base()
    failures: list[str] = []
    runs = 0
    for label, mutant, bad in mutants(data):
        tally["mutants"] += 1
        try:
            kind, value = answer(lambda m=mutant: validate_scenario(bases.resolve(path, m), str(path)))
            tally["valid" if kind == "ok" else "refused"] += 1
            extreme = any(bad is x or (type(bad) is type(x) and bad == x) for x in EXTREMES)
            if kind == "ok" and (extreme or (runs < RUNS_PER_FILE and tally["valid"] % 7 == 1)):
                runs += not extreme
                tally["runs"] += 1
                answer(lambda sc=value: run_one_month(sc))
        except Exception as exc:  # noqa: BLE001 (anything but ScenarioError is the bug looked for)
            failures.append(f"{path.name}: {label}: {type(exc).__name__}: {exc}"[:300])
    assert not failures, f"{len(failures)} mutants crashed:\n" + "\n".join(failures[:10])


@pytest.mark.parametrize("path", SWEEP_FILES, ids=lambda p: p.name)
def test_sweep_mutants(path: Path, tmp_path: Path, tally: dict[str, int]) -> None:
    # a sweep names its base relative to itself: keep the folder layout in the temp folder
    (tmp_path / "sweeps").mkdir()
    for scenario in SCENARIO_FILES:
        shutil.copy(scenario, tmp_path / scenario.name)
    data = read_yaml(path)
    failures = []
    for i, (label, mutant, _) in enumerate(mutants(data)):
        tally["mutants"] += 1
        target = tmp_path / "sweeps" / f"m{i}.yaml"
        target.write_text(yaml.safe_dump(mutant, allow_unicode=True), encoding="utf-8")
        try:
            kind, _ = answer(lambda t=target: load_sweep(t, out=tmp_path / "out"))
            tally["valid" if kind == "ok" else "refused"] += 1
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{path.name}: {label}: {type(exc).__name__}: {exc}"[:300])
    assert not failures, f"{len(failures)} mutants crashed:\n" + "\n".join(failures[:10])


SET_FILES = [SCENARIOS / "hoa_binh_package.yaml", SCENARIOS / "vietnam.yaml"]


@pytest.mark.parametrize("path", SET_FILES, ids=lambda p: p.name)
def test_set_overrides(path: Path, tally: dict[str, int]) -> None:
    """`--set key=VALUE` with bad values on every value of the scenario (as resolved)."""
    data = resolve_extends(path.resolve(), read_yaml(path))
    failures = []
    for i, (where, _) in enumerate(leaves(data)):
        key = ".".join(map(str, where))
        for k in range(3):
            raw = BAD_RAW[(i * 3 + k) % len(BAD_RAW)]
            tally["set_values"] += 1
            try:
                answer(lambda item=f"{key}={raw}": validate_scenario(apply_overrides(data, [item]), str(path)))
            except Exception as exc:  # noqa: BLE001
                failures.append(f"--set {key}={raw[:40]}: {type(exc).__name__}: {exc}"[:300])
    for item in ("nokey=1", "=1", "months", "geography.districts.99.atms=1", "months.x=1", "geography.x.y=1"):
        tally["set_values"] += 1
        try:
            answer(lambda item=item: validate_scenario(apply_overrides(data, [item]), str(path)))
        except Exception as exc:  # noqa: BLE001
            failures.append(f"--set {item}: {type(exc).__name__}: {exc}"[:300])
    assert not failures, f"{len(failures)} overrides crashed:\n" + "\n".join(failures[:10])


def test_counts(tally: dict[str, int]) -> None:
    # runs after the parametrised tests above (file order): the fuzzer tried what it says
    if tally["mutants"] == 0:
        pytest.skip("counts the mutants of the tests above; run it with them")
    assert tally["mutants"] >= 15_000 and tally["set_values"] >= 1_000 and tally["runs"] >= 20, tally
    assert tally["valid"] > 0 and tally["refused"] > 0, tally


def _copy_scenarios(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for scenario in SCENARIO_FILES:
        shutil.copy(scenario, folder / scenario.name)
    return folder


SUBPROCESS_CASES = [
    # (file, how to change its text, command, extra arguments)
    ("hoa_binh_remote_drives.yaml", ("teams: 6 ", "teams: 1e11 "), "run", ["--months", "1"]),
    ("hoa_binh_agents.yaml", ("extends: hoa_binh_status_quo.yaml", "extends: nowhere.yaml"), "validate", []),
    ("hoa_binh_status_quo.yaml", ("extends: hoa_binh.yaml", "extends: hoa_binh_status_quo.yaml"), "validate", []),
    ("hoa_binh.yaml", ("months: 24", "months: 1"), "run", ["--set", "assumptions.points.atm.counters=true"]),
    ("hoa_binh.yaml", ("months: 24", "months: 1"), "run", ["--set", "geography.districts.0.atms=0"]),
]


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=lambda c: f"{c[0]}:{c[2]}:{c[1][1][:20]}")
def test_through_the_command(case: tuple, tmp_path: Path, tally: dict[str, int]) -> None:
    name, (old, new), command, extra = case
    folder = _copy_scenarios(tmp_path)
    text = (folder / name).read_text(encoding="utf-8")
    assert old in text
    (folder / "mutant.yaml").write_text(text.replace(old, new), encoding="utf-8")
    out = ["--out", str(tmp_path / "run")] if command == "run" else []
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "welfare_sim", command, str(folder / "mutant.yaml"), *extra, *out],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    tally["subprocess"] += 1
    assert proc.returncode in (0, 2), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    if proc.returncode == 2:
        assert "mutant.yaml" in proc.stderr or "--set" in proc.stderr, proc.stderr
    assert time.perf_counter() - t0 < 120
