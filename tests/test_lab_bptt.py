"""Chapter 14, gradients through time (docs/learn/14-gradients-through-time.md): each claim of
the page at a small size, and the page's code as written (slow)."""

import numpy as np
import pytest
from page_code import run_page

from numpynn import lab
from numpynn.lab.gradients_through_time import (
    factor_per_step,
    input_gradient_norms,
    scaled_matrix,
)
from numpynn.layers import LSTM, RNN

PAGE = "docs/learn/14-gradients-through-time.md"


def test_the_books_products_give_its_figures_numbers():
    """DLFS2 figures 6-8 and 6-9: 249.5 and 0.000238 after 20 products."""
    book = lab.book_gradient_norms(scales=(1.0, 0.5))
    assert book[1.0][-1] == pytest.approx(249.4956, rel=1e-5)
    assert book[0.5][-1] == pytest.approx(2.3794e-4, rel=1e-3)
    assert book[1.0][0] == pytest.approx(2.468, rel=1e-3)


def test_each_product_multiplies_the_norm_by_about_the_largest_eigenvalue():
    Wh = np.random.RandomState(3).randn(3, 3)
    radius = np.abs(np.linalg.eigvals(Wh)).max()
    book = lab.book_gradient_norms(scales=(1.0, 0.5, 2.0))
    for scale, norms in book.items():
        assert factor_per_step(norms) == pytest.approx(scale * radius, rel=0.05)


def test_the_input_gradient_is_the_layers_own_backward():
    """input_gradient_norms reads dL/dx_t of L = sum(h_T); checked against a difference
    quotient of the loss for one input."""
    x = np.random.default_rng(0).normal(size=(2, 6, 3))
    layer = RNN(3, 4, dtype=np.float64, seed=0)
    h = layer.forward(x, training=True)
    dx = layer.backward(np.ones_like(h)).copy()
    eps, (i, t, k) = 1e-6, (1, 2, 0)
    up, down = x.copy(), x.copy()
    up[i, t, k] += eps
    down[i, t, k] -= eps
    numeric = (layer.forward(up).sum() - layer.forward(down).sum()) / (2 * eps)
    assert dx[i, t, k] == pytest.approx(numeric, rel=1e-6)
    norms = input_gradient_norms(layer, x)
    assert norms.shape == (6,)
    assert norms[t] == pytest.approx(np.linalg.norm(dx[:, t]) / 2)


def small_layers():
    return lab.recurrent_gradients(scales=(0.5, 2.0), forget_biases=(0.0, 2.0), steps=30)


def test_the_rnns_gradient_vanishes_for_a_small_wh_and_explodes_for_a_large_one():
    layers = small_layers()
    assert factor_per_step(layers["rnn"][0.5][::-1]) < 0.7
    assert factor_per_step(layers["rnn"][2.0][::-1]) > 1.05
    assert layers["rnn"][2.0][0] > 10 * layers["rnn"][2.0][-1]  # step 1 against step T


def test_the_lstm_with_the_same_large_wh_does_not_explode():
    layers = small_layers()
    lstm, rnn = layers["lstm"][2.0], layers["rnn"][2.0]
    assert factor_per_step(lstm[::-1]) < 1.0 < 1.05 < factor_per_step(rnn[::-1])
    assert lstm.max() < 2 * lstm[-1]
    # with a small Wh it vanishes more slowly than the RNN
    assert factor_per_step(layers["lstm"][0.5][::-1]) > factor_per_step(layers["rnn"][0.5][::-1])


def test_opening_the_forget_gates_slows_the_lstms_vanishing():
    layers = small_layers()
    shut, open_ = (factor_per_step(layers["forget"][b][::-1]) for b in (0.0, 2.0))
    assert shut < 0.75 < 0.85 < open_ < 1.0


def test_scaled_matrix_has_about_the_scale_as_spectral_radius():
    radius = np.abs(np.linalg.eigvals(scaled_matrix(64, 2.0, seed=1))).max()
    assert radius == pytest.approx(2.0, rel=0.15)


def test_the_lstm_default_weights_are_pytorchs_with_a_raised_forget_bias_only_in_its_block():
    """recurrent_gradients raises b[H:2H], the forget gate in torch's order i, f, g, o."""
    layer = LSTM(8, 16, dtype=np.float64, seed=0)
    a = np.random.default_rng(0).normal(size=(1, 1, 8))
    layer.forward(a)
    before = layer.gates[0, 0].copy()
    layer.b[16:32] += 2.0
    layer.forward(a)
    changed = ~np.isclose(layer.gates[0, 0], before)
    assert changed[16:32].all() and not changed[:16].any() and not changed[32:].any()


def test_clipping_caps_every_step_and_keeps_the_run_from_blowing_up():
    clipping = lab.clipping_runs(clipnorm=1.0, epochs=4, n=256)
    plain, clipped = clipping["plain"], clipping["clipped"]
    assert clipped["clipped_norm"].max() <= 1.0 + 1e-9
    assert clipped["norm"].max() > 10  # the gradients themselves still explode
    assert np.array_equal(plain["clipped_norm"], plain["norm"])  # no clipping: no cap
    assert plain["norm"].max() > 1e4
    assert clipped["loss"][-16:].mean() < clipped["loss"][:4].mean()
    blown_up = plain["loss"][-16:].mean() > 10 * max(clipped["loss"][-16:].mean(), plain["loss"][0])
    assert plain["diverged"] or blown_up


def test_the_summary_names_every_case():
    numbers = {
        "book": lab.book_gradient_norms(),
        "layers": small_layers(),
        "clipping": lab.clipping_runs(epochs=1, n=64),
    }
    text = lab.CHAPTERS["bptt"].summary(numbers)
    assert "book, Wh x 0.5" in text and "RNN, Wh x 2" in text and "forget bias + 2" in text
    assert "training, clipped" in text


@pytest.mark.slow
def test_the_pages_code_runs_as_written_and_its_claims_hold(tmp_path):
    ns = run_page(PAGE, tmp_path)
    assert round(ns["book"][1.0][-1], 1) == 249.5
    assert float(ns["book"][0.5][-1]) == pytest.approx(0.000238, rel=1e-3)
    assert round(factor_per_step(ns["norms"][::-1]), 2) == 1.11
    layers = ns["layers"]
    factors = {s: factor_per_step(v[::-1]) for s, v in layers["rnn"].items()}
    assert round(factors[0.5], 2) == 0.43 and round(factors[2.0], 2) == 1.11
    assert round(factor_per_step(layers["lstm"][2.0][::-1]), 2) == 1.00
    rnn = layers["rnn"][2.0]
    assert round(rnn[-1], 2) == 0.57 and round(rnn[0]) == 113  # 200-fold
    assert 0.17 < layers["lstm"][2.0][-1] < layers["lstm"][2.0][0] < 0.2
    forget = [round(factor_per_step(layers["forget"][b][::-1]), 2) for b in (0.0, 1.0, 2.0)]
    assert forget == [0.61, 0.82, 0.94]
    clipping = ns["clipping"]
    assert clipping["plain"]["norm"].max() > 1e14
    assert clipping["clipped"]["clipped_norm"].max() == pytest.approx(1.0)
    assert clipping["clipped"]["loss"][-16:].mean() == pytest.approx(0.77, abs=0.005)
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "bptt-book.png",
        "bptt-layers.png",
        "bptt-clipping.png",
    }
