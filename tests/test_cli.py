"""The command line as a planner meets it: bad input gets exit code 2, one line per problem,
naming the file and key path, and no traceback; a good run writes its folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from factory import small

ROOT = Path(__file__).resolve().parents[1]
HOA_BINH = ROOT / "scenarios" / "hoa_binh.yaml"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "welfare_sim", *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=600
    )


def assert_clean_failure(proc: subprocess.CompletedProcess, *needles: str) -> list[str]:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    problems = [line for line in proc.stderr.splitlines() if line.strip()]
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in {proc.stderr!r}"
    return problems


def write(tmp_path: Path, data: object, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_missing_file(tmp_path: Path) -> None:
    proc = cli("run", str(tmp_path / "nowhere.yaml"))
    assert_clean_failure(proc, "nowhere.yaml", "file not found")


def test_broken_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nstart: 2023-01\n  months: 3\n")
    proc = cli("validate", str(path))
    assert_clean_failure(proc, "s.yaml", "line 3", "not valid YAML")


def test_unknown_key_lists_the_valid_ones(tmp_path: Path) -> None:
    data = small()
    data["assumptions"]["opening"]["monthly_apply_prop"] = data["assumptions"]["opening"].pop("monthly_apply_prob")
    proc = cli("validate", str(write(tmp_path, data)))
    assert_clean_failure(
        proc, "s.yaml › assumptions.opening.monthly_apply_prop: unknown key", "valid keys here:", "monthly_apply_prob"
    )


def test_wrong_type(tmp_path: Path) -> None:
    data = small()
    data["geography"]["districts"][1]["atms"] = "several"
    proc = cli("validate", str(write(tmp_path, data)))
    assert_clean_failure(proc, "s.yaml › geography.districts[1].atms: must be a whole number", '(got "several")')


def test_value_out_of_range(tmp_path: Path) -> None:
    data = small()
    data["assumptions"]["points"]["commune_point"]["counters"] = 0
    data["assumptions"]["opening"]["success_prob"] = 1.5
    proc = cli("run", str(write(tmp_path, data)), "--out", str(tmp_path / "out"))
    problems = assert_clean_failure(
        proc,
        "assumptions.points.commune_point.counters: must be ≥ 1 (got 0)",
        "assumptions.opening.success_prob: must be ≤ 1 (got 1.5)",
    )
    assert len([p for p in problems if "›" in p]) == 2  # every problem at once, one line each
    assert not (tmp_path / "out").exists()


def test_bad_set_path() -> None:
    proc = cli("run", str(HOA_BINH), "--set", "assumptions.opening.monthly_apply_probx=0.3")
    assert_clean_failure(proc, "--set assumptions.opening.monthly_apply_probx", "unknown key", "monthly_apply_prob")
    proc = cli("run", str(HOA_BINH), "--set", "geography.districts.12.atms=3")
    assert_clean_failure(proc, "geography.districts.12", "use an index from 0 to 9")
    proc = cli("run", str(HOA_BINH), "--set", "months")
    assert_clean_failure(proc, "write key.path=value")


def test_bad_set_value_is_checked_like_the_file() -> None:
    proc = cli("validate", str(HOA_BINH), "--set", "payment_run.commune_window.last_day=40")
    assert_clean_failure(proc, "payment_run.commune_window.last_day: must be ≤ 31 (got 40)")


def test_cross_reference_errors(tmp_path: Path) -> None:
    data = small()
    data["interventions"]["drives"][0]["districts"] = ["Atlantis"]
    proc = cli("validate", str(write(tmp_path, data)))
    assert_clean_failure(proc, "names unknown district 'Atlantis'", "known: Hills, Town")


def test_hoa_binh_is_valid_and_sourced() -> None:
    proc = cli("validate", str(HOA_BINH))
    assert proc.returncode == 0, proc.stderr
    assert "151 communes, 34,400 beneficiaries" in proc.stdout
    text = HOA_BINH.read_text(encoding="utf-8")
    # every numeric leaf under geography and population carries a source or 'assumption' nearby
    assert text.count("assumption") >= 20
    for tag in ("[census]", "[bhb]", "[seed002]", "[D20]", "[D76]", "[C02]", "[VNPost]"):
        assert tag in text


def test_run_writes_the_run_folder(tmp_path: Path) -> None:
    scenario = write(tmp_path, small(months=3))
    out = tmp_path / "run"
    proc = cli(
        "run", str(scenario), "--out", str(out), "--seed", "11", "--set", "assumptions.costs.withdrawal_fee_vnd=0"
    )
    assert proc.returncode == 0, proc.stderr
    for name in (
        "monthly.parquet",
        "payments.parquet",
        "points.parquet",
        "waits.parquet",
        "subgroups.parquet",
        "ledger.parquet",
        "funnel.parquet",
        "summary.json",
        "manifest.json",
        "scenario.resolved.yaml",
    ):
        assert (out / name).is_file(), name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["months"] == 3
    assert manifest["overrides"] == ["assumptions.costs.withdrawal_fee_vnd=0"]
    assert len(manifest["scenario_sha256"]) == 64
    assert manifest["packages"]["simpy"]
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    assert resolved["assumptions"]["costs"]["withdrawal_fee_vnd"] == 0
    payments = pl.read_parquet(out / "payments.parquet")
    assert payments["month"].unique().sort().to_list() == [0, 1, 2]
    monthly = pl.read_parquet(out / "monthly.parquet")
    assert monthly["beneficiaries"].sum() == payments.height
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 11 and summary["months"] == 3
    assert "account coverage" in proc.stdout and "VND" in proc.stdout


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    scenario = write(tmp_path, small(months=2))
    for name in ("a", "b"):
        assert cli("run", str(scenario), "--out", str(tmp_path / name), "--json").returncode == 0
    for name in ("monthly.parquet", "payments.parquet", "points.parquet", "waits.parquet", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_schema_is_exported_and_current() -> None:
    proc = cli("schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema["additionalProperties"] is False
    assert {"geography", "population", "payment_run", "assumptions"} <= set(schema["properties"])
    committed = ROOT / "scenarios" / "scenario.schema.json"
    assert json.loads(committed.read_text(encoding="utf-8")) == schema, (
        "scenarios/scenario.schema.json is stale: run `welfare-sim schema --out scenarios/scenario.schema.json`"
    )


@pytest.mark.parametrize("command", ["run", "validate", "schema", "calibrate", "compare", "sweep", "report"])
def test_every_declared_command_is_available(command: str) -> None:
    proc = cli(command, "--help")
    assert proc.returncode == 0, proc.stderr


def test_payments_table_is_opt_in_above_the_size_limit(tmp_path: Path, monkeypatch) -> None:
    # The whole country would write ~121 million payment rows: above PAYMENTS_AUTO_MAX simulated
    # beneficiaries the table is left out unless asked for. The limit is lowered to the small
    # scenario's size here (run in-process), instead of simulating millions.
    from typer.testing import CliRunner

    import welfare_sim.sim.cli as cli_mod

    path = write(tmp_path, small())
    n = sum(d["beneficiaries"] for d in small()["geography"]["districts"])
    monkeypatch.setattr(cli_mod, "PAYMENTS_AUTO_MAX", n - 1)
    runner = CliRunner()
    auto = runner.invoke(cli_mod.app, ["run", str(path), "--months", "2", "--out", str(tmp_path / "auto")])
    assert auto.exit_code == 0, auto.output
    assert not (tmp_path / "auto" / "payments.parquet").exists()
    assert (tmp_path / "auto" / "monthly.parquet").exists()
    asked = runner.invoke(
        cli_mod.app, ["run", str(path), "--months", "2", "--payments", "--out", str(tmp_path / "asked")]
    )
    assert asked.exit_code == 0, asked.output
    assert pl.read_parquet(tmp_path / "asked" / "payments.parquet").height > 0
    monkeypatch.setattr(cli_mod, "PAYMENTS_AUTO_MAX", n)
    small_run = runner.invoke(cli_mod.app, ["run", str(path), "--months", "2", "--out", str(tmp_path / "small")])
    assert small_run.exit_code == 0, small_run.output
    assert (tmp_path / "small" / "payments.parquet").exists()


def test_progress_in_a_log_is_plain_lines_at_most_every_30_s(monkeypatch, capsys) -> None:  # noqa: ANN001
    """stderr not a terminal (a log, a pipe): no bar, a plain line at most every 30 s."""
    import welfare_sim.sim.cli as cli

    clock = [1000.0]
    monkeypatch.setattr(cli.time, "perf_counter", lambda: clock[0])
    progress = cli.DelayedProgress(10, "vietnam: months")
    for step in (5.0, 20.0, 10.0, 1.0, 40.0):  # at 5, 25, 35, 36 and 76 s
        clock[0] += step
        progress.advance()
    progress.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["vietnam: months: 3/10 (35 s)", "vietnam: months: 5/10 (76 s)"], lines
