"""The model card: a markdown summary of what the model is, what it was trained on and its limits."""

from typing import Any


def _table(rows: list[tuple[str, str]], header: tuple[str, str]) -> list[str]:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| {left} | {right} |" for left, right in rows]
    return lines


def render_card(signature: dict[str, Any], metrics: dict[str, Any], thresholds: dict[str, float]) -> str:
    """Render model_card.md from the signature, the metrics document and the gate thresholds.

    Deterministic: no dates or hostnames, so the card is as reproducible as the model.
    """
    target = signature["target"]
    lines = [
        f"# Model card: {signature['model_name']} {signature['model_version']}",
        "",
        "Predicts the median house value of a California census block group (1990 census), "
        f"in {target['unit']}, from the block group's 8 raw attributes.",
        "",
        "## Identity",
        "",
        *_table(
            [
                ("model version", f"`{signature['model_version']}` (first 12 hex of sha256 of model.skops)"),
                ("data hash", f"`{signature['data_hash']}`"),
                ("estimator", f"scikit-learn `{metrics['estimator']}`, saved with skops"),
                ("training rows", str(metrics["rows"]["train"])),
                ("test rows", str(metrics["rows"]["test"])),
            ],
            ("field", "value"),
        ),
        "",
        "## Inputs",
        "",
        *_table(
            [
                (f"`{item['name']}`", f"{item['dtype']} in [{item['minimum']}, {item['maximum']}]: {item['description']}")
                for item in signature["inputs"]
            ],
            ("column", "type, range, meaning"),
        ),
        "",
        "The model itself sees these columns plus derived features (`data.feature_engineering`):",
        ", ".join(f"`{name}`" for name in signature["model_features"]) + ".",
        "",
        "## Training",
        "",
        f"Seeded random search over {len(metrics['search']['trials'])} hyperparameter sets, each scored on an "
        "inner hold-out of the training set (the test set is never used for selection); the best set is "
        "refitted on the whole training set.",
        "",
        *_table([(f"`{key}`", f"`{value}`") for key, value in sorted(metrics["params"].items())], ("parameter", "value")),
        "",
        "## Metrics",
        "",
        "| split | RMSE | MAE | R² |",
        "| --- | --- | --- | --- |",
        *[
            f"| {split} | {metrics[split]['rmse']:.4f} | {metrics[split]['mae']:.4f} | {metrics[split]['r2']:.4f} |"
            for split in ("train", "test")
        ],
        f"| validation (search hold-out) | {metrics['validation']['rmse']:.4f} | | |",
        "",
        "Quality gate (the build fails below it): "
        + ", ".join(f"{key} = {value}" for key, value in sorted(thresholds.items()))
        + ".",
        "",
        "## Limits",
        "",
        "- Trained on 1990 census block groups: prices are 1990 prices and the data say nothing about later years.",
        f"- The target is capped at {target['maximum']} (the dataset's 500k USD cap); the model cannot predict more.",
        "- Block-group medians, not individual houses; predictions for one house are not meaningful.",
        "- California only: inputs outside the signature's ranges are rejected by the service, not extrapolated.",
        "- The test split is random, not geographic: errors on unseen regions are likely larger.",
        "",
    ]
    return "\n".join(lines)
