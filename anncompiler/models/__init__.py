"""ANNarchy's built-in neuron and synapse models, as ordinary Neuron and Synapse subclasses."""
from .neurons import (EIF_cond_alpha_isfa_ista, EIF_cond_exp_isfa_ista, GIF_curr, GIF_curr_exp, HH_cond_exp,
                      IF_cond_alpha, IF_cond_exp, IF_curr_alpha, IF_curr_exp, Izhikevich, LeakyIntegrator,
                      list_standard_neurons)
from .synapses import (DefaultRateCodedSynapse, DefaultSpikingSynapse, Hebb, IBCM, Oja, STDP, STP,
                       list_standard_synapses)

__all__ = ["LeakyIntegrator", "Izhikevich", "IF_curr_exp", "IF_cond_exp", "IF_curr_alpha", "IF_cond_alpha",
           "EIF_cond_exp_isfa_ista", "EIF_cond_alpha_isfa_ista", "GIF_curr", "GIF_curr_exp", "HH_cond_exp",
           "list_standard_neurons", "DefaultRateCodedSynapse", "DefaultSpikingSynapse", "Hebb", "Oja", "IBCM", "STP", "STDP",
           "list_standard_synapses"]
