"""The summary's sentences on ImageNet accuracy against transfer: per scoring method, the
least-squares line of CIFAR-10 top-1 on published ImageNet-1k top-1 and its correlations
(analysis/transfer.py), as results/plots/imagenet_vs_transfer.png draws them."""

import pandas as pd

from cifar_zeroshot.analysis.transfer import TransferFit, one_per_model, transfer_fit


def _fit_sentence(method: str, fit: TransferFit | str, unpublished: int) -> str:
    left_out = f"; {unpublished} without a published figure left out" if unpublished else ""
    if isinstance(fit, str):
        return f"- {method}: {fit}{left_out}."
    sign = "+" if fit.intercept >= 0 else "-"
    return (
        f"- {method}: over {fit.models} models, CIFAR-10 top-1 = {fit.slope:.2f} x ImageNet "
        f"top-1 {sign} {abs(fit.intercept):.1f} (in %), Pearson r = {fit.pearson:.2f}, Spearman "
        f"rho = {fit.spearman:.2f}{left_out}."
    )


def transfer_summary_lines(leaderboard: pd.DataFrame) -> list[str]:
    """The section (Markdown) from results/leaderboard.csv's rows; empty where no model of the
    ranked test set has a published ImageNet top-1 (untrained weights, weights files)."""
    if leaderboard.empty:
        return []
    rows = one_per_model(leaderboard)
    if rows["published_imagenet_top1"].notna().sum() == 0:
        return []
    lines = [
        "## ImageNet accuracy against transfer",
        "",
        "Each model's top-1 here against its weights' published ImageNet-1k top-1 (torchvision's "
        "weights metadata, timm's results table), one row per model and method "
        "(results/plots/imagenet_vs_transfer.png):",
        "",
    ]
    for method, ranking in rows.groupby("method", sort=False):
        published = ranking[ranking["published_imagenet_top1"].notna()]
        fit = transfer_fit(
            100 * published["published_imagenet_top1"].to_numpy(float),
            100 * published["top1"].to_numpy(float),
        )
        lines.append(_fit_sentence(str(method), fit, len(ranking) - len(published)))
    return lines
