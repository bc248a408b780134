"""Input that used to validate and then crash, or eat the machine, is refused at once: exit 2,
one line naming the file (and key path) and the limit, never a traceback."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from factory import small
from typer.testing import CliRunner

from welfare_sim.models.params import MAX_BENEFICIARIES, MAX_ENTITLEMENT_VND
from welfare_sim.sim.budget import INT64_HEADROOM, BudgetError, check_budget, estimate
from welfare_sim.sim.cli import _command_names, app, load_plugins
from welfare_sim.sim.scenario import MAX_PROBLEMS, ScenarioError, load_scenario, read_yaml, validate_scenario
from welfare_sim.sim.yaml_limits import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_INT_DIGITS, MAX_VALUES

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
HOA_BINH = SCENARIOS / "hoa_binh.yaml"
runner = CliRunner()
if "sweep" not in _command_names():
    load_plugins()  # sweep, compare, calibrate arrive through entry points, as in `main`


def invoke(*args: str) -> tuple[int, str]:
    """The CLI in this process: exit code and everything it printed (stderr included)."""
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a failure, not an answer
    return result.exit_code, result.output


def refused(*args: str, needles: tuple[str, ...] = (), max_s: float = 10.0) -> list[str]:
    t0 = time.perf_counter()
    code, output = invoke(*args)
    elapsed = time.perf_counter() - t0
    assert code == 2, output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in output, f"{needle!r} not in {output!r}"
    assert elapsed < max_s, f"took {elapsed:.1f} s"
    return [line for line in output.splitlines() if line.strip()]


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def small_yaml(tmp_path: Path, data: dict | None = None, name: str = "s.yaml", extra: str = "") -> Path:
    return write(tmp_path, yaml.safe_dump(data or small(), allow_unicode=True) + extra, name)


# --------------------------------------------------------------------------- YAML limits


@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{k: ", "}")])
def test_deep_nesting_is_one_line(tmp_path: Path, opening: str, closing: str) -> None:
    path = small_yaml(tmp_path, extra="junk: " + opening * 1000 + "1" * (opening != "[") + closing * 1000 + "\n")
    lines = refused("validate", str(path), needles=("s.yaml", f"nested more than {MAX_DEPTH} levels"))
    assert len(lines) == 1


def test_nesting_at_the_limit_reads(tmp_path: Path) -> None:
    path = write(tmp_path, "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    assert read_yaml(path) == {"a": _nested(MAX_DEPTH - 2)}
    path = write(tmp_path, "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")
    with pytest.raises(ScenarioError, match="nested more than"):
        read_yaml(path)


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def test_long_integer(tmp_path: Path) -> None:
    good = yaml.safe_dump(small())
    text = good.replace("months: 4", "months: " + "9" * 5000)
    lines = refused("validate", str(write(tmp_path, text)), needles=("s.yaml", "an integer of 5000 digits"))
    assert len(lines) == 1
    # at the limit the integer is read, and the schema then says what is allowed
    text = good.replace("months: 4", "months: " + "9" * MAX_INT_DIGITS)
    refused("validate", str(write(tmp_path, text)), needles=("s.yaml › months: must be ≤ 240",))


def test_billion_laughs(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    for placement in ("top", "inside"):
        body = "\n".join(lines) if placement == "top" else "x:\n" + "\n".join("  " + line for line in lines)
        path = small_yaml(tmp_path, extra=body + "\n")
        lines_out = refused("validate", str(path), needles=("s.yaml", f"more than {MAX_VALUES:,} keys"), max_s=5)
        assert len(lines_out) == 1


def test_alias_count_and_loops(tmp_path: Path) -> None:
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(ScenarioError, match=f"more than {MAX_ALIASES} aliases"):
        read_yaml(write(tmp_path, many))
    assert read_yaml(write(tmp_path, "a: &a 1\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]\n"))["b"][0] == 1
    with pytest.raises(ScenarioError, match="a loop"):
        read_yaml(write(tmp_path, "a: &a [1, *a]\n"))


def test_file_size_and_devices(tmp_path: Path) -> None:
    path = small_yaml(tmp_path, extra="".join(f"k{i}: 1\n" for i in range(1_000_000)))
    assert path.stat().st_size > MAX_BYTES
    lines = refused("validate", str(path), needles=("s.yaml", "larger than"), max_s=5)
    assert len(lines) == 1
    if Path("/dev/zero").exists():  # read for ever without a limit
        refused("validate", "/dev/zero", needles=("/dev/zero", "larger than"), max_s=5)


def test_many_unknown_keys_are_capped(tmp_path: Path) -> None:
    n = 20_000
    path = small_yaml(tmp_path, extra="".join(f"k{i}: 1\n" for i in range(n)))
    lines = refused("validate", str(path), needles=("s.yaml › k0: unknown key",), max_s=10)
    assert len(lines) == MAX_PROBLEMS + 2  # the heading, MAX_PROBLEMS problems, how many more
    assert f"and {n - MAX_PROBLEMS:,} more problem(s)" in lines[-1]


def test_too_many_values(tmp_path: Path) -> None:
    path = small_yaml(tmp_path, extra="x: [" + ",".join(["1"] * MAX_VALUES) + "]\n")
    assert path.stat().st_size < MAX_BYTES
    refused("validate", str(path), needles=("s.yaml", f"more than {MAX_VALUES:,} keys"))


def test_key_written_twice(tmp_path: Path) -> None:
    text = yaml.safe_dump(small()) + "months: 12\n"
    refused("validate", str(write(tmp_path, text)), needles=("s.yaml: line", "key 'months' is written twice"))


def test_impossible_date(tmp_path: Path) -> None:
    text = yaml.safe_dump(small()).replace("\nstart: 2023-01\n", "\nstart: 2023-13-45\n")
    assert "2023-13-45" in text
    refused("validate", str(write(tmp_path, text)), needles=("s.yaml: line", "looks like a date"))


def test_limits_hold_for_extends_bases_and_sweeps(tmp_path: Path) -> None:
    write(tmp_path, "a: " + "[" * 1000 + "]" * 1000 + "\n", "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nname: child\n", "child.yaml")
    refused("validate", str(child), needles=("base.yaml: line 1: nested more than",))
    sweep = write(tmp_path, "base: child.yaml\nparameters: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n", "sw.yaml")
    refused("sweep", str(sweep), "--out", str(tmp_path / "out"), needles=("sw.yaml: line 2: nested more than",))


def test_limits_hold_for_target_files(tmp_path: Path) -> None:
    from welfare_sim.calibration.targets import load_targets

    with pytest.raises(ScenarioError, match="an integer of 5000 digits"):
        load_targets(write(tmp_path, "region: Hòa Bình\ntargets: " + "9" * 5000 + "\n", "t.yaml"))


def test_set_value_within_limits(tmp_path: Path) -> None:
    path = small_yaml(tmp_path)
    refused("validate", str(path), "--set", "months=" + "9" * 5000, needles=("--set", "an integer of 5000 digits"))
    refused("validate", str(path), "--set", "months=" + "[" * 1000, needles=("--set", "nested more than"))


# --------------------------------------------------------------------------- numbers mean numbers


@pytest.mark.parametrize(
    "override,needle",
    [
        ("months=true", "months: must be a whole number (got true)"),
        ("months='12'", 'months: must be a whole number (got "12")'),
        ("months=2.5", "months: must be a whole number (got 2.5)"),
        ("seed=false", "seed: must be a whole number (got false)"),
        ("assumptions.points.commune_point.service_mean_min=.inf", "service_mean_min: must be a finite number"),
        ("assumptions.points.commune_point.service_mean_min=.nan", "service_mean_min: must be a finite number"),
        ("assumptions.opening.success_prob=true", "success_prob: must be a number"),
        ("assumptions.opening.needs_chip_id=1", "needs_chip_id: must be true or false"),
        ("geography.travel_to_town.mean_min.rural=.inf", "mean_min.rural: must be a finite number"),
    ],
)
def test_strict_numbers(tmp_path: Path, override: str, needle: str) -> None:
    lines = refused("validate", str(small_yaml(tmp_path)), "--set", override, needles=(needle,))
    assert len(lines) == 1


def test_quoted_number_in_yaml(tmp_path: Path) -> None:
    text = yaml.safe_dump(small()).replace("months: 4", 'months: "12"')
    refused(
        "validate",
        str(write(tmp_path, text)),
        needles=('s.yaml › months: must be a whole number (got "12"); write the number without quotes',),
    )


def test_integers_are_numbers_where_decimals_are_meant() -> None:
    data = small()
    data["assumptions"]["points"]["commune_point"]["service_mean_min"] = 4  # an int in a float field
    assert validate_scenario(data).assumptions.points.commune_point.service_mean_min == 4.0


# --------------------------------------------------------------------------- names listed twice


@pytest.mark.parametrize(
    "where,value,needle",
    [
        (
            "interventions.drives.0.districts",
            ["Town", "Hills", "Town"],
            "drives[0].districts: lists Town more than once",
        ),
        ("interventions.drives.0.categories", ["merit", "merit"], "drives[0].categories: lists merit more than once"),
        ("assumptions.points.post_office.open_weekdays", [0, 1, 1], "open_weekdays: lists 1 more than once"),
    ],
)
def test_repeated_names(tmp_path: Path, where: str, value: list, needle: str) -> None:
    data = small(**{where: value})
    refused("validate", str(small_yaml(tmp_path, data)), needles=(needle,))
    small(**{where: list(dict.fromkeys(value))})  # once each: valid
    validate_scenario(small(**{where: list(dict.fromkeys(value))}))


def test_repeated_names_in_the_hoa_binh_drive(tmp_path: Path) -> None:
    text = (SCENARIOS / "hoa_binh_remote_drives.yaml").read_text(encoding="utf-8")
    for name in ("hoa_binh.yaml", "hoa_binh_status_quo.yaml"):
        write(tmp_path, (SCENARIOS / name).read_text(encoding="utf-8"), name)
    path = write(tmp_path, text.replace("districts: [Lạc Sơn,", "districts: [Lạc Sơn, Lạc Sơn,"), "d.yaml")
    # the strategy's drive comes after the base scenario's own drives
    last = len(load_scenario(SCENARIOS / "hoa_binh_remote_drives.yaml").interventions.drives) - 1
    refused(
        "validate",
        str(path),
        needles=(f"d.yaml › interventions.drives[{last}].districts: lists Lạc Sơn more than once",),
    )


# --------------------------------------------------------------------------- bounds (issue 11's crashes)


@pytest.mark.parametrize(
    "override,needle",
    [
        ("geography.districts.0.atms=100000000000000000000000", "districts[0].atms: must be ≤ 50000"),
        ("geography.districts.0.post_office_counters=100000000", "districts[0].post_office_counters: must be ≤ 100"),
        ("assumptions.points.atm.float_vnd_per_day=100000000000000000000000", "float_vnd_per_day: must be ≤"),
        ("population.base_level.0.vnd=9223372036854775807", f"base_level[0].vnd: must be ≤ {MAX_ENTITLEMENT_VND}"),
        ("geography.districts.0.beneficiaries=100000000000", "districts[0].beneficiaries: must be ≤"),
        ("payment_run.suspend_after_months=100000000000", "suspend_after_months: must be ≤ 240"),
    ],
)
def test_bounds_on_hoa_binh(override: str, needle: str) -> None:
    lines = refused("run", str(HOA_BINH), "--months", "1", "--set", override, needles=(needle,))
    assert len(lines) == 1


def test_drive_teams_bound() -> None:
    path = str(SCENARIOS / "hoa_binh_remote_drives.yaml")
    refused(
        "run",
        path,
        "--months",
        "13",
        "--set",
        "interventions.drives.0.teams=100000000000",
        needles=("drives[0].teams: must be ≤ 10000",),
    )


def test_province_total_bound() -> None:
    district = small()["geography"]["districts"][0]
    data = small()
    data["geography"]["districts"] = [
        {**district, "name": f"D{i}", "beneficiaries": 10_000_000, "communes": 10} for i in range(3)
    ]
    with pytest.raises(ScenarioError, match=f"at most {MAX_BENEFICIARIES:,}"):
        validate_scenario(data)


# --------------------------------------------------------------------------- budget


def test_budget_estimate_of_the_national_run() -> None:
    sc = load_scenario(SCENARIOS / "vietnam.yaml")
    est = estimate(sc)
    # the national run peaks at 3.3 GB (README); the estimate must not be below it
    assert 3.3 * 2**30 <= est.bytes <= 6 * 2**30
    assert est.money_vnd < INT64_HEADROOM


def _limited(megabytes: int):  # noqa: ANN202
    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (megabytes * 2**20, megabytes * 2**20))

    return set_limit


@pytest.mark.skipif(sys.platform != "linux", reason="address-space limit")
def test_memory_refused_before_building() -> None:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "welfare_sim",
            "run",
            str(SCENARIOS / "vietnam.yaml"),
            "--months",
            "1",
            "--out",
            "/nonexistent/never-written",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited(1500),
        cwd=ROOT,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "scenario vietnam: the run needs about" in proc.stderr and "GB is available" in proc.stderr
    assert time.perf_counter() - t0 < 60


def test_money_that_could_pass_int64_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = small(months=240)
    data["population"]["base_level"] = [{"start": "2021-07", "vnd": MAX_ENTITLEMENT_VND}]
    data["population"]["categories"]["social_assistance"]["coefficients"] = {"10": 1.0}
    data["geography"]["districts"][0]["beneficiaries"] = 10_000_000
    data["geography"]["districts"][1]["beneficiaries"] = 10_000_000
    data["geography"]["districts"][0]["communes"] = 1000
    data["geography"]["districts"][1]["communes"] = 1000
    sc = validate_scenario(data)
    monkeypatch.setenv("WELFARE_SIM_NO_MEMORY_CHECK", "1")  # the money check alone
    with pytest.raises(BudgetError, match="beyond the .* VND that integer VND can hold"):
        check_budget(sc)
    check_budget(sc, months=60)  # a quarter of the months fits


def test_problem_lists_are_capped() -> None:
    exc = ScenarioError([f"p{i}" for i in range(MAX_PROBLEMS + 5)])
    assert exc.problems[:MAX_PROBLEMS] == [f"p{i}" for i in range(MAX_PROBLEMS)]
    assert exc.problems[-1].startswith("... and 5 more")
    assert ScenarioError(["a", "b"]).problems == ["a", "b"]


def test_an_unknown_district_is_named_at_its_key_with_a_did_you_mean() -> None:
    """A district typed without diacritics or with a typo: one line each, at the strategy's own key
    path (not "(top level)" with a dump of the scenario), and the name it most likely means."""
    data = small(**{"geography.districts.1.name": "Đồi Núi"})
    data["interventions"]["drives"][0]["districts"] = ["Doi Nui", "Towm", "Atlantis"]
    with pytest.raises(ScenarioError) as exc:
        validate_scenario(data, "s.yaml")
    assert exc.value.problems == [
        "s.yaml › interventions.drives[0].districts: names unknown district 'Atlantis'; known: Town, Đồi Núi",
        "s.yaml › interventions.drives[0].districts: names unknown district 'Doi Nui'; did you mean \"Đồi Núi\"?",
        "s.yaml › interventions.drives[0].districts: names unknown district 'Towm'; did you mean \"Town\"?",
    ]
