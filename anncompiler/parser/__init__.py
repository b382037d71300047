"""Equation parser: Neuron/Synapse definitions (ANNarchy syntax) -> ``ModelIR``.

Stages, one module each: ``lines`` (statements, flags), ``expressions`` (text ->
sympy), ``statements`` (equation kinds, ODE solving), ``attributes``
(parameters, flags), ``functions`` (user functions), ``checks`` (names,
locality), ``neuron`` / ``synapse`` (model rules), ``model`` (entry points).
"""
from anncompiler.parser.functions import parse_function
from anncompiler.parser.model import parse_condition, parse_model

__all__ = ["parse_model", "parse_function", "parse_condition"]
