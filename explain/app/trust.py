"""How far an explanation can be trusted, shown next to it: the quality badge of the
Saliency and SHAP pages, and the work of the Explanation quality page."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import streamlit as st

import explain
from explain import plots
from explain.app import compute, page, tasks
from explain.app.cache import cached
from explain.app.charts import Chart
from explain.app.sections import result_frame
from explain.results import Agreement, Attribution, Quality, SanityCheck

__all__ = ["badge", "evaluate", "sanity", "method_quality", "agreement", "agreement_chart", "charts",
           "show_verdict", "COLORS"]

COLORS = {"good": "green", "warn": "orange", "bad": "red"}
_ICONS = {"good": ":material/verified:", "warn": ":material/warning:", "bad": ":material/error:"}


def _digest(attr: Attribution) -> str:
    return hashlib.sha256(attr.values.tobytes()).hexdigest()[:16]


def evaluate(attr: Attribution, rows: Sequence[int], *, compute_now: bool = True) -> Quality | None:
    """Deletion and insertion against random orderings for ``attr`` (computed on ``rows``),
    cached with the attribution's own digest; infidelity and sensitivity are left to the
    Explanation quality page (they re-run the method)."""

    return cached("quality.badge", rows, f"checking {attr.method} against random orderings…",
                          tasks.quick_quality, compute=compute_now, args={"attribution": attr},
                          key={"method": attr.method, "values": _digest(attr)})


def badge(attr: Attribution, rows: Sequence[int], key: str) -> None:
    """A coloured badge with the verdict on ``attr`` (faithful / partly / not), the full
    sentence on hover and below."""
    quality = evaluate(attr, rows)
    if quality is None:
        return
    ok, verdict = page.guarded(explain.verdict, quality)
    ok_short, short = page.guarded(explain.verdict, quality, short=True)
    if not (ok and ok_short):
        return
    text, level = verdict
    where = f"{len(rows)} rows" if len(rows) > 1 else f"row {rows[0]}"
    st.badge(f"Quality: {short[0]}", icon=_ICONS[level], color=COLORS[level],
             help=f"{text} (deletion and insertion on {where}; the Explanation quality page adds the "
                  "randomisation check)")
    st.caption(text)


def show_verdict(quality: Quality, check: SanityCheck | None) -> None:
    """The Explanation quality page's verdict on one method: a badge and the sentence, then
    infidelity and max-sensitivity where they were measured."""
    ok, verdict = page.guarded(explain.verdict, *([quality] + ([check] if check is not None else [])))
    if ok:
        text, level = verdict
        st.badge(level.upper() if level != "good" else "trustworthy", color=COLORS[level])
        st.text(text)  # plain text: no markdown in what the verdict quotes
    extra = []
    if quality.infidelity is not None:
        extra.append(f"infidelity {quality.infidelity:.3g}")
    if quality.sensitivity is not None:
        extra.append(f"max-sensitivity {quality.sensitivity:.3g}")
    if extra:
        st.caption(", ".join(extra) + " (lower is better; means over the rows).")


def sanity(method: str, rows: Sequence[int], *, compute_now: bool) -> SanityCheck | None:
    """The cascading randomisation check of ``method`` on ``rows``."""

    return cached("quality.sanity", rows, f"{method}: randomising the layers one by one…", tasks.sanity,
                          compute=compute_now, method=method)


def method_quality(method: str, rows: Sequence[int], *, compute_now: bool) -> tuple[Attribution, Quality] | None:
    """``method``'s attributions of ``rows`` and their full evaluation (with infidelity and
    max-sensitivity)."""
    attr = compute.attribution(method, list(rows), compute=compute_now)
    if attr is None:
        return None

    quality = cached("quality.full", rows, f"{method}: deletion, insertion, infidelity, sensitivity…",
                             tasks.full_quality, compute=compute_now, args={"attribution": attr},
                             key={"method": method, "values": _digest(attr)})
    return None if quality is None else (attr, quality)


def agreement(attributions: Sequence[Attribution]) -> Agreement | None:
    """Pairwise agreement of two or more methods (None for fewer)."""
    if len(attributions) < 2:
        return None
    ok, result = page.guarded(explain.agreement, list(attributions))
    return result if ok else None


def agreement_chart(result: Agreement) -> Chart:
    """The heatmap of the methods' pairwise agreement, with its data."""
    return Chart("agreement", plots.agreement_heatmap(result), result_frame(result), result)


def charts(quality: Quality | None, check: SanityCheck | None) -> list[Chart]:
    """Deletion / insertion curves and the randomisation cascade of one method."""
    out = []
    if quality is not None:
        out.append(Chart(f"{quality.method}_deletion_insertion", plots.deletion_insertion(quality),
                         result_frame(quality), quality))
    if check is not None:
        for stem, make in (("cascade", lambda: plots.cascade_maps(check, 0)),
                           ("cascade_similarity", lambda: plots.cascade_similarity(check))):
            ok, fig = page.guarded(make)
            if ok:
                out.append(Chart(f"{check.method}_{stem}", fig, result_frame(check), check))
    return out
