"""The selection's tables: test MASE / sMAPE of the dev-selected model beside the baselines
(the README's table, with the pick named), every choice's dev MASE, and the goals' counts."""

from __future__ import annotations

from ...forecasting.evaluate import METHODS, markdown_table


def goals(results: dict) -> dict:
    """How many series the pick beats seasonal naive on, and the better of ETS / ARIMA on
    (test MASE; sMAPE beside it)."""
    rows = [r["scores"] for ds in results.values() for r in ds["test"].values()]

    def beats(metric: str, rivals: tuple[str, ...]) -> int:
        return sum(s["seq2seq"][metric] < min(s[m][metric] for m in rivals) for s in rows)

    return {
        "series": len(rows),
        "beats_seasonal_naive_mase": beats("mase", ("seasonal naive",)),
        "beats_best_of_ets_arima_mase": beats("mase", ("ETS", "ARIMA")),
        "beats_seasonal_naive_smape": beats("smape", ("seasonal naive",)),
        "beats_best_of_ets_arima_smape": beats("smape", ("ETS", "ARIMA")),
    }


def dev_table(results: dict) -> str:
    """Every choice's dev MASE per series; the pick in bold."""
    labels = next(iter(next(iter(results.values()))["test"].values()))["dev"]
    lines = ["| series | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for name, ds in results.items():
        for column, r in ds["test"].items():
            label = column if column == name else f"{name}: {column}"
            cells = [
                f"**{r['dev'][k]['mase']:.3f}**" if k == r["pick"] else f"{r['dev'][k]['mase']:.3f}"
                for k in labels
            ]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def picks(results: dict) -> str:
    lines = ["| series | pick (on dev) | test CRPS | ETS | ARIMA |", "|---|---|---|---|---|"]
    for name, ds in results.items():
        for column, r in ds["test"].items():
            label = column if column == name else f"{name}: {column}"
            m, s = r["models"], r["scores"]
            lines.append(
                f"| {label} | {r['pick']} | {s['seq2seq']['crps']:.3f} | {m.get('ETS', '')} "
                f"| {m.get('ARIMA', '')} |"
            )
    return "\n".join(lines) + "\n"


def tested_with(summary: dict) -> str:
    """Which runs forecast the test: the members as chosen on dev, or their refits."""
    refit = summary["refit"]
    if not refit:
        return (
            "Test forecasts by the picks' members as chosen on dev (trained on the windows "
            "before the first dev origin; no refit).\n\n"
        )
    n = sum(len(runs) for runs in refit["runs"].values())
    return (
        f"Test forecasts by the picks' members refitted on train + dev ({n} runs, each for the "
        f"steps of its dev-fit run's kept checkpoint; {refit['minutes']} min training).\n\n"
    )


def markdown(summary: dict) -> str:
    results, g, mc = summary["results"], summary["goals"], summary["machine"]
    return (
        f"# Forecasting, selected on dev ({mc['when']})\n\n"
        f"Machine: {mc['cpu']} ({mc['cpu_family']}; {', '.join(mc['flags'])}), {mc['cpus']} "
        f"CPUs, {mc['threads']} torch threads, torch {mc['torch']}; "
        f"{summary['minutes']['train']} min training (summed over the runs), "
        f"{summary['minutes']['select_and_test']} min selection and test.\n\n"
        + tested_with(summary)
        + "## Test MASE / sMAPE (best in bold), seq2seq's 80 % / 95 % coverage\n\n"
        + markdown_table(results)
        + f"\nMethods: {', '.join(METHODS)}. seq2seq beats seasonal naive on "
        f"{g['beats_seasonal_naive_mase']} of {g['series']} series and the better of ETS / "
        f"ARIMA on {g['beats_best_of_ets_arima_mase']} (test MASE; by sMAPE "
        f"{g['beats_seasonal_naive_smape']} and {g['beats_best_of_ets_arima_smape']}).\n\n"
        "## The picks\n\n"
        + picks(results)
        + "\n## Dev MASE of every choice (pick in bold)\n\n"
        + dev_table(results)
    )
