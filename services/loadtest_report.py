"""The load benchmark's targets, its summary of the raw results, and the printed tables."""

from statistics import median

# (what, target) printed with the measured value; the check is done on the printed numbers.
TARGETS = {
    "predict_p50_1conn_ms": 2.0,
    "predict_rps_50conn": 1500.0,
    "predict_ratio_to_baseline_50conn": 0.5,
    "predict_batch_rows_per_s": 100_000.0,
    "predict_open_p99_ms": 50.0,
    "api_open_p99_ms": 50.0,
    "api_cpu_ms_per_request": 1.0,
    "api_ratio_to_predict_50conn": 0.8,
    "readyz_seconds": 3.0,
}


def top_rounds(report: dict) -> dict[str, list[dict]]:
    """Each server's one-record closed-loop runs at the most connections, in the order they ran."""
    top = max(r["connections"] for r in report["closed"] if r["rows_per_request"] == 1)
    rounds: dict[str, list[dict]] = {}
    for r in report["closed"]:
        if r["rows_per_request"] == 1 and r["connections"] == top:
            rounds.setdefault(r["server"], []).append(r)
    return rounds


def summarize(report: dict) -> dict:
    """The numbers the targets are about, from the raw results.

    At the most connections each server ran in interleaved rounds: each ratio is the median of
    the rounds' ratios (a round's servers ran a minute apart at most, on the same machine state).
    """
    closed = {(r["server"], r["connections"], r["rows_per_request"]): r for r in report["closed"]}
    opened = {r["server"]: r for r in report["open"]}
    rounds = top_rounds(report)
    rps = {name: [r["requests_per_s"] for r in runs] for name, runs in rounds.items()}
    summary = {
        "predict_p50_1conn_ms": closed.get(("predict", 1, 1), {}).get("p50_ms"),
        "predict_rps_50conn": median(rps["predict"]),
        "predict_ratio_to_baseline_50conn": round(
            median([p / b for p, b in zip(rps["predict"], rps["baseline"], strict=True)]), 3
        ),
        "api_ratio_to_predict_50conn": round(
            median([a / p for a, p in zip(rps["api"], rps["predict"], strict=True)]), 3
        ),
        # The api's own CPU per forwarded request, from the closed-loop runs at the most connections.
        "api_cpu_ms_per_request": median([r["cpu_ms_per_request"].get("api", 0.0) for r in rounds["api"]]),
        "predict_batch_rows_per_s": next(r["rows_per_s"] for r in report["closed"] if r["rows_per_request"] > 1),
        "predict_open_p99_ms": opened["predict"]["p99_ms"],
        "api_open_p99_ms": opened["api"]["p99_ms"],
        "readyz_seconds": max(report["readyz_seconds"][name] for name in ("predict", "api")),
    }
    return summary


def print_report(report: dict) -> None:
    """Human-readable tables and the targets."""
    print(
        f"{'closed loop (wrk)':<20}{'conns':>6}{'rows':>6}{'req/s':>10}{'rows/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}  cpu ms/request per process"
    )
    for r in report["closed"]:
        errors = r["non_2xx"] + r["socket_errors"]
        cpu = ", ".join(f"{k} {v}" for k, v in r["cpu_ms_per_request"].items())
        print(
            f"{r['server']:<20}{r['connections']:>6}{r['rows_per_request']:>6}{r['requests_per_s']:>10}"
            f"{r['rows_per_s']:>11}{r['p50_ms']:>9}{r['p99_ms']:>9}{errors:>8}  {cpu}"
        )
    print(
        f"\n{'open loop':<20}{'rate':>8}{'sent':>8}{'answered':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'dropped':>9}{'errors':>8}  cpu ms/request per process"
    )
    for r in report["open"]:
        cpu = ", ".join(f"{k} {v}" for k, v in r["cpu_ms_per_request"].items())
        print(
            f"{r['server']:<20}{r['rate']:>8g}{r['sent']:>8}{r['answered']:>10}{r['p50_ms']:>9}{r['p99_ms']:>9}"
            f"{r['max_ms']:>9}{r['dropped']:>9}{r['non_2xx'] + r['socket']:>8}  {cpu}"
        )
    print("\nstart-up to /readyz 200: " + ", ".join(f"{k} {v} s" for k, v in report["readyz_seconds"].items()))
    rounds = top_rounds(report)
    if len(rounds["api"]) > 1:
        print(
            f"\nat {rounds['api'][0]['connections']} connections, {len(rounds['api'])} interleaved rounds (medians below): "
            + "; ".join(
                f"{name} " + ", ".join(f"{r['requests_per_s']:g}" for r in runs) + " req/s"
                for name, runs in rounds.items()
            )
        )
    print("\ntargets (issue 12)                     measured     target")
    for key, target in TARGETS.items():
        value = report["summary"][key]
        lower_is_better = key.endswith(("_ms", "_seconds", "_per_request"))
        met = value is not None and (value <= target if lower_is_better else value >= target)
        print(
            f"  {key:<36}{value!s:>10}  {'<=' if lower_is_better else '>='} {target:<10g} {'met' if met else 'MISSED'}"
        )
    print(
        f"\ncpus: {report['cpus']}; load average after: {', '.join(f'{x:.2f}' for x in report['load_average_after'])} "
        "(the machine is shared: compare ratios against the baseline measured in this run)"
    )
