"""Register a custom compiler pass and see its effect in the dumped IR.

``freeze-parameters`` replaces every global parameter of the neuron models by its value in
the discrete IR, so that LLVM can fold constants (e.g. ``dt/tau`` becomes a literal). It is a
promise by the user not to change those parameters after compile(): exactly the kind of
project-specific optimisation a compiler library should let users add.
"""
import os
import tempfile

import sympy

import anncompiler as ann
from anncompiler.passes import DEFAULT_PIPELINE, Pass, register_pass


@register_pass
class FreezeParameters(Pass):
    """Substitute global neuron parameters by their values (they must not change after compile)."""
    name = "freeze-parameters"

    def run(self, module):
        net = module.network
        for pop in net.populations:
            model = pop.model
            if model.updates is None:
                continue
            values = {sympy.Symbol(a.name): sympy.Float(pop.init[a.name])
                      for a in model.attributes.values()
                      if a.role == "parameter" and a.locality == "global" and a.name in pop.init}
            for update in model.updates + (model.reset_updates or []):
                update.value = update.value.xreplace(values)


net = ann.Network(dt=1.0)
neuron = ann.Neuron(parameters=dict(tau=10.0, B=0.5), equations="tau * dr/dt + r = B", name="Leaky")
pop = net.create(10, neuron)

pipeline = DEFAULT_PIPELINE.replace("discretise-odes", "discretise-odes,freeze-parameters")
directory = os.path.join(tempfile.mkdtemp(), "ir")
net.compile(pipeline=pipeline, dump_ir=directory)
net.simulate(100.)

print("pipeline:", pipeline)
print("dumps:", ", ".join(sorted(os.listdir(directory))))
for name in sorted(os.listdir(directory)):
    if "discretise-odes" in name or "freeze-parameters" in name:
        text = open(os.path.join(directory, name)).read()
        print(f"--- {name}: the update of r")
        print("\n".join(line for line in text.splitlines() if "_d_r" in line or "set r" in line))
print("r after 100 ms:", pop.r[0], "(analytic:", 0.5 * (1 - 0.9 ** 100), ")")
