"""The ``explain`` command: inspect models and compute attributions from the shell.

Example:
    >>> from explain.cli import main
    >>> main(["methods"]) == 0  # doctest: +ELLIPSIS
    saliency ...
    True
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from explain.errors import ExplainError

EPILOG = """examples:
  explain examples
  explain info example:digits
  explain methods model.pt2
  explain attribute example:breast_cancer --method integrated_gradients --rows 50 --out attr.json --html attr.html
  explain attribute model.pt2 holdout.csv --target label --method saliency --out attr.json
  explain audit model.pt2 holdout.csv --target label --out report.html --json report.json --fail-if 'accuracy<0.9'
  explain audit model.pt2 holdout.csv --target label --slice 'age > 60' --slice "region == 'north'" \
      --fail-if 'performance.balanced_accuracy<0.8' --fail-if 'performance.worst_cohort_error>0.3'
  explain audit model.pt2 holdout.csv --target label --metadata sex region --sensitive sex \
      --fail-if 'fairness.demographic_parity_difference>0.1' --fail-if 'fairness.equalized_odds_difference>0.1'
  explain audit example:breast_cancer --effect-features 'worst area' 'mean radius' --counterfactual-rows 5
  explain audit example:breast_cancer --sections performance compression --compress int8 \
      --fail-if 'compression.agreement<0.99'
  explain compare model.pt2 int8 holdout.csv --target label --out compare.html --json compare.json \
      --fail-if 'agreement<0.99' --fail-if 'accuracy_drop>0.01'
  explain compare example:digits prune:0.6 --attack pgd --alpha 0.1
  explain compare teacher.pt2 student.pt2 holdout.csv --target label --method integrated_gradients
  explain app                      # the dashboard (needs: pip install "explain-torch[app]")
  explain app --server.port 8600 --server.address 127.0.0.1

MODEL is a file or folder (.pt2, TorchScript .pt, Hugging Face folder or .zip, ONNX, a folder with
config.json + model.safetensors) or example:NAME for a bundled example. Pickle files are refused."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="explain",
        description="Explain PyTorch models: Captum attributions, from Python, this command or the app.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "app", help="serve the dashboard (streamlit run; streamlit's options pass through)",
        description="Serve the explain dashboard with Streamlit. Every other option goes to "
                    "`streamlit run`, e.g. --server.port 8600 --server.address 127.0.0.1 --server.headless true. "
                    "Unless given: --browser.gatherUsageStats false --server.maxUploadSize 500 "
                    "--client.toolbarMode viewer.",
    )
    commands.add_parser("examples", help="list the bundled example models")
    info = commands.add_parser("info", help="describe a model: format, task, inputs, classes")
    info.add_argument("model")
    listing = commands.add_parser("methods", help="list attribution methods (those a MODEL can serve)")
    listing.add_argument("model", nargs="?")
    attr = commands.add_parser("attribute", help="compute attributions and write JSON / HTML")
    attr.add_argument("model", help="model file or folder, or example:NAME")
    attr.add_argument("data", nargs="?", help="dataset file (not needed for example:NAME)")
    attr.add_argument("--target", help="label column of a CSV / Parquet table")
    attr.add_argument("--text", help="text column of a text CSV")
    attr.add_argument("--method", default="integrated_gradients")
    attr.add_argument("--rows", type=int, default=20, help="explain the first ROWS examples (default 20)")
    attr.add_argument("--class", dest="target_class", type=int, help="output index to explain (default: predicted)")
    attr.add_argument("--seed", type=int, default=0)
    attr.add_argument("--out", help="write the attribution as JSON here")
    attr.add_argument("--html", help="write the plot as a self-contained HTML file here (works offline)")
    audit = commands.add_parser("audit", help="run the audit and write an offline HTML report (and JSON)")
    audit.add_argument("model", help="model file or folder, or example:NAME")
    audit.add_argument("data", nargs="?", help="labelled dataset (not needed for example:NAME)")
    audit.add_argument("--target", help="label column of a CSV / Parquet table")
    audit.add_argument("--text", help="text column of a text CSV")
    audit.add_argument("--metadata", nargs="+", metavar="COLUMN",
                       help="columns of the table kept beside the features, never given to the model; the error "
                            "analysis and --slice rules can use them (e.g. --metadata region sex)")
    audit.add_argument("--sensitive", nargs="+", metavar="COLUMN",
                       help="fairness: compare the model between the groups of these columns (metadata or "
                            "features; several make intersectional groups), e.g. --metadata sex --sensitive sex; "
                            "without it the fairness section is skipped")
    audit.add_argument("--positive", metavar="CLASS",
                       help="fairness and counterfactuals: the favourable class (needed for more than two "
                            "classes; default: the second of two)")
    audit.add_argument("--effect-features", dest="effect_features", nargs="+", metavar="FEATURE",
                       help="effects: the features whose partial dependence and ALE the report shows (default: "
                            "the top three by global importance); tables only")
    audit.add_argument("--counterfactual-rows", dest="counterfactual_rows", type=int, default=3, metavar="N",
                       help="effects: counterfactuals for N rows (0 to 5) with an unfavourable prediction, i.e. "
                            "not the --positive class (default 3; classifiers only)")
    audit.add_argument("--out", default="report.html", help="HTML report path (default report.html)")
    audit.add_argument("--json", help="also write the JSON report here")
    audit.add_argument("--sections", nargs="+", metavar="SECTION",
                       help="sections to run (default: all but compression): performance fairness effects saliency "
                            "shap attention quality robustness uncertainty compression")
    audit.add_argument("--compress", metavar="SPEC",
                       help="compression: also compare the model with its int8 or pruned version (int8, "
                            "prune:AMOUNT, e.g. prune:0.5) and gate on compression.agreement, .accuracy_drop, "
                            ".explanation_similarity, .mcnemar_p, .size_ratio, ... (see explain compare --help)")
    audit.add_argument("--rows", type=int, default=100, help="examples the explanation sections explain")
    audit.add_argument("--seed", type=int, default=0)
    audit.add_argument("--epsilons", type=float, nargs="+", metavar="EPS",
                       help="robustness: attack sizes (tables: standard deviations per feature; images: pixel "
                            "units; text: token edits)")
    audit.add_argument("--attack", choices=["pgd", "fgsm"], default="pgd", help="robustness: the attack (default pgd)")
    audit.add_argument("--alpha", type=float, default=0.1,
                       help="uncertainty: conformal sets cover 1 - alpha of the rows (default 0.1)")
    audit.add_argument("--slice", dest="slices", action="append", metavar="RULE",
                       help="performance: also measure the error on the rows this rule picks, against the rest, "
                            "e.g. 'age > 60' or \"region == 'north' and income <= 54.8\" (feature and metadata "
                            "columns; repeat for more slices)")
    audit.add_argument("--backend", choices=["local", "ray"], default="local",
                       help="where the dataset-wide work runs (global importance, robustness): this process, "
                            "or Ray (a local instance, or the cluster at --address)")
    audit.add_argument("--address", help="Ray cluster address for --backend ray, e.g. ray://head:10001 or auto")
    audit.add_argument("--fail-if", dest="fail_if", action="append", default=[], metavar="EXPR",
                       help="a CI gate, e.g. 'accuracy<0.9', 'performance.balanced_accuracy<0.8', "
                            "'performance.worst_cohort_error>0.3', 'robustness.accuracy@0.1<0.5', "
                            "'calibration.ece>0.05', 'quality.sanity_passed<1'; exit 1 when it holds. Performance "
                            "gates: performance.accuracy, .balanced_accuracy, .f1_macro, .roc_auc, "
                            ".average_precision, .log_loss, .brier (classifiers), performance.r2, .mae, .rmse "
                            "(regression), performance.cohorts_found, performance.worst_cohort_error (the highest "
                            "error rate, or mean absolute error, of a cohort that errs beyond chance; the overall "
                            "one when none does), performance.slices_flagged (with --slice: slices that differ from "
                            "the rest beyond chance, either way). Fairness gates (with --sensitive): "
                            "fairness.demographic_parity_difference, .demographic_parity_ratio, "
                            ".equalized_odds_difference, .equalized_odds_ratio, .equal_opportunity_difference "
                            "(classifiers), fairness.mean_prediction_gap, .mean_label_gap, .mae_gap (regression), "
                            "fairness.flip_rate (the share of decisions that change with a sensitive input alone). "
                            "Counterfactual gates (effects section): effects.counterfactual_answered (the share of "
                            "rows with at least one), .counterfactual_validity, .counterfactual_sparsity, "
                            ".counterfactuals_found; the JSON report lists every metric")
    _compare_parser(commands)
    return parser


COMPARE_GATES = ("agreement", "accuracy_a", "accuracy_b", "accuracy_drop", "ece_a", "ece_b",
                 "explanation_similarity", "mcnemar_p", "backward_trust", "new_error_share", "size_ratio",
                 "latency_ratio", "mae_a", "mae_b", "fairness_drift", "parity_difference_a", "parity_difference_b",
                 "worst_group_accuracy_drop")


def _compare_parser(commands: Any) -> None:
    pair = commands.add_parser("compare", help="compare two models (or one and its int8 / pruned version) and "
                                               "write an offline HTML report (and JSON)")
    pair.add_argument("model", help="model A: a file or folder, or example:NAME")
    pair.add_argument("other", metavar="model_b",
                      help="model B: a file or folder, or int8 / prune:AMOUNT (A compressed, e.g. prune:0.6)")
    pair.add_argument("data", nargs="?", help="labelled dataset (not needed when A is example:NAME)")
    pair.add_argument("--target", help="label column of a CSV / Parquet table")
    pair.add_argument("--text", help="text column of a text CSV")
    pair.add_argument("--method", default="saliency", help="attribution method of the explanation similarity")
    pair.add_argument("--rows", type=int, default=200, help="rows explained for the similarity (default 200)")
    pair.add_argument("--attack", choices=["pgd", "fgsm"], help="also draw both robustness curves under it")
    pair.add_argument("--alpha", type=float, help="also measure both conformal coverages at this miscoverage")
    pair.add_argument("--seed", type=int, default=0)
    pair.add_argument("--metadata", nargs="+", metavar="COLUMN",
                      help="columns of the table kept beside the features, never given to the models")
    pair.add_argument("--sensitive", nargs="+", metavar="COLUMN",
                      help="per-group accuracy of both models and the change in demographic parity difference "
                           "(fairness_drift) between the groups of these columns")
    pair.add_argument("--positive", metavar="CLASS", help="the favourable class of that parity (default: the second)")
    pair.add_argument("--out", default="compare.html", help="HTML report path (default compare.html)")
    pair.add_argument("--json", help="also write the JSON report here")
    pair.add_argument("--fail-if", dest="fail_if", action="append", default=[], metavar="EXPR",
                      help="a CI gate on B beside A, e.g. 'agreement<0.99', 'accuracy_drop>0.01'; exit 1 when it "
                           f"holds. Metrics: {', '.join(COMPARE_GATES)} (classifiers: accuracy, ECE, flips; "
                           "regression: agreement is the mean absolute difference, mae_a, mae_b; with --sensitive: "
                           "fairness_drift, parity_difference_a/_b, worst_group_accuracy_drop); size_ratio is A's "
                           "stored bytes over B's, latency_ratio B's seconds per row over A's; also written "
                           "compression.NAME")


def _model_and_data(args: argparse.Namespace) -> tuple[Any, Any]:
    from explain.loading.catalog import load_example
    from explain.loading.files import load_dataset, load_model

    options = {"metadata": args.metadata} if getattr(args, "metadata", None) else {}
    if args.model.startswith("example:"):
        model, data = load_example(args.model.split(":", 1)[1])
        if getattr(args, "data", None):
            data = load_dataset(args.data, target=args.target, text=args.text, **options)
        return model, data
    model = load_model(args.model)
    if getattr(args, "data", None) is None:
        return model, None
    return model, load_dataset(args.data, target=args.target, text=args.text, **options)


def _progress(fraction: float) -> None:
    bar = "#" * int(fraction * 30)
    print(f"\r[{bar:<30}] {fraction:4.0%}", end="" if fraction < 1 else "\n", file=sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    from explain.attribution.attributions import attribute, method_info, methods
    from explain.loading.catalog import examples

    if args.command == "examples":
        print("\n".join(examples()))
        return 0
    if args.command == "methods":
        model = _model_and_data(args)[0] if args.model else None
        for name in methods(model):
            print(f"{name:24} {method_info(name)['summary']}")
        return 0
    model, data = _model_and_data(args)
    if args.command == "compare":
        return _compare(args, model, data)
    if args.command == "audit":
        return _audit(args, model, data)
    if args.command == "info":
        for key, value in model.describe().items():
            print(f"{key:14} {value}")
        return 0
    if data is None:
        raise ExplainError("attribute needs a dataset: explain attribute MODEL DATA (or MODEL = example:NAME).")
    rows = data[: max(1, args.rows)]
    print(f"explaining {len(rows)} examples with {args.method}", file=sys.stderr)
    result = attribute(model, rows, method=args.method, target=args.target_class, seed=args.seed,
                       progress=_progress)
    if args.out:
        result.to_json(args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.html:
        result.plot().write_html(args.html, include_plotlyjs=True, full_html=True)
        print(f"wrote {args.html}", file=sys.stderr)
    if not args.out and not args.html:
        json.dump(result.to_dict(), sys.stdout)
        print()
    return 0


_GATE = re.compile(r"^\s*([A-Za-z0-9_.@-]+)\s*(<=|>=|<|>|==)\s*(-?[0-9.eE+-]+)\s*$")
_COMPARE = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__, "==": float.__eq__}


def parse_gate(expression: str) -> tuple[str, str, float]:
    """``"accuracy<0.9"`` -> ``("accuracy", "<", 0.9)``."""
    match = _GATE.match(expression)
    if match is None:
        raise ExplainError(f"Cannot read the gate {expression!r}; write METRIC<NUMBER, e.g. 'accuracy<0.9'.")
    return match.group(1), match.group(2), float(match.group(3))


def _audit(args: argparse.Namespace, model: Any, data: Any) -> int:
    from explain.auditing.runner import audit
    from explain.runtime.backends import get_backend

    if data is None:
        raise ExplainError("audit needs a labelled dataset: explain audit MODEL DATA --target COLUMN.")
    gates = [parse_gate(g) for g in args.fail_if]

    def progress(section: str, fraction: float) -> None:
        print(f"[{fraction:4.0%}] {section}", file=sys.stderr, flush=True)

    result = audit(model, data, sections=args.sections, rows=args.rows, seed=args.seed, progress=progress,
                   epsilons=args.epsilons, attack=args.attack, conformal_alpha=args.alpha, slices=args.slices,
                   sensitive=args.sensitive, positive=args.positive, effect_features=args.effect_features,
                   counterfactual_rows=args.counterfactual_rows, compress=args.compress,
                   backend=get_backend(args.backend, args.address))
    return _written(args, result, gates, result.metrics)


def _written(args: argparse.Namespace, result: Any, gates: list[tuple[str, str, float]],
             metrics: dict[str, float]) -> int:
    """Write the HTML (and JSON) report, print the findings, check the gates on ``metrics``."""
    result.to_html(args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    if args.json:
        result.to_json(args.json)
        print(f"wrote {args.json}", file=sys.stderr)
    for finding in result.findings:
        print(f"- {finding}")
    failed = []
    for name, op, limit in gates:
        if name not in metrics:
            raise ExplainError(f"The gate names {name!r}, which this {args.command} did not measure; "
                               f"measured: {sorted(metrics)}.")
        if _COMPARE[op](float(metrics[name]), limit):
            failed.append(f"{name} = {metrics[name]:.4g} {op} {limit:g}")
    for line in failed:
        print(f"gate failed: {line}", file=sys.stderr)
    return 1 if failed else 0


def _compare(args: argparse.Namespace, model: Any, data: Any) -> int:
    from explain.auditing.paired import comparison_report
    from explain.loading.files import load_model

    if data is None:
        raise ExplainError("compare needs a labelled dataset: explain compare A B DATA --target COLUMN "
                           "(or A = example:NAME).")
    gates = [parse_gate(g) for g in args.fail_if]
    unknown = [n for n, _, _ in gates if n.removeprefix("compression.") not in COMPARE_GATES]
    if unknown:
        raise ExplainError(f"The gates name {unknown}, which compare does not measure; use {list(COMPARE_GATES)}.")
    word = args.other.strip().lower()
    other = args.other if word in ("int8", "quantize", "quantise") or word.startswith("prune") else \
        load_model(args.other)
    names = ("A", "B") if other is not args.other else None
    print(f"comparing {args.model} with {args.other} on {len(data)} rows", file=sys.stderr)
    result = comparison_report(model, other, data, names=names, method=args.method, rows=args.rows,
                               attack=args.attack, alpha=args.alpha, seed=args.seed, sensitive=args.sensitive,
                               positive=args.positive)
    metrics = dict(result.metrics)
    metrics.update({k.split(".", 1)[1]: v for k, v in result.metrics.items()})
    return _written(args, result, gates, metrics)


# streamlit options of `explain app` unless given: no usage statistics sent, uploads up to
# 500 MB (models), no developer menu (deploy, rerun) for the people the app is served to
APP_DEFAULTS = {"--browser.gatherUsageStats": "false", "--server.maxUploadSize": "500",
                "--client.toolbarMode": "viewer"}


def app_command(options: Sequence[str] = ()) -> list[str]:
    """The ``streamlit run`` command that serves the dashboard, with streamlit's ``options``.

    It runs the package's own entry script, so it works from an installed wheel and from
    any folder. :data:`APP_DEFAULTS` (the settings of the repository's
    ``.streamlit/config.toml``) apply unless the options set them.

    Raises:
        MissingDependencyError: streamlit is not installed.

    Example:
        >>> command = app_command(["--server.port", "8600"])
        >>> command[1:4], command[-2:]
        (['-m', 'streamlit', 'run'], ['--server.port', '8600'])
    """
    import importlib.util
    from pathlib import Path

    from explain.errors import MissingDependencyError

    if importlib.util.find_spec("streamlit") is None:
        raise MissingDependencyError(
            'The dashboard needs streamlit, which is not installed. Install it with: pip install "explain-torch[app]"'
        )
    entry = Path(__file__).resolve().parent / "app" / "entry" / "dashboard.py"
    given = {option.split("=", 1)[0] for option in options if option.startswith("--")}
    defaults = [item for flag, value in APP_DEFAULTS.items() if flag not in given for item in (flag, value)]
    return [sys.executable, "-m", "streamlit", "run", str(entry), *defaults, *options]


def _serve(options: Sequence[str]) -> int:
    """Run the dashboard until streamlit stops; Ctrl+C or SIGTERM stops both."""
    import signal
    import subprocess
    import threading

    process = subprocess.Popen(app_command(options))
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate()) if main_thread else None
    try:
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:  # stop streamlit (it may have had the signal too) and wait for it
                process.terminate()
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 a failed --fail-if gate, 2 a user error)."""
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "app":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "app":
            return _serve(rest)
        return _run(args)
    except ExplainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
