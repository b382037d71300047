"""A hypothesis state machine over the public API, run in a subprocess by test_robustness.py.

Rules create populations, connect and monitor them (also across two networks), compile, set
and read attributes with good and bad values, simulate with odd durations, interrupt a
simulation and move time.  The process must never crash, every rejection must be an
AnnCompilerError, and after every rule the compiled networks stay consistent (time and the
length of what the monitors recorded).

Usage: ``python tests/api_state_machine.py [max_examples] [steps]``.
"""
import math
import sys
import warnings

import numpy as np
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

import anncompiler as ann

RATE = ann.Neuron(parameters=dict(tau=10.0, g=ann.Parameter(1.0, locality="population")),
                  equations="tau*dr/dt = g * sum(exc) - r + 1", name="SMRate")
SPIKE = ann.Neuron(parameters=dict(tau=5.0), equations="tau*dv/dt = -v + g_exc + 1.5",
                   spike="v > 1", reset="v = 0", refractory=1.0, name="SMSpike")

VALUES = st.sampled_from([0.5, -2.0, 0, True, math.nan, math.inf, None, "text", [1.0, 2.0], object(),
                          np.arange(3.0), 1 + 1j])
DURATIONS = st.sampled_from([0.0, 0.3, 1.0, 2.5, 7.0, -1.0, -0.01, math.nan, math.inf, -math.inf, 1e300, "5"])
PERIODS = st.sampled_from([None, None, 1.0, 2.5, 0.0, -1.0, math.nan, math.inf])
DELAYS = st.sampled_from([0.0, 0.0, -1.0, math.nan])
SIZES = st.sampled_from([1, 2, 3, 3, 0, -1])


class ApiMachine(RuleBasedStateMachine):
    @initialize()
    def first_network(self):
        self.nets = []            # [network, moved: bool]
        self.pops = []            # (network, population)
        self.monitors = []        # (network, monitor, records every step, creation step)
        self._new_network()
        net = self.nets[0][0]     # something to compile from the start
        rate, spike = net.create(3, RATE), net.create(2, SPIKE)
        self.pops += [(net, rate), (net, spike)]
        self.monitors += [(net, net.monitor(rate, "r"), True, 0), (net, net.monitor(spike, "spike"), False, 0)]

    def _new_network(self):
        self.nets.append([ann.Network(dt=0.5, seed=len(self.nets)), False])

    def _net(self, k):
        """Mostly the first network; another one (for cross-network mistakes) now and then."""
        return self.nets[0 if k < 2 else k % len(self.nets)][0]

    def _try(self, call):
        try:
            return call()
        except ann.AnnCompilerError:
            return None

    @rule()
    def second_network(self):
        if len(self.nets) < 3:
            self._new_network()

    @rule(k=st.integers(0, 3), size=SIZES, kind=st.sampled_from(["rate", "spike", "source"]))
    def create(self, k, size, kind):
        net = self._net(k)
        if kind == "source":
            times = [[-1.0, 0.5, 2.0, 4.0]] * max(1, size)
            pop = self._try(lambda: net.create(ann.SpikeSourceArray(times)))
        else:
            pop = self._try(lambda: net.create(size, RATE if kind == "rate" else SPIKE))
        if pop is not None:
            self.pops.append((net, pop))

    @rule(k=st.integers(0, 3), i=st.integers(0, 20), j=st.integers(0, 20), view=st.booleans(), delay=DELAYS,
          weight=st.sampled_from([0.1, -0.5, 1.0]))
    def connect(self, k, i, j, view, delay, weight):
        if not self.pops:
            return
        net = self._net(k)
        pre = self.pops[i % len(self.pops)][1]
        post = self.pops[j % len(self.pops)][1]
        if view and pre.size > 1:
            pre = pre[1:]
        proj = self._try(lambda: net.connect(pre, post, "exc"))
        if proj is not None:
            if self._try(lambda: proj.all_to_all(weights=weight, delays=delay, allow_self_connections=True)) is None:
                self._try(lambda: proj.one_to_one(weights=weight) if pre.size == post.size
                          else proj.all_to_all(weights=weight, allow_self_connections=True))

    @rule(k=st.integers(0, 3), i=st.integers(0, 20), period=PERIODS, var=st.sampled_from(["r", "v", "spike"]))
    def monitor(self, k, i, period, var):
        if not self.pops:
            return
        net = self._net(k)
        pop = self.pops[i % len(self.pops)][1]
        m = self._try(lambda: net.monitor(pop, var, period=period))
        if m is not None:  # created after compile: it records from the current step on
            self.monitors.append((net, m, period is None and var != "spike", net.current_step))

    @precondition(lambda self: any(not n.compiled and n.get_populations() for n, _ in self.nets))
    @rule(k=st.integers(0, 3))
    def compile(self, k):
        net = self._net(k)
        self._try(lambda: net.compile())

    @rule(i=st.integers(0, 20), name=st.sampled_from(["r", "v", "tau", "g"]), value=VALUES, view=st.booleans())
    def set_attribute(self, i, name, value, view):
        if not self.pops:
            return
        pop = self.pops[i % len(self.pops)][1]
        target = pop[:1] if view and pop.size > 1 else pop
        if name not in pop.attributes:
            return
        self._try(lambda: setattr(target, name, value))
        got = getattr(pop, name)
        assert np.ndim(got) == 0 or np.shape(got) == pop.geometry

    @rule(i=st.integers(0, 20), value=st.sampled_from([0.0, 1.0, 1e12, -1.0, math.nan, math.inf, None]))
    def set_refractory(self, i, value):
        if not self.pops:
            return
        pop = self.pops[i % len(self.pops)][1]
        if pop.neuron_type is SPIKE:
            self._try(lambda: setattr(pop, "refractory", value))
            r = pop.refractory
            assert r is None or np.all(np.asarray(r) >= 0)

    @rule(k=st.integers(0, 3), duration=DURATIONS)
    def simulate(self, k, duration):
        net = self._net(k)
        if not net.compiled and net.get_populations():  # as a script does: compile, then simulate
            self._try(lambda: net.compile())
        before = net.current_step
        self._try(lambda: net.simulate(duration))
        assert net.current_step >= before

    @rule(k=st.integers(0, 3), after=st.integers(1, 3))
    def interrupt(self, k, after):
        """KeyboardInterrupt between the native return and the monitor drain."""
        net = self._net(k)
        if not net.compiled and net.get_populations():
            self._try(lambda: net.compile())
        if not net.compiled:
            return
        from anncompiler.runtime.rebuild import rebuild_if_needed
        with net._lock:  # monitors added after compile: patch the code the run will use
            rebuild_if_needed(net)
        real, calls = net._simulator.run, [0]

        def run(n):
            done = real(min(n, 2))
            calls[0] += 1
            if calls[0] >= after:
                raise KeyboardInterrupt
            return done
        net._simulator.run = run
        try:
            net.simulate(10.0)
        except KeyboardInterrupt:
            pass
        finally:
            del net._simulator.run

    @rule(k=st.integers(0, 3), t=st.sampled_from([0.0, 1.0, 3.5, -1.0, math.nan]))
    def move_time(self, k, t):
        entry = self.nets[k % len(self.nets)]
        if self._try(lambda: setattr(entry[0], "time", t)) is not None or entry[0].compiled:
            entry[1] = True

    @rule(k=st.integers(0, 3), dt=st.sampled_from([0.25, 0.0, -0.1, math.nan]))
    def config_dt(self, k, dt):
        self._try(lambda: self._net(k).config(dt=dt))

    @invariant()
    def monitors_follow_time(self):
        for net, m, every_step, origin in getattr(self, "monitors", []):
            if not net.compiled:
                continue
            data = m.get(keep=True)
            if every_step and not next(e[1] for e in self.nets if e[0] is net) and net.dt == 0.5:
                assert len(data) == net.current_step - origin, (len(data), net.current_step, origin)


def main(max_examples=20, steps=15):
    warnings.simplefilter("ignore")
    run_state_machine_as_test(ApiMachine, settings=settings(
        max_examples=max_examples, stateful_step_count=steps, deadline=None, database=None,
        derandomize=False, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    print("ok")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:3]])
