"""Named random streams: deterministic, independent of how many draws or entities there are."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from welfare_sim.sim.streams import Streams


def test_same_seed_and_name_same_draws() -> None:
    a, b = Streams(5)["x"], Streams(5)["x"]
    ids = np.arange(1000)
    assert np.array_equal(a.uniform(ids, 3), b.uniform(ids, 3))


def test_draws_do_not_depend_on_other_entities() -> None:
    s = Streams(5)["x"]
    few = s.uniform(np.array([7, 9]), 2)
    many = s.uniform(np.arange(100_000), 2)
    assert np.array_equal(few, many[[7, 9]])


def test_names_seeds_and_keys_give_different_draws() -> None:
    ids = np.arange(10_000)
    base = Streams(5)["x"].uniform(ids, 1)
    for other in (Streams(5)["y"].uniform(ids, 1), Streams(6)["x"].uniform(ids, 1), Streams(5)["x"].uniform(ids, 2)):
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.05
        assert not np.array_equal(base, other)


def test_the_same_name_is_the_same_stream() -> None:
    streams = Streams(1)
    assert streams["a"] is streams["a"]
    assert streams.names == ["a"]


def test_distributions_have_the_right_shape() -> None:
    s = Streams(11)
    ids = np.arange(50_000)
    u = s["u"].uniform(ids)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    e = s["e"].exponential(3.0, ids)
    assert stats.kstest(e, "expon", args=(0, 3.0)).pvalue > 1e-3
    z = s["n"].normal(ids)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    ln = s["l"].lognormal_mean_cv(20.0, 0.5, ids)
    assert ln.mean() == pytest.approx(20.0, rel=0.02)
    assert ln.std() / ln.mean() == pytest.approx(0.5, rel=0.05)
    c = s["c"].categorical(np.array([0.2, 0.5, 0.3]), ids)
    assert np.bincount(c, minlength=3) / ids.size == pytest.approx([0.2, 0.5, 0.3], abs=0.01)
    k = s["k"].integers(np.full(ids.size, 4), ids)
    assert set(np.unique(k)) == {0, 1, 2, 3}


def test_seed_must_be_in_range() -> None:
    with pytest.raises(ValueError, match="seed"):
        Streams(-1)


def test_chunked_draws_equal_whole_array_hashing():
    """Long 1-D draws are hashed chunk by chunk; the numbers must be those of one whole-array pass,
    across chunk edges, for negative and narrow keys, and for scalar and broadcast keys."""
    from welfare_sim.sim.streams import _CHUNK, _TO_UNIT

    s = Streams(99)["any.stream"]
    n = 3 * _CHUNK + 5
    rng = np.random.default_rng(0)
    ids = rng.integers(-(2**62), 2**62, n)
    for keys in [(ids,), (ids, 4), (ids, rng.integers(0, 30, n).astype(np.int16), -1), (ids, np.array([7]))]:
        whole = s._bits_whole(keys, (n,))
        np.testing.assert_array_equal(s.bits(*keys), whole)
        np.testing.assert_array_equal(s.uniform(*keys), (whole >> np.uint64(11)).astype(np.float64) * _TO_UNIT)


@pytest.mark.parametrize("compiled", [True, False])
def test_compiled_and_numpy_hashes_give_the_same_numbers(compiled, monkeypatch):
    """The compiled hash (numba) and the numpy passes must give the same bits, for array, scalar,
    broadcast, read-only, strided and narrow keys, one to four of them (four: numpy only)."""
    import welfare_sim.sim.streams as smod

    if compiled and smod._hash is None:
        pytest.skip("numba is not installed")
    if not compiled:
        monkeypatch.setattr(smod, "_hash", None)
    s = Streams(7)["any.stream"]
    rng = np.random.default_rng(1)
    n = 2 * smod._CHUNK + 3
    ids = rng.integers(-(2**62), 2**62, 2 * n)
    frozen = ids[:n].copy()
    frozen.flags.writeable = False
    cases = [(ids[:n],), (ids[::2],), (frozen, 3), (np.int64(5), ids[:n]), (np.broadcast_to(ids[:1], (n,)), frozen),
             (ids[:n], rng.integers(0, 9, n).astype(np.int8), -2), (ids[:n], 1, 2, 3), (ids[:1], 4),
             (ids[:0], ids[:1]), (ids[:1], ids[:0], 2), (ids[:1], ids[:n])]
    for keys in cases:
        shape = np.broadcast_shapes(*(np.shape(k) for k in keys))
        whole = s._bits_whole(keys, shape)
        assert s.bits(*keys).tobytes() == whole.tobytes()
        expected = (whole >> np.uint64(11)).astype(np.float64) * smod._TO_UNIT
        assert s.uniform(*keys).tobytes() == expected.tobytes()
