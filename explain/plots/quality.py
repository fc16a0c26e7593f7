"""Plots of explanation quality: deletion and insertion curves against random orderings,
the randomisation cascade, and agreement between methods."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explain.errors import InputError
from explain.plots._common import DIVERGING_SCALE, NEUTRAL_COLOR, POSITIVE_COLOR, display_text

if TYPE_CHECKING:  # pragma: no cover
    from explain.results.quality import Agreement, Quality, SanityCheck

__all__ = ["deletion_insertion", "cascade_maps", "cascade_similarity", "agreement_heatmap"]

_METHOD_COLOR = POSITIVE_COLOR
_RANDOM_COLOR = "#636363"
_SSIM_COLOR = "#2166ac"
_MAP_SCALE = "Reds"


def _name(method: str) -> str:
    return display_text(method.replace("_", " "))


def _band(fig: go.Figure, x: np.ndarray, low: np.ndarray, high: np.ndarray, *, name: str, color: str,
          row: int | None = None, col: int | None = None, show: bool = True) -> None:
    where = {"row": row, "col": col} if row else {}
    fig.add_trace(go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, showlegend=False,
                             hoverinfo="skip", legendgroup=name), **where)
    fig.add_trace(go.Scatter(x=x, y=low, mode="lines", line={"width": 0}, fill="tonexty",
                             fillcolor=color, name=name, showlegend=show, hoverinfo="skip",
                             legendgroup=name), **where)


def deletion_insertion(quality: Quality) -> go.Figure:
    """Deletion and insertion curves of the method beside those of random orderings.

    Left: deletion (a faithful method falls fast: lower AUC is better); right:
    insertion (rises fast: higher is better). Each panel shows the method's
    example-mean curve, the mean of the random orderings (dashed), and the range of
    the random orderings as a grey band.

    Args:
        quality: a Quality from :func:`explain.evaluate`.

    Returns:
        A 1x2 subplot figure.

    Example:
        >>> import numpy as np
        >>> from explain.results import Quality
        >>> f = np.linspace(0, 1, 3)
        >>> q = Quality(method="saliency", modality="tabular", fractions=f,
        ...             deletion_curves=np.array([[1, .2, 0]]), insertion_curves=np.array([[0, .8, 1]]),
        ...             random_deletion_curves=np.array([[1, .5, 0]] * 2),
        ...             random_insertion_curves=np.array([[0, .5, 1]] * 2), deletion_auc=0.35,
        ...             insertion_auc=0.65, random_deletion_auc=0.5, random_insertion_auc=0.5,
        ...             target=np.array([0]))
        >>> [t.name for t in deletion_insertion(q).data if t.showlegend is not False]
        ['random orderings (range)', 'random (mean)', 'saliency']
    """
    x = np.asarray(quality.fractions)
    ylabel = "probability of the target" if quality.output == "probability" else "model output (target)"
    fmt = "{:.2f}" if quality.output == "probability" else "{:.3g}"
    titles = (f"deletion: AUC {fmt.format(quality.deletion_auc)} vs "
              f"{fmt.format(quality.random_deletion_auc)} random (lower is better)",
              f"insertion: AUC {fmt.format(quality.insertion_auc)} vs "
              f"{fmt.format(quality.random_insertion_auc)} random (higher is better)")
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles)
    panels = ((1, quality.deletion_curve, quality.random_deletion_curves, "removed"),
              (2, quality.insertion_curve, quality.random_insertion_curves, "inserted"))
    for col, curve, random, verb in panels:
        first = col == 1
        _band(fig, x, random.min(axis=0), random.max(axis=0), name="random orderings (range)",
              color="rgba(99,99,99,0.25)", row=1, col=col, show=first)
        fig.add_trace(go.Scatter(x=x, y=random.mean(axis=0), mode="lines", name="random (mean)",
                                 line={"color": _RANDOM_COLOR, "dash": "dash"}, legendgroup="random",
                                 showlegend=first,
                                 hovertemplate=f"%{{x:.0%}} {verb}<br>random %{{y:.3g}}<extra></extra>"),
                      row=1, col=col)
        fig.add_trace(go.Scatter(x=x, y=curve, mode="lines+markers", name=_name(quality.method),
                                 line={"color": _METHOD_COLOR}, marker={"size": 4},
                                 legendgroup="method", showlegend=first,
                                 hovertemplate=f"%{{x:.0%}} {verb}<br>%{{y:.3g}}<extra></extra>"),
                      row=1, col=col)
        fig.update_xaxes(title_text=f"fraction of {quality.units} {verb}", tickformat=".0%", row=1, col=col)
    fig.update_yaxes(title_text=ylabel, row=1, col=1)
    fig.update_layout(title=f"{_name(quality.method)}: faithfulness on {len(quality)} examples",
                      height=420, legend={"orientation": "h", "y": -0.2})
    return fig


def _step_labels(check: SanityCheck) -> list[str]:
    return ["original"] + [f"+ {display_text(layer)}" for layer in check.layers]


def cascade_maps(check: SanityCheck, index: int = 0, *, columns: int = 6) -> go.Figure:
    """One example's |attribution| as the layers are randomised, output first.

    Images: one panel per step (the original first), each map scaled to its own
    maximum as Adebayo et al. show them, titled with the layer just randomised and the
    example's rank correlation with the original. Tabular and text: one heatmap,
    a row per step and a column per feature or token.

    Args:
        check: a SanityCheck from :func:`explain.sanity_check`.
        index: which of the kept examples (``check.maps.shape[1]``) to show.
        columns: images: panels per row.

    Returns:
        The figure.

    Example:
        >>> import numpy as np
        >>> from explain.results import SanityCheck
        >>> sc = SanityCheck(method="saliency", modality="image", layers=("fc", "conv"),
        ...                  spearman=np.zeros((2, 1)), similarity=np.zeros(2), passed=True,
        ...                  threshold=0.5, maps=np.random.default_rng(0).random((3, 1, 4, 4)),
        ...                  target=np.array([0]))
        >>> len(cascade_maps(sc).data)
        3
    """
    kept = check.maps.shape[1]
    if not isinstance(index, (int, np.integer)) or not 0 <= int(index) < kept:
        raise InputError(f"index must be between 0 and {kept - 1}: the check kept {kept} examples' maps "
                         "(sanity_check(..., keep=...) keeps more).")
    if int(columns) < 1:
        raise InputError(f"columns must be at least 1, got {columns}.")
    maps = np.asarray(check.maps[:, index], dtype=float)
    top = maps.reshape(len(maps), -1).max(axis=1)
    maps = maps / np.where(top > 0, top, 1.0).reshape((-1,) + (1,) * (maps.ndim - 1))
    labels = _step_labels(check)
    rho = [None] + [float(check.spearman[i, index]) for i in range(len(check.layers))]
    title = (f"{_name(check.method)}: |attribution| of example {index} as the weights are "
             "randomised, output layer first")
    if check.modality == "image":
        cols = min(int(columns), len(maps))
        rows = math.ceil(len(maps) / cols)
        names = [lab if r is None else f"{lab} (ρ {r:.2f})" for lab, r in zip(labels, rho)]
        fig = make_subplots(rows=rows, cols=cols, subplot_titles=names,
                            horizontal_spacing=0.02, vertical_spacing=0.12 / rows)
        for i, m in enumerate(maps):
            fig.add_trace(go.Heatmap(z=m, colorscale=_MAP_SCALE, zmin=0, zmax=1, showscale=i == 0,
                                     colorbar={"title": {"text": "|attr| / max"}} if i == 0 else None,
                                     hovertemplate="row %{y}, col %{x}<br>%{z:.3f}<extra></extra>"),
                          row=i // cols + 1, col=i % cols + 1)
        fig.update_yaxes(autorange="reversed", showticklabels=False)
        fig.update_xaxes(showticklabels=False)
        for i in range(len(maps)):
            axis = "" if i == 0 else str(i + 1)
            fig.update_yaxes(scaleanchor=f"x{axis}", row=i // cols + 1, col=i % cols + 1)
        fig.update_layout(title=title, height=220 * rows + 120)
        for annotation in fig.layout.annotations:
            annotation.font = {"size": 10}
        return fig
    if check.modality == "text" and check.tokens is not None:
        width = len(check.tokens[index])
        x = [display_text(t) for t in check.tokens[index]]
        maps = maps[:, :width]
    else:
        names = check.feature_names
        x = [display_text(n) for n in names] if names and len(names) == maps.shape[1] else \
            [f"x{j}" for j in range(maps.shape[1])]
    y = [lab if r is None else f"{lab} (ρ {r:.2f})" for lab, r in zip(labels, rho)]
    fig = go.Figure(go.Heatmap(z=maps, x=list(range(len(x))), y=y, colorscale=_MAP_SCALE, zmin=0, zmax=1,
                               colorbar={"title": {"text": "|attr| / max"}}, customdata=[x] * len(y),
                               hovertemplate="%{customdata}<br>%{y}<br>%{z:.3f}<extra></extra>"))
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(x))), ticktext=x, tickangle=-45)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, height=max(300, 28 * len(y) + 160))
    return fig


def cascade_similarity(check: SanityCheck) -> go.Figure:
    """Similarity to the original attribution after each randomised layer.

    The mean Spearman rank correlation (and, for images, SSIM) over examples, with the
    middle half of the examples as a band, and the pass threshold as a dashed line:
    a method that depends on the weights falls below it.

    Args:
        check: a SanityCheck from :func:`explain.sanity_check`.

    Returns:
        The figure.

    Example:
        >>> import numpy as np
        >>> from explain.results import SanityCheck
        >>> sc = SanityCheck(method="saliency", modality="tabular", layers=("fc", "hidden"),
        ...                  spearman=np.array([[0.6, 0.4], [0.2, 0.0]]),
        ...                  similarity=np.array([0.5, 0.1]), passed=True, threshold=0.5,
        ...                  maps=np.zeros((3, 2, 4)), target=np.array([0, 1]))
        >>> [t.name for t in cascade_similarity(sc).data if t.showlegend is not False]
        ['Spearman (middle half)', 'Spearman (mean)']
    """
    labels = _step_labels(check)
    series = [("Spearman", np.asarray(check.spearman, dtype=float), _METHOD_COLOR, "rgba(178,24,43,0.18)")]
    if check.ssim is not None:
        series.append(("SSIM", np.asarray(check.ssim, dtype=float), _SSIM_COLOR, "rgba(33,102,172,0.18)"))
    fig = go.Figure()
    for name, values, color, fill in series:
        ones = np.ones((1, values.shape[1]))
        full = np.vstack([ones, values])
        low, high = np.percentile(full, 25, axis=1), np.percentile(full, 75, axis=1)
        _band(fig, labels, low, high, name=f"{name} (middle half)", color=fill)
        fig.add_trace(go.Scatter(x=labels, y=full.mean(axis=1), mode="lines+markers", name=f"{name} (mean)",
                                 line={"color": color},
                                 hovertemplate="%{x}<br>" + name + " %{y:.3f}<extra></extra>"))
    fig.add_hline(y=check.threshold, line={"dash": "dash", "color": NEUTRAL_COLOR},
                  annotation_text=f"pass below {check.threshold:.2f} (Spearman, last step)",
                  annotation_position="bottom left")
    verdict = "passes" if check.passed else "fails"
    fig.update_layout(
        title=f"{_name(check.method)} {verdict} the randomisation check "
              f"(Spearman {check.final_similarity:.2f} after the last layer)",
        xaxis={"title": "randomised so far (cascading from the output)", "type": "category"},
        yaxis_title="similarity to the original",
        yaxis={"range": [min(-0.2, float(np.min(check.spearman)) - 0.05), 1.05]},
        height=420 + (min(260, 5 * max(len(x) for x in labels)) if len(labels) > 6 else 0),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
    )
    return fig


_AGREEMENT_METRICS = {
    "rank_correlation": ("rank correlation of |attribution|", -1.0, DIVERGING_SCALE),
    "top_k_overlap": ("share of the top-{k} units in common", 0.0, "Blues"),
    "sign_agreement": ("share of the top-{k} units in common with the same sign", 0.0, "Blues"),
}


def agreement_heatmap(agreement: Agreement, metric: str = "rank_correlation") -> go.Figure:
    """A methods-by-methods heatmap of how much attribution methods agree.

    Args:
        agreement: an Agreement from :func:`explain.agreement`.
        metric: ``"rank_correlation"`` (-1..1, diverging colours), ``"top_k_overlap"``
            or ``"sign_agreement"`` (0..1).

    Returns:
        A figure with one annotated Heatmap.

    Example:
        >>> import numpy as np
        >>> from explain.results import Agreement
        >>> ag = Agreement(methods=("a", "b"), rank_correlation=np.array([[1, .3], [.3, 1]]),
        ...                top_k_overlap=np.eye(2), sign_agreement=np.eye(2), k=2, n_examples=5,
        ...                modality="tabular")
        >>> agreement_heatmap(ag).data[0].type
        'heatmap'
    """
    if metric not in _AGREEMENT_METRICS:
        raise InputError(f"metric must be one of {list(_AGREEMENT_METRICS)}, got {metric!r}.")
    label, low, scale = _AGREEMENT_METRICS[metric]
    label = label.format(k=agreement.k)
    z = np.asarray(getattr(agreement, metric), dtype=float)
    names = [_name(m) for m in agreement.methods]
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=names, zmin=low, zmax=1.0, colorscale=scale,
        zmid=0.0 if low < 0 else None, texttemplate="%{z:.2f}",
        colorbar={"title": {"text": metric.replace("_", " ")}},
        hovertemplate="%{y} vs %{x}<br>" + label + " %{z:.3f}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=f"Agreement between methods: {label} ({agreement.n_examples} examples)",
                      height=max(320, 60 * len(names) + 200))
    return fig
