"""ann.report(net, filename): Markdown (.md) and LaTeX descriptions of a network."""
import shutil
import subprocess

import numpy as np
import pytest

import anncompiler as ann


def small_network():
    net = ann.Network(dt=0.5, seed=1)
    net.constant("g_max", 2.5)
    inp = net.create(ann.PoissonPopulation(10, rates=20.0), name="input")
    pop = net.create((2, 5), ann.IF_cond_exp, name="exc_pop")
    pop.tau_m = np.linspace(10.0, 20.0, 10)
    net.connect(inp, pop, "exc", ann.STDP, name="in_exc").fixed_probability(
        0.5, weights=ann.Uniform(0.0, 1.0, rng=net.default_rng))
    rate = net.create(3, ann.Neuron(parameters="tau = 10.0 : population", equations="tau*dr/dt + r = sum(exc)",
                                    name="Leaky", description="a leaky integrator"), name="rates")
    net.connect(rate, rate, "exc", name="recurrent").all_to_all(weights=0.5)
    net.monitor(pop, ["spike", "v"], name="exc_monitor")
    return net


@pytest.mark.parametrize("compiled", [False, True])
def test_markdown_report(tmp_path, compiled):
    net = small_network()
    if compiled:
        net.compile()
    ann.report(net, tmp_path / "report.md", title="My network", author="Me")
    text = (tmp_path / "report.md").read_text()
    assert text.startswith("# My network\n\n*Me*")
    assert "| input | 10 | 10 | Poisson | PoissonPopulation |" in text
    assert "| exc_pop | 10 | 2x5 | Integrate-and-Fire | Population |" in text
    assert "### Leaky" in text and "rate-coded neuron: a leaky integrator" in text
    assert "tau*dr/dt + r = sum(exc)" in text and "v > v_thresh" in text and "v = v_reset" in text
    assert "| in_exc | input | exc_pop | exc | Spike-timing dependent plasticity | fixed_probability" in text
    assert "| recurrent | rates | rates | exc |" in text
    assert "x += A_plus * w_max" in text and "y -= A_minus * w_max" in text  # STDP's events
    assert "| tau_m | 10 to 20 (mean 15) |" in text and "| rates | 20 |" in text and "| tau | 10 |" in text
    assert "| exc_monitor | exc_pop | spike, v |" in text and "| g_max | 2.5 |" in text
    assert "Time step: dt = 0.5 ms" in text


def test_latex_report(tmp_path):
    net = small_network()
    ann.report(net, tmp_path / "sub" / "report.tex", author="A_B")
    text = (tmp_path / "sub" / "report.tex").read_text()
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    assert r"\author{A\_B}" in text and r"exc\_pop & 10 & 2x5 & Integrate-and-Fire & Population \\" in text
    assert r"\item \texttt{tau*dr/dt + r = sum(exc)}" in text
    ann.report(net, tmp_path / "part.tex", standalone=False)
    part = (tmp_path / "part.tex").read_text()
    assert r"\documentclass" not in part and r"\section*{Populations}" in part
    if shutil.which("pdflatex"):
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "report.tex"], cwd=tmp_path / "sub",
                              capture_output=True)
        assert done.returncode == 0, done.stdout[-2000:]


def test_report_arguments(tmp_path):
    net = small_network()
    with pytest.raises(ann.InvalidTypeError, match="first argument is the network"):
        ann.report(str(tmp_path / "r.md"), net)
    with pytest.raises(ann.InvalidTypeError, match="Network"):
        ann.report(42, tmp_path / "r.md")
