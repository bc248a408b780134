"""Nothing a user owns is lost, nothing is left running: `--out` writes only into a new path or a
folder welfare-sim wrote; killed runs' staging folders are cleared by the next writer (only if
their writer is gone); pool workers and the resource tracker die with a SIGKILLed parent."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml
from factory import small

from welfare_sim.sim import publish
from welfare_sim.sim.publish import OutputError, check_out, folder_kind, remove_stale

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "welfare_sim", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def scenario(tmp_path: Path, name: str = "s.yaml", months: int = 2, **changes: object) -> Path:
    data = small(**changes)
    data["months"] = months
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def user_folder(path: Path) -> dict[str, bytes]:
    """A folder of a user's own files; returns their contents, to check they are untouched."""
    (path / "sub").mkdir(parents=True)
    (path / "important.txt").write_bytes(b"do not lose me\n")
    (path / "sub" / "notes.md").write_bytes(b"# notes\n")
    return snapshot(path)


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def refused(proc: subprocess.CompletedProcess, path: object) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    text = " ".join(proc.stderr.split())
    assert f"--out {path}" in text and "Choose another --out" in text, proc.stderr


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- what --out may be


def test_run_refuses_a_users_folder_and_a_file_before_simulating(tmp_path: Path) -> None:
    sc = scenario(tmp_path)
    before = user_folder(tmp_path / "mine")
    t0 = time.perf_counter()
    proc = cli("run", str(sc), "--out", str(tmp_path / "mine"))
    refused(proc, tmp_path / "mine")
    assert "did not write" in proc.stderr
    assert snapshot(tmp_path / "mine") == before
    (tmp_path / "file.txt").write_bytes(b"a file\n")
    proc = cli("run", str(sc), "--out", str(tmp_path / "file.txt"))
    refused(proc, tmp_path / "file.txt")
    assert (tmp_path / "file.txt").read_bytes() == b"a file\n"
    assert hidden(tmp_path) == []  # no staging folder: refused before anything was built
    assert time.perf_counter() - t0 < 60


@pytest.mark.parametrize("out", [".", "..", "a/../b", "sub/.."])
def test_dot_paths_are_refused_without_litter(tmp_path: Path, out: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    sc = scenario(tmp_path)
    proc = cli("run", str(sc), "--out", out, cwd=work)
    refused(proc, out)
    assert sorted(p.name for p in work.iterdir()) == []  # no a/, no sub/
    assert hidden(tmp_path) == []  # no .old, no .partial beside the working folder


def test_the_working_folder_and_its_ancestors_are_refused(tmp_path: Path) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    sc = scenario(tmp_path)
    for out in (str(work), str(tmp_path / "a"), "/"):
        refused(cli("run", str(sc), "--out", out, cwd=work), out)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    sc = scenario(tmp_path)
    assert cli("run", str(sc), "--out", str(tmp_path / "real")).returncode == 0
    (tmp_path / "link").symlink_to(tmp_path / "real")
    proc = cli("run", str(sc), "--out", str(tmp_path / "link"))
    refused(proc, tmp_path / "link")
    assert "symbolic link" in proc.stderr


def test_a_run_folder_is_replaced_whole_and_a_touched_one_is_not(tmp_path: Path) -> None:
    sc = scenario(tmp_path)
    out = tmp_path / "run"
    assert cli("run", str(sc), "--out", str(out), "--payments").returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["written_by"] == "welfare-sim" and manifest["kind"] == "run"
    assert "payments.parquet" in manifest["files"] and "manifest.json" not in manifest["files"]
    inode = out.stat().st_ino
    proc = cli("run", str(sc), "--out", str(out), "--no-payments")
    assert proc.returncode == 0, proc.stderr
    assert not (out / "payments.parquet").exists()  # replaced as a whole, not file by file
    assert out.stat().st_ino != inode
    assert hidden(tmp_path) == []
    (out / "my-notes.txt").write_text("mine")
    refused(cli("run", str(sc), "--out", str(out)), out)
    assert (out / "my-notes.txt").read_text() == "mine"


def test_a_run_folder_from_before_the_marker_is_replaced(tmp_path: Path) -> None:
    """Older run folders have no marker: recognised by manifest.json (digest, seed, months) and by
    holding nothing but run-folder files."""
    sc = scenario(tmp_path)
    out = tmp_path / "old"
    assert cli("run", str(sc), "--out", str(out)).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("written_by", "kind", "files"):
        del manifest[key]
    (out / "manifest.json").write_text(json.dumps(manifest))
    # folders from before the marker had no places or communes table either
    (out / "places.parquet").unlink()
    (out / "communes.parquet").unlink()
    assert folder_kind(out) == "run"
    assert cli("run", str(sc), "--out", str(out)).returncode == 0
    assert json.loads((out / "manifest.json").read_text())["written_by"] == "welfare-sim"
    # the same old folder with a user's file in it is not ours to replace
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "places.parquet").unlink()
    (out / "communes.parquet").unlink()
    (out / "extra.csv").write_text("x")
    assert folder_kind(out) is None
    refused(cli("run", str(sc), "--out", str(out)), out)


def test_a_folder_of_another_kind_is_refused(tmp_path: Path) -> None:
    sc = scenario(tmp_path)
    assert cli("run", str(sc), "--out", str(tmp_path / "run")).returncode == 0
    proc = cli("compare", str(sc), str(sc), "--seeds", "1", "--out", str(tmp_path / "run"))
    refused(proc, tmp_path / "run")
    assert "is a run folder, not a comparison folder" in proc.stderr


def test_compare_refuses_a_users_folder_and_replaces_its_own(tmp_path: Path) -> None:
    sc = scenario(tmp_path)
    before = user_folder(tmp_path / "mine")
    refused(cli("compare", str(sc), str(sc), "--seeds", "1", "--out", str(tmp_path / "mine")), tmp_path / "mine")
    assert snapshot(tmp_path / "mine") == before
    out = tmp_path / "cmp"
    for _ in range(2):
        proc = cli("compare", str(sc), str(sc), "--seeds", "1", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    assert folder_kind(out) == "comparison"
    assert hidden(tmp_path) == []


def test_report_adds_only_its_own_files_and_the_folder_stays_replaceable(tmp_path: Path) -> None:
    sc = scenario(tmp_path)
    out = tmp_path / "run"
    assert cli("run", str(sc), "--out", str(out)).returncode == 0
    before = snapshot(out)
    proc = cli("report", str(out))
    assert proc.returncode == 0, proc.stderr
    after = snapshot(out)
    added = sorted(set(after) - set(before))
    assert added and all(name.startswith("report") for name in added), added
    assert {k: after[k] for k in before} == before
    assert cli("run", str(sc), "--out", str(out)).returncode == 0


def test_report_keeps_a_users_report_in_a_folder_welfare_sim_did_not_write(tmp_path: Path) -> None:
    sc = scenario(tmp_path)
    out = tmp_path / "run"
    assert cli("run", str(sc), "--out", str(out)).returncode == 0
    (out / "notes.txt").write_text("mine")
    (out / "report.html").write_text("my own report")
    proc = cli("report", str(out))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "report.html" in proc.stderr
    assert (out / "report.html").read_text() == "my own report"
    (out / "notes.txt").unlink()  # the folder is as welfare-sim wrote it again: its report is replaced
    assert cli("report", str(out)).returncode == 0
    assert (out / "report.html").read_text() != "my own report"


def test_schema_does_not_overwrite_a_users_file(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"mine": true}')
    proc = cli("schema", "--out", str(tmp_path / "notes.json"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (tmp_path / "notes.json").read_text() == '{"mine": true}'
    for _ in range(2):  # its own earlier output is replaced
        assert cli("schema", "--out", str(tmp_path / "schema.json")).returncode == 0


def test_calibrate_refuses_a_users_folder_before_fitting(tmp_path: Path) -> None:
    before = user_folder(tmp_path / "mine")
    proc = cli(
        "calibrate",
        str(ROOT / "scenarios" / "hoa_binh.yaml"),
        "--targets",
        str(ROOT / "calibration" / "targets" / "hoa_binh.yaml"),
        "--out",
        str(tmp_path / "mine"),
    )
    refused(proc, tmp_path / "mine")
    assert snapshot(tmp_path / "mine") == before


def test_sweep_refuses_a_users_folder(tmp_path: Path) -> None:
    sc = scenario(tmp_path)
    spec = {"base": sc.name, "parameters": {"grid": {"assumptions.opening.success_prob": [0.5, 0.6]}}, "seeds": 1}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    before = user_folder(tmp_path / "mine")
    proc = cli("sweep", str(tmp_path / "sweep.yaml"), "--workers", "1", "--out", str(tmp_path / "mine"))
    assert proc.returncode == 2 and "did not write" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(tmp_path / "mine") == before


def test_check_out_names_the_path_and_a_free_alternative(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("1")
    with pytest.raises(OutputError) as info:
        check_out(tmp_path / "x", "run")
    [line] = info.value.problems
    assert str(tmp_path / "x") in line and str(tmp_path / "x-2") in line
    assert check_out(tmp_path / "new", "run") == tmp_path / "new"


# --------------------------------------------------------------------------- litter


def test_litter_of_a_dead_writer_is_removed_and_a_live_ones_is_kept(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = publish.process_start(sleeper.pid)
        live = tmp_path / f".out.w{sleeper.pid}-{start}.abc123.partial"
        reused = tmp_path / f".out.w{sleeper.pid}-{start + 1}.abc123.partial"  # same pid, another process
        live.mkdir()
        reused.mkdir()
        legacy = tmp_path / ".out.k3j4h5_x.partial"  # no writer recorded: cannot tell, so kept
        legacy.mkdir()
        users = tmp_path / ".out.w1-1.mine"  # not our pattern
        users.mkdir()
        assert remove_stale(tmp_path) == [reused]
        sleeper.kill()
        sleeper.wait()
        dead = tmp_path / f".out.w{sleeper.pid}-{start}.zz9.tmp"  # the pid is free now
        dead.write_text("half")
        removed = remove_stale(tmp_path)
    finally:
        sleeper.kill()
    assert sorted(removed) == sorted([live, dead])
    assert legacy.exists() and users.exists()


def test_a_live_writers_staging_folder_is_kept(tmp_path: Path) -> None:
    staging = publish.new_staging(tmp_path / "out")  # this process: alive
    assert remove_stale(tmp_path) == [] and staging.exists()


def test_the_next_run_clears_the_staging_folder_of_a_killed_run(tmp_path: Path) -> None:
    sc = scenario(tmp_path, months=24)
    proc = subprocess.Popen(
        [sys.executable, "-m", "welfare_sim", "run", str(sc), "--out", str(tmp_path / "a")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".partial") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, "the run never started its folder"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [partial] = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert partial.name.startswith(f".a.w{proc.pid}-")
    other = publish.new_staging(tmp_path / "c")  # a writer still at work in the same parent
    assert cli("run", str(scenario(tmp_path, "short.yaml")), "--out", str(tmp_path / "b")).returncode == 0
    assert not partial.exists()
    assert other.exists()
    assert not (tmp_path / "a").exists()


# --------------------------------------------------------------------------- children die with the parent


def _kill_when_workers_run(args: list[str], cwd: Path, want: int, timeout: float = 300) -> list[psutil.Process]:
    """Start `welfare-sim ARGS`, wait until it has `want` worker processes, SIGKILL it, and return
    every process that descended from it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "welfare_sim", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    parent = psutil.Process(proc.pid)
    seen: dict[int, psutil.Process] = {}
    deadline = time.monotonic() + timeout
    try:
        while True:
            assert proc.poll() is None, "the command ended before its workers started"
            assert time.monotonic() < deadline, "no workers started"
            for child in parent.children(recursive=True):
                seen.setdefault(child.pid, child)
            workers = [p for p in seen.values() if "multiprocessing.spawn" in " ".join(_cmdline(p))]
            if len(workers) >= want:
                time.sleep(1.0)  # let them pick up work
                for child in parent.children(recursive=True):
                    seen.setdefault(child.pid, child)
                break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return list(seen.values())


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _survivors(processes: list[psutil.Process], within_s: float = 10.0) -> list[str]:
    """The processes still alive `within_s` seconds after the kill (a loaded machine may take a few
    seconds to let an orphaned worker notice and exit; one that never does is listed)."""
    deadline = time.monotonic() + within_s
    while True:
        alive = []
        for p in processes:
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{p.pid}: {' '.join(_cmdline(p))[:120]}")
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.25)


def test_a_killed_sweep_leaves_no_process(tmp_path: Path) -> None:
    sc = scenario(tmp_path, months=24)
    spec = {
        "base": sc.name,
        "parameters": {"grid": {"assumptions.opening.success_prob": [0.5, 0.6, 0.7, 0.8]}},
        "seeds": 2,
    }
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    args = ["sweep", str(tmp_path / "sweep.yaml"), "--workers", "2", "--out", str(tmp_path / "out")]
    processes = _kill_when_workers_run(args, ROOT, want=2)
    assert any("resource_tracker" in " ".join(_cmdline(p)) for p in processes)  # the tracker too
    assert _survivors(processes) == []


def test_a_killed_compare_leaves_no_process(tmp_path: Path) -> None:
    sc = scenario(tmp_path, months=24)
    args = ["compare", str(sc), str(sc), "--seeds", "4", "--workers", "2", "--out", str(tmp_path / "c")]
    processes = _kill_when_workers_run(args, ROOT, want=2)
    assert _survivors(processes) == []


def test_a_killed_calibrate_leaves_no_process(tmp_path: Path) -> None:
    args = [
        "calibrate",
        str(ROOT / "scenarios" / "hoa_binh.yaml"),
        "--targets",
        str(ROOT / "calibration" / "targets" / "hoa_binh.yaml"),
        "--workers",
        "2",
        "--budget",
        "8",
        "--no-loo",
        "--sample-fraction",
        "0.02",
        "--out",
        str(tmp_path / "cal"),
    ]
    processes = _kill_when_workers_run(args, ROOT, want=2)
    assert _survivors(processes) == []
    assert not (tmp_path / "cal").exists()


def test_a_worker_whose_parent_is_gone_exits(tmp_path: Path) -> None:
    """The watchdog alone (no death signal): a worker started for a parent that is not its own
    ends at once."""
    code = "from welfare_sim.sim.pool import die_with_parent; die_with_parent(1); import time; time.sleep(30)"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    assert proc.returncode == 1 and time.perf_counter() - t0 < 20
