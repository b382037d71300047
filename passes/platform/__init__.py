"""Platform passes: the neutral kernel IR mapped to one kind of machine (docs/compiler.md).

A backend names the ones it needs in ``Backend.pipeline_suffix()``; the compile driver appends
them after the neutral pipeline.  CPU: ``cpu-lazy-selects`` (only the arm taken of a costly
select), ``cpu-narrow-ranks`` (16-bit pre ranks),
``cpu-partition`` (thread partitions, barriers), ``cpu-pair-draws`` (one Philox block for two
neurons), ``cpu-flag-scan`` (blocks of spike flags),
``cpu-block-rows`` (dense rows summed several at a time), ``cpu-expand-reductions`` (row lanes
for the SLP vectoriser, prefetch).  CUDA: ``cuda-map`` (grid launches, see ``cuda.py``).
"""
from . import cpu_layout, cpu_lazy_selects, cpu_pairs, cpu_partition, cpu_rows, cpu_vector, cuda  # noqa: F401

#: the CPU suffix, in the order its passes must run
CPU_SUFFIX = ("cpu-lazy-selects", "cpu-narrow-ranks", "cpu-partition", "cpu-pair-draws", "cpu-flag-scan",
              "cpu-block-rows", "cpu-expand-reductions")
