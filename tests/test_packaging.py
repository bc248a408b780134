"""One import package: `welfare_sim` works beside a user's `models.py`, `sim.py` and
`calibration.py`, the wheel installs nothing else at the top level, and importing the package or
the CLI does not pull in the heavy libraries (they load when a command needs them)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOA_BINH = ROOT / "scenarios" / "hoa_binh.yaml"
HEAVY = ("matplotlib", "dask", "distributed", "SALib", "scipy.optimize", "xlsxwriter")


@pytest.fixture
def users_folder(tmp_path: Path) -> Path:
    """A notebook folder with modules named like the repository's folders, each unusable."""
    for name in ("models", "sim", "calibration"):
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('the user\\'s own {name}.py')\n", encoding="utf-8")
    return tmp_path


def test_the_module_runs_beside_a_users_models_sim_and_calibration(users_folder: Path) -> None:
    out = users_folder / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "welfare_sim", "run", str(HOA_BINH), "--months", "1", "--out", str(out), "--json"],
        cwd=users_folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "summary.json").read_text())["scenario"] == "hoa_binh"
    assert "user's own" not in proc.stderr


def test_the_python_api_runs_beside_them(users_folder: Path) -> None:
    """A notebook in that folder: `import welfare_sim` and run, with the user's modules first on sys.path."""
    code = (
        "import sys, welfare_sim as ws\n"
        "assert sys.path[0] in ('', sys.argv[1])\n"
        f"sc = ws.load({str(HOA_BINH)!r}, set={{'months': 1}})\n"
        "result = ws.Sim(sc, seed=3).run()\n"
        "print(result.summary['scenario'], result.monthly.height)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(users_folder)], cwd=users_folder, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    name, rows = proc.stdout.split()
    assert name == "hoa_binh" and int(rows) > 0
    assert "user's own" not in proc.stderr


def test_the_console_script_runs_beside_them(users_folder: Path) -> None:
    script = shutil.which("welfare-sim", path=str(Path(sys.executable).parent))
    assert script, "the welfare-sim console script is not installed next to this Python"
    out = users_folder / "run"
    proc = subprocess.run(
        [script, "run", str(HOA_BINH), "--months", "1", "--out", str(out)],
        cwd=users_folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "monthly.parquet").is_file()
    # every command arrives, the plugins too (their entry points name the welfare_sim modules)
    proc = subprocess.run([script, "--help"], cwd=users_folder, capture_output=True, text=True, timeout=120)
    for command in ("run", "validate", "schema", "compare", "sweep", "sensitivity", "report", "calibrate"):
        assert f" {command} " in proc.stdout, proc.stdout


def test_the_wheel_installs_only_welfare_sim(tmp_path: Path) -> None:
    """Built from a clean copy of the sources (no build/ left from an earlier build)."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "outputs", "__pycache__", ".*cache"),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [wheel] = list((tmp_path / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    dist_info = {t for t in top if t.endswith(".dist-info")}
    assert top - dist_info == {"welfare_sim"}, sorted(top)
    assert len(dist_info) == 1
    # the parts are there, under the one name
    for module in (
        "welfare_sim/models/payment_run.py",
        "welfare_sim/sim/cli/compare.py",
        "welfare_sim/calibration/cli.py",
    ):
        assert module in names
    assert not any(n.startswith("welfare_sim/tests/") for n in names)


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_welfare_sim_is_light() -> None:
    assert _loaded_after("import welfare_sim") == []


def test_the_cli_and_its_help_are_light() -> None:
    code = (
        "from welfare_sim.sim.cli import app, load_plugins\n"
        "load_plugins()\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "for name in ('compare', 'sweep', 'report'):\n"
        "    app([name, '--help'], standalone_mode=False)\n"
    )
    assert _loaded_after(code) == []


def test_the_probe_sees_a_heavy_import() -> None:
    """The probe can fail: a module imported before the package shows up in its answer."""
    code = "import matplotlib\nimport welfare_sim"
    assert _loaded_after(code) == ["matplotlib"]
