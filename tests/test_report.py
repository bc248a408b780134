"""The report as a planner gets it: report.html with a chart per question and a reading under
each, report.xlsx whose cells are the run's numbers, in English or Vietnamese; bad input gets a
one-line error and exit code 2."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml
from factory import small

from sim.report import ReportError, write_report
from sim.report.sources import ScenarioSources, parse_comments
from sim.run import write_run
from sim.scenario import load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
HOA_BINH = ROOT / "scenarios" / "hoa_binh.yaml"

RUN_SHEETS = [
    "Headline",
    "By month",
    "By district",
    "District x month",
    "By commune",
    "Commune x month",
    "Points",
    "Waits",
    "Subgroups",
    "Money ledger",
    "Account funnel",
    "Assumptions",
    "About",
]
RUN_SHEETS_VI = [
    "Chỉ số chính",
    "Theo tháng",
    "Theo huyện",
    "Huyện x tháng",
    "Theo xã",
    "Xã x tháng",
    "Điểm chi trả",
    "Thời gian chờ",
    "Nhóm đối tượng",
    "Sổ theo dõi tiền",
    "Mở tài khoản",
    "Giả định",
    "Thông tin",
]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=600,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in {proc.stderr!r}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short Hòa Bình run (3 months), written as `welfare-sim run` writes it."""
    folder = tmp_path_factory.mktemp("report") / "hoa_binh-3m"
    overrides = ["months=3"]
    scenario = load_scenario(HOA_BINH, overrides)
    write_run(scenario, folder, source=str(HOA_BINH), months=3, overrides=overrides)
    return folder


@pytest.fixture(scope="module")
def reported(run_dir: Path) -> Path:
    return write_report(run_dir, "en")


def strategy_files(folder: Path) -> list[Path]:
    """Two tiny strategies: the base, and one where people open accounts five times as often."""
    folder.mkdir(parents=True, exist_ok=True)
    base = small(name="base")
    faster = small(name="faster")
    faster["assumptions"]["opening"]["monthly_apply_prob"] = 0.5
    paths = []
    for data in (base, faster):
        path = folder / f"{data['name']}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def build_comparison(folder: Path, seeds: tuple[int, ...] = (1, 2, 3)) -> Path:
    """A comparison folder written by the compare command's own functions (sim.compare)."""
    from sim.compare import run_all, unique_names, write_comparison

    paths = strategy_files(folder.parent / f"{folder.name}-scenarios")
    sources = [str(p) for p in paths]
    scenarios = [load_scenario(p) for p in paths]
    results = run_all(scenarios, sources, list(seeds))
    write_comparison(folder, unique_names(scenarios, sources), sources, list(seeds), results)
    return folder


@pytest.fixture(scope="module")
def comparison_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_comparison(tmp_path_factory.mktemp("report") / "comparison")


# --------------------------------------------------------------------------- html


def charts_of(html: str) -> list[tuple[str, str]]:
    """(png base64, reading) of each chart figure in the page."""
    return re.findall(
        r'<figure id="chart-[^"]+" class="chart">'
        r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*>'
        r"<figcaption><b>[^<]+</b> ([^<]+)</figcaption></figure>",
        html,
    )


def test_run_report_is_one_self_contained_page(reported: Path, run_dir: Path) -> None:
    assert reported == run_dir / "report.html"
    html = reported.read_text(encoding="utf-8")
    charts = charts_of(html)
    assert len(charts) == 6  # coverage, cashless, days, waits, subgroups, costs
    for png, reading in charts:
        assert png.startswith("iVBORw0KGgo")  # PNG signature
        assert reading.strip().endswith(".")
    # nothing fetched from anywhere: no scripts, no external links or sources
    assert "<script" not in html
    assert not re.search(r'(src|href)="(?!data:)', html)
    # headline first, then the charts
    assert html.index('id="headline"') < html.index('id="charts"')
    assert not list(run_dir.glob(".report*"))  # no temporary files left behind


def test_headline_and_readings_follow_the_run(reported: Path, run_dir: Path) -> None:
    import json

    html = reported.read_text(encoding="utf-8")
    summary = json.loads((run_dir / "summary.json").read_text())
    first = f"{summary['beneficiaries']['first_month']:,}"
    assert f">{first}<" in html
    cov = summary["account_coverage"]["last_month"]
    assert f"{100 * cov:.1f}%" in html
    # the coverage reading names the district lowest in the last month, computed here afresh
    monthly = pl.read_parquet(run_dir / "monthly.parquet")
    last = (
        monthly.filter(pl.col("month") == monthly["month"].max())
        .group_by("district")
        .agg((pl.col("with_account").sum() / pl.col("beneficiaries").sum()).alias("cov"))
        .sort("cov")
    )
    names = [
        d["name"]
        for d in yaml.safe_load((run_dir / "scenario.resolved.yaml").read_text())["geography"][
            "districts"
        ]
    ]
    lowest = names[last["district"][0]]
    reading = charts_of(html)[0][1]
    assert f"{lowest} ended lowest at {100 * last['cov'][0]:.0f}%" in reading.replace("&#x27;", "'")


# --------------------------------------------------------------------------- xlsx


def header_index(ws) -> dict[str, int]:  # noqa: ANN001
    return {cell.value: i for i, cell in enumerate(ws[1])}


def test_workbook_cells_are_the_run_tables(reported: Path, run_dir: Path) -> None:
    import json

    wb = openpyxl.load_workbook(run_dir / "report.xlsx")
    assert wb.sheetnames == RUN_SHEETS
    monthly = pl.read_parquet(run_dir / "monthly.parquet")

    ws = wb["By month"]
    col = header_index(ws)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == monthly["month"].n_unique() == 3
    for row, month in zip(rows, sorted(monthly["month"].unique().to_list()), strict=True):
        m = monthly.filter(pl.col("month") == month)
        assert row[col["Month"]] == m["period"][0]
        assert row[col["Beneficiaries"]] == m["beneficiaries"].sum()
        assert row[col["With an account"]] == m["with_account"].sum()
        assert row[col["Paid (VND)"]] == m["paid_vnd"].sum()
        assert row[col["Account coverage (%)"]] == pytest.approx(
            m["with_account"].sum() / m["beneficiaries"].sum()
        )
    cell = ws.cell(row=2, column=col["Paid (VND)"] + 1)
    assert isinstance(cell.value, int) and cell.number_format == "#,##0"
    assert ws.cell(row=2, column=col["Account coverage (%)"] + 1).number_format == "0.0%"

    ws = wb["By commune"]
    col = header_index(ws)
    last = monthly.filter(pl.col("month") == monthly["month"].max())
    for row in list(ws.iter_rows(min_row=2, values_only=True))[::37]:
        commune = row[col["Commune id"]]
        assert (
            row[col["Beneficiaries, last month"]]
            == last.filter(pl.col("commune") == commune)["beneficiaries"].sum()
        )

    waits = pl.read_parquet(run_dir / "waits.parquet").sort("month", "day", "kind")
    ws = wb["Waits"]
    col = header_index(ws)
    first = next(ws.iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[col["Day of month"]] == waits["day"][0]
    assert first[col["Visits"]] == waits["visits"][0]
    assert first[col["Wait, 95th percentile (min)"]] == pytest.approx(waits["wait_min_p95"][0])

    summary = json.loads((run_dir / "summary.json").read_text())
    headline = {r[0]: r[1] for r in wb["Headline"].iter_rows(min_row=2, values_only=True)}
    assert headline["Beneficiaries, first month"] == summary["beneficiaries"]["first_month"]
    assert headline["Cost per payment to the state"] == summary["cost_vnd"]["state_per_payment"]
    assert headline["Account coverage, last month"] == pytest.approx(
        summary["account_coverage"]["last_month"]
    )


def test_assumptions_sheet_gives_value_status_and_source(reported: Path, run_dir: Path) -> None:
    wb = openpyxl.load_workbook(run_dir / "report.xlsx")
    rows = list(wb["Assumptions"].iter_rows(values_only=True))
    header = rows.index(next(r for r in rows if r[0] == "Key (for --set)"))
    table = {r[0]: r for r in rows[header + 1 :]}
    resolved = yaml.safe_load((run_dir / "scenario.resolved.yaml").read_text())
    apply = table["assumptions.opening.monthly_apply_prob"]
    assert apply[2] == resolved["assumptions"]["opening"]["monthly_apply_prob"]
    assert apply[3] == "assumption"
    suspend = table["payment_run.suspend_after_months"]
    assert suspend[2] == resolved["payment_run"]["suspend_after_months"]
    assert suspend[3] == "sourced" and "[C02]" in suspend[4] and "Circular 02/2021" in suspend[6]
    # a value set with --set says so
    months = table["months"]
    assert (
        months[2] == 3 and months[3] == "set on the command line" and "--set months=3" in months[4]
    )
    # every value of the resolved scenario is listed
    from sim.report.sources import flatten

    assert {".".join(p) for p, _ in flatten(resolved)} <= set(table)


def test_vietnamese_report(run_dir: Path, tmp_path: Path) -> None:
    import json

    folder = tmp_path / "vi"
    shutil.copytree(run_dir, folder)
    write_report(folder, "vi")
    html = (folder / "report.html").read_text(encoding="utf-8")
    summary = json.loads((folder / "summary.json").read_text())
    assert '<html lang="vi">' in html and "Các chỉ số chính" in html
    first = f"{summary['beneficiaries']['first_month']:,}".replace(",", ".")
    assert f">{first}<" in html  # 34.400
    cov = f"{100 * summary['account_coverage']['last_month']:.1f}".replace(".", ",")
    assert f"{cov} %" in html  # 37,8 %
    state = f"{summary['cost_vnd']['state_per_payment']:,}".replace(",", ".")
    assert f"{state} VND" in html  # 66.919 VND
    assert len(charts_of(html)) == 6
    wb = openpyxl.load_workbook(folder / "report.xlsx")
    assert wb.sheetnames == RUN_SHEETS_VI
    ws = wb["Theo tháng"]
    col = header_index(ws)
    cell = ws.cell(row=2, column=col["Đã chi trả (VND)"] + 1)
    assert isinstance(cell.value, int)  # a number, shown the Vietnamese way by its format
    assert cell.number_format == "[$-42A]#,##0"
    assert ws.cell(row=2, column=col["Tháng"] + 1).value == "/".join(
        reversed(summary["period"][0].split("-"))
    )


def test_run_without_payments_still_reports(tmp_path: Path) -> None:
    folder = tmp_path / "nopay"
    write_run(validate_scenario(small(), "small"), folder, payments=False)
    html = write_report(folder).read_text(encoding="utf-8")
    assert len(charts_of(html)) == 6
    assert "Days from the start of the payment run" in html


# --------------------------------------------------------------------------- comparison


def test_comparison_report(comparison_dir: Path) -> None:
    html = write_report(comparison_dir, "en").read_text(encoding="utf-8")
    charts = charts_of(html)
    assert len(charts) == 3  # coverage, cashless share, each strategy against the base
    assert "faster" in charts[2][1] or "None of the" in charts[2][1]
    table = pl.read_parquet(comparison_dir / "table.parquet")
    wb = openpyxl.load_workbook(comparison_dir / "report.xlsx")
    assert wb.sheetnames == ["Headline", "Runs", "Strategies", "By month", "Assumptions", "About"]
    ws = wb["Headline"]
    got = {(r[0], r[1]): r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(got) == table.height
    for row in table.iter_rows(named=True):
        cell = got[(row["scenario"], row["figure"])]
        assert cell[4] == pytest.approx(row["mean"], nan_ok=True)
        assert cell[5] == pytest.approx(row["diff_mean"], nan_ok=True)
        assert cell[6] == pytest.approx(row["diff_lo"]) and cell[7] == pytest.approx(row["diff_hi"])
        assert cell[8] == ("yes" if row["distinguishable"] else "no")
    runs = pl.read_parquet(comparison_dir / "runs.parquet")
    ws = wb["Runs"]
    assert ws.max_row == runs.height + 1
    header = [c.value for c in ws[1]]
    coverage = header.index("Account coverage, last month (%)")
    assert [r[coverage] for r in ws.iter_rows(min_row=2, values_only=True)] == pytest.approx(
        runs["account_coverage_last"].to_list()
    )
    # the assumptions sheet puts what the strategies change first
    first = next(
        r for r in wb["Assumptions"].iter_rows(values_only=True) if r[0] and "." in str(r[0])
    )
    assert first[0] == "assumptions.opening.monthly_apply_prob" and first[2:5] == (0.1, 0.5, "yes")


def test_report_command_on_a_comparison(comparison_dir: Path) -> None:
    proc = cli("report", str(comparison_dir), "--lang", "vi")
    assert proc.returncode == 0, proc.stderr
    assert "report.html" in proc.stdout
    html = (comparison_dir / "report.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in html and "Tỷ lệ có tài khoản, tháng cuối" in html


def test_compare_with_report_flag_and_one_seed(tmp_path: Path) -> None:
    """`welfare-sim compare --report` writes the report; with one seed, no interval is shown."""
    base, faster = strategy_files(tmp_path)
    out = tmp_path / "cmp"
    proc = cli("compare", str(base), str(faster), "--seeds", "1", "--out", str(out), "--report")
    assert proc.returncode == 0, proc.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    readings = [reading for _png, reading in charts_of(html)]
    assert len(readings) == 3 and "With one seed there is no interval" in readings[2]
    assert (out / "report.xlsx").is_file()


# --------------------------------------------------------------------------- command line


def test_run_with_report_flag(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small(), allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    proc = cli("run", str(path), "--out", str(out), "--report", "--lang", "vi")
    assert proc.returncode == 0, proc.stderr
    assert (out / "report.html").is_file() and (out / "report.xlsx").is_file()
    assert '<html lang="vi">' in (out / "report.html").read_text(encoding="utf-8")
    plain = tmp_path / "plain"
    assert cli("run", str(path), "--out", str(plain)).returncode == 0
    assert not (plain / "report.html").exists()


def test_bad_language(run_dir: Path, tmp_path: Path) -> None:
    assert_clean_failure(cli("report", str(run_dir), "--lang", "fr"), "--lang fr", "en, vi")
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small(), allow_unicode=True), encoding="utf-8")
    assert_clean_failure(
        cli("run", str(path), "--out", str(tmp_path / "o"), "--report", "--lang", "xx"), "--lang xx"
    )
    assert not (tmp_path / "o").exists()  # checked before running
    with pytest.raises(ReportError):
        write_report(run_dir, "de")


def test_not_a_run_folder(tmp_path: Path) -> None:
    assert_clean_failure(cli("report", str(tmp_path / "nowhere")), "nowhere", "folder not found")
    (tmp_path / "empty").mkdir()
    assert_clean_failure(
        cli("report", str(tmp_path / "empty")), "not a run folder", "comparison.json"
    )
    (tmp_path / "file.txt").write_text("x")
    assert_clean_failure(cli("report", str(tmp_path / "file.txt")), "is a file, not a folder")


def test_missing_and_damaged_files(run_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken, ignore=shutil.ignore_patterns("report.*"))
    (broken / "waits.parquet").unlink()
    assert_clean_failure(cli("report", str(broken)), "missing waits.parquet", "welfare-sim run")
    shutil.copy(run_dir / "waits.parquet", broken / "waits.parquet")
    (broken / "points.parquet").write_bytes(b"not parquet")
    assert_clean_failure(cli("report", str(broken)), "points.parquet", "cannot be read")
    shutil.copy(run_dir / "points.parquet", broken / "points.parquet")
    (broken / "summary.json").write_text("{ nope")
    assert_clean_failure(cli("report", str(broken)), "summary.json", "not valid JSON")
    assert not (broken / "report.html").exists()


def test_damaged_comparison(comparison_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "cmp"
    shutil.copytree(comparison_dir, broken)
    (broken / "table.parquet").unlink()
    assert_clean_failure(cli("report", str(broken)), "missing table.parquet", "welfare-sim compare")


# --------------------------------------------------------------------------- sources from comments


YAML = """\
# Header.
#   [D20]   Decree 20/2021/NĐ-CP (base level)
#   [VNPost] VNPost, May 2024

name: x
geography:
  # ten districts [census]; split assumed
  districts:
    - name: A
      atms: 3
travel:                             # one-way, minutes; assumption
  mean_min: {urban: 10, rural: 25}
levels:
  - {start: 2021-07, vnd: 360000}   # [D20]
shares:                             # coefficients exist [D20]; shares are an assumption,
  "1.0": 0.35                       # set so the mean matches, as 8.4 bn VND over
  "1.5": 0.45                       # 16,332 recipients implies it
  "2.0": 0.2
window: {first_day: 2}              # "#1 point" [VNPost]
drives:
  # the push [bhb]
  - name: push
    teams: 10
  # a second, assumed
  - name: pilot
"""


def test_comments_are_read_back_as_sources(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(YAML, encoding="utf-8")
    comments = parse_comments(path)
    assert comments.tags == {
        "D20": "Decree 20/2021/NĐ-CP (base level)",
        "VNPost": "VNPost, May 2024",
    }
    sources = ScenarioSources(path)
    text, at = sources.comment(("travel", "mean_min", "rural"))
    assert text == "one-way, minutes; assumption" and at == "travel"
    assert (
        sources.comment(("geography", "districts", "0", "atms"))[0]
        == "ten districts [census]; split assumed"
    )
    assert sources.comment(("levels", "0", "vnd")) == ("[D20]", "levels.0")
    joined = sources.comment(("shares", "2.0"))[0]
    assert joined.startswith("coefficients exist [D20]") and joined.endswith(
        "16,332 recipients implies it"
    )
    assert sources.comment(("window", "first_day"))[0] == '"#1 point" [VNPost]'
    assert sources.comment(("drives", "0", "teams"))[0] == "the push [bhb]"
    assert sources.comment(("drives", "1", "name"))[0] == "a second, assumed"
    assert sources.source(("levels", "0", "vnd"), {}).status == "sourced"
    assert sources.source(("shares", "1.0"), {}).status == "mixed"
    assert sources.source(("travel", "mean_min", "urban"), {}).status == "assumption"
    assert "Decree 20/2021" in sources.source(("levels", "0", "vnd"), {}).refs
