"""The issue's convnet trains exactly as PyTorch's does: in float64, from the same weights and
batches, numpynn's SGD steps give PyTorch's losses and parameters (torch is a dev dependency,
the CPU build of the ``bench`` extra)."""

import numpy as np
import torch

import numpynn as nn
from numpynn import losses


def network():
    layers = [
        nn.Conv2D(1, 4, 3, padding=1, seed=0, dtype=np.float64),
        nn.BatchNorm(4, dtype=np.float64),
        nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Conv2D(4, 6, 3, stride=2, padding=1, seed=1, dtype=np.float64),
        nn.BatchNorm(6, dtype=np.float64),
        nn.ReLU(),
        nn.AvgPool2D(2),
        nn.Flatten(),
        nn.Dense(6 * 2 * 2, 10, seed=2, dtype=np.float64),
    ]
    rng = np.random.default_rng(3)
    for layer in layers:
        for name in layer.params:  # not the usual ones and zeros: every parameter matters
            getattr(layer, name)[...] += 0.1 * rng.standard_normal(getattr(layer, name).shape)
    return layers


def torch_network(layers):
    modules = []
    for layer in layers:
        if isinstance(layer, nn.Conv2D):
            m = torch.nn.Conv2d(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                layer.stride,
                layer.padding,
            )
            m.weight.data, m.bias.data = torch.tensor(layer.W), torch.tensor(layer.b)
        elif isinstance(layer, nn.BatchNorm):
            m = torch.nn.BatchNorm2d(layer.num_features, layer.eps, 1 - layer.momentum)
            m.weight.data, m.bias.data = torch.tensor(layer.gamma), torch.tensor(layer.beta)
        elif isinstance(layer, nn.Dense):
            m = torch.nn.Linear(layer.n_in, layer.n_out)
            m.weight.data, m.bias.data = torch.tensor(layer.W.T), torch.tensor(layer.b)
        else:
            m = {
                nn.ReLU: torch.nn.ReLU,
                nn.MaxPool2D: lambda: torch.nn.MaxPool2d(2),
                nn.AvgPool2D: lambda: torch.nn.AvgPool2d(2),
                nn.Flatten: torch.nn.Flatten,
            }[type(layer)]()
        modules.append(m)
    return torch.nn.Sequential(*modules).double()


def test_sgd_steps_match_pytorch_in_float64():
    rng = np.random.default_rng(0)
    X, y = rng.random((5, 16, 1, 16, 16)), rng.integers(0, 10, (5, 16))
    layers = network()
    module = torch_network(layers)
    loss = losses.CrossEntropy(from_logits=True)
    optimizer, torch_optimizer = nn.SGD(lr=0.1), torch.optim.SGD(module.parameters(), lr=0.1)
    params = [getattr(layer, p) for layer in layers for p in layer.params]
    grads = [getattr(layer, "d" + p) for layer in layers for p in layer.params]
    for xb, yb in zip(X, y, strict=True):
        out = xb
        for layer in layers:
            out = layer.forward(out, training=True)
        value = loss.forward(out, loss.prepare_targets(yb, 10, np.float64))
        grad = loss.backward()
        for layer in reversed(layers[1:]):
            grad = layer.backward(grad)
        layers[0].backward_params(grad)
        optimizer.step(params, grads)
        torch_optimizer.zero_grad()
        expected = torch.nn.functional.cross_entropy(module(torch.tensor(xb)), torch.tensor(yb))
        expected.backward()
        torch_optimizer.step()
        assert np.isclose(value, expected.item(), rtol=1e-12)
    torch_params = [p.detach().numpy() for p in module.parameters()]
    ours = [p.T if p.ndim == 2 else p for p in params]  # Dense's W is (n_in, n_out)
    for p, q in zip(ours, torch_params, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)
    # At inference BatchNorm uses the running averages; PyTorch's running variance divides
    # by count - 1, numpynn's (like DLFS's) by the count: equal up to that factor.
    for layer, m in zip(layers, module, strict=True):
        if isinstance(layer, nn.BatchNorm):
            np.testing.assert_allclose(layer.running_mean, m.running_mean.numpy(), rtol=1e-12)
            assert np.all(layer.running_var <= m.running_var.numpy())
