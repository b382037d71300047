"""Which compiled arrays make up the state of a population or projection.

A population's attributes (``v``, ``tau``) are only part of what its next step reads: spike
lists, last spike steps, refractory counters, delay rings, event steps of synapses, input
cursors and clocks are arrays that the lowering phases declare for it.  They are found here from
the kernel module itself (the owner of each array's handle, else the owner whose name prefixes
the array's), never from a list of names, so that saving, loading and resetting cover the
buffers of any phase, present or future.
"""
from __future__ import annotations

#: array kinds that are not state: synapse structure fixed at compile, monitor buffers (empty
#: whenever Python runs)
NOT_STATE = ("connectivity", "buffer")


def array_owners(km, owners) -> dict[str, str]:
    """Array name -> its owner among ``owners`` (population and projection names), for the
    arrays that have one."""
    owners = set(owners)
    found: dict[str, str] = {}
    for (owner, _role), handle in km.handles.items():
        if owner in owners:
            found.setdefault(handle.array, owner)
    longest_first = sorted(owners, key=len, reverse=True)
    for name in km.arrays:
        if name not in found:
            owner = next((o for o in longest_first if name.startswith(o + ".")), None)
            if owner is not None:
                found[name] = owner
    return found


def controls(km) -> set[str]:
    """Arrays the front end sets as switches (learning flags, monitor and simulate_until
    switches, the step counter): internal arrays reached through a handle.  They are settings
    of the user's script, not state."""
    return {h.array for h in km.handles.values() if km.arrays[h.array].kind == "internal"}


def hidden_state(km, owner: str, attribute_arrays: set[str], owners: dict[str, str]) -> list[str]:
    """The arrays of ``owner`` that the next step reads besides its attributes
    (``attribute_arrays``, saved under their own names)."""
    switches = controls(km)
    return [name for name, o in owners.items()
            if o == owner and km.arrays[name].kind not in NOT_STATE
            and name not in attribute_arrays and name not in switches]


def file_key(owner: str, array: str) -> str:
    """The name under which an array is saved: without its owner's name, so that a file can be
    loaded into an object of another name (``pop.load``)."""
    return array[len(owner) + 1:] if array.startswith(owner + ".") else array


def array_for_key(km, owner: str, key: str) -> str | None:
    """The array a saved ``key`` of ``owner`` names in this kernel module, or None."""
    for name in (f"{owner}.{key}", key):
        if name in km.arrays:
            return name
    return None
