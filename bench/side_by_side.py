"""Prints the side-by-side table of bench/RESULTS.md from bench/results/*.jsonl: Launchpad
on SQLite and PostgreSQL and the predecessor's reproduction, for the list and create
requests at each connection count the predecessor ran, with the ratios the goals use."""

import json
import sys
from pathlib import Path

results = Path(sys.argv[1])


def runs(name):
    path = results / f"{name}.jsonl"
    if not path.exists():
        return {}
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["label"].removeprefix("predecessor "), r["concurrency"]): r for r in lines}


ours = {"SQLite": runs("sqlite"), "PostgreSQL": runs("postgres")}
theirs = runs("predecessor")
if not theirs:
    print("The predecessor did not run (it runs with the PostgreSQL backend).")
    sys.exit(0)


def cell(value, digits=0):
    # 0 CPU means the processes that did the work exited during the run (a pool that
    # closed its overflow connections took their time with them): not measured.
    return "–" if not value else f"{value:,.{digits}f}"


print("| request | conns | server | req/s | p99 ms | server CPU µs/req | DB CPU µs/req | RSS peak MB | req/s × | p99 ÷ | CPU ÷ |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for (label, conns), p in sorted(theirs.items()):
    rows = [("predecessor (Python)", p)] + [
        (f"Launchpad, {backend}", r[(label, conns)])
        for backend, r in ours.items()
        if (label, conns) in r
    ]
    for name, r in rows:
        cpu = r.get("server_cpu_us_per_req")
        ratios = ["", "", ""]
        if r is not p:
            ratios = [
                cell(r["rps"] / p["rps"], 1) + "×",
                cell(p["p99_ms"] / r["p99_ms"], 1),
                cell(p["server_cpu_us_per_req"] / cpu, 1) if cpu and p.get("server_cpu_us_per_req") else "–",
            ]
        print(
            f"| {label} | {conns} | {name} | {cell(r['rps'])} | {cell(r['p99_ms'], 1)} | {cell(cpu)} "
            f"| {cell(r.get('db_cpu_us_per_req'))} | {cell(r.get('server_rss_peak_mb'), 1)} | "
            + " | ".join(ratios) + " |"
        )
print()
print("req/s ×: Launchpad's rate over the predecessor's; p99 ÷ and CPU ÷: the predecessor's")
print("p99 and server CPU per request over Launchpad's (higher is better for Launchpad).")
