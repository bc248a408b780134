"""`welfare-sim new-scenario`: the scenario it writes validates and runs, every value is sourced or an
assumption, names need no diacritics, a bad name gets a did-you-mean, and no file is ever replaced."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from welfare_sim.sim import register
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SOURCE_TAG = re.compile(r"\[(register|bcp|bhb|laodong|vietnamvn|seed001|seed002|D20|D76|C02|VNPost)[^\]]*\]")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "welfare_sim", *args], capture_output=True, text=True, cwd=ROOT)


def write(tmp_path: Path, *args: str, name: str = "x.yaml") -> Path:
    out = tmp_path / name
    proc = cli("new-scenario", *args, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def uncommented_values(text: str) -> list[str]:
    """Lines that set a number, a date or a flag with neither a source tag nor the word assumption on
    the line or on a key above it that holds it."""
    bad = []
    stack: list[tuple[int, str]] = []  # (indent, comment) of the keys above
    for line in text.splitlines():
        code, _, comment = line.partition("#")
        if not code.strip():
            continue
        indent = len(code) - len(code.lstrip(" -"))
        stack = [(i, c) for i, c in stack if i < indent]
        said = [comment, *(c for _, c in stack)]
        if code.startswith("seed:"):  # a setting (which random streams), not a figure to source
            continue
        if re.search(r":\s*[-\d{\[tf]", code) and not any("assumption" in c or SOURCE_TAG.search(c) for c in said):
            bad.append(line)
        stack.append((indent, comment))
    return bad


@pytest.mark.parametrize(
    ("province", "register_"),
    [("Lào Cai", "legacy"), ("Hòa Bình", "legacy"), ("Phú Thọ", "2025"), ("Vĩnh Long", "2025")],
)
def test_the_written_scenario_validates_runs_and_sources_every_value(
    tmp_path: Path, province: str, register_: str
) -> None:
    out = write(tmp_path, "--province", province, "--register", register_)
    text = out.read_text(encoding="utf-8")
    assert uncommented_values(text) == []
    assert cli("validate", str(out)).returncode == 0
    scenario = load_scenario(out, ["geography.sample_fraction=0.2"])
    unit = register.find_province(province, register_)
    data = yaml.safe_load(text)
    assert data["geography"]["province"] == unit.name and str(data["geography"]["register"]) == register_
    result = run_scenario(scenario, months=2)
    # the register's communes, every one of them, by official code
    codes = set(result.places["commune_code"])
    assert codes == set(register.communes(unit.code, register_)["code"])
    assert result.summary["beneficiaries"]["first_month"] > 1000
    assert int(result.ledger["entitled_vnd"].sum()) > 0


def test_a_merged_province_is_its_former_provinces_as_areas(tmp_path: Path) -> None:
    data = yaml.safe_load(write(tmp_path, "--province", "phu tho", "--register", "2025").read_text())
    geo = data["geography"]
    areas = {a["name"]: a for a in geo["areas"]}
    assert sorted(areas) == ["former Hòa Bình", "former Vĩnh Phúc"]
    # published: 143,000 in the merged province; Hòa Bình's own 34,400 kept, the rest shared
    assert geo["defaults"]["beneficiaries"] + sum(a["beneficiaries"] for a in areas.values()) == 143_000
    assert areas["former Hòa Bình"]["beneficiaries"] == 34_400 and areas["former Hòa Bình"]["atms"] == 73
    # each commune of Hòa Bình's area is where old Hòa Bình communes went
    hb_old = register.communes("Hòa Bình", "legacy")["code"]
    targets = {register.convert(c) for c in hb_old}
    assert set(areas["former Hòa Bình"]["communes"]) <= targets


def test_a_planners_file_is_named_and_its_figures_used(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    figures = tmp_path / "data" / "communes.csv"
    figures.write_text("name,beneficiaries\nxa mai chau,500\n", encoding="utf-8")  # no diacritics
    out = write(tmp_path, "--province", "Phú Thọ", "--register", "2025", "--commune-data", str(figures))
    data = yaml.safe_load(out.read_text())
    assert data["geography"]["commune_data"] == "data/communes.csv"  # relative to the scenario file
    result = run_scenario(load_scenario(out), months=1)
    code = register.find_commune("Xã Mai Châu", "Phú Thọ", "2025").code
    first = result.communes.filter((pl.col("month") == 0) & (pl.col("commune_code") == code))
    # the file's 500, give or take the month's approvals (≈6 a commune) and deaths
    assert 480 <= first["beneficiaries"][0] <= 530


def test_published_figures_are_used_and_said(tmp_path: Path) -> None:
    text = write(tmp_path, "--province", "hoa binh", "--register", "legacy").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert sum(d["beneficiaries"] for d in data["geography"]["districts"]) == 34_400
    assert "[bhb, 15 Oct 2023]" in text
    other = yaml.safe_load(write(tmp_path, "--province", "Lào Cai", "--register", "legacy", name="lc.yaml").read_text())
    communes = register.communes("Lào Cai", "legacy").height
    assert sum(d["beneficiaries"] for d in other["geography"]["districts"]) == round(3_350_000 / 10_035 * communes)


def test_a_name_without_diacritics_or_by_code_is_the_same_province(tmp_path: Path) -> None:
    plain = write(tmp_path, "--province", "LAO CAI", "--register", "legacy", name="a.yaml").read_text()
    coded = write(tmp_path, "--province", "10", "--register", "legacy", name="b.yaml").read_text()
    spelled = write(tmp_path, "--province", "Tỉnh Lào Cai", "--register", "legacy", name="c.yaml").read_text()
    assert plain == coded == spelled


def test_a_bad_name_gets_did_you_mean_and_nothing_is_written(tmp_path: Path) -> None:
    proc = cli("new-scenario", "--province", "Phu To", "--register", "legacy", "--out", str(tmp_path / "x.yaml"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert 'did you mean "Phú Thọ"' in proc.stderr and "--province 'Phu To'" in proc.stderr
    assert list(tmp_path.iterdir()) == []
    proc = cli("new-scenario", "--province", "Lào Cai", "--register", "1999", "--out", str(tmp_path / "x.yaml"))
    assert proc.returncode == 2 and '"2025"' in proc.stderr and "legacy" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_never_replaced(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("# a planner's own scenario\n")
    proc = cli("new-scenario", "--province", "Lào Cai", "--register", "legacy", "--out", str(mine))
    assert proc.returncode == 2 and "exists" in proc.stderr and "never replaces" in proc.stderr
    assert mine.read_text() == "# a planner's own scenario\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]


def test_the_checker_catches_a_value_without_source() -> None:
    assert uncommented_values("a:\n  b: 3  # assumption\n  c: 4\n") == ["  c: 4"]
    assert uncommented_values("a:   # [D20]\n  b: 3\n") == []
