"""The scenario's map: communes from the register by official code, the planner's per-commune file,
districts optional, and official codes and names in every table."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from factory import small

from welfare_sim.sim import register as reg
from welfare_sim.sim.engine import build_province
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import ScenarioError, load_scenario, read_yaml, resolve_extends, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
HOA_BINH = ROOT / "scenarios" / "hoa_binh.yaml"


def hoa_binh_data() -> dict:
    return resolve_extends(HOA_BINH.resolve(), read_yaml(HOA_BINH))


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        validate_scenario(data, "s.yaml")
    return err.value.problems


def on_2025_map(**geography: object) -> dict:
    """The small test world moved onto the 2025 map of Phú Thọ, without districts."""
    data = small()
    geo = data["geography"]
    town, hills = geo.pop("districts")
    geo.update(register="2025", province="Phú Thọ")
    geo["defaults"] = {k: v for k, v in hills.items() if k not in ("name", "communes")}
    geo.update(geography)
    for drive in data["interventions"]["drives"]:
        drive.pop("districts", None)
    return data


# --------------------------------------------------------------------------- Hòa Bình on the legacy map


def test_hoa_binh_communes_are_the_registers_by_code_and_district() -> None:
    scenario = load_scenario(HOA_BINH)
    places = scenario.geography.places
    register = reg.communes("Hòa Bình", "legacy")
    assert places.n == register.height == 151
    assert sorted(places.code) == register["code"].to_list()
    by_code = {r["code"]: r for r in register.iter_rows(named=True)}
    for code, name, group in zip(places.code, places.name, places.group, strict=True):
        assert by_code[code]["name"] == name
        assert by_code[code]["district_code"] == places.group_codes[group]
    # the scenario's per-district beneficiary totals stay
    province = build_province(scenario, seed=1)
    per_group = np.bincount(province.communes.district, weights=province.communes.beneficiaries)
    assert per_group.tolist() == [d.beneficiaries for d in scenario.geography.districts]


def test_district_names_match_the_register_without_diacritics() -> None:
    data = hoa_binh_data()
    data["geography"]["districts"][7]["name"] = "mai chau"
    for drive in data["interventions"]["drives"]:
        if drive.get("districts"):
            drive["districts"] = ["mai chau" if d == "Mai Châu" else d for d in drive["districts"]]
    places = validate_scenario(data, "s.yaml").geography.places
    assert places.group_codes[7] == "156"
    assert "Thị trấn Mai Châu" in [n for n, g in zip(places.name, places.group, strict=True) if g == 7]


def test_a_misspelt_district_is_refused_at_its_key_with_did_you_mean() -> None:
    data = hoa_binh_data()
    data["geography"]["districts"][7]["name"] = "Mai Chaau"
    data["interventions"]["drives"] = []
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.districts[7].name: ")
    assert "Mai Châu" in line and "did you mean" in line


def test_a_commune_count_that_disagrees_with_the_register_is_refused() -> None:
    data = hoa_binh_data()
    data["geography"]["districts"][9]["communes"] = 11  # Cao Phong has 10
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.districts[9].communes: ")
    assert "10 communes" in line and "(got 11)" in line
    data["geography"]["districts"][9]["communes"] = 10
    assert validate_scenario(data, "s.yaml").geography.places.n == 151


def test_a_district_named_twice_is_refused() -> None:
    data = hoa_binh_data()
    data["geography"]["districts"][1]["name"] = "Huyện Yên Thủy"  # districts[2] is Yên Thủy
    data["interventions"]["drives"] = []
    (line,) = problems_of(data)
    assert "districts[2].name" in line and "already given as districts[1]" in line


def test_a_misspelt_province_says_did_you_mean_at_its_key() -> None:
    data = hoa_binh_data()
    data["geography"]["province"] = "Hoa Binhh"
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.province: ") and '"Hòa Bình"' in line


def test_the_2025_map_has_no_districts() -> None:
    data = hoa_binh_data()
    data["geography"]["register"] = "2025"
    data["geography"]["province"] = "Phú Thọ"
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.districts: ") and "no districts" in line


DISTRICT_1 = "geography.districts.1.name"


def test_the_cli_refuses_a_bad_district_with_exit_code_2_and_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "welfare_sim", "validate", str(HOA_BINH), "--set", f"{DISTRICT_1}=Kim Boii"],
        capture_output=True,
        text=True,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2
    # the misspelt district comes first, before the strategies that name it as it should be spelt
    assert out.splitlines()[1].strip().startswith(f"{HOA_BINH} › geography.districts[1].name: ")
    assert 'did you mean "Kim Bôi"' in out
    assert "Traceback" not in out


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_still_validates(path: Path) -> None:
    assert load_scenario(path).geography.places.n > 0


# --------------------------------------------------------------------------- the planner's file


def test_commune_file_joins_by_name_and_code_and_sets_the_communes_figures(tmp_path: Path) -> None:
    (tmp_path / "communes.csv").write_text(
        "name,code,beneficiaries,ethnic_minority_share,terrain\nxa pa co,,95,0.98,mountain\n,05200,180,0.5,urban\n",
        encoding="utf-8",
    )
    data = hoa_binh_data()
    data["geography"]["commune_data"] = str(tmp_path / "communes.csv")
    scenario = validate_scenario(data, "s.yaml")
    province = build_province(scenario, seed=1)
    com = province.communes
    code = list(com.places.code)
    pa_co, town = code.index("05209"), code.index("05200")
    assert com.beneficiaries[pa_co] == 95 and com.beneficiaries[town] == 180
    assert com.ethnic_minority_share[pa_co] == pytest.approx(0.98)
    assert com.terrain[pa_co] == 2 and com.terrain[town] == 0
    # the district's total stays: the other communes share what the file does not count
    mai_chau = com.district == 7
    assert int(com.beneficiaries[mai_chau].sum()) == 2250
    # a commune the file leaves out takes its district's share
    other = np.flatnonzero(mai_chau)[0]
    other = other if other not in (pa_co, town) else np.flatnonzero(mai_chau)[2]
    assert com.ethnic_minority_share[other] == pytest.approx(0.88)


def test_commune_file_problems_are_reported_at_the_key_with_row_and_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("name,beneficiaries\nxa pa coo,10\nXã Hang Kia,-3\n", encoding="utf-8")
    data = hoa_binh_data()
    data["geography"]["commune_data"] = str(tmp_path / "c.csv")
    lines = problems_of(data)
    assert all(line.startswith("s.yaml › geography.commune_data: ") for line in lines)
    assert any("row 1 (line 2)" in line and "Pà Cò" in line for line in lines)
    assert any("row 2 (line 3)" in line and "'-3'" in line for line in lines)


def test_commune_file_counting_more_than_the_district_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("code,beneficiaries\n05209,3000\n", encoding="utf-8")
    data = hoa_binh_data()
    data["geography"]["commune_data"] = str(tmp_path / "c.csv")
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.districts[7].beneficiaries: ") and "3000" in line


def test_commune_file_path_is_relative_to_the_scenario_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c.csv").write_text("code,beneficiaries\n05209,40\n", encoding="utf-8")
    base = tmp_path / "base.yaml"
    base.write_text(
        HOA_BINH.read_text(encoding="utf-8").replace(
            "  province: Hòa Bình\n", "  province: Hòa Bình\n  commune_data: data/c.csv\n"
        ),
        encoding="utf-8",
    )
    (tmp_path / "sub").mkdir()
    child = tmp_path / "sub" / "strategy.yaml"
    child.write_text("extends: ../base.yaml\nname: strategy\n", encoding="utf-8")
    places = load_scenario(child).geography.places
    assert places.beneficiaries[list(places.code).index("05209")] == 40


# --------------------------------------------------------------------------- without districts


def test_a_2025_scenario_without_districts_runs_with_areas_and_defaults() -> None:
    data = on_2025_map(
        areas=[
            {
                "name": "former Hòa Bình",
                "communes": ["Phường Hòa Bình", "xa mai chau", "04792"],
                "beneficiaries": 90,
                "cashless_start": "2023-03",
                "atms": 1,
            }
        ],
    )
    data["geography"]["defaults"]["beneficiaries"] = 400
    data["interventions"]["drives"][0]["districts"] = ["former Hòa Bình"]
    scenario = validate_scenario(data, "s.yaml")
    places = scenario.geography.places
    assert places.n == reg.communes("Phú Thọ", "2025").height
    assert places.group_names == ("former Hòa Bình", "Phú Thọ")
    area = [n for n, g in zip(places.name, places.group, strict=True) if g == 0]
    assert sorted(area) == ["Phường Hòa Bình", "Phường Tân Hòa", "Xã Mai Châu"]
    province = build_province(scenario, seed=3)
    per_group = np.bincount(province.communes.district, weights=province.communes.beneficiaries)
    assert per_group.tolist() == [90, 400]
    # the area's rollout date, the rest of the province the defaults'
    assert province.rollout_month.tolist() == [2, 1]
    result = run_scenario(scenario, months=1)
    assert set(result.monthly["district_name"].unique()) <= {"former Hòa Bình", "Phú Thọ"}
    assert result.monthly["commune_code"].null_count() == 0


def test_without_districts_a_missing_setting_is_asked_for_at_its_key() -> None:
    data = on_2025_map(areas=[{"name": "a", "communes": ["Xã Mai Châu"]}])
    del data["geography"]["defaults"]["cashless_start"]
    lines = problems_of(data)
    missing = "required key missing; set it here or in geography.defaults"
    assert f"s.yaml › geography.areas[0].cashless_start: {missing}" in lines
    assert any(line.startswith("s.yaml › geography.defaults.cashless_start") for line in lines)


def test_a_commune_in_two_areas_and_an_unknown_commune_are_refused() -> None:
    data = on_2025_map(
        areas=[
            {"name": "a", "communes": ["Xã Mai Châu"], "beneficiaries": 5},
            {"name": "b", "communes": ["xa mai chau", "Xã Mai Chàu Chàu"], "beneficiaries": 5},
        ]
    )
    data["geography"]["defaults"]["beneficiaries"] = 100
    lines = problems_of(data)
    assert any(
        line.startswith("s.yaml › geography.areas[1].communes[0]: ") and "already in area 'a'" in line for line in lines
    )
    assert any(line.startswith("s.yaml › geography.areas[1].communes[1]: ") for line in lines)


def test_register_none_keeps_the_anonymous_counted_communes() -> None:
    data = small()
    scenario = validate_scenario(data, "s.yaml")
    places = scenario.geography.places
    assert places.n == 5 and set(places.code) == {""}
    assert places.name[3] == "Hills commune 1"
    data["geography"]["register"] = "legacy"
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.province: ") and 'register: "none"' in line


# --------------------------------------------------------------------------- outputs


def test_hoa_binh_outputs_name_every_commune_with_its_code() -> None:
    scenario = load_scenario(HOA_BINH)
    result = run_scenario(scenario, months=1)
    register = reg.communes("Hòa Bình", "legacy").select(
        pl.col("code").alias("commune_code"), pl.col("name").alias("register_name"), "district_code"
    )
    monthly = result.monthly.join(register, on=["commune_code"], how="left", suffix="_register")
    assert monthly["register_name"].null_count() == 0
    assert (monthly["commune_name"] == monthly["register_name"]).all()
    assert (monthly["district_code"] == monthly["district_code_register"]).all()
    assert result.places.height == 151 and result.places["commune_code"].null_count() == 0
    assert result.places["latitude"].is_between(20.0, 21.5).all()
    points = result.points
    assert points["district_name"].null_count() == 0 and points["district_code"].null_count() == 0


def test_payments_rows_carry_the_codes_and_names(tmp_path: Path) -> None:
    from welfare_sim.sim.run import write_run

    data = copy.deepcopy(hoa_binh_data())
    scenario = validate_scenario(data, "s.yaml")
    write_run(scenario, tmp_path / "run", months=1, payments=True)
    payments = pl.read_parquet(tmp_path / "run" / "payments.parquet")
    assert payments["commune_code"].null_count() == 0
    first = payments.row(0, named=True)
    assert reg.find_commune(first["commune_code"], register="legacy").name == first["commune_name"]
