"""The allocator tuning of sim/memory.py: applied once per process, and opted out of by env."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

CODE = "from welfare_sim.sim.memory import keep_freed_memory as k; print(k(), k())"


def _run(env_extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k != "WELFARE_SIM_SYSTEM_MALLOC"} | env_extra
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc malloc only"
)
def test_tuned_on_glibc_once():
    assert _run({}) == "True True"


def test_opt_out_leaves_the_allocator_alone():
    assert _run({"WELFARE_SIM_SYSTEM_MALLOC": "1"}) == "False False"
