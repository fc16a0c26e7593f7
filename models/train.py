"""Train the bundled example models of ``explain`` and write them under ``explain/loading/bundled/``.

Run from the repository root (CPU only, about 25 s on 2 cores, fully seeded)::

    python models/train.py                  # all five examples
    python models/train.py --only digits    # one of: breast_cancer, diabetes, digits, sentiment, vit_digits

Each example folder (``explain/loading/bundled/NAME/``, package data of the wheel) holds ``model/``
(the model) and a held-out test split (``data.csv`` or ``data.npz``) that was never used for training. The tabular and
image models use the safe format of :mod:`explain.loading.architectures` (``config.json``
naming a registered architecture + ``model.safetensors``); the sentiment model is a
tiny Hugging Face BERT with its own tokenizer, trained on a generated corpus, and
``vit_digits`` a tiny Hugging Face ViT on the same digits split as ``digits``.
Test metrics are printed, stored in ``models/metrics.json`` and written into
``models/README.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors.torch import save_file
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.model_selection import train_test_split
from torch import nn

ROOT = Path(__file__).resolve().parent  # models/: this script, README.md and metrics.json
sys.path.insert(0, str(ROOT.parent))
OUT = ROOT.parent / "explain" / "loading" / "bundled"  # the examples themselves: package data of the wheel
from explain.loading.architectures import build  # noqa: E402

SEED = 1


def seed_all(seed: int = SEED) -> None:
    """Seed Python, NumPy and torch, and keep torch on 2 threads."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(2)


def fresh_dir(path: Path) -> Path:
    """Empty (or create) ``path`` so that no stale file survives a retrain."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[..., torch.Tensor],
    epochs: int,
    lr: float,
    batch: int = 64,
    weight_decay: float = 1e-4,
) -> None:
    """Minibatch Adam training over tensors ``x``/``y``."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(SEED)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch):
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()


def save_safe(
    folder: Path, model: nn.Module, architecture: str, arguments: dict[str, Any], explain: dict[str, Any]
) -> None:
    """Write ``config.json`` + ``model.safetensors`` (the state_dict) into ``folder/model``."""
    out = fresh_dir(folder / "model")
    config = {"architecture": architecture, "arguments": arguments, "explain": explain}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / "model.safetensors"))


def train_tabular(name: str, task: str) -> dict[str, float]:
    """Train an MLP on breast_cancer (classification) or diabetes (regression)."""
    seed_all()
    bunch = load_breast_cancer() if task == "classification" else load_diabetes()
    names = [str(n) for n in bunch.feature_names]
    x = bunch.data.astype(np.float32)
    y = bunch.target
    strat = y if task == "classification" else None
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=strat)
    classif = task == "classification"
    arguments = {
        "n_features": x.shape[1],
        "hidden": [32, 16] if classif else [16],
        "n_outputs": 2 if classif else 1,
        "dropout": 0.1 if classif else 0.0,
    }
    model = build("mlp", **arguments)
    model.standardize.mean.copy_(torch.tensor(x_tr.mean(0)))
    model.standardize.scale.copy_(torch.tensor(x_tr.std(0) + 1e-8))
    xt = torch.tensor(x_tr)
    if classif:
        fit(
            model,
            xt,
            torch.tensor(y_tr, dtype=torch.long),
            nn.functional.cross_entropy,
            epochs=50,
            lr=1e-3,
            batch=32,
            weight_decay=1e-3,
        )
    else:
        # Train on a standardised target, then fold the scale into the last Linear
        # layer so that the saved model outputs the raw target's units.
        mu, sd = float(y_tr.mean()), float(y_tr.std())
        yt = torch.tensor((y_tr - mu) / sd, dtype=torch.float32).unsqueeze(1)
        fit(model, xt, yt, nn.functional.mse_loss, epochs=60, lr=1e-3, batch=32, weight_decay=1e-2)
        last = model.layers[-1]
        with torch.no_grad():
            last.weight.mul_(sd)
            last.bias.mul_(sd).add_(mu)
    with torch.no_grad():
        out = model(torch.tensor(x_te))
    folder = OUT / name
    explain: dict[str, Any] = {"task": task, "modality": "tabular", "feature_names": names}
    data = pd.DataFrame(x_te.astype(np.float64), columns=names)
    if classif:
        classes = [str(c) for c in bunch.target_names]  # ["malignant", "benign"]
        explain["class_names"] = classes
        data["label"] = [classes[i] for i in y_te]
        metrics = {"test_accuracy": float((out.argmax(1).numpy() == y_te).mean())}
    else:
        data["target"] = y_te
        pred = out[:, 0].numpy()
        r2 = 1 - ((pred - y_te) ** 2).sum() / ((y_te - y_te.mean()) ** 2).sum()
        metrics = {"test_r2": float(r2)}
    save_safe(folder, model, "mlp", arguments, explain)
    data.to_csv(folder / "data.csv", index=False)
    return metrics


def train_breast_cancer() -> dict[str, float]:
    """Binary tabular classifier on sklearn's breast cancer data."""
    return train_tabular("breast_cancer", "classification")


def train_diabetes() -> dict[str, float]:
    """Tabular regressor on sklearn's diabetes data (output in raw target units)."""
    return train_tabular("diabetes", "regression")


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sklearn's 8x8 digits as float32 (n, 1, 8, 8) in [0, 1] (pixels / 16), int64 labels:
    ``x_train, x_test, y_train, y_test`` (25 % held out, stratified, ``random_state=1``)."""
    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    y = bunch.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)


def save_digits_data(folder: Path, x_te: np.ndarray, y_te: np.ndarray) -> list[str]:
    """Write the held-out digits as ``folder/data.npz``; return the class names."""
    classes = [str(i) for i in range(10)]
    np.savez_compressed(folder / "data.npz", x=x_te, y=y_te, class_names=np.array(classes, dtype=str))
    return classes


def train_digits() -> dict[str, float]:
    """SmallCNN on sklearn's 8x8 digits, pixels scaled to [0, 1]."""
    seed_all()
    x_tr, x_te, y_tr, y_te = digits_split()
    arguments = {
        "in_channels": 1,
        "height": 8,
        "width": 8,
        "n_classes": 10,
        "channels": [16, 32],
        "dropout": 0.2,
    }
    model = build("small_cnn", **arguments)
    fit(model, torch.tensor(x_tr), torch.tensor(y_tr), nn.functional.cross_entropy, epochs=30, lr=2e-3)
    with torch.no_grad():
        acc = float((model(torch.tensor(x_te)).argmax(1).numpy() == y_te).mean())
    classes = [str(i) for i in range(10)]
    folder = OUT / "digits"
    save_safe(
        folder,
        model,
        "small_cnn",
        arguments,
        {"task": "classification", "modality": "image", "input_shape": [1, 8, 8], "class_names": classes},
    )
    save_digits_data(folder, x_te, y_te)
    return {"test_accuracy": acc}


def save_hf(model: nn.Module, out: Path) -> None:
    """``save_pretrained`` (safetensors only) into ``out``, keeping the eager attention.

    save_pretrained drops the attention choice; keep "eager" in config.json so that
    attention weights (output_attentions=True) are available after from_pretrained.
    """
    model.save_pretrained(str(out), safe_serialization=True)
    cfg = json.loads((out / "config.json").read_text())
    cfg["attn_implementation"] = "eager"
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")


def train_vit_digits() -> dict[str, float]:
    """Tiny Hugging Face ViT (2x2 patches) on the digits split, pixels in [0, 1]."""
    from transformers import ViTConfig, ViTForImageClassification

    seed_all()
    x_tr, x_te, y_tr, y_te = digits_split()
    id2label = {i: str(i) for i in range(10)}
    config = ViTConfig(
        image_size=8,
        patch_size=2,
        num_channels=1,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.0,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
        attn_implementation="eager",
    )
    model = ViTForImageClassification(config)
    xt, yt = torch.tensor(x_tr), torch.tensor(y_tr)
    epochs, batch, lr = 40, 64, 2e-3
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    steps = epochs * ((len(xt) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(SEED)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=gen).split(batch):
            loss = nn.functional.cross_entropy(model(pixel_values=xt[idx]).logits, yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        acc = float((model(pixel_values=torch.tensor(x_te)).logits.argmax(1).numpy() == y_te).mean())
    folder = OUT / "vit_digits"
    save_hf(model, fresh_dir(folder / "model"))
    save_digits_data(folder, x_te, y_te)
    return {"test_accuracy": acc}


POSITIVE = "good great excellent wonderful enjoyable delightful superb pleasant brilliant lovely fantastic solid".split()
NEGATIVE = (
    "bad awful terrible boring disappointing poor dreadful mediocre horrible dull weak annoying".split()
)
NOUNS = (
    "movie film book restaurant food service hotel room phone camera album show game plot acting staff coffee trip"
).split()
INTENSIFIERS = ["", "", "very", "really", "quite", "extremely", "so", "truly", "pretty"]
NEGATIONS = ["not", "never", "hardly", "not at all"]
OPENERS = "||honestly,|overall,|to be fair,|in my opinion,|i have to say|after two visits,|my friend said|as expected,|surprisingly,".split(
    "|"
)
CLOSERS = "|||overall.|to be honest.|for the price.|this time.|compared to last year.|if you ask me.".split(
    "|"
)


def sentence(rng: random.Random) -> tuple[str, int]:
    """One generated review and its label (1 positive, 0 negative)."""

    def phrase() -> tuple[str, int]:
        pol = rng.random() < 0.5
        adj = rng.choice(POSITIVE if pol else NEGATIVE)
        intens = rng.choice(INTENSIFIERS)
        if rng.random() < 0.35:  # negation flips the polarity
            neg = rng.choice(NEGATIONS)
            return f"{neg} {intens} {adj}" if neg != "not at all" else f"{adj} not at all", int(not pol)
        return f"{intens} {adj}", int(pol)

    noun, other = rng.sample(NOUNS, 2)
    kind = rng.random()
    if kind < 0.45:
        p, label = phrase()
        text = f"the {noun} was {p}"
    elif kind < 0.65:
        p, label = phrase()
        text = f"i found this {noun} {p}"
    elif kind < 0.85:  # contrast: the clause after "but" decides
        p1, l1 = phrase()
        p2, label = phrase()
        while l1 == label:
            p2, label = phrase()
        text = f"the {other} was {p1}, but the {noun} was {p2}"
    else:
        label = int(rng.random() < 0.5)
        verb = rng.choice(["recommend", "enjoy", "love"] if label else ["regret", "hate", "avoid"])
        neg = rng.random() < 0.35
        label = int(label != neg)
        text = f"i would {'not ' if neg else ''}{verb} this {noun}"
    text = " ".join(w for w in [rng.choice(OPENERS), text, rng.choice(CLOSERS)] if w)
    text = re.sub(r"\s+", " ", text).strip()
    return (text if text.endswith(".") else text + "."), label


def make_corpus(n: int) -> list[tuple[str, int]]:
    """``n`` distinct generated sentences with labels (seeded)."""
    rng = random.Random(SEED)
    seen: dict[str, int] = {}
    while len(seen) < n:
        text, label = sentence(rng)
        seen.setdefault(text, label)
    return list(seen.items())


def train_sentiment() -> dict[str, float]:
    """Tiny BertForSequenceClassification + own WordPiece vocab on a generated corpus."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    seed_all()
    corpus = make_corpus(3300)
    train, test = train_test_split(
        corpus, test_size=300, random_state=SEED, stratify=[lab for _, lab in corpus]
    )
    out = fresh_dir(OUT / "sentiment" / "model")
    words = sorted({w for text, _ in corpus for w in re.findall(r"\w+|[^\w\s]", text.lower())})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab=str(out / "vocab.txt"), do_lower_case=True, model_max_length=128)
    id2label = {0: "negative", 1: "positive"}
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=128,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
        attn_implementation="eager",
    )
    model = BertForSequenceClassification(config)

    def encode(rows: list[tuple[str, int]]) -> dict[str, torch.Tensor]:
        return tokenizer([t for t, _ in rows], padding=True, return_tensors="pt")

    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    epochs, batch = 8, 32
    steps = epochs * ((len(train) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    rng = random.Random(SEED)
    model.train()
    for _ in range(epochs):
        rng.shuffle(train)
        for i in range(0, len(train), batch):
            rows = train[i : i + batch]
            loss = model(**encode(rows), labels=torch.tensor([lab for _, lab in rows])).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        pred = model(**encode(test)).logits.argmax(1).numpy()
    acc = float((pred == np.array([lab for _, lab in test])).mean())
    tokenizer.save_pretrained(str(out))
    save_hf(model, out)
    pd.DataFrame({"text": [t for t, _ in test], "label": [id2label[lab] for _, lab in test]}).to_csv(
        OUT / "sentiment" / "data.csv", index=False
    )
    return {"test_accuracy": acc}


EXAMPLES: dict[str, Callable[[], dict[str, float]]] = {
    "breast_cancer": train_breast_cancer,
    "diabetes": train_diabetes,
    "digits": train_digits,
    "sentiment": train_sentiment,
    "vit_digits": train_vit_digits,
}

README = """# Bundled example models

Written by `models/train.py` into `explain/loading/bundled/` (package data, so `pip install
explain-torch` ships them; seed 1 everywhere, CPU, about 25 s on 2 cores; the files are
byte-identical between runs). Retrain all with `python models/train.py`, or one with
`python models/train.py --only NAME`; metrics also go to `metrics.json`.
Every dataset file is the held-out test split (25 % for the sklearn sets, stratified for
classification, `random_state=1`; 300 generated sentences for sentiment); no training row
is in it. For reference, on the same splits linear models score 0.965 (logistic regression,
breast cancer) and R² 0.444 (linear regression, diabetes), and a bag-of-words logistic
regression gets 0.62 on the sentiment sentences, so word order matters there.

| example | architecture | data | held-out metric |
|---|---|---|---|
{rows}

## Layouts (under `explain/loading/bundled/`)

- `breast_cancer/`: `model/config.json` (`"architecture": "mlp"`, `arguments`, `explain`:
  task classification, modality tabular, 30 sklearn feature names, class names
  malignant/benign) + `model/model.safetensors`; `data.csv` = raw features + `label`
  (class names). MLP hidden [32, 16], dropout 0.1, Adam 50 epochs; the `Standardize`
  buffers hold the training mean and std, so the model takes raw features.
- `diabetes/`: same layout, `n_outputs` 1, task regression; `data.csv` = raw features +
  `target`. MLP hidden [16], trained on a standardised target whose scale is folded into
  the last Linear layer, so the output is in the raw target's units.
- `digits/`: `"architecture": "small_cnn"`, modality image, `input_shape` [1, 8, 8],
  class names "0".."9"; `data.npz` holds `x` float32 (n, 1, 8, 8) in [0, 1] (pixels / 16),
  `y` int64, `class_names` (unicode array, loads with `allow_pickle=False`). Adam 30 epochs.
- `sentiment/`: Hugging Face folder (`config.json`, `model.safetensors`, `tokenizer.json`,
  `tokenizer_config.json`, `vocab.txt`): a tiny `BertForSequenceClassification` (hidden 64,
  2 layers, 2 heads, intermediate 128, labels negative/positive, eager attention so
  `output_attentions=True` works) with its own word-level vocabulary, trained 8 epochs on
  3000 generated review sentences (templates with positive/negative adjectives, negations
  such as "not good", intensifiers, contrast clauses "X, but Y", neutral filler).
  `data.csv` = `text`, `label` (negative/positive). Load with
  `AutoTokenizer.from_pretrained` / `AutoModelForSequenceClassification.from_pretrained`.
- `vit_digits/`: Hugging Face folder (`config.json`, `model.safetensors`; no image
  processor): a tiny `ViTForImageClassification` (8x8 images, 2x2 patches so 16 patches +
  [CLS] = 17 tokens, 1 channel, hidden 64, 2 layers, 4 heads, intermediate 128, labels
  "0".."9", eager attention so `output_attentions=True` works), trained 40 epochs with
  AdamW (one-cycle, lr 2e-3, weight decay 0.05, hidden dropout 0.1) on exactly the
  `digits/` training split. It takes `pixel_values` as (n, 1, 8, 8) in [0, 1] (pixels / 16),
  no normalisation. `data.npz` holds the same held-out rows as `digits/data.npz`. Load with
  `AutoModelForImageClassification.from_pretrained`.
"""

DESCRIPTIONS = {
    "breast_cancer": ("`mlp` (30 → 32 → 16 → 2)", "`data.csv`", "accuracy"),
    "diabetes": ("`mlp` (10 → 16 → 1)", "`data.csv`", "R²"),
    "digits": ("`small_cnn` (16, 32 channels)", "`data.npz`", "accuracy"),
    "sentiment": ("tiny BERT (HF)", "`data.csv`", "accuracy"),
    "vit_digits": ("tiny ViT (HF, 2x2 patches)", "`data.npz`", "accuracy"),
}


def write_readme(metrics: dict[str, dict[str, float]]) -> None:
    """Write ``models/README.md`` with one table row per trained example."""
    rows = []
    for name, (arch, data, label) in DESCRIPTIONS.items():
        value = next(iter(metrics.get(name, {}).values()), None)
        shown = "not trained yet" if value is None else f"{label} {value:.3f}"
        rows.append(f"| `{name}/` | {arch} | {data} | {shown} |")
    (ROOT / "README.md").write_text(README.format(rows="\n".join(rows)))


def main() -> None:
    """Train the chosen examples, print their metrics and update README/metrics.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(EXAMPLES), help="train this example only")
    args = parser.parse_args()
    path = ROOT / "metrics.json"
    metrics: dict[str, dict[str, float]] = json.loads(path.read_text()) if path.exists() else {}
    start = time.perf_counter()
    for name in [args.only] if args.only else list(EXAMPLES):
        t0 = time.perf_counter()
        metrics[name] = EXAMPLES[name]()
        print(f"{name:14s} {metrics[name]}  ({time.perf_counter() - t0:.1f}s)", flush=True)
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    write_readme(metrics)
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
