"""The DSP's gate for a request to one device: what the variant's pipeline of checks is asked
(``model/pipeline.py``) and the rejection when a check fails (applicability, the sender's
role, check E5, the CPL check on a delivered image: ``model/access.py``).
"""

from __future__ import annotations

from model.access import Decision, authorise
from model.dsp_outcome import Outcome
from model.pipeline import Asked
from model.variant import Variant
from model.world import DeviceSpec, DeviceState, Request


def responsible(variant: Variant, state: DeviceState, request: Request) -> bool | None:
    """Is the sender the device's responsible supplier? None where the pipeline does not
    ask, or the request names no sender, or the device no supplier."""
    if request.sender is None or state.supplier is None or not variant.checks_suppliers:
        return None
    return request.sender == state.supplier


def asked_of(
    variant: Variant,
    spec: DeviceSpec,
    state: DeviceState,
    request: Request,
    cpl: frozenset[str] | None = None,
) -> Asked:
    """What the pipeline is asked about a request to this device: whether its image is on
    the CPL only where the variant's pipeline checks images and the CPL is known."""
    return Asked(*_asked(variant, spec, state, request, cpl))


def _asked(
    variant: Variant,
    spec: DeviceSpec,
    state: DeviceState,
    request: Request,
    cpl: frozenset[str] | None,
) -> tuple[str, str, str, int, int, str | None, bool | None, bool | None]:
    """``asked_of``'s fields, in order (the DSP's gate passes them on without an Asked)."""
    checks_image = cpl is not None and request.image is not None and variant.checks_images
    listed = (request.image in cpl) if checks_image and cpl is not None else None
    return (
        request.srv,
        state.status,
        spec.type,
        request.command_variant,
        spec.smets,
        request.role,
        listed,
        responsible(variant, state, request),
    )


def gate(
    variant: Variant,
    spec: DeviceSpec,
    state: DeviceState,
    request: Request,
    cpl: frozenset[str] | None = None,
) -> tuple[Decision, Outcome | None]:
    """The variant's pipeline of checks for a request to this device (applicability, the
    sender's role, check E5; the CPL check on the image it delivers where the pipeline has
    one); the rejection's outcome when one fails."""
    decision = authorise(variant, *_asked(variant, spec, state, request, cpl))
    if decision.accepted:
        return decision, None
    effects = (f"rejected {decision.response_code}",)
    return decision, Outcome(False, decision.response_code, decision.rule, effects=effects)
