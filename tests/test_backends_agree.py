"""Random small networks give the same recordings and final state on the llvm and reference backends."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import anncompiler as ann

RATE_EQUATIONS = ["tau * dr/dt + r = sum(exc) - sum(inh) + B : min={lo}",
                  "tau * dr/dt + r = sum(exc) - sum(inh) + B"]


@st.composite
def network_specs(draw):
    n_pops = draw(st.integers(1, 3))
    pops = []
    for _ in range(n_pops):
        kind = draw(st.sampled_from(["rate", "spike"]))
        pops.append(dict(kind=kind, size=draw(st.integers(1, 20)),
                         bounded=draw(st.booleans()), decay=draw(st.booleans()),
                         refractory=draw(st.sampled_from([None, 0.5, 2.0, "tref"]))))
    projections = []
    for _ in range(draw(st.integers(0, 4))):
        post = draw(st.integers(0, n_pops - 1))
        # rate->rate (weighted sums) and spike->spike (conductances) only
        pre = draw(st.sampled_from([k for k, p in enumerate(pops) if p["kind"] == pops[post]["kind"]]))
        projections.append(dict(pre=pre, post=post, target=draw(st.sampled_from(["exc", "inh"])),
                                connector=draw(st.sampled_from(["all_to_all", "fixed_probability",
                                                                "one_to_one", "from_matrix"])),
                                single=draw(st.booleans())))
    return dict(pops=pops, projections=projections, dt=draw(st.sampled_from([0.1, 0.5, 1.0])),
                steps=draw(st.integers(20, 60)), seed=draw(st.integers(0, 2 ** 31 - 1)))


def _neuron(spec, k, rng):
    if spec["kind"] == "rate":
        eq = RATE_EQUATIONS[0].format(lo=round(float(rng.uniform(-1.0, 0.5)), 3)) if spec["bounded"] \
            else RATE_EQUATIONS[1]
        return ann.Neuron(parameters=dict(tau=float(rng.uniform(1.0, 50.0)),
                                          B=ann.Parameter(0.0, locality="local")),
                          equations=[eq], name=f"Rate{k}")
    params = dict(tau=float(rng.uniform(5.0, 30.0)), El=-65.0, Vt=float(rng.uniform(-55.0, -45.0)),
                  Vr=float(rng.uniform(-75.0, -60.0)), I=ann.Parameter(0.0, locality="local"),
                  tau_e=float(rng.uniform(1.0, 10.0)))
    equations = ["tau * dv/dt = El - v + I + g_exc - g_inh : init=-65.0"]
    if spec["decay"]:
        equations += ["tau_e * dg_exc/dt = -g_exc", "tau_e * dg_inh/dt = -g_inh"]
    refractory = spec["refractory"]
    if refractory == "tref":
        params["tref"] = float(rng.uniform(0.0, 3.0))
    return ann.Neuron(parameters=params, equations=equations, spike="v > Vt", reset="v = Vr",
                      refractory=refractory, name=f"LIF{k}")


def _run(spec, backend):
    rng = np.random.default_rng(spec["seed"])  # same values for both backends
    net = ann.Network(dt=spec["dt"], seed=spec["seed"])
    pops, monitors = [], []
    for k, p in enumerate(spec["pops"]):
        pop = net.create(p["size"], _neuron(p, k, rng))
        if p["kind"] == "rate":
            pop.B = rng.uniform(-1.0, 1.5, p["size"])
            pop.r = rng.uniform(0.0, 1.0, p["size"])
        else:
            pop.I = rng.uniform(0.0, 30.0, p["size"])
            pop.v = rng.uniform(-70.0, -50.0, p["size"])
        pops.append(pop)
        variables = list(pop.variables) + (["spike"] if p["kind"] == "spike" else [])
        monitors.append(net.monitor(pop, variables))
    projections = []
    for q in spec["projections"]:
        pre, post = pops[q["pre"]], pops[q["post"]]
        proj = net.connect(pre, post, q["target"])
        scale = 0.3 if spec["pops"][q["pre"]]["kind"] == "rate" else 5.0
        w = float(rng.uniform(0.0, scale)) if q["single"] else ann.Uniform(0.0, scale, rng=net.default_rng)
        c = q["connector"]
        if c == "one_to_one" and pre.size != post.size:
            c = "all_to_all"
        if c == "all_to_all":
            proj.all_to_all(weights=w)
        elif c == "fixed_probability":
            proj.fixed_probability(0.3, weights=w)
        elif c == "one_to_one":
            proj.one_to_one(weights=w)
        else:
            proj.from_matrix(rng.uniform(-scale, scale, (post.size, pre.size)))
        projections.append(proj)
    net.compile(backend=backend)
    net.simulate(spec["steps"] * spec["dt"])
    assert net.current_step == spec["steps"]
    recorded = [m.get() if len(m.variables) > 1 else {m.variables[0]: m.get()} for m in monitors]
    state = [{name: pop.get(name) for name in pop.attributes} for pop in pops]
    weights = [np.asarray(proj.connectivity_matrix()) for proj in projections]
    return recorded, state, weights


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network_specs())
def test_llvm_and_reference_agree(spec):
    got, want = _run(spec, "llvm"), _run(spec, "reference")
    for rec_llvm, rec_ref in zip(got[0], want[0]):
        assert rec_llvm.keys() == rec_ref.keys()
        for name in rec_llvm:
            if name == "spike":
                assert rec_llvm[name] == rec_ref[name]
            else:
                np.testing.assert_allclose(rec_llvm[name], rec_ref[name], rtol=1e-12, atol=1e-12, err_msg=name)
    for s_llvm, s_ref in zip(got[1], want[1]):
        for name in s_llvm:
            np.testing.assert_allclose(s_llvm[name], s_ref[name], rtol=1e-12, atol=1e-12, err_msg=name)
    for w_llvm, w_ref in zip(got[2], want[2]):
        np.testing.assert_array_equal(w_llvm, w_ref)
