"""Named, counter-based random streams derived from a run's seed.

Every draw is a pure function of (run seed, stream name, keys), where the keys are
integers such as a beneficiary id, a month index or a point-day index. Nothing depends on
the order of draws or on how many other entities exist, so:

* adding a beneficiary, a module or a stream never shifts anyone else's draws
  (common random numbers survive scenario changes, as in starsim);
* serial and parallel runs draw the same numbers.

The generator is splitmix64 applied to a hash of the keys: fast on numpy uint64 arrays and
statistically strong enough for simulation (it passes BigCrush as a counter-based generator).
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.special import ndtri

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TO_UNIT = 1.0 / float(1 << 53)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place on a uint64 array (wraps modulo 2**64 by design)."""
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def _name_key(seed: int, name: str) -> int:
    digest = hashlib.sha256(f"{int(seed)}|{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


class Stream:
    """One named stream. Draws are indexed by integer keys, broadcast as numpy arrays."""

    __slots__ = ("name", "_key")

    def __init__(self, name: str, key: int) -> None:
        self.name = name
        self._key = np.uint64(key)

    def bits(self, *keys: np.ndarray | int) -> np.ndarray:
        with np.errstate(over="ignore"):
            shape = np.broadcast_shapes(*(np.shape(k) for k in keys))
            first = keys[0] if keys else None
            if (
                isinstance(first, np.ndarray)
                and first.shape == shape
                and first.dtype.kind in "iu"
                and first.itemsize == 8
            ):
                # fast path, same bits: (key + golden + k) mod 2**64 in one pass, no copy of k
                z = first.view(np.uint64) + (self._key + _GOLDEN)
                _mix(z)
                rest = keys[1:]
            else:
                z = np.full(shape, self._key, np.uint64)
                rest = keys
            for k in rest:
                z += _GOLDEN
                if isinstance(k, np.ndarray) and k.dtype.kind in "iu" and k.itemsize == 8:
                    z += k.view(np.uint64)
                else:
                    z += np.asarray(k).astype(np.uint64, copy=False)
                _mix(z)
            return z

    def uniform(self, *keys: np.ndarray | int) -> np.ndarray:
        """U[0, 1) doubles, one per broadcast key."""
        return (self.bits(*keys) >> np.uint64(11)).astype(np.float64) * _TO_UNIT

    def bernoulli(self, p: np.ndarray | float, *keys: np.ndarray | int) -> np.ndarray:
        return self.uniform(*keys) < p

    def exponential(self, mean: np.ndarray | float, *keys: np.ndarray | int) -> np.ndarray:
        return -np.log1p(-self.uniform(*keys)) * mean

    def normal(self, *keys: np.ndarray | int) -> np.ndarray:
        u = self.uniform(*keys)
        return ndtri(np.clip(u, 1e-300, None))

    def lognormal_mean_cv(
        self, mean: np.ndarray | float, cv: np.ndarray | float, *keys: np.ndarray | int
    ) -> np.ndarray:
        """Lognormal with the given arithmetic mean and coefficient of variation."""
        sigma2 = np.log1p(np.square(cv))
        mu = np.log(mean) - sigma2 / 2.0
        return np.exp(mu + np.sqrt(sigma2) * self.normal(*keys))

    def categorical(self, probs: np.ndarray, *keys: np.ndarray | int) -> np.ndarray:
        """Index drawn from `probs` (1-D, summing to 1), one per broadcast key."""
        cum = np.cumsum(np.asarray(probs, dtype=np.float64))
        cum[-1] = 1.0
        return np.searchsorted(cum, self.uniform(*keys), side="right").astype(np.int64)

    def integers(self, high: np.ndarray | int, *keys: np.ndarray | int) -> np.ndarray:
        """Integers uniform on [0, high)."""
        return np.minimum((self.uniform(*keys) * high).astype(np.int64), np.asarray(high) - 1)


class Streams:
    """The run's streams, looked up by name: ``streams["cashout.service_time"]``.

    Each name maps to one stream; asking for the same name twice returns the same stream, so
    two parts of the model cannot silently share draws under different names.
    """

    def __init__(self, seed: int) -> None:
        if not 0 <= int(seed) < 2**63:
            raise ValueError(f"seed must be in [0, 2**63), got {seed}")
        self.seed = int(seed)
        self._streams: dict[str, Stream] = {}
        self._keys: dict[int, str] = {}

    def __getitem__(self, name: str) -> Stream:
        stream = self._streams.get(name)
        if stream is None:
            key = _name_key(self.seed, name)
            other = self._keys.get(key)
            if other is not None:  # a 64-bit collision; refuse rather than share draws
                raise ValueError(f"streams {name!r} and {other!r} collide")
            self._keys[key] = name
            stream = self._streams[name] = Stream(name, key)
        return stream

    @property
    def names(self) -> list[str]:
        return sorted(self._streams)
