"""Worked example 4: the textbook three-layer network (2 -> 3 -> 2 -> 2) with given weights."""

import numpy as np

import numpynn as nn

W1, b1 = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], [0.1, 0.2, 0.3]
W2, b2 = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]], [0.1, 0.2]
W3, b3 = [[0.1, 0.3], [0.2, 0.4]], [0.1, 0.2]


def network(output: nn.Layer) -> nn.Sequential:
    net = nn.Sequential(
        nn.Dense(2, 3, dtype=np.float64),
        nn.Sigmoid(),
        nn.Dense(3, 2, dtype=np.float64),
        nn.Sigmoid(),
        nn.Dense(2, 2, dtype=np.float64),
        output,
    )
    for layer, (W, b) in zip(net.dense_layers, [(W1, b1), (W2, b2), (W3, b3)], strict=True):
        layer.W[...] = W  # parameters are plain ndarrays named W and b
        layer.b[...] = b
    return net


np.set_printoptions(precision=8)
x = np.array([[1.0, 0.5]])
net = network(nn.Identity())
print("identity output y =", net.forward(x)[0])
print("  a1 =", net.layers[0].forward(x)[0], " z1 = sigmoid(a1) =", net.layers[1].y[0])
print("  z2 =", net.layers[3].y[0])

net = network(nn.Softmax())
batch = np.array([[2.0, 1.0], [1.0, 0.5]])
for row, out in zip(batch, net.forward(batch), strict=True):
    print(f"softmax output for x = {row}: {out}")
