"""cpu-block-rows: dense rows summed several at a time keep the bits of every row, on every thread
count; dense rows no longer prefetch the pre-synaptic rates they re-read."""
import os

import numpy as np
import pytest

import anncompiler as ann
from anncompiler.errors import PipelineError
from anncompiler.passes import DEFAULT_PIPELINE


def cpu_pipeline(threads, rows):
    return (DEFAULT_PIPELINE + f",cpu-narrow-ranks,cpu-partition{{threads={threads}}},cpu-flag-scan,"
            f"cpu-block-rows{{rows={rows}}},cpu-expand-reductions")


def dense_network(backend="llvm", threads=1, rows=None, dump=None, lanes=None):
    """37 neurons, recurrent all-to-all (dense, 37 rows: blocks of 8 leave 5) and a second dense
    projection from 19 inputs (rows shorter than the 16 lanes: only the remainder loop runs)."""
    net = ann.Network(dt=1.0, seed=5)
    net.config(num_threads=threads)
    neuron = ann.Neuron(parameters="B = 0.0", equations="r = tanh(sum(exc) + sum(inh) + B)")
    inputs = net.create(19, ann.Neuron(parameters="r = 0.0"))
    pop = net.create(37, neuron)
    rng = np.random.default_rng(1)
    inputs.r = rng.uniform(-1.0, 1.0, 19)
    pop.B = rng.uniform(-0.5, 0.5, 37)
    net.connect(pop, pop, "exc").all_to_all(weights=ann.Uniform(-0.4, 0.4, rng=net.default_rng))
    net.connect(inputs, pop, "inh").all_to_all(weights=ann.Uniform(-0.3, 0.3, rng=net.default_rng))
    m = net.monitor(pop, "r")
    pipeline = None
    if rows is not None:
        pipeline = cpu_pipeline(threads, rows)
    if lanes is not None:
        pipeline = (pipeline or DEFAULT_PIPELINE).replace("lower-to-kernels", f"lower-to-kernels{{lanes={lanes}}}")
    net.compile(backend=backend, pipeline=pipeline, dump_ir=dump)
    net.simulate(6)
    return m.get("r")


def kernel_dump(directory, suffix):
    return open(os.path.join(directory, next(f for f in sorted(os.listdir(directory)) if f.endswith(suffix)))).read()


@pytest.mark.parametrize("lanes", [None, 4])
def test_blocked_rows_compute_the_bits_of_every_backend_and_thread_count(lanes):
    reference = dense_network(backend="reference", lanes=lanes)
    assert np.isfinite(reference).all() and np.abs(reference).max() > 0.1
    for threads in (1, 3):
        for rows in (3, 8):
            got = dense_network(threads=threads, rows=rows, lanes=lanes)
            assert np.array_equal(got, reference), (threads, rows)


def test_rows_are_blocked_and_the_rest_run_alone(tmp_path):
    dense_network(rows=8, dump=str(tmp_path))
    text = kernel_dump(tmp_path, "cpu-block-rows.txt")
    assert "for %k_blk in 0 .. %k_nblk:  [rows:proj0]" in text
    assert "%acc_r7: f64" in text and "%acc_r8" not in text
    assert text.count("_blk in 0") == 2  # both projections are dense
    # the 5 rows left over run the original loop, with its reduce
    assert "for %k in (0 + (%k_nblk * 8)) .. 37:  [rows:proj0]" in text
    assert "reduce(+, 0.0, lanes=16)" in text


def test_blocking_needs_the_partitioned_module():
    net = ann.Network(dt=1.0)
    pop = net.create(4, ann.Neuron(equations="r = sum(exc)"))
    net.connect(pop, pop, "exc").all_to_all(weights=0.1)
    with pytest.raises(PipelineError, match="after 'cpu-partition'"):
        net.compile(pipeline=DEFAULT_PIPELINE + ",cpu-block-rows{rows=4}")
    assert not net.compiled


def test_sparse_rows_are_not_blocked(tmp_path):
    net = ann.Network(dt=1.0, seed=2)
    pop = net.create(60, ann.Neuron(equations="r = sum(exc) + 1.0"))
    net.connect(pop, pop, "exc").fixed_probability(0.2, weights=0.01)
    net.compile(pipeline=cpu_pipeline(1, 8), dump_ir=str(tmp_path))
    assert "_blk" not in kernel_dump(tmp_path, "cpu-block-rows.txt")


def test_dense_rows_do_not_prefetch_the_rates_every_row_reads(tmp_path):
    dense_network(rows=1, dump=str(tmp_path))
    assert "prefetch" not in kernel_dump(tmp_path, "cpu-expand-reductions.txt")
