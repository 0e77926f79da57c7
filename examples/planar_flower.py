"""Worked example 6: one hidden layer trained by gradient descent on the planar "flower".

A 2 -> 4 -> 1 network (tanh hidden, sigmoid output), weights N(0, 1) * 0.01, zero biases,
binary cross-entropy, full-batch gradient descent with learning rate 1.2 for 10,000
iterations; the cost is printed every 1,000. Then the hidden size is varied.
"""

import numpy as np

import numpynn as nn


def planar_network(n_hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Dense(2, n_hidden, init="normal", dtype=np.float64, seed=2),
        nn.Tanh(),
        nn.Dense(n_hidden, 1, init="normal", dtype=np.float64, seed=3),
        nn.Sigmoid(),
    )


X, y = nn.datasets.flower()  # 400 points, 2 classes
logistic = nn.Sequential(nn.Dense(2, 1, dtype=np.float64, seed=0), nn.Sigmoid())
logistic.fit(X, y, optimizer=nn.SGD(lr=1.2), epochs=2000, batch_size=None)
print(f"logistic regression: {np.mean(logistic.predict(X) == y):.0%} training accuracy")

model = planar_network(4)
history = model.fit(
    X,
    y,
    loss=nn.BinaryCrossEntropy(),
    optimizer=nn.SGD(lr=1.2),
    epochs=10_000,
    batch_size=None,  # full batch: one gradient step per epoch
    seed=3,
    callbacks=[nn.PrintProgress(every=1000)],
)
print(f"2-4-1 network: {np.mean(model.predict(X) == y):.0%} training accuracy")

print("\nhidden units -> training accuracy (5,000 iterations)")
for n_hidden in (1, 2, 3, 4, 5, 20, 50):
    net = planar_network(n_hidden)
    net.fit(X, y, optimizer=nn.SGD(lr=1.2), epochs=5000, batch_size=None, seed=3)
    print(f"{n_hidden:12} -> {np.mean(net.predict(X) == y):.1%}")
