"""BOLD monitoring (ANNarchy's ``ANNarchy.extensions.bold``): ``BoldMonitor`` records the BOLD
signal that a ``BoldModel`` (such as the balloon models ``balloon_RN``, ...) computes from the
mean activity of populations; ``net.boldmonitor(...)`` creates one."""
from .accumulate import AccProjection
from .models import (BoldModel, balloon_CL, balloon_CN, balloon_maith2021, balloon_RL, balloon_RN,
                     balloon_two_inputs)
from .monitor import BoldMonitor

__all__ = ["AccProjection", "BoldModel", "BoldMonitor", "balloon_CL", "balloon_CN", "balloon_RL", "balloon_RN",
           "balloon_maith2021", "balloon_two_inputs"]
