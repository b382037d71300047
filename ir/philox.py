"""Counter-based random numbers in kernel IR: Philox4x32-10 and distributions.

Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy
as 1, 2, 3", SC 2011; the ``philox4x32`` of Random123) maps a 128-bit counter
and a 64-bit key to 128 random bits with pure 32-bit integer arithmetic (two
32x32->64 products per round, done here as ``u64`` multiplications of
zero-extended words), no state and no branches: a loop over neurons that
draws from it stays vectorisable, and every backend computes the same bits.

Counter and key used by anncompiler (:func:`draw_block`)::

    counter = (word0, step & 0xffffffff, step >> 32, stream | draw << 16)
    key     = (seed & 0xffffffff, seed >> 32)

``stream`` (< 2**16) identifies one random call of the network (see
``passes/lowering/random.py`` for the numbering); ``draw`` (< 2**16) numbers
the extra blocks of a distribution that needs more than 4 words.

Two draws per block: Uniform, DiscreteUniform, Exponential and the inversion of Binomial use
53 bits of two words, Normal and LogNormal both outputs of one Box-Muller pair, so elements
``2k`` and ``2k+1`` (neurons, synapses) share the block with ``word0 = k`` and ``draw = 0``:
the even element takes words 0-1 (the cosine output), the odd one words 2-3 (the sine output)
(:class:`Blocks`).  Gamma and the Bernoulli trials of Binomial use whole blocks of their own,
``word0 = element index`` (draws 1, 2, ... for the trials of Binomial).

Uniform doubles (:func:`uniform53`) take 53 bits of two words::

    k = (hi >> 5) * 2**26 + (lo >> 6)      # an integer in [0, 2**53)
    u = k * 2**-53                        # [0, 1)
    u = (k + 1) * 2**-53                  # (0, 1]  (``open_zero``: before a log)

Both are exact in double precision.  Distributions are computed in f64 and
rounded once to the network's float type.
"""
from __future__ import annotations


from .kernel import BinOp, Call, Cast, Cmp, Const, Expr, If, Let, Logic, Loop, Select, Stmt, UnOp, Var
from .rng_math import cos_quarter, cos_sin_quarter, log_int
from .types import BOOL, F64, I32, I64, U32, U64

PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
PHILOX_ROUNDS = 10
MASK32 = 0xFFFFFFFF

#: limits of the counter layout (word 3 = stream | draw << 16)
MAX_STREAMS = 1 << 16
MAX_DRAWS = 1 << 16

#: Marsaglia-Tsang proposals computed per Gamma draw (see :func:`gamma`)
GAMMA_ATTEMPTS = 5
#: Binomial(n, p) with a literal n up to this is unrolled (vectorisable)
BINOMIAL_UNROLL = 64
#: Binomial(n, p) with a mean n*p up to this (and p <= 0.5) is drawn by inversion, in about
#: ``n*p + 8 sqrt(n*p) + 8`` iterations (see :func:`binomial`)
BINOMIAL_INVERSION_MEAN = 200.0

#: name -> (min arity, max arity) of the distributions usable in equations (as the
#: parser's): the arguments after the parameters are optional clipping bounds
#: ``min``, ``max`` (as in ``core/random.py``: ``Normal(mu, sigma, min, max)``,
#: ``Exponential(lambda, min, max)``, ``Gamma(alpha, beta, min, max)``)
DISTRIBUTIONS = {
    "Uniform": (2, 2), "DiscreteUniform": (2, 2), "Normal": (2, 4), "LogNormal": (2, 4),
    "Exponential": (1, 3), "Gamma": (1, 4), "Binomial": (2, 2),
}
#: number of parameters before the clipping bounds
_N_PARAMS = {"Uniform": 2, "DiscreteUniform": 2, "Normal": 2, "LogNormal": 2, "Exponential": 1,
             "Gamma": 2, "Binomial": 2}


def philox4x32_10_py(counter, key) -> tuple[int, int, int, int]:
    """Plain-Python Philox4x32-10 (the oracle of the tests; runtime helpers)."""
    c0, c1, c2, c3 = (int(x) & MASK32 for x in counter)
    k0, k1 = (int(x) & MASK32 for x in key)
    for r in range(PHILOX_ROUNDS):
        if r:
            k0, k1 = (k0 + PHILOX_W0) & MASK32, (k1 + PHILOX_W1) & MASK32
        p0, p1 = PHILOX_M0 * c0, PHILOX_M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32)
    return c0, c1, c2, c3


class Emitter:
    """Collects ``Let`` statements with unique names ``<prefix><hint><n>``."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.stmts: list[Stmt] = []
        self.n = 0

    def let(self, value: Expr, hint: str = "t") -> Expr:
        if isinstance(value, (Const, Var)):
            return value
        v = Var(f"{self.prefix}{hint}{self.n}", value.dtype)
        self.n += 1
        self.stmts.append(Let(v, value))
        return v


def u32(v: int) -> Const:
    return Const(int(v) & MASK32, U32)


def _xor(a: Expr, b: Expr) -> Expr:
    if isinstance(a, Const) and isinstance(b, Const):
        return u32(a.value ^ b.value)
    if isinstance(b, Const) and b.value == 0:
        return a
    if isinstance(a, Const) and a.value == 0:
        return b
    return BinOp("^", a, b, U32)


def _add_const(a: Expr, c: int) -> Expr:
    if isinstance(a, Const):
        return u32(a.value + c)
    return BinOp("+", a, u32(c), U32)


def philox4x32_10(em: Emitter, counter, key) -> tuple[Expr, Expr, Expr, Expr]:
    """Kernel-IR statements (appended to ``em``) computing Philox4x32-10 of
    four ``u32`` counter words and two ``u32`` key words; returns the four
    output words (``u32`` locals)."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    m0, m1, s32 = Const(PHILOX_M0, U64), Const(PHILOX_M1, U64), Const(32, U64)
    for r in range(PHILOX_ROUNDS):
        if r:
            k0, k1 = _add_const(k0, PHILOX_W0), _add_const(k1, PHILOX_W1)
            k0, k1 = em.let(k0, "k"), em.let(k1, "k")
        p0 = em.let(BinOp("*", Cast(c0, U64), m0, U64), "p")
        p1 = em.let(BinOp("*", Cast(c2, U64), m1, U64), "p")
        hi0, lo0 = Cast(BinOp(">>", p0, s32, U64), U32), Cast(p0, U32)
        hi1, lo1 = Cast(BinOp(">>", p1, s32, U64), U32), Cast(p1, U32)
        c0, c1, c2, c3 = (em.let(_xor(_xor(hi1, c1), k0), "c"), em.let(lo1, "c"),
                          em.let(_xor(_xor(hi0, c3), k1), "c"), em.let(lo0, "c"))
    return c0, c1, c2, c3


def _f64(e: Expr) -> Expr:
    return e if e.dtype == F64 else (Const(float(e.value), F64) if isinstance(e, Const) else Cast(e, F64))


def _small_u32_to_f64(e: Expr) -> Expr:
    """A u32 below 2**31 to double, through i32 (sitofp vectorises better)."""
    return Cast(Cast(e, I32), F64)


def int53(hi: Expr, lo: Expr, open_zero: bool = False, high_mask: int = MASK32) -> Expr:
    """The integer ``(hi >> 5) * 2**26 + (lo >> 6)`` (plus one if ``open_zero``) as a double:
    53 bits of two words, exact.  ``high_mask`` keeps only some bits of ``hi >> 5``."""
    high = BinOp(">>", hi, u32(5), U32)
    if high_mask != MASK32:
        high = BinOp("&", high, u32(high_mask), U32)
    k = BinOp("+", BinOp("*", _small_u32_to_f64(high), Const(float(1 << 26), F64), F64),
              _small_u32_to_f64(BinOp(">>", lo, u32(6), U32)), F64)
    return BinOp("+", k, Const(1.0, F64), F64) if open_zero else k


def uniform53(em: Emitter, hi: Expr, lo: Expr, open_zero: bool = False) -> Expr:
    """A double in [0, 1) from 53 bits of two words, or (0, 1] if ``open_zero``."""
    return em.let(BinOp("*", int53(hi, lo, open_zero), Const(2.0 ** -53, F64), F64), "u")


def log_uniform53(em: Emitter, hi: Expr, lo: Expr) -> Expr:
    """``log(u)`` of the (0, 1] uniform of :func:`uniform53` (``open_zero``), by ``rng_math``."""
    return log_int(em, em.let(int53(hi, lo, open_zero=True), "k"), -53)


def cos_sin_2pi_uniform53(em: Emitter, hi: Expr, lo: Expr) -> tuple[Expr, Expr]:
    """``cos(2 pi u)`` and ``sin(2 pi u)`` of the [0, 1) uniform of :func:`uniform53`: the top two
    of its 53 bits are the quarter of the circle, the other 51 the fraction of the quarter (exact)."""
    f = em.let(BinOp("*", int53(hi, lo, high_mask=(1 << 25) - 1), Const(2.0 ** -51, F64), F64), "f")
    return cos_sin_quarter(em, em.let(BinOp(">>", hi, u32(30), U32), "q"), f)


def cos_2pi_uniform32(em: Emitter, w: Expr) -> Expr:
    """``cos(2 pi u)`` of the [0, 1) uniform of :func:`uniform32`."""
    f = em.let(BinOp("*", _small_u32_to_f64(BinOp("&", w, u32((1 << 30) - 1), U32)), Const(2.0 ** -30, F64), F64),
               "f")
    return cos_quarter(em, em.let(BinOp(">>", w, u32(30), U32), "q"), f)


def uniform32(w: Expr, open_zero: bool = False) -> Expr:
    """A double in [0, 1) (or (0, 1]) from one word: ``w * 2**-32``."""
    x = Cast(w, F64)
    if open_zero:
        x = BinOp("+", x, Const(1.0, F64), F64)
    return BinOp("*", x, Const(2.0 ** -32, F64), F64)


def counter_words(index: Expr, step: Expr, stream: int, draw: Expr | int = 0):
    """The counter of :func:`draw_block` (``index``, ``step``: i32/i64 expressions)."""
    if not 0 <= stream < MAX_STREAMS:
        raise ValueError(f"random stream {stream} out of range (at most {MAX_STREAMS} random calls)")
    step64 = Cast(step, U64)
    c3: Expr
    if isinstance(draw, int):
        c3 = u32(stream | (draw << 16))
    else:
        c3 = BinOp("|", BinOp("<<", Cast(draw, U32), u32(16), U32), u32(stream), U32)
    return (Cast(index, U32), Cast(step64, U32), Cast(BinOp(">>", step64, Const(32, U64), U64), U32), c3)


def seed_key(seed: int | None) -> tuple[Const, Const]:
    s = int(seed or 0) & ((1 << 64) - 1)
    return u32(s), u32(s >> 32)


def draw_block(em: Emitter, index: Expr, step: Expr, seed: int | None, stream: int, draw: Expr | int = 0):
    """Four random words for (seed, stream, draw, step, index)."""
    return philox4x32_10(em, counter_words(index, step, stream, draw), seed_key(seed))


def pair_index(index: Expr) -> Expr:
    """``index >> 1``: the counter word 0 of the block that elements ``2k`` and ``2k+1`` share."""
    if isinstance(index, Const):
        return Const(int(index.value) >> 1, index.dtype)
    return BinOp(">>", index, Const(1, index.dtype), index.dtype)


def pair_odd(index: Expr) -> Expr:
    """``index & 1 != 0``: whether an element takes the second half of its pair's block."""
    if isinstance(index, Const):
        return Const(bool(int(index.value) & 1), BOOL)
    return Cmp("!=", BinOp("&", index, Const(1, index.dtype), index.dtype), Const(0, index.dtype))


def pick(odd: Expr, second: Expr, first: Expr) -> Expr:
    """``odd ? second : first``, chosen now when ``odd`` is a constant."""
    if isinstance(odd, Const):
        return second if odd.value else first
    return Select(odd, second, first, first.dtype)


class Blocks:
    """The blocks of one stream that a draw of element ``index`` may use.

    ``blocks(draw, em)``: the element's own block ``draw`` (counter word 0 = ``index``), for
    the distributions that need whole blocks (Gamma, the Bernoulli trials of Binomial).
    ``pair(em)``: the block that elements ``2k`` and ``2k+1`` share (counter word 0 = ``k``,
    draw 0); ``odd`` says which half is the element's.  A loop that computes both elements of a
    pair computes that block once (``passes/platform/cpu_pairs.py``).
    """

    def __init__(self, index: Expr, step: Expr, seed: int | None, stream: int):
        self.index, self.step, self.seed, self.stream = index, step, seed, stream
        self.odd = pair_odd(index)

    def __call__(self, draw, em: Emitter):
        return draw_block(em, self.index, self.step, self.seed, self.stream, draw)

    def pair(self, em: Emitter):
        return draw_block(em, pair_index(self.index), self.step, self.seed, self.stream, 0)

    def half(self, em: Emitter) -> tuple[Expr, Expr]:
        """The element's two words of its pair's block: words 0-1 (even element) or 2-3 (odd)."""
        w = self.pair(em)
        return em.let(pick(self.odd, w[2], w[0]), "h"), em.let(pick(self.odd, w[3], w[1]), "h")


def block_maker(index: Expr, step: Expr, seed: int | None, stream: int) -> Blocks:
    """The :class:`Blocks` of one stream for :func:`distribution`."""
    return Blocks(index, step, seed, stream)


# --------------------------------------------------------------------------
# distributions: f64 expressions from a generator of blocks


def _b(op, a, b):
    return BinOp(op, a, b, F64)


def _call(fn, *args):
    return Call(fn, tuple(args), F64)


def normal_from(em: Emitter, blocks: Blocks) -> Expr:
    """Box-Muller on the pair's block: ``r = sqrt(-2 log u1)``, u1 in (0,1] from (w0, w1), u2 in
    [0,1) from (w2, w3); the even element takes ``r cos(2 pi u2)``, the odd one ``r sin(2 pi u2)``
    (``log``, ``cos`` and ``sin`` of ``rng_math``: vectorisable, the same bits on every backend)."""
    w = blocks.pair(em)
    r = em.let(_call("sqrt", _b("*", Const(-2.0, F64), log_uniform53(em, w[0], w[1]))), "r")
    cos, sin = cos_sin_2pi_uniform53(em, w[2], w[3])
    return em.let(_b("*", r, pick(blocks.odd, sin, cos)), "z")


def distribution(em: Emitter, name: str, args: list[Expr], block) -> Expr:
    """The f64 value of one draw of ``name(*args)``; ``block(draw, em)`` appends
    to ``em`` the computation of block ``draw`` (an int, or an i64 expression)
    and returns its four words (see :func:`block_maker`)."""
    args = [em.let(_f64(a), "a") for a in args]
    k = _N_PARAMS[name]
    if name == "Gamma" and len(args) == 1:
        args = [args[0], Const(1.0, F64)]
    value = _distribution(em, name, args[:k], block)
    for op, bound in zip(("max", "min"), args[k:]):  # clip to [min, max]
        value = _b(op, value, bound)
    return value


def _distribution(em: Emitter, name: str, args: list[Expr], block) -> Expr:
    if name == "Uniform":
        a, b = args
        u = uniform53(em, *block.half(em))
        return _b("+", a, _b("*", _b("-", b, a), u))
    if name == "DiscreteUniform":
        # a + min(floor(n*u), n-1), n = b - a + 1: integers a..b inclusive (the min guards
        # the rounding of n*u up to n when u is close to 1)
        a, b = args
        u = uniform53(em, *block.half(em))
        n = em.let(_b("+", _b("-", b, a), Const(1.0, F64)), "n")
        k = _b("min", _call("floor", _b("*", n, u)), _b("-", n, Const(1.0, F64)))
        return _b("+", a, k)
    if name == "Normal":
        mu, sigma = args
        return _b("+", mu, _b("*", sigma, normal_from(em, block)))
    if name == "LogNormal":
        mu, sigma = args
        return _call("exp", _b("+", mu, _b("*", sigma, normal_from(em, block))))
    if name == "Exponential":
        (lam,) = args  # a rate: mean 1/lambda (C++ std::exponential_distribution)
        return _b("/", UnOp("neg", log_uniform53(em, *block.half(em)), F64), lam)
    if name == "Gamma":
        alpha, beta = args
        return _b("*", gamma(em, alpha, block), beta)
    if name == "Binomial":
        return binomial(em, args[0], args[1], block)
    raise ValueError(f"unknown distribution {name}")


def gamma(em: Emitter, alpha: Expr, block) -> Expr:
    """Gamma(alpha, 1) by Marsaglia & Tsang (2000), branch-free.

    ``GAMMA_ATTEMPTS`` proposals are computed (block ``k`` for proposal k:
    a normal from Box-Muller with u1 from 53 bits of words 0-1 and u2 from
    word 2, the acceptance uniform from word 3) and the first accepted one is
    returned.  If all are rejected (probability below 0.049**5 ~ 3e-7 per
    draw, at alpha = 1; far less for larger alpha) the value is d, the mode
    of the proposal.  alpha < 1 uses Gamma(alpha + 1) * u**(1/alpha), u from
    block ``GAMMA_ATTEMPTS``.
    """
    one = Const(1.0, F64)
    small = em.let(Cmp("<", alpha, one), "s")
    a1 = em.let(Select(small, _b("+", alpha, one), alpha, F64), "a")
    d = em.let(_b("-", a1, Const(1.0 / 3.0, F64)), "d")
    c = em.let(_b("/", one, _call("sqrt", _b("*", Const(9.0, F64), d))), "c")
    proposals = []
    for k in range(GAMMA_ATTEMPTS):
        w = block(k, em)
        x = em.let(_b("*", _call("sqrt", _b("*", Const(-2.0, F64), log_uniform53(em, w[0], w[1]))),
                      cos_2pi_uniform32(em, w[2])), "x")
        t = em.let(_b("+", one, _b("*", c, x)), "t")
        v = em.let(_b("*", _b("*", t, t), t), "v")
        log_ua = log_int(em, em.let(BinOp("+", Cast(w[3], F64), Const(1.0, F64), F64), "k"), -32)
        bound = _b("+", _b("+", _b("*", Const(0.5, F64), _b("*", x, x)), _b("-", d, _b("*", d, v))),
                   _b("*", d, _call("log", v)))
        ok = em.let(Logic("and", Cmp(">", v, Const(0.0, F64)), Cmp("<", log_ua, bound)), "ok")
        proposals.append((ok, _b("*", d, v)))
    res: Expr = d
    for ok, value in reversed(proposals):
        res = em.let(Select(ok, value, res, F64), "g")
    w = block(GAMMA_ATTEMPTS, em)
    ub = uniform53(em, w[0], w[1], open_zero=True)
    boost = Select(small, BinOp("pow", ub, _b("/", one, alpha), F64), one, F64)
    return em.let(_b("*", res, boost), "g")


def binomial(em: Emitter, n: Expr, p: Expr, block) -> Expr:
    """Binomial(n, p).

    A literal n <= ``BINOMIAL_UNROLL``: the sum of n Bernoulli trials, one per 32-bit word
    (trial true when ``w < p * 2**32``: p is resolved to 2**-32), unrolled (vectorisable).
    Otherwise, when ``0 <= p <= 0.5`` and ``n*p <= BINOMIAL_INVERSION_MEAN``: inversion of the
    distribution function from 0 upwards with one uniform ``u`` in [0, 1) (53 bits: the element's
    half of its pair's block, computed before the test so that a pair computes the block once),
    ``k = #{j : F(j) <= u}`` with ``P(j+1) = P(j) (n-j)/(j+1) p/(1-p)``, ``P(0) = (1-p)**n``, over a
    fixed ``min(n, ceil(n*p + 8 sqrt(n*p) + 8))`` terms (no data-dependent exit, so every
    backend runs the same operations; a larger k, whose probability is below 1e-16, is drawn
    as that bound).  Its cost grows with the mean, not with n: the 1,600-2,900 Poisson inputs
    at 8 Hz of a cortical-microcircuit neuron take about 20 terms, not 2,900 trials.  Otherwise
    the trials in a loop over ceil(n/4) of the element's blocks, draws 1, 2, ... (n at most
    4 * (MAX_DRAWS - 1) = 262140, larger n is clamped)."""
    thr = em.let(_b("*", p, Const(2.0 ** 32, F64)), "thr")
    zero, one = Const(0.0, F64), Const(1.0, F64)
    if isinstance(n, Const) and float(n.value) <= BINOMIAL_UNROLL:
        count: Expr = zero
        trials = max(0, int(float(n.value)))
        for j in range((trials + 3) // 4):
            w = block(j, em)
            for q in range(min(4, trials - 4 * j)):
                count = em.let(_b("+", count, Select(Cmp("<", Cast(w[q], F64), thr), one, zero, F64)), "b")
        return count
    n64 = em.let(Cast(_b("max", n, zero), I64), "n")
    acc = Var(f"{em.prefix}bsum", F64)
    em.stmts.append(Let(acc, zero))
    nf = em.let(Cast(n64, F64), "nf")
    mean = em.let(_b("*", nf, p), "mean")
    u = uniform53(em, *block.half(em))
    inverting = em.let(Logic("and", Logic("and", Cmp(">=", p, zero), Cmp("<=", p, Const(0.5, F64))),
                             Cmp("<=", mean, Const(BINOMIAL_INVERSION_MEAN, F64))), "inv")
    em.stmts.append(If(inverting, _binomial_inversion(em.prefix + "I", nf, p, mean, acc, u),
                       _binomial_trials(em.prefix + "B", n64, thr, acc, block)))
    return acc


def _binomial_inversion(prefix: str, nf: Expr, p: Expr, mean: Expr, acc: Var, u: Expr) -> list[Stmt]:
    em = Emitter(prefix)
    zero, one = Const(0.0, F64), Const(1.0, F64)
    q = em.let(_b("-", one, p), "q")
    ratio = em.let(_b("/", p, q), "r")
    terms = _b("min", nf, _call("ceil", _b("+", _b("+", mean, _b("*", Const(8.0, F64), _call("sqrt", mean))),
                                           Const(8.0, F64))))
    stop = em.let(Cast(terms, I64), "stop")
    pk, cdf, j = Var(f"{prefix}pk", F64), Var(f"{prefix}cdf", F64), Var(f"{prefix}j", I64)
    em.stmts += [Let(pk, BinOp("pow", q, nf, F64)), Let(cdf, pk), Let(acc, zero)]
    jf = Cast(j, F64)
    step = _b("*", _b("/", _b("-", nf, jf), _b("+", jf, one)), ratio)
    em.stmts.append(Loop(j, Const(0, I64), stop, [
        Let(acc, _b("+", acc, Select(Cmp("<=", cdf, u), one, zero, F64))),
        Let(pk, _b("*", pk, step)),
        Let(cdf, _b("+", cdf, pk))]))
    return em.stmts


def _binomial_trials(prefix: str, n64: Expr, thr: Expr, acc: Var, block) -> list[Stmt]:
    em = Emitter(prefix)
    zero, one = Const(0.0, F64), Const(1.0, F64)
    blocks = em.let(BinOp("min", BinOp("/", BinOp("+", n64, Const(3, I64), I64), Const(4, I64), I64),
                          Const(MAX_DRAWS - 1, I64), I64), "nb")
    j = Var(f"{prefix}bj", I64)
    inner = Emitter(prefix + "L")
    w = block(BinOp("+", j, Const(1, I64), I64), inner)  # draw 0 of this index is a pair's block
    body_count: Expr = acc
    for q in range(4):
        trial = BinOp("+", BinOp("*", j, Const(4, I64), I64), Const(q, I64), I64)
        hit = Logic("and", Cmp("<", trial, n64), Cmp("<", Cast(w[q], F64), thr))
        body_count = _b("+", body_count, Select(hit, one, zero, F64))
    inner.stmts.append(Let(acc, body_count))
    em.stmts.append(Loop(j, Const(0, I64), blocks, inner.stmts))
    return em.stmts
