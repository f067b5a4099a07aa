"""torch modules, tensors and state_dicts (skipped where torch is not installed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed: the torch tests need it")

import lyap  # noqa: E402
from conftest import run_cli, without_timing  # noqa: E402


def same(a, b):
    assert without_timing(a.to_dict()) == without_timing(b.to_dict())


def numpy_state(module, prefix=""):
    return {prefix + k: v.detach().numpy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("make,arch", [
    (lambda: torch.nn.LSTM(3, 5, num_layers=2, batch_first=True), "lstm"),
    (lambda: torch.nn.GRU(3, 5, bias=False, batch_first=True), "gru"),
    (lambda: torch.nn.RNN(3, 5, nonlinearity="relu", batch_first=True), "rnn-relu"),
    (lambda: torch.nn.RNN(3, 5, num_layers=3, batch_first=True), "rnn-tanh"),
])
def test_modules_equal_their_state_dicts(make, arch):
    torch.manual_seed(0)
    module = make()
    x = torch.randn(2, 15, 3)
    result = lyap.spectrum(module, x, warmup=3)
    assert result.model["arch"] == arch
    assert result.model["layers"] == module.num_layers
    same(result, lyap.spectrum(numpy_state(module), x.numpy(), warmup=3, arch=arch))


def test_batch_first_false_reads_the_module_layout():
    torch.manual_seed(1)
    module = torch.nn.LSTM(3, 4)  # batch_first=False: inputs [T, B, D]
    x = torch.randn(12, 2, 3)
    result = lyap.spectrum(module, x)
    assert result.config["batch"] == 2 and result.config["steps"] == 12
    same(result, lyap.spectrum(numpy_state(module), x.transpose(0, 1).contiguous().numpy()))


def test_dropout_is_ignored_and_the_spectrum_matches_a_torch_forward_pass():
    torch.manual_seed(2)
    module = torch.nn.GRU(2, 3, num_layers=2, dropout=0.5, batch_first=True)
    x = torch.randn(1, 10, 2, dtype=torch.float64)
    a = lyap.spectrum(module, x)
    module.eval()
    same(a, lyap.spectrum(module, x))
    # The Jacobian of torch's own step, by autograd, gives the first step's exponents.
    module = module.double()
    h0 = torch.zeros(2, 1, 3, dtype=torch.float64)

    def step(h):
        _, h1 = module(x[:, :1], h.reshape(2, 1, 3))
        return h1.reshape(-1)

    jac = torch.autograd.functional.jacobian(step, h0.reshape(-1)).numpy()
    r = np.linalg.qr(jac)[1]
    expected = np.sort(np.log(np.abs(np.diag(r))))
    one = lyap.spectrum(module, x[:, :1])
    np.testing.assert_allclose(np.sort(one.exponents), expected, rtol=1e-9, atol=1e-12)


def test_tensors_of_any_float_dtype():
    torch.manual_seed(3)
    module = torch.nn.GRU(3, 4, batch_first=True)
    x = torch.randn(2, 10, 3)
    for dtype in (torch.float16, torch.bfloat16):
        same(lyap.spectrum(module, x.to(dtype)), lyap.spectrum(module, x.to(dtype).float()))
        half = module.to(dtype)
        same(lyap.spectrum(half, x), lyap.spectrum(numpy_state(half.float()), x))
        module = module.float()
    same(lyap.spectrum(module, x.double()), lyap.spectrum(module, x.double().numpy()))


def test_float32_tensor_is_borrowed_without_a_copy():
    module = torch.nn.RNN(3, 4, batch_first=True)
    x = torch.randn(2, 10, 3)
    assert lyap.spectrum(module, x)._input_address == x.data_ptr()


def test_state_dict_of_a_larger_model_with_an_embedding(tmp_path):
    class CharModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(10, 3)
            self.lstm = torch.nn.LSTM(3, 4, batch_first=True)
            self.fc = torch.nn.Linear(4, 10)

    torch.manual_seed(4)
    model = CharModel()
    tokens = torch.randint(0, 10, (2, 12))
    x = model.emb(tokens).detach()
    a = lyap.spectrum(model.state_dict(), x)
    assert a.prefix == "lstm."
    same(a, lyap.spectrum(model.lstm, x))
    same(a, lyap.spectrum(dict(model.named_parameters()), x))


def test_bidirectional_and_proj_size_modules_are_refused():
    with pytest.raises(ValueError) as error:
        lyap.spectrum(torch.nn.LSTM(3, 4, bidirectional=True), torch.randn(5, 1, 3))
    assert "bidirectional recurrent layers are not supported" in str(error.value)
    with pytest.raises(ValueError) as error:
        lyap.spectrum(torch.nn.LSTM(3, 4, proj_size=2), torch.randn(5, 1, 3))
    assert "proj_size" in str(error.value)


def test_other_modules_and_integer_tensors_are_type_errors():
    with pytest.raises(TypeError) as error:
        lyap.spectrum(torch.nn.Linear(3, 4), torch.randn(5, 3))
    assert "pass its recurrent part" in str(error.value)
    with pytest.raises(TypeError):
        lyap.spectrum(torch.nn.GRU(3, 4), torch.zeros(5, 1, 3, dtype=torch.int64))


def test_a_module_matches_the_cli_on_its_safetensors_export(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch", reason="needs safetensors")
    torch.manual_seed(5)
    module = torch.nn.LSTM(3, 6, num_layers=2, batch_first=True)
    safetensors_torch.save_file(module.state_dict(), str(tmp_path / "m.safetensors"))
    x = torch.randn(3, 20, 3)
    np.save(tmp_path / "x.npy", x.numpy())
    run_cli("spectrum", "--model", tmp_path / "m.safetensors", "--inputs", tmp_path / "x.npy",
            "--warmup", "5", "--out", tmp_path / "cli.json")
    expected = json.loads((tmp_path / "cli.json").read_text())
    assert without_timing(lyap.spectrum(module, x, warmup=5).to_dict()) == without_timing(expected)
