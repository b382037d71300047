"""anncompiler: an ANNarchy-compatible neural simulator built as a multi-stage compiler.

``import anncompiler as ann`` gives ANNarchy 5's interface: Neuron, Synapse,
Network, Population, Projection, Monitor, distributions, and the legacy
global API.  The compiler stages are ``anncompiler.ir``, ``anncompiler.passes``
and ``anncompiler.backends``.
"""
import os as _os

import numpy as _np

# In a source checkout the compiler stages (ir/, passes/, backends/) stand beside this package
# and are installed into it by pyproject's package-dir; when Python imports this folder directly
# (run from the repository root), let ``anncompiler.ir`` etc. resolve to them all the same.
_here = _os.path.dirname(_os.path.abspath(__file__))
_root = _os.path.dirname(_here)
if not _os.path.isdir(_os.path.join(_here, "ir")) and _os.path.isfile(_os.path.join(_root, "ir", "kernel.py")):
    __path__.append(_root)  # noqa: F821  (the package's own __path__)

from .errors import (AnnCompilerError, ArityError, BackendError, ConnectivityError, EquationSyntaxError,
                     FlagError, IndexOutOfRangeError, InvalidTypeError, InvalidValueError, IRVerificationError,
                     LocalityError, MissingVariableError, ModelError, NetworkError, NonLinearODEError, PipelineError,
                     ReservedNameError, ShapeError, UnknownNameError)
from .core.attributes import Constant, Parameter, Variable
from .core.models import Neuron, Synapse
from .core.random import (Binomial, DiscreteUniform, Exponential, Gamma, LogNormal, Normal,
                          RandomDistribution, Uniform)
from .core.network import Network
from .core.population import IndividualNeuron, Population, PopulationView
from .core.projection import Projection
from .core.patterns import LILConnectivity
from .core.connectivity_files import sparse_random_matrix
from .core.monitor import Monitor
from .core.recording_files import MonitorList, load_recording
from .errors import RecordingMemoryWarning
from .core.analysis import (coefficient_of_variation, histogram, inter_spike_interval, mean_fr,
                            population_rate, raster_plot, smoothed_rate)
from .core.inputs import InputArray, PoissonPopulation, SpikeSourceArray, TimedArray
from .core.specialised import Convolution, Copy, CurrentInjection, DecodingProjection, Pooling, Transpose
from .core.scheduled_inputs import HomogeneousCorrelatedSpikeTrains, TimedPoissonPopulation
from .core.report import report
from . import extensions  # noqa: E402,F401  (ann.extensions.image.ImagePopulation)
from .extensions.tensorboard import Logger  # noqa: E402,F401  (tensorboardX imported when one is created)
from .models import (IBCM, STDP, STP, DefaultRateCodedSynapse, DefaultSpikingSynapse, EIF_cond_alpha_isfa_ista,
                     EIF_cond_exp_isfa_ista, GIF_curr, GIF_curr_exp, Hebb, HH_cond_exp, IF_cond_alpha, IF_cond_exp,
                     IF_curr_alpha, IF_curr_exp, Izhikevich, LeakyIntegrator, Oja, list_standard_neurons,
                     list_standard_synapses)
from .core.global_api import (add_function, clear, compile, disable_learning, dt, enable_learning, functions,
                              get_current_step, get_population, get_projection, get_time, magic_network, monitors,
                              populations, projections, set_current_step, set_time, setup, simulate,
                              simulate_until, step)
from .core.global_state_api import load, load_parameters, reset, save, save_parameters

from .core import unsupported as _unsupported  # noqa: E402
_unsupported.install()
from .errors import NotSupportedError  # noqa: E402,F401

float32 = _np.float32
float64 = _np.float64

__version__ = "0.1.0"

# The compiler stages register their passes and backends on import; importing them here keeps
# that cost out of the first compile().
from . import passes as _passes  # noqa: E402,F401
from . import backends as _backends  # noqa: E402,F401

#: the public interface (``from anncompiler import *``)
__all__ = ["AnnCompilerError", "ArityError", "BackendError", "Binomial", "ConnectivityError", "Constant",
           "Convolution", "Copy", "CurrentInjection", "DecodingProjection",
           "DefaultRateCodedSynapse", "DefaultSpikingSynapse", "DiscreteUniform",
           "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista", "EquationSyntaxError",
           "Exponential", "FlagError", "GIF_curr", "GIF_curr_exp", "Gamma", "HH_cond_exp", "Hebb",
           "HomogeneousCorrelatedSpikeTrains", "IBCM", "IF_cond_alpha", "IF_cond_exp",
           "IF_curr_alpha", "IF_curr_exp", "IRVerificationError", "IndexOutOfRangeError",
           "IndividualNeuron", "InputArray", "InvalidTypeError", "InvalidValueError", "Izhikevich",
           "LILConnectivity", "LeakyIntegrator", "LocalityError", "LogNormal", "Logger",
           "MissingVariableError", "ModelError", "Monitor", "MonitorList", "Network",
           "NetworkError", "Neuron", "NonLinearODEError", "Normal", "NotSupportedError", "Oja",
           "Parameter", "PipelineError", "PoissonPopulation", "Pooling", "Population",
           "PopulationView", "Projection", "RandomDistribution", "RecordingMemoryWarning",
           "ReservedNameError", "STDP", "STP", "ShapeError", "SpikeSourceArray", "Synapse",
           "TimedArray", "TimedPoissonPopulation", "Transpose", "Uniform", "UnknownNameError",
           "Variable", "add_function", "clear", "coefficient_of_variation", "compile",
           "disable_learning", "dt", "enable_learning", "extensions", "float32", "float64",
           "functions", "get_current_step", "get_population", "get_projection", "get_time",
           "histogram", "inter_spike_interval", "list_standard_neurons", "list_standard_synapses",
           "load", "load_parameters", "load_recording", "magic_network", "mean_fr", "monitors",
           "population_rate", "populations", "projections", "raster_plot", "report", "reset",
           "save", "save_parameters", "set_current_step", "set_time", "setup", "simulate",
           "simulate_until", "smoothed_rate", "sparse_random_matrix", "step"]
