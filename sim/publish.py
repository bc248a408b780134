"""Writing output safely: atomic files, folders assembled aside and swapped in, and `--out` checks.

Every command that writes goes through here, so the rules hold everywhere:

* A file is written to a temporary name beside it and renamed into place (`atomic_write_bytes`,
  `atomic_write_parquet`, `write_json`): a reader never sees half a file.
* A folder (run, comparison, calibration) is assembled under a hidden staging name beside its
  target and swapped in whole (`building`, `publish_folder`): on Linux with one
  renameat2(RENAME_EXCHANGE), so the target is never missing or half old, half new.
* `--out` names a path that does not exist yet, or a folder welfare-sim wrote itself
  (`check_out`). Anything else (a user's folder, a file, `.`, `..`, the working folder or one
  that holds it, a symbolic link) is refused before any simulation, so nothing a user owns is
  ever replaced.

A folder written by welfare-sim is recognised by its manifest.json: ``"written_by":
"welfare-sim"``, its ``kind`` and the ``files`` it was published with. Folders written before the
marker existed are recognised by their own contents: a run folder by manifest.json with the
scenario digest, seed and months; a comparison folder by comparison.json; a calibration folder
by fit_report.json; in each case only if every entry is a file that kind of folder holds, so a
folder with anything of a user's in it is never taken for one of ours.

Hidden staging folders and temporary files carry their writer's process id and start time in
their names (``.NAME.w<pid>-<start>.<random>.partial``). The next writer into the same parent
removes those whose writer is gone (no such process, or the process id now belongs to another
process), and only those: a run still being written by another process is left alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

WRITER = "welfare-sim"
KINDS = ("run", "comparison", "calibration", "sweep", "remap", "where")

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
DIR_MODE = 0o777 & ~_UMASK
PRIVATE_FILE_MODE, PRIVATE_DIR_MODE = 0o600, 0o700  # a run from a real roster: readable by its owner only
_modes = {"file": FILE_MODE, "dir": DIR_MODE}


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Within the block, every file and folder this module writes is readable by its owner only."""
    before = dict(_modes)
    _modes.update(file=PRIVATE_FILE_MODE, dir=PRIVATE_DIR_MODE)
    try:
        yield
    finally:
        _modes.update(before)

# files a command adds to a folder after it was published (`welfare-sim report`, any language)
_ADDED_LATER = re.compile(r"^report(\.[A-Za-z_-]+)?\.(html|xlsx)$")
# what the writers in this module leave while they work (see _litter_prefix)
_LITTER = re.compile(r"^\.(?P<name>.+)\.w(?P<pid>\d+)-(?P<start>\d+)\.[A-Za-z0-9_]+\.(?P<what>partial|old|tmp)$")

# folders written before the manifest marker existed: the file that identifies each kind and
# every name such a folder can hold
_LEGACY: dict[str, tuple[str, frozenset[str]]] = {
    "run": (
        "manifest.json",
        frozenset(
            {
                *(f"{t}.parquet" for t in ("monthly", "payments", "points", "waits", "subgroups", "ledger", "funnel")),
                "summary.json",
                "scenario.resolved.yaml",
                "manifest.json",
            }
        ),
    ),
    "comparison": (
        "comparison.json",
        frozenset(
            {
                "comparison.json",
                *(f"{t}.parquet" for t in ("table", "runs", "timeseries", "strategies")),
                "compare.png",
                "table.md",
            }
        ),
    ),
    "calibration": (
        "fit_report.json",
        frozenset(
            {"fit_report.md", "fit_report.json", "fit.png", "scenario.calibrated.yaml", "scenario.NOT-ACCEPTED.yaml"}
        ),
    ),
}
_LEGACY_KEYS = {
    "run": ("scenario_sha256", "seed", "months"),
    "comparison": ("base", "scenarios", "seeds", "figures"),
    "calibration": ("scenario", "command", "converged", "accepted"),
}
_WHAT = {kind: f"{kind} folder" for kind in KINDS}


class OutputError(Exception):
    """An output path that must not be written; one line per problem, as ScenarioError."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --------------------------------------------------------------------------- writers and litter


def process_start(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot on Linux), or None if there is no such
    process. With the pid it names one process for good: a reused pid has another start."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        stat = ""
    if stat:
        # the command name (field 2) may hold spaces and parentheses: split after the last ')'
        return int(stat.rsplit(")", 1)[1].split()[19])
    try:
        import psutil

        return int(psutil.Process(pid).create_time() * 1000)
    except Exception:  # no psutil or no such process: treat as gone only if the pid is free
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0


@cache
def _own_start(pid: int) -> int:
    return process_start(pid) or 0


def _litter_prefix(target: Path) -> str:
    """Hidden name prefix for a temporary beside `target`: the writer's pid and start time."""
    pid = os.getpid()
    return f".{target.name}.w{pid}-{_own_start(pid)}."


def writer_alive(pid: int, start: int) -> bool:
    now = process_start(pid)
    return now is not None and (now == start or now == 0)


def remove_stale(parent: Path) -> list[Path]:
    """Remove the staging folders, swapped-out folders and temporary files in `parent` whose
    writer process is gone; return what was removed. Anything else is left alone."""
    removed: list[Path] = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _LITTER.match(entry.name)
        if m is None or writer_alive(int(m["pid"]), int(m["start"])):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    return removed


# --------------------------------------------------------------------------- atomic files


def atomic_write(path: Path, write: Callable[[Path], None], tmp_dir: Path | None = None) -> None:
    """Have `write` fill a temporary file (in `tmp_dir`, default beside `path`; the same file
    system either way), then rename it to `path`: `path` is either the old file or the whole new
    one. The temporary file is removed if `write` fails."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir or path.parent, prefix=_litter_prefix(path), suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _modes["file"])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_synced(data: bytes) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    return write


def atomic_write_bytes(path: Path, data: bytes, tmp_dir: Path | None = None) -> None:
    """Write `data` to `path` atomically, flushed to disk before the rename."""
    atomic_write(path, _write_synced(data), tmp_dir)


def write_new_file(path: Path, data: bytes, check: Callable[[Path], None] | None = None) -> None:
    """Write `data` to `path`, which must not exist: a temporary file beside it is filled, flushed,
    passed to `check` (which may raise to refuse it), then hard-linked to `path`, which fails rather
    than replace a file that appeared meanwhile. Nothing is left behind on failure."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_litter_prefix(path), suffix=".tmp")
    os.close(fd)
    try:
        _write_synced(data)(Path(tmp))
        os.chmod(tmp, FILE_MODE)
        if check is not None:
            check(Path(tmp))
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise OutputError([f"{path}: exists; welfare-sim never replaces a file it did not just write"]) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def atomic_write_parquet(path: Path, frame: pl.DataFrame, tmp_dir: Path | None = None) -> None:
    atomic_write(path, lambda tmp: write_parquet(frame, tmp), tmp_dir)


def write_parquet(frame: pl.DataFrame, path: Path | str) -> None:
    """Write `frame` with the data dictionary in the file: each field's unit and descriptions in its
    Parquet field metadata (and per column in the file's key-value metadata). Refuses a column the
    dictionary does not know, before anything is written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from welfare_sim.sim.columns import arrow_schema  # the data dictionary, into each file

    table = frame.to_arrow()
    schema = arrow_schema(frame, table.schema)
    pq.write_table(pa.Table.from_arrays(table.columns, schema=schema), path, compression="zstd")


def merge_parquet_parts(parts: list[Path], path: Path | str) -> None:
    """Concatenate Parquet files of one schema (the per-month payment parts) into `path`, one part in
    memory at a time, with the data dictionary in the file as `write_parquet` puts it."""
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    from welfare_sim.sim.columns import arrow_schema

    if not parts:
        raise ValueError("no parts to merge")
    first = pl.read_parquet_schema(parts[0])
    schema = arrow_schema(pl.Schema(first), pq.read_schema(parts[0]))
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for part in parts:
            table = pq.read_table(part)
            writer.write_table(pa.Table.from_arrays(table.columns, schema=schema))


def write_json(path: Path, data: Any, tmp_dir: Path | None = None) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(), tmp_dir)


# --------------------------------------------------------------------------- what --out may be


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def folder_kind(folder: Path) -> str | None:
    """The kind of folder welfare-sim wrote at `folder` ('run', 'comparison', ...), or None if it
    is not a folder welfare-sim wrote (or holds anything else besides)."""
    folder = Path(folder)
    try:
        names = {p.name for p in folder.iterdir()}
    except OSError:
        return None
    extra = {n for n in names if _ADDED_LATER.match(n) or _LITTER.match(n)}
    manifest = _read_json(folder / "manifest.json")
    if isinstance(manifest, dict) and manifest.get("written_by") == WRITER:
        kind, files = manifest.get("kind"), manifest.get("files")
        if kind in KINDS and isinstance(files, list) and names - extra <= {*map(str, files), "manifest.json"}:
            return kind
        return None
    if (folder / "sweep.json").is_file():
        return "sweep"
    for kind, (marker, allowed) in _LEGACY.items():
        data = manifest if marker == "manifest.json" else _read_json(folder / marker)
        if isinstance(data, dict) and all(k in data for k in _LEGACY_KEYS[kind]) and names - extra <= allowed:
            return kind
    return None


def report_files(folder: Path) -> list[Path]:
    """The report files (any language) in `folder`."""
    return sorted(p for p in Path(folder).iterdir() if _ADDED_LATER.match(p.name))


def _free_name(out: Path) -> Path:
    for k in range(2, 1000):
        candidate = out.with_name(f"{out.name}-{k}")
        if not candidate.exists():
            return candidate
    return out.with_name(f"{out.name}-new")


def _why_not(out: Path, kind: str) -> str | None:
    if str(out) in ("", ".") or out == Path("."):
        return "is the current folder"
    cwd = Path.cwd().resolve()
    for form in {Path(os.path.abspath(out)), out.resolve()}:
        if form == cwd or form in cwd.parents:
            return "is the current folder or a folder that holds it"
    if ".." in out.parts:
        return "goes through '..'; give the path without '..'"
    if out.is_symlink():
        return "is a symbolic link; give a real folder"
    if out.exists():
        if not out.is_dir():
            return "is a file, not a folder welfare-sim wrote"
        found = folder_kind(out)
        if found is None:
            return "is a folder that welfare-sim did not write (or that holds other files too)"
        if found != kind:
            return f"is a {_WHAT[found]}, not a {_WHAT[kind]}"
        return None
    for ancestor in Path(os.path.abspath(out)).parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"cannot be made: {ancestor} is a file"
            break
    return None


def check_out(out: Path, kind: str, option: str = "--out", suggestion: Path | None = None) -> Path:
    """`out` if a `kind` folder may be written there; OutputError naming the path and how to
    choose another otherwise. Call it before any work, so a refusal costs nothing."""
    assert kind in KINDS, kind
    out = Path(out)
    reason = _why_not(out, kind)
    if reason is None:
        return out
    if suggestion is None or _why_not(Path(suggestion), kind) is not None:
        suggestion = _free_name(out) if out.name and ".." not in out.parts else Path("outputs") / kind
    raise OutputError(
        [
            f"{option} {out}: {reason}. welfare-sim writes only into a path that does not exist yet, "
            f"or replaces a {_WHAT[kind]} it wrote itself; nothing there was changed. "
            f"Choose another {option}, such as {suggestion}"
        ]
    )


# --------------------------------------------------------------------------- folders


def new_staging(out: Path) -> Path:
    """A fresh hidden staging folder beside `out` (its parent made if need be); first removes the
    litter of writers into that parent that are gone."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out.parent)
    return Path(tempfile.mkdtemp(dir=out.parent, prefix=_litter_prefix(out), suffix=".partial"))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@cache
def _renameat2() -> Any:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    return fn


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where the system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def mark(staging: Path, kind: str) -> None:
    """Write the marker that lets a later `--out` recognise the folder: kind and files, at the top
    of manifest.json (kept, with its other keys, if the writer made one)."""
    manifest = staging / "manifest.json"
    old = _read_json(manifest) if manifest.exists() else {}
    files = sorted(p.name for p in staging.iterdir() if p.name != "manifest.json" and not _LITTER.match(p.name))
    body = {k: v for k, v in (old or {}).items() if k not in ("written_by", "kind", "files")}
    write_json(manifest, {"written_by": WRITER, "kind": kind, "files": files, **body})


def publish_folder(staging: Path, out_dir: Path, kind: str = "run") -> None:
    """Put the finished folder `staging` in place as `out_dir`, replacing a `kind` folder
    welfare-sim wrote there as a whole. The check is made again here, as the folder may have
    changed during a long run."""
    staging, out_dir = Path(staging), Path(out_dir)
    check_out(out_dir, kind)
    mark(staging, kind)
    os.chmod(staging, _modes["dir"])
    if _modes["file"] == PRIVATE_FILE_MODE:  # files written by other libraries (the merged payments) too
        for path in staging.rglob("*"):
            os.chmod(path, PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE)
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    if _exchange(staging, out_dir):
        shutil.rmtree(staging, ignore_errors=True)  # now the old folder
        return
    trash = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=_litter_prefix(out_dir), suffix=".old"))
    os.replace(out_dir, trash / "old")
    os.replace(staging, out_dir)
    shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def building(out_dir: Path, kind: str) -> Iterator[Path]:
    """Check `out_dir`, give a staging folder to fill, and publish it when the block ends; on any
    error the staging folder is removed and `out_dir` is as it was."""
    out_dir = Path(out_dir)
    check_out(out_dir, kind)
    staging = new_staging(out_dir)
    try:
        yield staging
        publish_folder(staging, out_dir, kind)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
