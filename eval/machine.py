"""A one-line description of the machine, for every number we publish."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe_machine() -> dict[str, str | int | None]:
    """cores, CPU model, RAM and Python version (Linux /proc; falls back to platform)."""
    model = platform.processor() or platform.machine()
    mem_gb: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except (OSError, ValueError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cores": cores, "cpu": model, "ram_gb": mem_gb, "python": platform.python_version()}


def machine_line() -> str:
    m = describe_machine()
    ram = f"{m['ram_gb']:g} GB RAM" if m["ram_gb"] else "RAM unknown"
    return f"{m['cores']} cores, {m['cpu']}, {ram}, Python {m['python']}"
