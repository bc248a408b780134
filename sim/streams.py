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
import os

import numpy as np
from scipy.special import ndtri

try:  # the compiled hash; without numba (or with WELFARE_SIM_NO_NUMBA=1) numpy hashes
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; this keeps a broken install running
    numba = None

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TO_UNIT = 1.0 / float(1 << 53)


_CHUNK = 1 << 15  # draws hashed at a time: 256 KiB per uint64 buffer, within the L2 cache


def _mix(z: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """splitmix64 finaliser, in place on a uint64 array (wraps modulo 2**64 by design);
    `tmp`, a uint64 array of z's shape, spares the temporaries."""
    if tmp is None:
        tmp = np.empty_like(z)
    np.right_shift(z, _S30, out=tmp)
    z ^= tmp
    z *= _M1
    np.right_shift(z, _S27, out=tmp)
    z ^= tmp
    z *= _M2
    np.right_shift(z, _S31, out=tmp)
    z ^= tmp
    return z


_COMPILED_KEYS = 3  # draws with up to this many keys are hashed by the compiled kernel


def _step_py(z: np.ndarray, k: np.ndarray, step: int) -> None:
    """One key into the running hashes: z = mix(z + golden + key). Two plain loops (one key for
    all draws, or one per draw), so that the compiler vectorises them."""
    if step == 0:
        kk = k[0]
        for i in range(z.shape[0]):
            x = z[i] + _GOLDEN + kk
            x ^= x >> _S30
            x *= _M1
            x ^= x >> _S27
            x *= _M2
            x ^= x >> _S31
            z[i] = x
    else:
        for i in range(z.shape[0]):
            x = z[i] + _GOLDEN + k[i]
            x ^= x >> _S30
            x *= _M1
            x ^= x >> _S27
            x *= _M2
            x ^= x >> _S31
            z[i] = x


def _hash_py(
    seed: np.uint64, k0: np.ndarray, s0: int, k1: np.ndarray, s1: int, k2: np.ndarray, s2: int, n_keys: int,
    out_bits: np.ndarray, out_unit: np.ndarray, unit: bool,
) -> None:
    """splitmix64 over up to three keys (the compiled kernel): the same uint64 operations as
    the numpy passes, so the same numbers. Key j of draw i is kj[i] (sj = 1) or kj[0] (sj = 0)."""
    n = out_unit.shape[0] if unit else out_bits.shape[0]
    buf = np.empty(min(n, _CHUNK), np.uint64)
    for lo in range(0, n, _CHUNK):  # a chunk at a time, so that the passes stay in the CPU cache
        hi = min(lo + _CHUNK, n)
        z = buf[: hi - lo] if unit else out_bits[lo:hi]
        z[:] = seed
        _step(z, k0[lo * s0 : hi * s0 + 1 - s0], s0)
        if n_keys > 1:
            _step(z, k1[lo * s1 : hi * s1 + 1 - s1], s1)
        if n_keys > 2:
            _step(z, k2[lo * s2 : hi * s2 + 1 - s2], s2)
        if unit:
            u = out_unit[lo:hi]
            for i in range(hi - lo):
                u[i] = np.float64(z[i] >> _S11) * _TO_UNIT  # below 2**53: exact in a double


def _compile_hash():  # noqa: ANN202
    t = numba.types
    key = t.Array(t.uint64, 1, "C", readonly=True)  # keys are often read-only (broadcast) views
    signature = t.void(t.uint64, key, t.int64, key, t.int64, key, t.int64, t.int64, t.uint64[::1], t.float64[::1],
                       t.boolean)
    global _step
    _step = numba.njit(cache=True, nogil=True, inline="always")(_step_py)
    return numba.njit(signature, cache=True, nogil=True)(_hash_py)


_step = _step_py
_hash = _compile_hash() if numba is not None and not os.environ.get("WELFARE_SIM_NO_NUMBA") else None


def _read_only(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


_NO_KEY = _read_only(np.empty(0, np.uint64))
_INT64 = (-(2**63), 2**63)


_KEY_DTYPES = (np.dtype(np.int64), np.dtype(np.uint64))
_SCALAR_KEYS: dict[int, np.ndarray] = {}  # an integer key as the kernel takes it: months, days, tries


def _scalar_key(k: int) -> np.ndarray:
    a = _SCALAR_KEYS.get(k)
    if a is None:
        a = _read_only(np.array([k], np.int64).view(np.uint64))
        if len(_SCALAR_KEYS) < 1 << 16:
            _SCALAR_KEYS[int(k)] = a
    return a


def _compiled_args(keys: tuple) -> tuple[int, list] | None:
    """(n, kernel arguments) when every key is a contiguous 1-D 64-bit integer array (of one
    length n, or of length 1) or an integer; None otherwise (the general path broadcasts)."""
    n = -1
    arrays: list = []
    for k in keys:
        if type(k) is np.ndarray:
            if k.ndim != 1 or k.dtype not in _KEY_DTYPES or not k.flags.c_contiguous:
                return None
            m = k.shape[0]
            if m != 1:
                if n not in (-1, m):
                    return None
                n = m
            elif n == -1:
                n = -2  # length 1: n is 1 unless a longer key comes
            arrays.append((_read_only(k.view(np.uint64)), True))
        elif isinstance(k, int | np.integer) and _INT64[0] <= k < _INT64[1]:
            arrays.append((_scalar_key(k), False))
        else:
            return None
    if n == -1:
        return None  # integers only: a 0-d draw, for the general path
    if n == -2:
        n = 1
    args: list = []
    for a, is_array in arrays:
        args += [a, 1 if is_array and a.shape[0] == n else 0]
    while len(args) < 2 * _COMPILED_KEYS:
        args += [_NO_KEY, 0]
    return n, args


_NO_BITS = np.empty(0, np.uint64)
_NO_UNIT = np.empty(0, np.float64)


def _as_key(k: np.ndarray | int, shape: tuple) -> np.ndarray:
    """A key as uint64 (negative integers wrap modulo 2**64), broadcast to `shape`."""
    if isinstance(k, np.ndarray) and k.dtype.kind in "iu" and k.itemsize == 8:
        a = k.view(np.uint64)
    else:
        a = np.asarray(k).astype(np.uint64, copy=False)
    return a if a.shape == shape or a.ndim == 0 else np.broadcast_to(a, shape)


def lognormal_params(mean: np.ndarray | float, cv: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of the lognormal with arithmetic mean `mean` and coefficient of variation `cv`."""
    sigma2 = np.log1p(np.square(cv))
    return np.log(mean) - sigma2 / 2.0, np.sqrt(sigma2)


def _name_key(seed: int, name: str, namespace: str = "") -> int:
    # an empty namespace keys as before namespaces existed, so a one-province run keeps its draws
    text = f"{int(seed)}|{name}" if not namespace else f"{int(seed)}|{namespace}|{name}"
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "little")


class Stream:
    """One named stream. Draws are indexed by integer keys, broadcast as numpy arrays."""

    __slots__ = ("name", "_key")

    def __init__(self, name: str, key: int) -> None:
        self.name = name
        self._key = np.uint64(key)

    def bits(self, *keys: np.ndarray | int) -> np.ndarray:
        """Raw 64-bit draws (uint64), one per broadcast key."""
        return self._draw(keys, unit=False)

    def uniform(self, *keys: np.ndarray | int) -> np.ndarray:
        """U[0, 1) doubles, one per broadcast key."""
        return self._draw(keys, unit=True)

    def _draw(self, keys: tuple, unit: bool) -> np.ndarray:
        if _hash is not None and 0 < len(keys) <= _COMPILED_KEYS:
            fast = _compiled_args(keys)
            if fast is not None:  # the model's draws: 1-D int64 keys and integers, no broadcasting to do
                n, args = fast
                out = np.empty(n, np.float64 if unit else np.uint64)
                _hash(self._key, *args, len(keys), _NO_BITS if unit else out, out if unit else _NO_UNIT, unit)
                return out
        shape = np.broadcast_shapes(*(np.shape(k) for k in keys))
        if len(shape) != 1:
            z = self._bits_whole(keys, shape)
            return (z >> np.uint64(11)).astype(np.float64) * _TO_UNIT if unit else z
        # 1-D (every draw of the model): the hash runs chunk by chunk so that its dozen passes
        # stay in the CPU cache; the numbers are the same as hashing the whole array at once
        n = shape[0]
        cols = [_as_key(k, shape) for k in keys]
        if _hash is not None and 0 < len(cols) <= _COMPILED_KEYS:
            return self._draw_compiled(cols, n, unit)
        # uniforms need the hash of one chunk at a time only; raw bits are the output itself
        out = np.empty(n, np.float64 if unit else np.uint64)
        zbuf = np.empty(min(_CHUNK, n), np.uint64) if unit else None
        tmp = np.empty(min(_CHUNK, n), np.uint64)
        with np.errstate(over="ignore"):
            for lo in range(0, n, _CHUNK):
                hi = min(lo + _CHUNK, n)
                z = out[lo:hi] if zbuf is None else zbuf[: hi - lo]
                t = tmp[: hi - lo]
                z.fill(self._key)
                for k in cols:
                    z += _GOLDEN
                    z += k if k.ndim == 0 else k[lo:hi]
                    _mix(z, t)
                if unit:
                    np.right_shift(z, _S11, out=t)
                    u = out[lo:hi]
                    u[...] = t  # below 2**53: exact in a double
                    u *= _TO_UNIT
        return out

    def _draw_compiled(self, cols: list[np.ndarray], n: int, unit: bool) -> np.ndarray:
        args: list = []
        for k in cols:
            if k.ndim == 0 or k.strides[0] == 0:  # one key for all draws
                args += [_read_only(np.ascontiguousarray(k.reshape(-1)[:1])), 0]
            else:
                args += [_read_only(np.ascontiguousarray(k)), 1]
        while len(args) < 2 * _COMPILED_KEYS:
            args += [_NO_KEY, 0]
        out = np.empty(n, np.float64 if unit else np.uint64)
        _hash(self._key, *args, len(cols), _NO_BITS if unit else out, out if unit else _NO_UNIT, unit)
        return out

    def _bits_whole(self, keys: tuple, shape: tuple) -> np.ndarray:
        with np.errstate(over="ignore"):
            z = np.full(shape, self._key, np.uint64)
            for k in keys:
                z += _GOLDEN
                z += _as_key(k, np.shape(k))
                _mix(z)
            return z

    def bernoulli(self, p: np.ndarray | float, *keys: np.ndarray | int) -> np.ndarray:
        return self.uniform(*keys) < p

    def exponential(self, mean: np.ndarray | float, *keys: np.ndarray | int) -> np.ndarray:
        return -np.log1p(-self.uniform(*keys)) * mean

    def normal(self, *keys: np.ndarray | int) -> np.ndarray:
        u = self.uniform(*keys)
        if isinstance(u, np.ndarray) and u.ndim:
            np.maximum(u, 1e-300, out=u)
            return ndtri(u, out=u)
        return ndtri(np.clip(u, 1e-300, None))

    def lognormal(self, mu: np.ndarray | float, sigma: np.ndarray | float, *keys: np.ndarray | int) -> np.ndarray:
        """exp(mu + sigma * Z), Z standard normal: lognormal with log-mean mu and log-sd sigma."""
        z = self.normal(*keys)
        if not (isinstance(z, np.ndarray) and z.ndim and {np.shape(mu), np.shape(sigma)} <= {z.shape, ()}):
            return np.exp(mu + sigma * z)
        z *= sigma
        z += mu
        return np.exp(z, out=z)

    def lognormal_mean_cv(
        self, mean: np.ndarray | float, cv: np.ndarray | float, *keys: np.ndarray | int,
        at: np.ndarray | None = None,
    ) -> np.ndarray:
        """Lognormal with the given arithmetic mean and coefficient of variation. With `at`,
        `mean` and `cv` are given per kind (per point, say) and `at` picks the kind of each
        draw: the same numbers as passing `mean[at]` and `cv[at]`, with less work."""
        mu, sigma = lognormal_params(mean, cv)
        if at is not None:
            mu, sigma = mu[at], sigma[at]
        return self.lognormal(mu, sigma, *keys)

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

    `namespace` (a province's official code in a many-province run) is hashed into every name's
    key: each province draws its own numbers, whichever other provinces run beside it and however
    the country is split into parts. The empty namespace gives a one-province run's draws.
    """

    def __init__(self, seed: int, namespace: str = "") -> None:
        if not 0 <= int(seed) < 2**63:
            raise ValueError(f"seed must be in [0, 2**63), got {seed}")
        if "|" in namespace:
            raise ValueError(f"a stream namespace may not contain '|' (got {namespace!r})")
        self.seed = int(seed)
        self.namespace = namespace
        self._streams: dict[str, Stream] = {}
        self._keys: dict[int, str] = {}

    def __getitem__(self, name: str) -> Stream:
        stream = self._streams.get(name)
        if stream is None:
            key = _name_key(self.seed, name, self.namespace)
            other = self._keys.get(key)
            if other is not None:  # a 64-bit collision; refuse rather than share draws
                raise ValueError(f"streams {name!r} and {other!r} collide")
            self._keys[key] = name
            stream = self._streams[name] = Stream(name, key)
        return stream

    @property
    def names(self) -> list[str]:
        return sorted(self._streams)
