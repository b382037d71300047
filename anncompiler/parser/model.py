"""Entry points: ``parse_model`` (Neuron/Synapse -> ModelIR) and ``parse_condition``."""
from __future__ import annotations

from anncompiler.errors import ModelError
from anncompiler.ir.draws import CONDITION_DRAW, number_draws, number_model_draws
from anncompiler.ir.model import Condition, ModelIR
from anncompiler.parser.builtins import GLOBAL_OP_NAMES
from anncompiler.parser.checks import check_names, global_ops
from anncompiler.parser.common import BOOLEAN, constant_names
from anncompiler.parser.expressions import Context, to_sympy
from anncompiler.parser.lines import join_lines
from anncompiler.parser.neuron import NeuronBuilder
from anncompiler.parser.synapse import SynapseBuilder


#: definition fields of ANNarchy this compiler does not implement yet
UNSUPPORTED = ("pruning", "creating")


def _with_model(e: ModelError, model: str) -> ModelError:
    """Errors raised deep inside (flags, lines) get the model name afterwards."""
    if e.model is None:
        e.model = model
        e.args = (e._format(),)
    return e


def parse_model(definition, constants=(), global_functions=None) -> ModelIR:
    """Parse a Neuron or Synapse definition into its ModelIR (see ``anncompiler.ir.model``).

    The parser reads the definition's fields only; its kind (``_kind``: "neuron" or
    "synapse") says which builder applies, so the parser needs no front-end class."""
    builder_cls = {"neuron": NeuronBuilder, "synapse": SynapseBuilder}.get(getattr(definition, "_kind", None))
    if builder_cls is None:
        raise ModelError(f"expected a Neuron or Synapse, got {type(definition).__name__}")
    name = definition.name
    for field in UNSUPPORTED:  # refused rather than silently ignored
        if getattr(definition, field, None) not in (None, "", [], ()):
            raise ModelError(f"'{field}' is not supported yet", model=name, name=field)
    try:
        model = builder_cls(definition, constants, global_functions).build()
        number_model_draws(model)  # stable ids of the random draws (they pick the streams)
        return model
    except ModelError as e:
        raise _with_model(e, name)
    except RecursionError as e:
        raise ModelError("an equation is nested too deeply", model=name) from e


def parse_condition(text: str, model_ir: ModelIR, constants=()) -> Condition:
    """A ``stop_condition`` such as ``r > 1.0 : all`` over the attributes of ``model_ir``."""
    text = join_lines(text)
    mode = "any"
    body = text
    k = text.rfind(":")
    if k >= 0 and text[k + 1:].strip() in ("any", "all"):
        body, mode = text[:k].strip(), text[k + 1:].strip()
    ctx = Context(model=model_ir.name, source=text, functions=dict(model_ir.functions))
    try:
        expr = to_sympy(body, ctx)
        if not isinstance(expr, BOOLEAN):
            raise ctx.error(ModelError, "a stop condition must be a comparison or a boolean expression")
        if global_ops(expr):
            raise ctx.error(ModelError, "global operations (" + ", ".join(sorted(GLOBAL_OP_NAMES))
                            + ") are not allowed in a stop condition")
        allowed = set(model_ir.attributes) | constant_names(constants) | {"t", "dt"}
        check_names(expr, ctx, allowed, "condition")
    except ModelError as e:
        raise _with_model(e, model_ir.name)
    except RecursionError as e:
        raise ModelError("the condition is nested too deeply", model=model_ir.name, equation=text) from e
    (expr,), _ = number_draws([expr], CONDITION_DRAW)
    return Condition(expr=expr, source=text, mode=mode)
