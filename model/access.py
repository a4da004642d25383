"""The DSP's access decision on a request, before anything is forwarded: the pipeline of
checks the variant lists (``[pipeline]``: applicability, eligible user role, check E5), each
decision naming the row that made it, with its source: ``applicability[11.2]``
(seed:MP105), ``suspended.exceptions[3]`` (seed:MP105), ``e5.commissioned.admits``
(assumption), and so on. The checks themselves: ``model/checks.py`` and ``model/pipeline.py``.
"""

from __future__ import annotations

from model.checks import Decision, check_applicable, check_e5, join_tags
from model.pipeline import Asked, decide
from model.variant import Variant

__all__ = ["Decision", "authorise", "check_applicable", "check_e5", "join_tags"]


def authorise(
    variant: Variant,
    srv: str,
    status: str,
    device_type: str | None,
    command_variant: int | None = None,
    smets: int | None = None,
    role: str | None = None,
    image_listed: bool | None = None,
    sender_responsible: bool | None = None,
) -> Decision:
    """The pipeline's decision (applicability first when the device type is known, then the
    sender's role, then check E5, in the variant's order). Each decision is taken once per
    variant and remembered."""
    key = (srv, status, device_type, command_variant, smets, role, image_listed, sender_responsible)
    known = variant.decisions.get(key)
    if known is not None:
        return known  # type: ignore[return-value]
    asked = Asked(
        srv, status, device_type, command_variant, smets, role, image_listed, sender_responsible
    )
    decision = decide(variant, asked)
    variant.decisions[key] = decision
    return decision
