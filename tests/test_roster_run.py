"""A run from a real-format roster: the roster's people, nothing personal in any output, small cells hidden."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest

from welfare_sim.sim import register
from welfare_sim.sim.report import data as report_data
from welfare_sim.sim.scenario import load_scenario
from welfare_sim.sim.synthetic_roster import HEADERS, roster_of_model, synthetic_roster, write_roster

ROOT = Path(__file__).resolve().parents[1]
KEY = "a test key, not anybody's real one"
PERSONAL = ("full_name", "id_number", "phone", "account_number")


def _env() -> dict[str, str]:
    return {**os.environ, "WELFARE_SIM_ROSTER_KEY": KEY}


def _scenario(tmp: Path, roster: Path, **roster_keys: object) -> Path:
    lines = [f"extends: {ROOT / 'scenarios' / 'hoa_binh.yaml'}", "name: hoa_binh_roster", "roster:",
             f"  path: {roster.name}", *(f"  {k}: {json.dumps(v)}" for k, v in roster_keys.items())]
    path = tmp / "roster_scenario.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "welfare_sim", *args], capture_output=True, text=True,
                          env=_env(), timeout=600, check=False)


def _texts(folder: Path) -> dict[str, str]:
    """Every file of a folder as text: parquet and json bytes decoded leniently, workbooks unzipped."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                out[path.name] = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            out[path.name] = raw.decode("utf-8", "replace")
    return out


@pytest.fixture(scope="module")
def small_roster(tmp_path_factory) -> tuple[Path, pl.DataFrame]:
    tmp = tmp_path_factory.mktemp("roster")
    frame = synthetic_roster(register.communes("Hòa Bình", "legacy"), 600, seed=3,
                             on=__import__("datetime").date(2023, 1, 1))
    path = tmp / "danh_sach.csv"
    write_roster(frame, path)
    return path, frame


def test_nothing_personal_reaches_any_output_or_log(small_roster, tmp_path) -> None:
    roster, frame = small_roster
    (tmp_path / roster.name).write_bytes(roster.read_bytes())
    scenario = _scenario(tmp_path, tmp_path / roster.name, per_person_tables=True)
    out = tmp_path / "run"
    ran = _run("run", str(scenario), "--months", "2", "--out", str(out), "--report")
    assert ran.returncode == 0, ran.stderr
    vi = _run("report", str(out), "--lang", "vi")
    assert vi.returncode == 0, vi.stderr
    texts = {**_texts(out), "stdout": ran.stdout + vi.stdout, "stderr": ran.stderr + vi.stderr}
    values = {v for f in PERSONAL for v in frame[HEADERS[f]].to_list() if v}
    assert len(values) > 1000
    for name, text in texts.items():
        leaked = [v for v in values if v in text]
        assert not leaked, f"{name} holds {len(leaked)} personal values"
    payments = pl.read_parquet(out / "payments.parquet")
    assert payments["pseudonym"].drop_nulls().n_unique() == 600
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    summary = json.loads((out / "summary.json").read_text())
    assert summary["roster"]["people"] == 600 and summary["roster"]["bad_rows_left_out"] == 0


def test_per_person_tables_are_off_unless_asked(small_roster, tmp_path) -> None:
    roster, _ = small_roster
    (tmp_path / roster.name).write_bytes(roster.read_bytes())
    out = tmp_path / "run"
    ran = _run("run", str(_scenario(tmp_path, tmp_path / roster.name)), "--months", "1", "--out", str(out),
               "--payments")
    assert ran.returncode == 0, ran.stderr
    assert not (out / "payments.parquet").exists()
    assert "roster.per_person_tables" in ran.stderr


def test_bad_rows_stop_the_run_by_row_and_column_without_personal_values(small_roster, tmp_path) -> None:
    _, frame = small_roster
    bad = frame.with_row_index("i").with_columns(
        pl.when(pl.col("i").is_in([4, 9])).then(pl.lit("00000")).otherwise(pl.col(HEADERS["commune_code"]))
        .alias(HEADERS["commune_code"])
    ).drop("i")
    path = tmp_path / "bad.csv"
    write_roster(bad, path)
    ran = _run("run", str(_scenario(tmp_path, path)), "--months", "1", "--out", str(tmp_path / "run"))
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert "2 of 600 rows are bad" in ran.stderr
    assert "row 6, column 'Mã xã'" in ran.stderr and "row 11, column 'Mã xã'" in ran.stderr
    for f in PERSONAL:
        for v in bad[HEADERS[f]][:12].to_list():
            assert not v or v not in ran.stderr
    assert not (tmp_path / "run").exists()
    ok = _run("run", str(_scenario(tmp_path, path, max_bad_share=0.01)), "--months", "1", "--out",
              str(tmp_path / "run"), "--json")
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)
    assert summary["roster"]["bad_rows_left_out"] == 2 and summary["roster"]["people"] == 598
    assert summary["roster"]["problems_by_column"][0]["rows"] == 2


def test_small_cells_are_blank_in_the_report_tables(tmp_path) -> None:
    communes = register.communes("Hòa Bình", "legacy")
    few = communes.filter(pl.col("district") == communes["district"][0]).head(1)  # 3 people in one district
    frame = pl.concat([
        synthetic_roster(communes.filter(pl.col("district") != communes["district"][0]), 400, seed=5,
                         on=__import__("datetime").date(2023, 1, 1)),
        synthetic_roster(few, 3, seed=6, on=__import__("datetime").date(2023, 1, 1)),
    ])
    path = tmp_path / "r.parquet"
    write_roster(frame, path)
    out = tmp_path / "run"
    # no new approvals, so the small district stays at 3 people
    ran = _run("run", str(_scenario(tmp_path, path)), "--months", "1", "--out", str(out), "--report",
               "--set", "population.demography.entries_per_commune_month=0")
    assert ran.returncode == 0, ran.stderr
    run = report_data.load_run(out)
    by_district = report_data.by_district(run)
    small = by_district.filter(pl.col("district_name") == few["district"][0])
    assert small["beneficiaries_last"].null_count() == 1 and small["coverage_last"].null_count() == 1
    others = by_district.filter(pl.col("district_name") != few["district"][0])
    assert others["beneficiaries_last"].null_count() == 0
    assert "fewer than 5 people are left blank" in (out / "report.html").read_text(encoding="utf-8")
    small_commune = run.communes.filter(pl.col("commune_code") == few["code"][0])
    assert small_commune["beneficiaries"].null_count() == small_commune.height == 1
    assert small_commune["unpaid_share"].null_count() == 1


def test_a_roster_of_the_scenarios_own_population_gives_its_figures(tmp_path, monkeypatch) -> None:
    """The synthetic run and a run from that same population written as a roster agree within sampling
    error (only attributes a roster does not carry, such as travel times, are drawn again)."""
    monkeypatch.setenv("WELFARE_SIM_ROSTER_KEY", KEY)
    base = load_scenario(ROOT / "scenarios" / "hoa_binh.yaml")
    path = tmp_path / "own.parquet"
    write_roster(roster_of_model(base, seed=1), path)
    figures = []
    for scenario in (ROOT / "scenarios" / "hoa_binh.yaml", _scenario(tmp_path, path)):
        ran = _run("run", str(scenario), "--months", "4", "--seed", "1", "--out", str(tmp_path / scenario.stem),
                   "--json", "--no-payments")
        assert ran.returncode == 0, ran.stderr
        figures.append(json.loads(ran.stdout))
    synthetic, roster = figures
    assert roster["beneficiaries"]["first_month"] == synthetic["beneficiaries"]["first_month"]
    # deaths and stops are drawn by id, and a roster person's id is its pseudonym's rank in the commune
    assert abs(roster["beneficiaries"]["last_month"] / synthetic["beneficiaries"]["last_month"] - 1) < 0.003
    for key in ("first_month", "last_month"):
        assert abs(roster["account_coverage"][key] - synthetic["account_coverage"][key]) < 0.01
    assert abs(roster["unpaid_by_subgroup"]["all"]["unpaid_share"]
               - synthetic["unpaid_by_subgroup"]["all"]["unpaid_share"]) < 0.005
    assert abs(roster["payments"]["into_account"] / synthetic["payments"]["into_account"] - 1) < 0.05
    assert abs(roster["payments"]["total"] / synthetic["payments"]["total"] - 1) < 0.01


def test_the_model_holds_exactly_what_the_roster_says(small_roster, tmp_path, monkeypatch) -> None:
    from welfare_sim.models import accounts as acc
    from welfare_sim.models.params import ACCOUNT_TYPES, AGE_GROUPS
    from welfare_sim.sim.engine import build_province
    from welfare_sim.sim.roster import read_roster

    monkeypatch.setenv("WELFARE_SIM_ROSTER_KEY", KEY)
    roster, frame = small_roster
    scenario = load_scenario(_scenario(roster.parent, roster))
    p = build_province(scenario, seed=1)
    resolved = scenario.resolved_roster
    ids = resolved.people.ids()
    index = {int(i): k for k, i in enumerate(p.people.id)}
    at = [index[int(i)] for i in ids]
    read = read_roster(roster, key=KEY.encode(), communes=register.communes("Hòa Bình", "legacy"),
                       on=__import__("datetime").date(2023, 1, 1)).people
    by_pseudonym = {r["pseudonym"]: r for r in read.to_dicts()}
    rows = [by_pseudonym[s] for s in resolved.pseudonyms]
    people = p.people
    codes = [p.communes.places.code[c] for c in people.commune[at]]
    assert codes == [r["commune_code"] for r in rows]
    assert people.female[at].tolist() == [r["female"] for r in rows]
    assert people.disabled[at].tolist() == [r["disabled"] for r in rows]
    # the model counts age in whole months: a birthday falls at the start of its month
    years = [(2023 * 12 - r["born_ym"]) // 12 for r in rows]
    group = ["under_60" if y < 60 else "age_60_79" if y < 80 else "age_80_plus" for y in years]
    assert [AGE_GROUPS[g] for g in people.age_group[at]] == group
    assert p.home_takeup[at].tolist() == [r["home_collection"] for r in rows]
    holds = p.accounts.has_account[at]
    assert holds.tolist() == [r["account_provider"] != "none" for r in rows]
    assert p.accounts.registered[at].tolist() == [bool(r["into_account"]) for r in rows]
    kinds = [ACCOUNT_TYPES[t] if t != acc.NO_TYPE else "none" for t in p.accounts.type[at]]
    assert kinds == [r["account_provider"] for r in rows]
    assert sum(people.entry_month >= 0) == people.n - 600  # the rest are the run's new approvals
