"""Peak resident memory of a whole process tree, sampled from /proc (children such as dbt included)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task = Path(f"/proc/{pid}/task")
    try:
        for t in task.iterdir():
            text = (t / "children").read_text().split()
            kids += [int(c) for c in text]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return kids


def tree_rss(pid: int) -> int:
    """Bytes resident in pid and all its descendants now."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        stack += _children(p)
    return total


@dataclass
class Measured:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    output_tail: str


def run_measured(cmd: list[str], env: dict | None = None, cwd: Path | None = None, interval: float = 0.2) -> Measured:
    """Run a command, sampling its process tree's RSS every `interval` seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss(proc.pid))
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    stop.set()
    sampler.join()
    return Measured(time.perf_counter() - start, peak, proc.returncode, (out or "")[-4000:])
