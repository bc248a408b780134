"""communes.parquet: one row per commune × month, each figure checked against the run's other tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from welfare_sim.sim.run import write_run
from welfare_sim.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HOA_BINH = ROOT / "scenarios" / "hoa_binh.yaml"


def _run(folder: Path, months: int = 3) -> Path:
    overrides = [f"months={months}"]
    write_run(load_scenario(HOA_BINH, overrides), folder, source=str(HOA_BINH), months=months, overrides=overrides)
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("communes") / "run")


def test_one_row_per_commune_and_month(run_dir: Path) -> None:
    communes = pl.read_parquet(run_dir / "communes.parquet")
    places = pl.read_parquet(run_dir / "places.parquet")
    assert communes.height == places.height * 3
    assert communes.select("month", "commune").is_duplicated().sum() == 0
    assert communes.sort("month", "commune").equals(communes)
    joined = communes.join(places, on=["district", "commune"], how="anti")
    assert joined.is_empty()
    # every commune by its official code and name in the register (Hòa Bình, legacy map)
    from welfare_sim.sim import register

    reg = register.communes("Hòa Bình", "legacy").select(commune_code="code", name="name")
    named = communes.filter(pl.col("month") == 0).join(reg, on="commune_code", how="left")
    assert named.height == reg.height and named["commune_name"].to_list() == named["name"].to_list()


def test_counts_and_money_add_up_to_the_monthly_table(run_dir: Path) -> None:
    communes = pl.read_parquet(run_dir / "communes.parquet")
    monthly = pl.read_parquet(run_dir / "monthly.parquet")
    by_commune = monthly.group_by("month", "commune").agg(
        pl.col("beneficiaries", "with_account", "paid_into_account", "paid_at_commune_point", "unpaid").sum(),
        payments=(pl.col("paid_into_account") + pl.col("paid_in_cash") + pl.col("paid_at_home")).sum(),
        beneficiary_cost_vnd=(
            pl.col("travel_cost_vnd") + pl.col("time_cost_vnd") + pl.col("beneficiary_fees_vnd")
        ).sum(),
    )
    mine = communes.select(by_commune.columns).filter(pl.col("beneficiaries") > 0)
    assert mine.sort("month", "commune").equals(by_commune.sort("month", "commune").select(mine.columns))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert int(communes["payments"].sum()) == summary["payments"]["total"]


def test_shares_and_cost_per_payment_are_the_counts_ratios(run_dir: Path) -> None:
    c = pl.read_parquet(run_dir / "communes.parquet").filter(pl.col("beneficiaries") > 0)
    assert np.allclose(c["account_coverage"], c["with_account"] / c["beneficiaries"], rtol=0, atol=1e-12)
    assert np.allclose(c["paid_into_account_share"], c["paid_into_account"] / c["beneficiaries"], rtol=0, atol=1e-12)
    assert np.allclose(c["unpaid_share"], c["unpaid"] / c["beneficiaries"], rtol=0, atol=1e-12)
    paying = c.filter(pl.col("payments") > 0)
    expected = (paying["beneficiary_cost_vnd"] / paying["payments"]).round(0)
    assert paying["beneficiary_cost_per_payment_vnd"].to_list() == expected.to_list()
    # the shares differ between communes: the table is not one province-wide figure repeated
    assert c["paid_into_account_share"].n_unique() > 10 and c["unpaid_share"].max() > 0


def test_days_and_commune_point_waits_follow_the_payment_rows(run_dir: Path) -> None:
    """Recomputed from payments.parquet: mean days to money, and the nearest-rank p50 and p95 of the
    waits of those paid at their commune point, commune by commune."""
    payments = pl.read_parquet(run_dir / "payments.parquet")
    communes = pl.read_parquet(run_dir / "communes.parquet")
    days = payments.group_by("month", "commune").agg(expected_days=pl.col("days_to_money").mean())
    waits = (
        payments.filter(pl.col("channel") == "cash_commune")
        .group_by("month", "commune")
        .agg(
            expected_p50=pl.col("wait_min").quantile(0.5, "nearest"),
            expected_p95=pl.col("wait_min").quantile(0.95, "nearest"),
            n=pl.len(),
        )
    )
    joined = communes.join(days, on=["month", "commune"], how="left").join(waits, on=["month", "commune"], how="left")
    with_days = joined.filter(pl.col("expected_days").is_not_null())
    assert np.allclose(with_days["days_to_money_mean"], with_days["expected_days"], rtol=0, atol=1e-9)
    at_point = joined.filter(pl.col("n").is_not_null())
    assert at_point.height > 100
    assert at_point["commune_point_wait_min_p50"].to_list() == at_point["expected_p50"].to_list()
    assert at_point["commune_point_wait_min_p95"].to_list() == at_point["expected_p95"].to_list()
    # no one paid at the commune point: no wait to report, not a zero
    none = joined.filter(pl.col("n").is_null())
    assert none["commune_point_wait_min_p50"].null_count() == none.height


def test_the_table_is_reproducible_and_in_the_workbook_and_the_api(run_dir: Path, tmp_path: Path) -> None:
    again = _run(tmp_path / "again")
    assert (again / "communes.parquet").read_bytes() == (run_dir / "communes.parquet").read_bytes()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "communes.parquet" in manifest["files"]

    from openpyxl import load_workbook

    from welfare_sim.sim.report import write_report

    write_report(again, "en")
    book = load_workbook(again / "report.xlsx", read_only=True)
    sheet = book["Communes (map)"]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert "Commune-point wait, 95th percentile (min)" in header
    rows = sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))
    assert rows == pl.read_parquet(run_dir / "communes.parquet").height

    import welfare_sim as ws

    result = ws.run(str(HOA_BINH), months=2, out=tmp_path / "api")
    assert result.communes.equals(pl.read_parquet(tmp_path / "api" / "communes.parquet"))


# --------------------------------------------------------------------------- remap to the 2025 map


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "welfare_sim", *args], capture_output=True, text=True, cwd=ROOT)


def test_remap_keeps_every_total_and_weights_shares_by_beneficiaries(run_dir: Path, tmp_path: Path) -> None:
    """A real legacy run (Hòa Bình, its 151 communes by official code) on the 2025 map."""
    from welfare_sim.sim import register

    proc = _cli("remap", str(run_dir), "--out", str(tmp_path / "remap"))
    assert proc.returncode == 0, proc.stderr
    new = pl.read_parquet(tmp_path / "remap" / "communes.parquet")
    old = pl.read_parquet(run_dir / "communes.parquet")
    sums = ["beneficiaries", "with_account", "paid_into_account", "unpaid", "payments", "beneficiary_cost_vnd"]
    totals = [pl.col(c).sum() for c in sums]
    assert new.group_by("month").agg(totals).sort("month").equals(old.group_by("month").agg(totals).sort("month"))
    # every row is a 2025 commune of Phú Thọ, the province Hòa Bình is part of since 2025-07
    phu_tho = register.communes("Phú Thọ", "2025")
    assert set(new["commune_code"]) <= set(phu_tho["code"])
    assert new["commune_name"].null_count() == 0
    # recomputed independently: each old commune's default new commune, shares weighted by beneficiaries
    old = old.with_columns(code=pl.col("commune_code").map_elements(register.convert, return_dtype=pl.String))
    expected = old.group_by("month", "code").agg(
        n=pl.len(),
        unpaid_share=(pl.col("unpaid_share").fill_null(0) * pl.col("beneficiaries")).sum()
        / pl.col("beneficiaries").sum(),
        wait_p95=(pl.col("commune_point_wait_min_p95").fill_null(0) * pl.col("paid_at_commune_point")).sum()
        / pl.col("paid_at_commune_point").sum(),
    )
    joined = new.join(expected, left_on=["month", "commune_code"], right_on=["month", "code"], how="full")
    assert joined.height == new.height == expected.height
    assert joined["legacy_communes"].to_list() == joined["n"].cast(pl.Int64).to_list()
    assert (joined["legacy_communes"] > 1).any()  # communes were merged, not only renamed
    assert np.allclose(joined["unpaid_share"], joined["unpaid_share_right"], rtol=0, atol=1e-12)
    paying = joined.filter(pl.col("paid_at_commune_point") > 0)
    assert np.allclose(paying["commune_point_wait_min_p95"], paying["wait_p95"], rtol=0, atol=1e-9)
    # written again: the same bytes
    assert _cli("remap", str(run_dir), "--out", str(tmp_path / "again")).returncode == 0
    assert (tmp_path / "again" / "communes.parquet").read_bytes() == (
        tmp_path / "remap" / "communes.parquet"
    ).read_bytes()


def test_remap_refuses_a_run_without_codes_and_a_users_folder(run_dir: Path, tmp_path: Path) -> None:
    from factory import small

    from welfare_sim.sim.scenario import validate_scenario

    world = tmp_path / "world"  # register: none: anonymous communes, no codes
    write_run(validate_scenario(small(), "small"), world, payments=False)
    proc = _cli("remap", str(world), "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "communes.parquet" in proc.stderr and "no commune_code" in proc.stderr
    assert not (tmp_path / "x").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("a planner's notes")
    proc = _cli("remap", str(run_dir), "--out", str(mine))
    assert proc.returncode == 2 and "did not write" in proc.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
