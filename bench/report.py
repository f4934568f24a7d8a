#!/usr/bin/env python3
"""Turns the rows the benchmark parts wrote (JSON lists, see benchlib.row) into one table:
printed, and written with the date, the commit and the machine to bench/RESULTS.md.

Usage: bench/report.py ROWS.json... [--out bench/RESULTS.md] [--note TEXT]
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import REPO, fmt, machine_description  # noqa: E402


def commit() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        # The results file of the run before does not make the code measured any different.
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)bench/RESULTS.md"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def verdict(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "**missed**")


def render(rows: list[dict], note: str) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    targets = [r for r in rows if r["met"] is not None]
    met = sum(1 for r in targets if r["met"])
    lines = [
        "# Benchmark results",
        "",
        f"Written by `scripts/bench.sh` on {now}, commit {commit()}.",
        f"Machine: {machine_description()}.",
        "",
        f"**{met} of {len(targets)} targets met.** Medians of several rounds; every comparison "
        "(the peers, the sizes) was measured in the same run, so the ratios are what to read on a "
        "noisy machine, more than the absolute figures.",
    ]
    if note:
        lines += ["", note]
    section = None
    for r in rows:
        if r["section"] != section:
            section = r["section"]
            lines += ["", f"## {section}", "", "| measure | value | target | | reference (same run) |",
                      "|---|---:|---|---|---|"]
        value = "n/a" if r["value"] is None else f"{fmt(r['value']).strip()} {r['unit']}"
        lines.append(f"| {r['measure']} | {value} | {r['target']} | {verdict(r['met'])} | {r['reference']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows", nargs="+", help="JSON files written by the parts")
    ap.add_argument("--out", default=str(REPO / "bench" / "RESULTS.md"))
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    rows: list[dict] = []
    for path in args.rows:
        if Path(path).exists():
            rows += json.loads(Path(path).read_text())
        else:
            print(f"report: {path} is missing (its part failed); left out", file=sys.stderr)
    text = render(rows, args.note)
    Path(args.out).write_text(text)
    print(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
