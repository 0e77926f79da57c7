"""Optimisers: each update rule against its formula, computed by hand."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import numpynn as nn
from numpynn.io import load_checkpoint, save_checkpoint


def run(optimizer, grads):
    """Apply successive gradients to p = [1, -2] (a (1, 2) weight) and return p."""
    p = np.array([[1.0, -2.0]])
    for g in grads:
        optimizer.step([p], [np.array([g])])
    return p[0]


G = [[0.5, -1.0], [0.25, 2.0]]


def test_sgd():
    assert_allclose(run(nn.SGD(lr=0.1), G), [1 - 0.1 * 0.75, -2 - 0.1 * 1.0])


def test_momentum():
    v1 = -0.1 * np.array(G[0])
    v2 = 0.9 * v1 - 0.1 * np.array(G[1])
    assert_allclose(run(nn.SGD(lr=0.1, momentum=0.9), G), np.array([1, -2]) + v1 + v2)


def test_nesterov():
    p = np.array([1.0, -2.0])
    v = np.zeros(2)
    for g in map(np.array, G):
        v = 0.9 * v - 0.1 * g
        p = p + 0.9 * v - 0.1 * g
    assert_allclose(run(nn.SGD(lr=0.1, momentum=0.9, nesterov=True), G), p)


def test_adagrad():
    p, h = np.array([1.0, -2.0]), np.zeros(2)
    for g in map(np.array, G):
        h += g * g
        p = p - 0.1 * g / (np.sqrt(h) + 1e-8)
    assert_allclose(run(nn.AdaGrad(lr=0.1), G), p)


def test_rmsprop():
    p, h = np.array([1.0, -2.0]), np.zeros(2)
    for g in map(np.array, G):
        h = 0.9 * h + 0.1 * g * g
        p = p - 0.01 * g / (np.sqrt(h) + 1e-8)
    assert_allclose(run(nn.RMSProp(lr=0.01), G), p)


def test_adam():
    p, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    for t, g in enumerate(map(np.array, G), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    optimizer = nn.Adam(lr=0.01)
    assert_allclose(run(optimizer, G), p)
    assert optimizer.t == 2


def test_weight_decay_adds_l2_gradient_to_weights_but_not_biases():
    W, b = np.array([[2.0]]), np.array([2.0])
    nn.SGD(lr=0.1, weight_decay=0.5).step([W, b], [np.zeros((1, 1)), np.zeros(1)])
    assert W[0, 0] == pytest.approx(2 - 0.1 * 0.5 * 2)
    assert b[0] == 2.0


def test_state_is_kept_per_parameter():
    optimizer = nn.Adam()
    params = [np.ones((2, 3)), np.ones(3)]
    optimizer.step(params, [np.ones((2, 3)), np.ones(3)])
    assert [m.shape for m in optimizer.state["m"]] == [(2, 3), (3,)]
    assert [v.shape for v in optimizer.state["v"]] == [(2, 3), (3,)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.SGD(lr=0), "lr must be a finite number > 0, got 0"),
        (lambda: nn.Adam(lr=-1e-3), "lr must be a finite number > 0, got -0.001"),
        (lambda: nn.SGD(lr=float("nan")), "lr must be a finite number > 0, got nan"),
        (lambda: nn.SGD(momentum=1.0), r"momentum must be in \[0, 1\), got 1.0"),
        (lambda: nn.SGD(nesterov=True), "nesterov=True needs a momentum > 0"),
        (lambda: nn.Adam(beta1=1.5), r"beta1 must be in \[0, 1\), got 1.5"),
        (lambda: nn.RMSProp(weight_decay=-1), "weight_decay must be a finite number >= 0"),
        (lambda: nn.RMSProp(rho=1.0), r"rho must be in \[0, 1\), got 1.0"),
        (lambda: nn.RMSProp(eps=0.0), "eps must be a finite number > 0, got 0.0"),
        (lambda: nn.AdaGrad(eps=-1e-8), "eps must be a finite number > 0, got -1e-08"),
        (lambda: nn.Adam(beta2=-0.1), r"beta2 must be in \[0, 1\), got -0.1"),
        (lambda: nn.Adam(eps=float("inf")), "eps must be a finite number > 0, got inf"),
        (lambda: nn.optimizers.get("lion"), "optimizer must be an Optimizer or one of"),
        (lambda: nn.AdamW(weight_decay=-0.1), "weight_decay must be a finite number >= 0"),
        (
            lambda: nn.SGD(clipnorm=0),
            r"clipnorm must be None \(no clipping\) or a finite number > 0, got 0",
        ),
        (lambda: nn.Adam(clipnorm=-1.0), "clipnorm must be None .* got -1.0"),
        (lambda: nn.AdamW(clipnorm=float("inf")), "clipnorm must be None .* got inf"),
        (lambda: nn.RMSProp(clipnorm=float("nan")), "clipnorm must be None .* got nan"),
        (lambda: nn.AdaGrad(clipnorm="1"), "clipnorm must be None .* got '1'"),
        (lambda: nn.SGD(clipnorm=True), "clipnorm must be None .* got True"),
    ],
)
def test_bad_hyper_parameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


OPTIMIZERS = [nn.SGD, nn.AdaGrad, nn.RMSProp, nn.Adam]  # the ones with an L2 weight_decay


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_every_optimizer_adds_its_weight_decay_to_the_weights_gradient(cls):
    """With weight_decay the step is the one for the gradient g + weight_decay * W."""
    W, g = np.array([[2.0, -1.0]]), np.array([[0.5, 0.25]])
    decayed, plain = W.copy(), W.copy()
    cls(lr=0.1, weight_decay=0.5).step([decayed], [g])
    cls(lr=0.1).step([plain], [g + 0.5 * W])
    assert_allclose(decayed, plain, rtol=1e-15)
    assert not np.allclose(decayed, W - 0.1 * g)  # the decay made a difference


@pytest.mark.parametrize(
    ("cls", "defaults"),
    [
        (nn.SGD, {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}),
        (nn.AdaGrad, {"lr": 0.01, "eps": 1e-8, "weight_decay": 0.0}),
        (nn.RMSProp, {"lr": 0.001, "rho": 0.9, "eps": 1e-8, "weight_decay": 0.0}),
        (
            nn.Adam,
            {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
        ),
        (  # torch.optim.AdamW's defaults
            nn.AdamW,
            {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}
            | {"decay_all": False},
        ),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_default_hyper_parameters_are_the_textbook_ones(cls, defaults):
    assert cls().config() == defaults


def test_optimizers_show_their_settings():
    assert repr(nn.SGD(lr=0.5, momentum=0.9)) == (
        "SGD(lr=0.5, weight_decay=0.0, momentum=0.9, nesterov=False)"
    )


def test_only_optimizers_with_memory_keep_state():
    """Plain SGD keeps nothing between steps; momentum keeps a velocity per parameter."""
    params, grads = [np.ones((2, 2))], [np.ones((2, 2))]
    plain, momentum = nn.SGD(lr=0.1), nn.SGD(lr=0.1, momentum=0.9)
    plain.step(params, grads)
    momentum.step(params, grads)
    assert plain.state == {}
    assert list(momentum.state) == ["velocity"]


ALL_OPTIMIZERS = [*OPTIMIZERS, nn.AdamW]


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_config_round_trips_with_every_setting(cls):
    settings = {"lr": 0.02, "weight_decay": 0.125, "clipnorm": 0.5}
    if cls is nn.AdamW:
        settings["decay_all"] = True
    optimizer = cls(**settings)
    assert optimizer.config().items() >= settings.items()
    assert cls(**optimizer.config()).config() == optimizer.config()


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_clipnorm_is_in_the_settings_only_when_set(cls):
    """Without it, the settings (and the checkpoints holding them) are those from before."""
    assert "clipnorm" not in cls().config()
    assert cls(clipnorm=2).config()["clipnorm"] == 2.0
    assert repr(cls(clipnorm=2)).count("clipnorm=2.0") == 1


def test_optimizers_are_found_by_name():
    assert nn.optimizers.OPTIMIZERS["adamw"] is nn.AdamW
    assert isinstance(nn.optimizers.get("adamw"), nn.AdamW)
    assert nn.optimizers.get("adamw").config() == nn.AdamW().config()


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_clipnorm_steps_as_with_the_gradients_scaled_to_that_norm(cls):
    """||g|| = 5 over both arrays: clipnorm 1 is the step for g / 5 (up to the 1e-6 of
    clip_grad_norm_'s clip_coef = max_norm / (||g|| + 1e-6)); the gradients' arrays keep
    their values."""
    grads = [np.array([[3.0, 0.0]]), np.array([0.0, 4.0])]
    kept = [g.copy() for g in grads]
    clipped, by_hand = [np.ones((1, 2)), np.ones(2)], [np.ones((1, 2)), np.ones(2)]
    cls(lr=0.1, clipnorm=1.0).step(clipped, grads)
    cls(lr=0.1).step(by_hand, [g * (1 / (5 + 1e-6)) for g in grads])
    for p, q in zip(clipped, by_hand, strict=True):
        assert_allclose(p, q, rtol=1e-15)
    for g, k in zip(grads, kept, strict=True):
        assert np.array_equal(g, k)


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_clipnorm_leaves_smaller_gradients_alone(cls):
    """||g|| = 5 <= clipnorm 6: the same step, bit for bit, as without clipping."""
    grads = [np.array([[3.0, 0.0]]), np.array([0.0, 4.0])]
    clipped, plain = [np.ones((1, 2)), np.ones(2)], [np.ones((1, 2)), np.ones(2)]
    cls(lr=0.1, clipnorm=6.0).step(clipped, grads)
    cls(lr=0.1).step(plain, grads)
    for p, q in zip(clipped, plain, strict=True):
        assert np.array_equal(p, q)


def test_clipping_comes_before_the_l2_term():
    """As torch: clip_grad_norm_ on the gradients, then the optimiser adds weight_decay * W."""
    W, g = np.array([[2.0, 0.0]]), np.array([[3.0, 4.0]])
    clipped, by_hand = W.copy(), W.copy()
    nn.SGD(lr=0.1, weight_decay=0.5, clipnorm=1.0).step([clipped], [g])
    nn.SGD(lr=0.1).step([by_hand], [g / (5 + 1e-6) + 0.5 * W])
    assert_allclose(clipped, by_hand, rtol=1e-15)


def test_adamw_decays_the_weights_then_takes_the_adam_step():
    """p <- p (1 - lr wd), then Adam's step from g alone: on matrices, not on vectors."""
    W, b = np.array([[1.0, -2.0]]), np.array([1.0, -2.0])
    gW, gb = np.array([[0.5, -1.0]]), np.array([0.5, -1.0])
    adam_W, adam_b = W * (1 - 0.01 * 0.1), b.copy()
    nn.Adam(lr=0.01).step([adam_W, adam_b], [gW, gb])
    nn.AdamW(lr=0.01, weight_decay=0.1).step([W, b], [gW, gb])
    assert_allclose(W, adam_W, rtol=1e-15)
    assert_allclose(b, adam_b, rtol=1e-15)


def test_adamw_decay_all_decays_vectors_too():
    b, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
    decayed, plain = b.copy(), b.copy()
    nn.AdamW(lr=0.01, weight_decay=0.1, decay_all=True).step([decayed], [g])
    nn.AdamW(lr=0.01, weight_decay=0.1).step([plain], [g])
    adam = b.copy()
    nn.Adam(lr=0.01).step([adam], [g])
    assert np.array_equal(plain, adam)
    assert_allclose(decayed, adam - 0.01 * 0.1 * b, rtol=1e-15)


def test_adamw_adds_no_l2_term_to_the_gradient():
    """weight_decay=0 is Adam exactly; with decay the moments see the raw gradient."""
    W, g = np.array([[1.0, -2.0]]), np.array([[0.5, -1.0]])
    adamw, adam = nn.AdamW(lr=0.01, weight_decay=0.1), nn.Adam(lr=0.01)
    adamw.step([W.copy()], [g])
    adam.step([W.copy()], [g])
    assert np.array_equal(adamw.state["m"][0], adam.state["m"][0])
    assert np.array_equal(adamw.state["v"][0], adam.state["v"][0])
    no_decay, plain = W.copy(), W.copy()
    nn.AdamW(lr=0.01, weight_decay=0.0).step([no_decay], [g])
    nn.Adam(lr=0.01).step([plain], [g])
    assert np.array_equal(no_decay, plain)


# Three steps of each optimiser (weight decay on, clipnorm None) from the code before clipnorm
# and AdamW existed, as float.hex: element-wise IEEE arithmetic, the same on every machine.
BEFORE_CLIPNORM = {
    "sgd": [
        "-0x1.cfd196a7a60ecp-1",
        "-0x1.5f65dc34c1c02p-2",
        "-0x1.867ede5e1f670p+0",
        "-0x1.ef923b8118b1fp-1",
        "0x1.a141f3ccc8fc5p-1",
        "-0x1.5b8b0d36168e9p+0",
        "-0x1.655fb32f2afa0p-3",
        "0x1.8e1da9adf9b83p+0",
    ],
    "adagrad": [
        "-0x1.2626a870438efp+0",
        "-0x1.f25168dfa648ap-1",
        "-0x1.64dd66bef3d96p+0",
        "-0x1.69854567bc687p-1",
        "0x1.601ad7f80ac43p+0",
        "-0x1.90d6292aa17abp+0",
        "0x1.741b208ed634cp-1",
        "0x1.7681aeec01f06p+0",
    ],
    "rmsprop": [
        "-0x1.516aef5a92756p+0",
        "-0x1.2153d35e528aep+0",
        "-0x1.54de4d9805525p+0",
        "-0x1.4c50eb187a5bcp-1",
        "0x1.6cebe40ec0000p+0",
        "-0x1.96be84e34ca04p+0",
        "0x1.bf5192225295cp-1",
        "0x1.53c0f8fb984e4p+0",
    ],
    "adam": [
        "-0x1.5e58ebaf403c5p+0",
        "-0x1.2ce6b4c4040a6p+0",
        "-0x1.4fb6e216d9f3dp+0",
        "-0x1.482da01946d60p-1",
        "0x1.6d51164a0e9f9p+0",
        "-0x1.9a91ed50cd1fep+0",
        "0x1.d479aa0bd36fap-1",
        "0x1.4a23b63341704p+0",
    ],
}
MAKE_FOR_BEFORE = {
    "sgd": lambda: nn.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adagrad": lambda: nn.AdaGrad(lr=0.1, weight_decay=0.01),
    "rmsprop": lambda: nn.RMSProp(lr=0.01, weight_decay=0.01),
    "adam": lambda: nn.Adam(lr=0.01, weight_decay=0.01),
}


@pytest.mark.parametrize("name", list(BEFORE_CLIPNORM))
def test_without_clipnorm_the_steps_are_bit_identical_to_before(name):
    rng = np.random.default_rng(22)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    optimizer = MAKE_FOR_BEFORE[name]()
    for _ in range(3):
        optimizer.step(params, [rng.standard_normal((3, 2)), rng.standard_normal(2)])
    assert [float(x).hex() for p in params for x in p.ravel()] == BEFORE_CLIPNORM[name]


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.AdamW(lr=0.01, weight_decay=0.05, clipnorm=0.5),
        lambda: nn.AdamW(lr=0.01, weight_decay=0.05, decay_all=True),
        lambda: nn.SGD(lr=0.05, momentum=0.9, weight_decay=1e-3, clipnorm=0.5),
    ],
    ids=["adamw-clipnorm", "adamw-decay-all", "sgd-clipnorm"],
)
def test_a_checkpoint_resumes_bit_for_bit(tmp_path, make):
    """fit 2 epochs == fit 1, save_checkpoint, load_checkpoint, fit 1 more (clipping on)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 6))
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)

    def fit(model, optimizer, seed, epochs):
        return model.fit(X, y, optimizer=optimizer, epochs=epochs, batch_size=16, seed=seed)

    def new_model():
        return nn.mlp([6, 16, 3], dropout=0.2, dtype=np.float64, seed=1)

    straight = new_model()
    history = fit(straight, make(), np.random.default_rng(7), epochs=2)

    first, optimizer, seed = new_model(), make(), np.random.default_rng(7)
    first_history = fit(first, optimizer, seed, epochs=1)
    save_checkpoint(tmp_path / "ckpt.npz", first, optimizer, seed, 1, first_history)
    ckpt = load_checkpoint(tmp_path / "ckpt.npz")
    assert type(ckpt.optimizer) is type(optimizer)
    assert ckpt.optimizer.config() == optimizer.config()
    more = fit(ckpt.model, ckpt.optimizer, ckpt.rng, epochs=1)

    assert {k: ckpt.history[k] + more[k] for k in more} == history
    for p, q in zip(straight.parameters(), ckpt.model.parameters(), strict=True):
        assert np.array_equal(p, q)


def test_clipnorm_clips_in_training():
    """The resume test above clips: the gradients' norm exceeds clipnorm 0.5 in that fit."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 6))
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
    clipped, plain = (nn.mlp([6, 16, 3], dtype=np.float64, seed=1) for _ in range(2))
    clipped.fit(X, y, optimizer=nn.AdamW(lr=0.01, clipnorm=0.5), epochs=1, batch_size=16, seed=7)
    plain.fit(X, y, optimizer=nn.AdamW(lr=0.01), epochs=1, batch_size=16, seed=7)
    assert not np.array_equal(clipped.parameters()[0], plain.parameters()[0])
