"""Attention maps against transformers' own output_attentions and nn.MultiheadAttention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import explain


@pytest.fixture
def bert(tmp_path: Path) -> tuple[explain.Model, nn.Module, object]:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = ["good", "bad", "movie", "not", "great", "the", "was"]
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]))
    tokenizer = BertTokenizerFast(vocab=str(tmp_path / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=12, hidden_size=16, num_hidden_layers=3, num_attention_heads=4,
                        intermediate_size=32, max_position_embeddings=32, attn_implementation="eager")
    net = BertForSequenceClassification(config).eval()
    net.save_pretrained(tmp_path / "bert", safe_serialization=True)
    tokenizer.save_pretrained(tmp_path / "bert")
    return explain.load_model(tmp_path / "bert"), net, tokenizer


TEXTS = ["the movie was good", "not great", "bad bad movie was not the great movie"]


def test_bert_weights_equal_transformers_output_attentions(bert: tuple) -> None:
    model, net, tokenizer = bert
    maps = explain.attention(model, TEXTS)
    assert maps.weights.shape == (3, 3, 4, 10, 10)
    assert maps.tokens[1] == ("[CLS]", "not", "great", "[SEP]")
    for i, text in enumerate(TEXTS):  # one at a time: no padding in the reference
        reference = net(**tokenizer([text], return_tensors="pt"), output_attentions=True).attentions
        expected = torch.stack(reference, dim=1)[0].detach().numpy()
        np.testing.assert_allclose(maps.example(i), expected, atol=1e-5)
        assert not maps.weights[i, :, :, len(maps.tokens[i]):].any()  # padding is not a token
    np.testing.assert_allclose(maps.example(1).sum(-1), 1.0, atol=1e-5)


def test_rollout_and_relevance(bert: tuple) -> None:
    model, _, _ = bert
    maps = explain.attention(model, TEXTS, target=1)
    for i in range(3):
        rollout = maps.rollout(i)
        np.testing.assert_allclose(rollout.sum(-1), 1.0, atol=1e-6)
        relevance = maps.relevance(i)
        assert relevance.shape == (len(maps.tokens[i]),) * 2
    # a hand check of rollout on one layer: 0.5 A + 0.5 I, rows renormalised
    one = explain.AttentionMaps(weights=maps.weights[:, :1], tokens=maps.tokens)
    a = maps.example(0)[0].mean(0)
    np.testing.assert_allclose(one.rollout(0), 0.5 * a + 0.5 * np.eye(len(a)), atol=1e-6)
    assert (maps.target == 1).all() and maps.gradients is not None
    other = explain.attention(model, TEXTS, target=0)
    assert not np.allclose(other.relevance(2), maps.relevance(2))


def test_sdpa_models_are_read_with_eager_and_restored(tmp_path: Path, bert: tuple) -> None:
    from transformers import AutoModelForSequenceClassification

    _, net, tokenizer = bert
    sdpa = AutoModelForSequenceClassification.from_pretrained(tmp_path / "bert", attn_implementation="sdpa").eval()
    model = explain.Model(sdpa, modality="text", tokenizer=tokenizer)
    before = model.logits(TEXTS)
    maps = explain.attention(model, TEXTS)
    np.testing.assert_allclose(maps.weights, explain.attention(explain.load_model(tmp_path / "bert"), TEXTS).weights, atol=1e-5)
    assert sdpa.config._attn_implementation == "sdpa"
    np.testing.assert_allclose(model.logits(TEXTS), before, atol=1e-6)


def test_vit_weights_and_patch_grid(tmp_path: Path) -> None:
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(0)
    config = ViTConfig(image_size=8, patch_size=2, num_channels=1, hidden_size=16, num_hidden_layers=2,
                       num_attention_heads=2, intermediate_size=32, attn_implementation="eager")
    net = ViTForImageClassification(config).eval()
    net.save_pretrained(tmp_path / "vit", safe_serialization=True)
    model = explain.load_model(tmp_path / "vit")
    x = torch.rand(3, 1, 8, 8)
    maps = explain.attention(model, x)
    expected = torch.stack(net(pixel_values=x, output_attentions=True).attentions, dim=1).detach().numpy()
    np.testing.assert_allclose(maps.weights, expected, atol=1e-5)
    assert maps.grid == (4, 4) and maps.tokens[0][:3] == ("[CLS]", "p0,0", "p0,1") and len(maps.tokens[0]) == 17


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0), 2,
                                            enable_nested_tensor=False)
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(x.reshape(-1, 6, 8)).mean(1))


def test_multihead_attention_weights_and_unchanged_outputs() -> None:
    torch.manual_seed(0)
    net = Encoder().eval()
    model = explain.Model(net, input_shape=(48,))
    x = torch.randn(5, 48)
    with torch.no_grad():
        before = net(x)  # the fused fast path
    maps = explain.attention(model, x)
    assert maps.weights.shape == (5, 2, 2, 6, 6)
    first = net.layers.layers[0].self_attn
    tokens = x.reshape(-1, 6, 8)
    _, expected = first(tokens, tokens, tokens, need_weights=True, average_attn_weights=False)
    np.testing.assert_allclose(maps.weights[:, 0], expected.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(maps.weights.sum(-1), 1.0, atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(net(x).numpy(), before.numpy(), atol=1e-6)
    assert torch.backends.mha.get_fastpath_enabled()  # restored


def test_a_model_without_attention_says_what_was_looked_for(mlp: nn.Module) -> None:
    with pytest.raises(explain.MethodError, match="nn.MultiheadAttention"):
        explain.attention(explain.Model(mlp), torch.zeros(2, 5))


def test_attention_plots(bert: tuple) -> None:
    from explain import plots

    model, _, _ = bert
    maps = explain.attention(model, TEXTS)
    grid = plots.attention_grid(maps, 2)
    assert len(grid.data) == 3 * 4
    np.testing.assert_allclose(grid.data[5].z, maps.example(2)[1, 1])  # layer 1, head 1
    head = plots.attention_head(maps, 1, layer=2, head=3)
    assert list(head.data[0].x) == ["0:[CLS]", "1:not", "2:great", "3:[SEP]"]
    np.testing.assert_allclose(head.data[0].z, maps.example(1)[2, 3])
    scores = plots.attention_scores(maps, 0, kind="relevance")
    np.testing.assert_allclose(scores.data[0].y, maps.relevance(0)[0, 1:])
    assert scores.data[0].x[0] == "1:the"


def test_long_inputs_stay_small_in_the_grid() -> None:
    weights = np.random.default_rng(0).dirichlet(np.ones(512), size=(1, 2, 2, 512))
    maps = explain.AttentionMaps(weights=weights, tokens=(tuple(f"w{k}" for k in range(512)),))
    from explain import plots

    grid = plots.attention_grid(maps, 0, max_tokens=48)
    assert np.asarray(grid.data[0].z).shape == (48, 48)
    np.testing.assert_allclose(np.asarray(grid.data[0].z).sum(1), 48 / 512, rtol=0.1)  # block means
    assert len(grid.to_json()) < 300_000
