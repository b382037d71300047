"""Optional extensions of the interface (as ANNarchy's ``ANNarchy.extensions``): ``image``."""
