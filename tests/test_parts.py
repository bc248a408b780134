"""A many-province scenario run as independent parts: the same tables whatever the split (1, 2 or 3
parts, serially, in a process pool, on a real Dask LocalCluster); a province's draws do not depend on
the other provinces; the national file is reproducible from the register; bad province entries are
reported at their key paths."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from welfare_sim.models.demography import ID_STRIDE
from welfare_sim.sim.cli.scenario_writer import country_scenario_text
from welfare_sim.sim.parts import plan_parts, run_country
from welfare_sim.sim.run import write_run
from welfare_sim.sim.scenario import (
    ScenarioError,
    load_scenario,
    read_yaml,
    resolve_extends,
    share_out,
    validate_scenario,
)
from welfare_sim.sim.streams import Streams

ROOT = Path(__file__).resolve().parents[1]
VIETNAM = ROOT / "scenarios" / "vietnam.yaml"
TABLES = ("monthly", "subgroups", "points", "waits", "ledger", "funnel", "places", "communes", "strategy_spending")
SMALL = ("48", "58", "95")  # Đà Nẵng, Ninh Thuận, Bạc Liêu: 47, 62 and 64 communes


@pytest.fixture(scope="module")
def national() -> dict:
    return resolve_extends(VIETNAM.resolve(), read_yaml(VIETNAM))


def few(national: dict, codes: tuple[str, ...] = SMALL, months: int = 3, sample: float = 0.03) -> dict:
    data = copy.deepcopy(national)
    data["geography"]["provinces"] = [p for p in data["geography"]["provinces"] if p["province"] in codes]
    data["geography"]["sample_fraction"] = sample
    data["months"] = months
    data.pop("calibration")
    return data


@pytest.fixture(scope="module")
def small(national: dict):
    return validate_scenario(few(national), "small")


@pytest.fixture(scope="module")
def serial(small):
    return run_country(small, parts=1)


def assert_same_tables(a, b) -> None:
    for name in TABLES:
        assert getattr(a, name).equals(getattr(b, name)), name
    assert np.array_equal(a.days_hist, b.days_hist) and np.array_equal(a.wait_hist, b.wait_hist)
    assert a.strategies == b.strategies and a.summary == b.summary


@pytest.mark.parametrize("parts", [2, 3])
def test_any_split_gives_the_same_tables(small, serial, parts: int) -> None:
    assert_same_tables(serial, run_country(small, parts=parts))


def test_a_process_pool_gives_the_same_files(small, tmp_path: Path) -> None:
    write_run(small, tmp_path / "serial", workers=1)
    write_run(small, tmp_path / "pool", workers=2)
    names = sorted(p.name for p in (tmp_path / "serial").iterdir() if p.name != "manifest.json")
    assert "payments.parquet" in names and "waits.parquet" in names
    for name in names:
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "pool" / name).read_bytes(), name


def test_provinces_merged_in_any_order_give_the_same_tables(small, serial) -> None:
    """The pool and Dask hand provinces back as they finish: the merger must not depend on that order."""
    from welfare_sim.sim.parts import CountryMerger, _run_provinces, _task

    index = list(range(len(small.parts)))
    done = list(_run_provinces(_task(small, index, small.seed, small.months, None, False)))
    merger = CountryMerger(small)
    for code, result, _ in reversed(done):
        merger.add(code, result)
    assert_same_tables(serial, merger.result())
    with pytest.raises(ValueError, match="were not run"):
        CountryMerger(small).result()


def test_country_progress_moves_with_the_provinces_done() -> None:
    from welfare_sim.sim.parts import _CountryProgress

    seen: list[int] = []
    progress = _CountryProgress(seen.append, 24, {"01": 300, "02": 100, "04": 600})
    progress.done("02")
    assert seen == [0, 1]  # 100 of 1,000 beneficiaries: 2 of 24 months
    progress.done("04")
    assert seen == list(range(16))
    progress.done("01")
    assert seen == list(range(24))


def test_a_dask_local_cluster_gives_the_same_tables(small, serial) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert_same_tables(serial, run_country(small, scheduler=cluster.scheduler_address))


def test_unreachable_scheduler_is_bad_input(small, monkeypatch) -> None:
    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "1s")
    with pytest.raises(ScenarioError, match="cannot reach a Dask scheduler"):
        run_country(small, scheduler="tcp://127.0.0.1:9")


def test_places_are_numbered_across_the_country(small, serial) -> None:
    places = serial.places
    assert places["commune"].to_list() == list(range(small.geography.n_communes))
    assert places["district"].n_unique() == places["district"].max() + 1 == len(small.geography.groups)
    assert places["commune_code"].n_unique() == places.height
    first = serial.monthly.filter(pl.col("month") == 0)
    assert first["beneficiaries"].sum() == serial.summary["beneficiaries"]["first_month"]
    assert serial.points["point"].max() < serial.n_points


def test_money_is_conserved_across_the_merge(small, serial) -> None:
    """The country's ledger is the provinces' summed to the dong."""
    alone = [run_country(validate_scenario(few_of(small, code), "one"), parts=1) for code, _ in small.parts]
    for column in serial.ledger.columns:
        if column.endswith("_vnd"):
            assert serial.ledger[column].to_list() == list(
                np.sum([r.ledger[column].to_numpy() for r in alone], axis=0)
            ), column


def few_of(scenario, code: str) -> dict:
    data = scenario.model_dump(mode="json")
    data["geography"]["provinces"] = [p for p in data["geography"]["provinces"] if p["province"] == code]
    return data


def test_a_provinces_draws_do_not_depend_on_the_others(national: dict, serial) -> None:
    """Đà Nẵng run alone draws what it draws beside two other provinces (and the first province's
    district and commune numbers start at 0 either way)."""
    alone = run_country(validate_scenario(few(national, ("48",)), "alone"), parts=1)
    beside = serial.monthly.filter(pl.col("district_code").is_in(alone.monthly["district_code"].unique().implode()))
    assert beside.height == alone.monthly.height > 0
    assert beside.equals(alone.monthly)


def test_streams_namespace() -> None:
    keys = np.arange(5)
    assert np.array_equal(Streams(7)["a"].uniform(keys), Streams(7, "")["a"].uniform(keys))
    assert not np.array_equal(Streams(7)["a"].uniform(keys), Streams(7, "17")["a"].uniform(keys))
    assert not np.array_equal(Streams(7, "17")["a"].uniform(keys), Streams(7, "48")["a"].uniform(keys))
    with pytest.raises(ValueError, match="namespace"):
        Streams(7, "1|7")


def test_payment_ids_are_unique_in_the_country(small, tmp_path: Path) -> None:
    """An id is its commune's country-wide number × ID_STRIDE + a rank: unique across provinces."""
    write_run(small, tmp_path / "run", workers=1)
    payments = pl.read_parquet(tmp_path / "run" / "payments.parquet")
    assert (payments["beneficiary_id"] // ID_STRIDE).equals(payments["commune"], check_names=False)
    first = payments.filter(pl.col("month") == 0)
    assert first["beneficiary_id"].n_unique() == first.height > 0
    assert first["commune"].max() >= small.parts[0][1].geography.n_communes  # later provinces are shifted


def test_tables_of_places_name_the_province(small, serial) -> None:
    """In a country run, every table of places says which province a row is of, by the register's code
    and name, and its districts are that province's."""
    from welfare_sim.sim import register as reg

    for name in ("places", "communes", "monthly", "points"):
        table = getattr(serial, name)
        assert table["province_code"].null_count() == 0 and table["province_name"].null_count() == 0, name
        assert sorted(table["province_code"].unique()) == sorted(code for code, _ in small.parts), name
    for code, _ in small.parts:
        rows = serial.places.filter(pl.col("province_code") == code)
        assert rows["province_name"].unique().to_list() == [reg.find_province(code, "legacy").name]
        assert set(rows["district_code"]) <= set(reg.districts(code)["code"])  # (Hoàng Sa has no communes)


# --------------------------------------------------------------------------- strategies per province


def drive_ninh_hai(data: dict, **scope: object) -> dict:
    """A commune-ATM strategy and the first drive, scoped as given."""
    data["interventions"]["atm_points"] = [
        {"name": "ninh_hai", "start": "2022-01", "communes_per_month": 2, "account_types": ["bank"], **scope}
    ]
    data["interventions"]["drives"][0].update(scope)
    return data


def test_a_strategy_scoped_to_provinces_is_only_there(national: dict) -> None:
    data = few(national)
    teams = data["interventions"]["drives"][0]["teams"]
    # by name without diacritics, and by official code; districts by their short names
    scenario = validate_scenario(drive_ninh_hai(data, provinces=["Ninh Thuan", "48"]), "vn.yaml")
    parts = dict(scenario.parts)
    drive = data["interventions"]["drives"][0]["name"]
    got = {code: sum(d.teams for d in p.interventions.drives if d.name == drive) for code, p in parts.items()}
    assert got["95"] == 0 and got["48"] > 0 and got["58"] > 0 and sum(got.values()) == teams
    assert all(s.provinces is None for p in parts.values() for s in p.interventions.drives)
    assert {code: len(p.interventions.atm_points) for code, p in parts.items()} == {"48": 1, "58": 1, "95": 0}

    data = drive_ninh_hai(few(national), provinces=["Ninh Thuận"], districts=["Ninh Hải", "Bác Ái"])
    parts = dict(validate_scenario(data, "vn.yaml").parts)
    assert [s.districts for s in parts["58"].interventions.atm_points] == [["Huyện Ninh Hải", "Huyện Bác Ái"]]
    assert [d.teams for d in parts["58"].interventions.drives if d.name == drive] == [teams]
    assert not parts["48"].interventions.atm_points and not parts["95"].interventions.atm_points


def test_a_drive_in_one_province_leaves_the_others_as_they_were(national: dict) -> None:
    """Provinces are independent: a drive scoped to Đà Nẵng changes Đà Nẵng's accounts and nothing of
    Ninh Thuận's."""
    base = few(national, ("48", "58"), months=18)
    base["interventions"]["drives"] = []
    scoped = copy.deepcopy(base)
    scoped["interventions"]["drives"] = [
        {**few(national)["interventions"]["drives"][0], "start": "2022-02", "end": "2022-12", "provinces": ["48"]}
    ]
    without = run_country(validate_scenario(base, "without"), parts=1).communes
    with_drive = run_country(validate_scenario(scoped, "with"), parts=1).communes

    def province(table: pl.DataFrame, code: str) -> pl.DataFrame:
        return table.filter(pl.col("province_code") == code)

    assert province(with_drive, "58").equals(province(without, "58"))
    last = pl.col("month") == 17
    assert (
        province(with_drive, "48").filter(last)["with_account"].sum()
        > province(without, "48").filter(last)["with_account"].sum()
    )


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"provinces": ["Ninh Thuan x"]}, "interventions.atm_points[0].provinces[0]:"),
        ({"provinces": ["Hòa Bình"]}, "is Tỉnh Hòa Bình (17), which is not among geography.provinces"),
        ({"districts": ["Ninh Hải"]}, "interventions.atm_points[0].districts: in a many-province scenario, name"),
        ({"provinces": ["58"], "districts": ["Ninh Hai x"]}, "interventions.atm_points[0].districts[0]:"),
        ({"provinces": ["58", "48"], "communes": [1]}, "name exactly one province in provinces (got 2)"),
    ],
)
def test_bad_strategy_scopes_name_their_key_path(national: dict, scope: dict, expected: str) -> None:
    data = few(national)
    data["interventions"]["atm_points"] = [
        {"name": "p", "start": "2022-01", "communes_per_month": 2, "account_types": ["bank"], **scope}
    ]
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data, "vn.yaml")
    assert expected in str(caught.value)


def test_a_one_province_scenario_refuses_provinces_on_a_strategy() -> None:
    hoa_binh = ROOT / "scenarios" / "hoa_binh.yaml"
    data = resolve_extends(hoa_binh.resolve(), read_yaml(hoa_binh))
    data["interventions"]["drives"][0]["provinces"] = ["Hòa Bình"]
    with pytest.raises(ScenarioError, match=r"interventions.drives\[0\].provinces: only for a many-province"):
        validate_scenario(data, "hoa_binh.yaml")


# --------------------------------------------------------------------------- the national file


def test_the_national_file_is_the_register_at_commune_resolution() -> None:
    scenario = load_scenario(VIETNAM)
    assert len(scenario.parts) == 63
    assert [code for code, _ in scenario.parts] == sorted(code for code, _ in scenario.parts)
    assert scenario.geography.n_beneficiaries == 5_058_040  # [seed001]
    assert sum(p.geography.n_beneficiaries for _, p in scenario.parts) == 5_058_040
    assert scenario.geography.n_communes == 10_035
    assert sum(d.atms for d in scenario.geography.groups) == 20_986  # [sbv]
    hoa_binh = dict(scenario.parts)["17"]
    assert hoa_binh.geography.n_beneficiaries == 34_400  # [bhb]
    teams = [next((d.teams for d in p.interventions.drives if d.name == "directive_21_push"), 0)
             for _, p in scenario.parts]
    assert sum(teams) == 150  # the national drive's teams, shared out by commune count


def test_the_national_file_is_written_by_new_scenario() -> None:
    text = VIETNAM.read_text(encoding="utf-8")
    assert country_scenario_text(text) == text


def test_country_cli_writes_a_valid_file(tmp_path: Path) -> None:
    out = tmp_path / "vn.yaml"
    args = ["new-scenario", "--country", str(VIETNAM), "--out", str(out)]
    proc = subprocess.run([sys.executable, "-m", "welfare_sim", *args], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == VIETNAM.read_text(encoding="utf-8")
    again = subprocess.run([sys.executable, "-m", "welfare_sim", *args], capture_output=True, text=True, cwd=ROOT)
    assert again.returncode != 0 and "never replaces a file" in again.stderr


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda g: g["provinces"][1].update(province="Ninh Thuan x"), "geography.provinces[1].province"),
        (lambda g: g["provinces"][2].update(province="48"), "already given as provinces[0]"),
        (lambda g: g["provinces"][0].update(beneficiaries=-3), "geography.provinces[0].beneficiaries: must be ≥ 0"),
        (lambda g: g["provinces"][0].update(beneficaries=3), "geography.provinces[0].beneficaries: unknown key"),
        (lambda g: g.update(register="2025"), "geography.provinces is for the legacy register"),
    ],
)
def test_bad_province_entries_name_their_key_path(national: dict, edit, expected: str) -> None:
    data = few(national)
    edit(data["geography"])
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data, "vn.yaml")
    assert expected in str(caught.value)


def test_an_unknown_province_gets_a_did_you_mean(national: dict) -> None:
    data = few(national)
    data["geography"]["provinces"][1]["province"] = "Ninh Thuann"
    with pytest.raises(ScenarioError, match="Ninh Thuận"):
        validate_scenario(data, "vn.yaml")


def test_share_out_and_plan_parts() -> None:
    assert share_out(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(share_out(5_058_040, [193, 161, 108, 7])) == 5_058_040
    assert share_out(0, [1, 2]) == [0, 0]
    assert plan_parts([5, 5, 5, 5], 2) == [[0, 1], [2, 3]]
    assert plan_parts([1, 1, 1], 5) == [[0], [1], [2]]
    parts = plan_parts([10, 1, 1, 1, 10, 3], 3)
    assert [i for p in parts for i in p] == list(range(6)) and len(parts) == 3


def test_a_one_province_engine_refuses_a_country(small) -> None:
    from welfare_sim.sim.engine import simulate

    with pytest.raises(ScenarioError, match="many-province scenario"):
        simulate(small, months=1)


def test_every_value_of_the_national_file_has_a_source_or_is_an_assumption() -> None:
    from welfare_sim.sim.parameters_table import unmarked_values

    assert unmarked_values(VIETNAM) == []
