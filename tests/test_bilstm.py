"""model.bilstm: the padded two-direction BiLSTM gives the packed nn.LSTM's outputs."""

import pytest
import torch
from torch import nn

from model.bilstm import reverse_within, run_bilstm


def _packed(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = lstm(packed)
    return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.size(1))[0]


def test_reverse_within_reverses_each_row_in_its_length_only():
    x = torch.arange(8.0).view(2, 4, 1)
    out = reverse_within(x, torch.tensor([4, 2]))
    assert out.squeeze(-1).tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("grad", [False, True])
def test_run_bilstm_equals_the_packed_lstm_at_every_valid_position(grad, layers):
    torch.manual_seed(0)
    lstm = nn.LSTM(12, 7, num_layers=layers, batch_first=True, bidirectional=True)
    # lengths from 1 to 40 in no order: several length groups, rows in every position
    lengths = torch.tensor([5, 40, 1, 33, 12, 40, 2, 27, 9, 18])
    x = torch.randn(len(lengths), 40, 12)
    x = x.masked_fill(torch.arange(40).unsqueeze(0).unsqueeze(-1) >= lengths.view(-1, 1, 1), 7.0)
    with torch.set_grad_enabled(grad):
        ours = run_bilstm(lstm, x, lengths)
        theirs = _packed(lstm, x, lengths)
    assert ours.shape == theirs.shape == (10, 40, 14)
    assert torch.allclose(ours, theirs, atol=1e-5)
    pad = torch.arange(40).unsqueeze(0) >= lengths.unsqueeze(1)
    assert ours[pad].abs().max() == 0  # zero past each row's length, padding values unused
    if grad:  # the same gradients reach the weights and the inputs
        ours.pow(2).sum().backward()
        mine = [p.grad.clone() for p in lstm.parameters()]
        lstm.zero_grad()
        _packed(lstm, x, lengths).pow(2).sum().backward()
        for a, b in zip(mine, (p.grad for p in lstm.parameters())):
            assert torch.allclose(a, b, atol=1e-4)


def test_run_bilstm_refuses_an_lstm_it_does_not_implement():
    with pytest.raises(ValueError, match="bidirectional"):
        run_bilstm(nn.LSTM(4, 3, batch_first=True), torch.zeros(1, 2, 4), torch.tensor([2]))
    with pytest.raises(ValueError, match="dropout between"):
        run_bilstm(nn.LSTM(4, 3, num_layers=2, dropout=0.1, batch_first=True, bidirectional=True),
                   torch.zeros(1, 2, 4), torch.tensor([2]))


def test_a_model_with_a_stacked_bilstm_trains_and_reloads(tmp_path):
    from _ghara_tiny import TINY_CONFIG, tiny_backbone
    from model.backbone import load_backbone
    from model.config import ConfigError, HeadConfig
    from model.inference import predict_paragraphs
    from model.network import JointModel
    from model.training import load_config
    from annotation.documents import Document

    assert load_config(TINY_CONFIG, ["lstm_layers=2"]).head_config().lstm_layers == 2
    with pytest.raises(ConfigError, match="lstm_layers"):
        load_config(TINY_CONFIG, ["lstm_layers=0"])
    encoder, tokenizer = load_backbone(tiny_backbone())
    torch.manual_seed(0)
    model = JointModel(encoder, tokenizer, HeadConfig(rel_hidden=16, lstm_hidden=8, lstm_layers=2))
    assert model.lstm.num_layers == 2
    text = "قصفت طائرات حربية مدينة حلب فقتل خمسة مدنيين"
    batch = model.collate(model.examples([Document("d", text)]))
    model(**batch)["loss"].backward()
    assert model.lstm.weight_ih_l1.grad.abs().sum() > 0  # the second layer is trained
    before = predict_paragraphs(model, [text])
    model.save_pretrained(tmp_path / "m")
    loaded = JointModel.from_pretrained(tmp_path / "m")
    assert loaded.lstm.num_layers == 2
    assert predict_paragraphs(loaded, [text])[0].span_scores == before[0].span_scores
