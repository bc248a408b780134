"""Reading a real-format roster: pseudonymised at once, every row checked, nothing personal quoted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from welfare_sim.sim import register
from welfare_sim.sim.roster import (
    RosterError,
    load_key,
    pseudonym,
    read_roster,
)
from welfare_sim.sim.synthetic_roster import HEADERS, synthetic_roster, write_roster

ON = dt.date(2023, 1, 1)
KEY = b"a test key of 32 bytes, not real"
PERSONAL = ("full_name", "id_number", "phone", "account_number")


@pytest.fixture(scope="module")
def communes() -> pl.DataFrame:
    return register.communes("Hòa Bình", "legacy")


@pytest.fixture(scope="module")
def roster_frame(communes: pl.DataFrame) -> pl.DataFrame:
    return synthetic_roster(communes, 400, seed=7, on=ON)


def _write(frame: pl.DataFrame, path: Path) -> Path:
    write_roster(frame, path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_every_format_reads_to_the_same_people(tmp_path, communes, roster_frame, suffix) -> None:
    base = read_roster(_write(roster_frame, tmp_path / "a.csv"), key=KEY, communes=communes, on=ON)
    other = read_roster(_write(roster_frame, tmp_path / f"b{suffix}"), key=KEY, communes=communes, on=ON)
    assert base.rows_read == roster_frame.height and base.bad_rows == 0
    assert other.people.equals(base.people)


def test_no_personal_value_survives_the_import(tmp_path, communes, roster_frame) -> None:
    r = read_roster(_write(roster_frame, tmp_path / "r.csv"), key=KEY, communes=communes, on=ON)
    text = r.people.write_csv()
    for f in PERSONAL:
        for value in roster_frame[HEADERS[f]].to_list():
            if value:
                assert value not in text, f"a {f} value reached the imported table"
    assert set(r.people.columns).isdisjoint(PERSONAL)


def test_pseudonyms_are_keyed_and_stable(tmp_path, communes, roster_frame) -> None:
    path = _write(roster_frame, tmp_path / "r.csv")
    a = read_roster(path, key=KEY, communes=communes, on=ON).people["pseudonym"]
    b = read_roster(path, key=KEY, communes=communes, on=ON).people["pseudonym"]
    c = read_roster(path, key=b"another key, also 32 bytes long!", communes=communes, on=ON).people["pseudonym"]
    assert a.equals(b)
    assert a.n_unique() == a.len()
    assert not set(a.to_list()) & set(c.to_list())
    first_id = roster_frame[HEADERS["id_number"]][0]
    assert a[0] == pseudonym(KEY, "id:" + first_id)


def test_bad_rows_are_reported_by_row_and_column_never_by_personal_value(tmp_path, communes, roster_frame) -> None:
    bad = roster_frame.with_row_index("i").with_columns(
        pl.when(pl.col("i") == 3).then(pl.lit("99999")).otherwise(pl.col(HEADERS["commune_code"]))
        .alias(HEADERS["commune_code"]),
        pl.when(pl.col("i") == 5).then(pl.lit("Hộ nghèo")).otherwise(pl.col(HEADERS["category"]))
        .alias(HEADERS["category"]),
        pl.when(pl.col("i") == 8).then(pl.lit(123_456)).otherwise(pl.col(HEADERS["amount_vnd"]))
        .alias(HEADERS["amount_vnd"]),
        pl.when(pl.col("i") == 9).then(pl.lit("31/02/1950")).otherwise(pl.col(HEADERS["birth_date"]))
        .alias(HEADERS["birth_date"]),
    ).drop("i")
    path = _write(bad, tmp_path / "bad.csv")
    with pytest.raises(RosterError) as err:
        read_roster(path, key=KEY, communes=communes, on=ON)
    message = str(err.value)
    assert "4 of 400 rows are bad" in message
    for row, column in ((5, "Mã xã"), (7, "Đối tượng"), (10, "Mức hưởng"), (11, "Ngày sinh")):
        assert f"row {row}, column {column!r}" in message
    for f in (*PERSONAL, "birth_date"):
        for value in bad[HEADERS[f]][:12].to_list():
            if value:
                assert value not in message, f"the error quoted a {f} value"
    r = read_roster(path, key=KEY, communes=communes, on=ON, max_bad_share=0.05)
    assert r.people.height == 396 and r.bad_rows == 4
    assert sorted(p.row for p in r.problems) == [5, 7, 10, 11]
    assert sum(n for _, _, n in r.problem_counts()) == 4


def test_the_same_person_twice_in_one_programme_is_a_bad_row(tmp_path, communes, roster_frame) -> None:
    twice = pl.concat([roster_frame, roster_frame.head(1)])
    r = read_roster(_write(twice, tmp_path / "r.csv"), key=KEY, communes=communes, on=ON, max_bad_share=0.01)
    assert [p.row for p in r.problems] == [twice.height + 1]
    assert "already has a social assistance row (row 2)" in r.problems[0].what


def test_amounts_follow_the_dated_base_level(tmp_path, communes, roster_frame) -> None:
    # 360,000 VND × 1.0 was right in 2023 and is not a coefficient step of the 500,000 VND base from 2024-07
    path = _write(roster_frame, tmp_path / "r.csv")
    assert read_roster(path, key=KEY, communes=communes, on=ON).bad_rows == 0
    later = read_roster(path, key=KEY, communes=communes, on=dt.date(2024, 8, 1), max_bad_share=1.0)
    assert later.bad_rows > 0
    assert all("base level (500,000 VND" in p.what for p in later.problems if p.column == "Mức hưởng")


def test_a_column_mapping_overrides_the_headers_and_names_a_missing_column(tmp_path, communes, roster_frame) -> None:
    renamed = roster_frame.rename({HEADERS["commune_code"]: "MA_DVHC_XA", HEADERS["amount_vnd"]: "TIEN"})
    path = _write(renamed, tmp_path / "r.csv")
    with pytest.raises(RosterError, match="no column for amount_vnd"):
        read_roster(path.with_name("r.csv"), key=KEY, communes=communes, on=ON,
                    mapping={"commune_code": "MA_DVHC_XA"})
    ok = read_roster(path, key=KEY, communes=communes, on=ON,
                     mapping={"commune_code": "ma_dvhc_xa", "amount_vnd": "TIEN"})
    assert ok.people.height == roster_frame.height
    with pytest.raises(RosterError, match=r"roster.columns.amount_vnd names the column 'SO_TIEN'"):
        read_roster(path, key=KEY, communes=communes, on=ON, mapping={"amount_vnd": "SO_TIEN"})
    with pytest.raises(RosterError, match="roster.columns.salary: not a roster field"):
        read_roster(path, key=KEY, communes=communes, on=ON, mapping={"salary": "TIEN"})


def test_missing_attributes_are_counted(tmp_path, communes, roster_frame) -> None:
    thin = roster_frame.drop(HEADERS["disabled"], HEADERS["sex"])
    r = read_roster(_write(thin, tmp_path / "r.csv"), key=KEY, communes=communes, on=ON)
    assert r.missing == {"disabled": 400, "sex": 400}
    assert r.people["female"].null_count() == 400


def test_the_key_is_required_and_long_enough(monkeypatch) -> None:
    monkeypatch.delenv("WELFARE_SIM_ROSTER_KEY", raising=False)
    with pytest.raises(RosterError, match="WELFARE_SIM_ROSTER_KEY"):
        load_key()
    with pytest.raises(RosterError, match="at least 16"):
        load_key("short")
    monkeypatch.setenv("WELFARE_SIM_ROSTER_KEY", "x" * 20)
    assert load_key() == b"x" * 20


def test_the_generator_never_overwrites(tmp_path, roster_frame) -> None:
    path = _write(roster_frame, tmp_path / "r.csv")
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_roster(roster_frame.head(3), path)
    assert path.read_bytes() == before
