"""Tables a user can trust: one type per column name, signed counts, units in names, dates, a
lookup of places, and a data dictionary that covers every written column."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from factory import small_scenario

from welfare_sim.sim import columns
from welfare_sim.sim.experiments import compare
from welfare_sim.sim.publish import atomic_write_parquet
from welfare_sim.sim.run import run_scenario, write_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("tables")
    base = small_scenario(months=3)
    write_run(base, out / "run")
    other = small_scenario(months=3, **{"interventions.drives.0.teams": 2})
    results = compare.run_all([base, other], ["a.yaml", "b.yaml"], [1, 2])
    names = compare.unique_names([base, other], ["a.yaml", "b.yaml"])
    compare.write_comparison(out / "cmp", names, ["a.yaml", "b.yaml"], [1, 2], results)
    return {"run": out / "run", "cmp": out / "cmp"}


def parquet_files(folders: dict[str, Path]) -> list[Path]:
    files = sorted(f for folder in folders.values() for f in folder.glob("*.parquet"))
    run = "monthly payments points waits subgroups ledger funnel places communes".split()
    comparison = "table runs timeseries strategies counts cost_effectiveness gains".split()
    assert {f.name for f in files} == {f"{name}.parquet" for name in run + comparison}
    return files


def test_one_type_per_column_name_across_every_file(folders: dict[str, Path]) -> None:
    seen: dict[str, dict[str, list[str]]] = {}
    for f in parquet_files(folders):
        for name, dtype in pl.read_parquet_schema(f).items():
            seen.setdefault(name, {}).setdefault(str(dtype), []).append(f"{f.parent.name}/{f.name}")
    assert {name: types for name, types in seen.items() if len(types) > 1} == {}
    assert seen["month"].keys() == {"Int64"} and seen["period"].keys() == {"Date"}


def test_every_integer_is_a_signed_int64(folders: dict[str, Path]) -> None:
    for f in parquet_files(folders):
        for name, dtype in pl.read_parquet_schema(f).items():
            if dtype.is_integer():
                assert dtype == pl.Int64, f"{f.name}: {name} is {dtype}"
    monthly = pl.read_parquet(folders["run"] / "monthly.parquet").to_pandas()
    gap = (monthly["with_account"] - monthly["beneficiaries"]).to_numpy()
    assert (gap <= 0).all() and gap.min() < 0  # a negative difference stays negative in pandas


def test_money_and_time_columns_carry_their_unit_in_the_name(folders: dict[str, Path]) -> None:
    ledger = pl.read_parquet(folders["run"] / "ledger.parquet")
    assert {"entitled_vnd", "owed_end_vnd", "credited_vnd", "float_paid_vnd"} <= set(ledger.columns)
    for f in parquet_files(folders):
        for name in pl.read_parquet_schema(f):
            unit = columns.entry(name).unit
            if unit == "VND":
                assert name.endswith("_vnd"), name
            if unit in ("min", "days"):
                assert f"{unit}" in name or name in ("open_days", "down_days"), name


def test_period_is_the_first_day_of_the_month(folders: dict[str, Path]) -> None:
    monthly = pl.read_parquet(folders["run"] / "monthly.parquet")
    periods = monthly.select("month", "period").unique().sort("month")
    assert periods["period"].to_list() == [dt.date(2023, 1, 1), dt.date(2023, 2, 1), dt.date(2023, 3, 1)]
    series = pl.read_parquet(folders["cmp"] / "timeseries.parquet")
    assert set(series["period"].to_list()) == set(periods["period"].to_list())


def test_every_written_column_has_its_dictionary_entry_in_the_file(folders: dict[str, Path]) -> None:
    for f in parquet_files(folders):
        meta = pl.read_parquet_metadata(f)
        for name in pl.read_parquet_schema(f):
            stored = json.loads(meta[f"welfare_sim:{name}"])
            col = columns.entry(name)
            assert stored == {"unit": col.unit, "description": col.en, "description_vi": col.vi}, (f.name, name)
            assert col.en and col.vi


def test_every_field_carries_its_unit_and_descriptions(folders: dict[str, Path]) -> None:
    """The dictionary is also in each Parquet field's own metadata, where pyarrow, DuckDB or any
    Parquet viewer shows it beside the column."""
    import pyarrow.parquet as pq

    files = parquet_files(folders)
    assert any(f.name == "payments.parquet" for f in files)  # the merged month parts too
    for f in files:
        for field in pq.read_schema(f):
            col = columns.entry(field.name)
            meta = field.metadata or {}
            assert meta.get(b"unit") == col.unit.encode(), (f.name, field.name)
            assert meta.get(b"description") == col.en.encode(), (f.name, field.name)
            assert meta.get(b"description_vi") == col.vi.encode(), (f.name, field.name)


def test_a_column_without_an_entry_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    frame = pl.DataFrame({"month": [0], "mystery_figure": [1.0]})
    with pytest.raises(KeyError, match="mystery_figure"):
        atomic_write_parquet(tmp_path / "t.parquet", frame)
    with pytest.raises(TypeError, match="month: Int16"):
        atomic_write_parquet(tmp_path / "t.parquet", pl.DataFrame({"month": pl.Series([0], dtype=pl.Int16)}))
    assert list(tmp_path.iterdir()) == []


def test_the_places_table_names_every_district_and_commune(folders: dict[str, Path]) -> None:
    places = pl.read_parquet(folders["run"] / "places.parquet")
    monthly = pl.read_parquet(folders["run"] / "monthly.parquet")
    # the small scenario: Town with 3 communes, then Hills with 2
    assert places["district_name"].to_list() == ["Town"] * 3 + ["Hills"] * 2
    assert places["commune"].to_list() == [0, 1, 2, 3, 4]
    assert places["commune_name"].to_list() == [
        "Town commune 1",
        "Town commune 2",
        "Town commune 3",
        "Hills commune 1",
        "Hills commune 2",
    ]
    assert places["commune_code"].null_count() == places.height == places["district_code"].null_count()
    pairs = monthly.select("district", "commune").unique()
    joined = pairs.join(places, on=["district", "commune"], how="anti")
    assert joined.is_empty()  # every (district, commune) index pair of the tables is in the lookup


def test_docs_data_md_is_generated_from_the_dictionary() -> None:
    committed = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    assert committed == columns.markdown(), "run: python -m welfare_sim.sim.columns > docs/data.md"


def test_comparison_shares_are_fractions_with_the_unit_share(folders: dict[str, Path]) -> None:
    table = pl.read_parquet(folders["cmp"] / "table.parquet")
    shares = table.filter(pl.col("unit") == "share")
    assert shares.height > 0 and "%" not in table["unit"].to_list()
    assert shares["mean"].is_between(0, 1).all()


def everyone_stopped(months: int = 6):  # noqa: ANN201
    """Nobody can be paid (no account, no cash at any point, no home delivery), and a month
    unpaid suspends, a month suspended stops: by month 3 nobody is left."""
    return small_scenario(
        months=months,
        **{
            "interventions.drives": [],
            "population.immobile_share": 0.0,
            "assumptions.initial_accounts.account_share": {"urban": 0.0, "rural": 0.0, "mountain": 0.0},
            "assumptions.opening.monthly_apply_prob": 0.0,
            "assumptions.verification.db_mismatch_share": 0.0,
            "assumptions.points.commune_point.float_cover": 0.0001,
            "assumptions.points.post_office.float_cover": 0.0001,
            "assumptions.points.atm.float_vnd_per_day": 0,
            "assumptions.collection.home_delivery_takeup": 0.0,
            "assumptions.collection.resume_prob": 0.0,
            "payment_run.suspend_after_months": 1,
            "payment_run.stop_after_suspended_months": 1,
        },
    )


def test_a_run_in_which_everyone_is_stopped_finishes_with_zero_payments(tmp_path: Path) -> None:
    result, _ = write_run(everyone_stopped(), tmp_path / "run")
    by_month = result.ledger.select("month", "entitled_vnd")
    assert by_month["month"].to_list() == list(range(6))
    assert by_month["entitled_vnd"].to_list()[-1] == 0  # the last months have nobody left
    assert result.monthly.filter(pl.col("month") == 5).is_empty()
    s = result.summary
    assert s["months"] == 6 and s["payments"]["total"] == 0
    assert s["beneficiaries"] == {"first_month": 500, "last_month": 0}
    assert s["period"] == ["2023-01", "2023-06"]
    assert s["cost_vnd"]["state_per_payment"] is None
    written = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert written["payments"]["total"] == 0
    monthly = pl.read_parquet(tmp_path / "run" / "monthly.parquet")
    assert monthly.schema["wait_min_total"] == pl.Float64
    assert np.isnan(result.summary["account_coverage"]["last_month"] or np.nan)


def test_the_run_api_keeps_the_same_tables() -> None:
    result = run_scenario(small_scenario(months=2))
    assert result.places is not None and result.places.height == 5
    columns.check_frame(result.monthly)
