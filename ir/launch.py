"""How a GPU platform launches the kernels of a module: one :class:`LaunchConfig` per kernel
(``KernelModule.launch``, set by a mapping pass such as ``cuda-map``), and the launches it makes
of a kernel's statements (:func:`launch_segments`)."""
from __future__ import annotations

from dataclasses import dataclass

from .kernel import Comment, Kernel, Let, Reduce, Stmt


@dataclass(frozen=True)
class LaunchConfig:
    """How a GPU platform runs one kernel (set by a mapping pass such as ``cuda-map``).

    ``grid_loops``: positions in ``Kernel.body`` of the top-level loops run with one thread per
    iteration, each as its own launch; the other statements run on one thread, in order (see
    :func:`launch_segments`); ``()`` runs the whole kernel on one thread.  ``iterations``: an
    upper bound of the trip count of each grid loop (its grid size).  ``atomics``: arrays whose
    :class:`Accumulate` inside a grid loop is an atomic add (float atomics change the order of
    the sum, so a platform lists them only where it accepts that).  ``group``: threads per
    iteration of each grid loop (``()``: one each); a group of W threads (a power of two up to a
    warp) folds the one :class:`Reduce` of the iteration together, each thread the lanes ``k``
    with ``k % W`` its own, and combines the partials in the declared order, so the bits are those
    of one thread; the rest of the iteration is computed by every thread and stored by the first.
    """
    grid_loops: tuple[int, ...] = ()
    iterations: tuple[int, ...] = ()
    block: int = 256
    atomics: tuple[str, ...] = ()
    group: tuple[int, ...] = ()

    def threads(self, pos: int) -> int:
        """Threads per iteration of the grid loop at statement ``pos``."""
        return int(self.group[self.grid_loops.index(pos)]) if self.group else 1


def launch_segments(k: Kernel, c: LaunchConfig) -> list[tuple[list[Stmt], list[Stmt], int | None]]:
    """The launches of ``k`` in order, as ``(prologue, statements, grid loop position or None)``.

    Each grid loop is one launch; the statements between them form one-thread launches (left out
    when they only define locals).  Locals do not survive a launch, so each one first recomputes
    the top-level ``Let``/``Reduce`` statements before it: the prologue (a mapping pass checks
    that nothing in between writes what they read).
    """
    if not c.grid_loops:
        return [([], list(k.body), None)]
    out, run, start = [], [], 0

    def defs(end):
        return [s for s in k.body[:end] if isinstance(s, (Let, Reduce))]

    def flush():
        if any(not isinstance(s, (Let, Reduce, Comment)) for s in run):
            out.append((defs(start), list(run), None))

    for pos, s in enumerate(k.body):
        if pos in c.grid_loops:
            flush()
            run, start = [], pos + 1
            out.append((defs(pos), [s], pos))
        else:
            run.append(s)
    flush()
    return out


def format_launch(name: str, c: LaunchConfig) -> str:
    if not c.grid_loops:
        return f"launch @{name}: one thread"
    loops = ", ".join(f"statement {k} ({n} iterations" + (f", {c.threads(k)} threads each)" if c.threads(k) > 1 else ")")
                      for k, n in zip(c.grid_loops, c.iterations))
    atomics = f", atomic {', '.join(c.atomics)}" if c.atomics else ""
    return f"launch @{name}: grid over {loops}, block {c.block}{atomics}"
