"""Backward reachability for the recoverability properties.

A state can recover when a good state (``properties.recoverability``) is reachable from it
over actions that may be part of a way back (``properties.ways_back``): the good states
first, then, backwards over the ways into each state the search kept, every state with a
way to one of them.
"""

from __future__ import annotations

from checker.packing import Codec
from model.world import Setup
from properties.recoverability import DEVICE_GOOD, join_good_pair


def good_states(property_id: str, keys: list[int], codec: Codec, first: Setup) -> list[int]:
    """The numbers of the states in which every device (firmware, suspension) or every pair
    (joins) is good; the local predicates are cached per field, so each is judged once."""
    layout = codec.layout
    device_values, cpl_values = codec.dev_ids.values, codec.cpl_ids.values
    local_cache: dict[tuple[int, int, int], bool] = {}
    device_good = DEVICE_GOOD.get(property_id)
    good = []
    for n, state in enumerate(keys):
        verdict = True
        if device_good is not None:
            cpl = (state & layout.cpl_mask) >> layout.cpl_shift
            for d, spec in enumerate(first.devices):
                dev = (state & layout.device_mask[d]) >> layout.device_shift[d]
                ok = local_cache.get((d, dev, cpl))
                if ok is None:
                    s_ = device_values[dev]
                    ok = local_cache[(d, dev, cpl)] = device_good(
                        spec.cpl_listed, s_.status, s_.smi_firmware, s_.firmware, cpl_values[cpl]
                    )
                if not ok:
                    verdict = False
                    break
        else:
            for p, pair in enumerate(first.pairs):
                join = (state & layout.join_mask[p]) >> layout.join_shift[p]
                t = pair.target
                dev = (state & layout.device_mask[t]) >> layout.device_shift[t]
                ok = local_cache.get((p, join, dev))
                if ok is None:
                    ok = local_cache[(p, join, dev)] = join_good_pair(
                        codec.join_names[join], device_values[dev].status
                    )
                if not ok:
                    verdict = False
                    break
        if verdict:
            good.append(n)
    return good


def can_recover(states: int, good: list[int], reverse: list[list[int]], bit: int) -> bytearray:
    """1 for each of ``states`` states from which a good state is reachable over the ways
    in (``reverse``, each ``source * 8 + flags``) whose flags carry ``bit``."""
    recovers = bytearray(states)
    for n in good:
        recovers[n] = 1
    stack = list(good)
    while stack:
        n = stack.pop()
        for code in reverse[n]:
            m = code >> 3
            if code & bit and not recovers[m]:
                recovers[m] = 1
                stack.append(m)
    return recovers
