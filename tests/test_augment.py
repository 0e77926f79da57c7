"""random_shift: every image moved by its own seeded whole-pixel shift, exactly resumable."""

import numpy as np
import pytest

from numpynn.datasets import random_shift


def shift_one(image, dy, dx):
    """The reference: move one (..., H, W) image by (dy, dx), zeros shifted in."""
    H, W = image.shape[-2:]
    out = np.zeros_like(image)
    for r in range(H):
        for c in range(W):
            if 0 <= r - dy < H and 0 <= c - dx < W:
                out[..., r, c] = image[..., r - dy, c - dx]
    return out


def images(n=40, C=2, H=6, W=5, seed=0):
    return np.random.default_rng(seed).random((n, C, H, W), dtype=np.float32)


def test_each_image_is_moved_by_the_shift_drawn_for_it():
    X = images()
    out = random_shift(X, 2, np.random.default_rng(7))
    shifts = np.random.default_rng(7).integers(-2, 3, size=(len(X), 2))
    for x, o, (dy, dx) in zip(X, out, shifts, strict=True):
        np.testing.assert_array_equal(o, shift_one(x, dy, dx))


def test_all_shifts_up_to_max_shift_occur():
    X = np.zeros((2000, 1, 5, 5), np.float32)
    X[:, 0, 2, 2] = 1  # a dot in the middle: its new place is the shift
    out = random_shift(X, 2, np.random.default_rng(0))
    seen = {divmod(int(place), 5) for place in out[:, 0].reshape(2000, 25).argmax(axis=1)}
    assert seen == {(2 + dy, 2 + dx) for dy in range(-2, 3) for dx in range(-2, 3)}
    assert out.sum() == 2000  # no dot lost: a shift of 2 keeps the middle pixel inside


def test_the_same_seed_gives_the_same_shifts_and_the_input_is_untouched():
    X = images()
    before = X.copy()
    a = random_shift(X, 3, np.random.default_rng(1))
    b = random_shift(X, 3, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, before)
    assert a.dtype == X.dtype and a.shape == X.shape
    assert not np.array_equal(a, random_shift(X, 3, np.random.default_rng(2)))


def test_a_generator_restored_from_its_saved_state_continues_exactly():
    """Resuming after epoch 1 from the generator's saved state gives epoch 2's images."""
    X = images()
    rng = np.random.default_rng(5)
    random_shift(X, 2, rng)  # epoch 1
    saved = rng.bit_generator.state
    epoch2 = random_shift(X, 2, rng)
    resumed = np.random.default_rng(0)
    resumed.bit_generator.state = saved
    np.testing.assert_array_equal(random_shift(X, 2, resumed), epoch2)


def test_max_shift_zero_is_a_copy():
    X = images()
    out = random_shift(X, 0, np.random.default_rng(0))
    np.testing.assert_array_equal(out, X)
    assert out is not X


def test_three_axis_images_work_too():
    X = images(C=1)[:, 0]  # (n, H, W)
    out = random_shift(X, 1, np.random.default_rng(3))
    shifts = np.random.default_rng(3).integers(-1, 2, size=(len(X), 2))
    np.testing.assert_array_equal(out[0], shift_one(X[0], *shifts[0]))


@pytest.mark.parametrize(
    ("X", "max_shift", "error", "message"),
    [
        (np.zeros((4, 784)), 2, ValueError, r"images X of shape \(n, ..., H, W\), got \(4, 784\)"),
        (np.zeros((4, 1, 5, 5)), 5, ValueError, r"max_shift must be an integer in 0..4 for 5x5"),
        (np.zeros((4, 1, 5, 5)), -1, ValueError, "got -1"),
        (np.zeros((4, 1, 5, 5)), 1.5, ValueError, "got 1.5"),
    ],
)
def test_bad_arguments_name_the_function_and_the_value(X, max_shift, error, message):
    with pytest.raises(error, match=message):
        random_shift(X, max_shift, np.random.default_rng(0))
