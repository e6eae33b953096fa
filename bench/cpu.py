"""CPU time of the processes a benchmark starts, read from /proc (Linux only).

A throughput figure on a shared 2-core machine says little on its own; the CPU each part
spent per event says where the time went and what another core would buy.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its closing parenthesis splits cleanly.
    return raw[raw.rindex(")") + 2:].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (forked workers included)."""
    tree, total, todo = _children(), 0.0, [pid]
    while todo:
        current = todo.pop()
        if fields := _stat(current):
            # utime, stime, and cutime, cstime: the children it has reaped (a recycled worker's time)
            total += sum(int(f) for f in fields[11:15]) / TICKS
        todo.extend(tree.get(current, []))
    return total


def named_cpu_seconds(name: str, containing: str = "") -> float:
    """CPU seconds of every process whose command is `name` (e.g. all of PostgreSQL's backends)
    and whose command line holds `containing` (e.g. the database name a backend serves: on a
    machine shared with other work, only the bench's own)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            if comm == name and containing and containing not in (entry / "cmdline").read_text(errors="replace"):
                continue
        except OSError:
            continue
        if comm == name and (fields := _stat(int(entry.name))):
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


class CpuMeter:
    """Snapshots of named parts' CPU seconds; `since(start)` gives what each spent in between."""

    def __init__(self, pids: dict[str, int], *, by_name: dict[str, str | tuple[str, str]] | None = None) -> None:
        """`by_name`: label -> command name, or (command name, text its command line holds)."""
        self.pids = pids
        self.by_name = {label: (name, "") if isinstance(name, str) else name for label, name in (by_name or {}).items()}

    def snapshot(self) -> dict[str, float]:
        shot = {label: tree_cpu_seconds(pid) for label, pid in self.pids.items()}
        shot.update({label: named_cpu_seconds(*name) for label, name in self.by_name.items()})
        shot["bench"] = sum(os.times()[:2])
        return shot

    def since(self, start: dict[str, float]) -> dict[str, float]:
        now = self.snapshot()
        return {label: now[label] - start.get(label, 0.0) for label in now}
