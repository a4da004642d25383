"""The rows of a variant's rule tables: the legal text as data, each row with its source.

A variant (``model/variant.py``) holds these rows; the DSP (``model/dsp.py``) reads them.
Each row knows how to describe itself for reviewers and where it comes from (its provenance
tag, and a one-line reason where the tag is ``assumption``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from model.catalogue import ServiceRequest

Admits = Literal["all", "critical", "none"]
UpdateKind = Literal["success", "with-version", "alert"]

ADMITS: Final = ("all", "critical", "none")
ALERT_PREFIX: Final = "alert:"
DCC_ALERT_PREFIX: Final = "dcc-alert:"


def report_alert(report: str) -> str | None:
    """The alert a route's ``report`` or a rule's ``message`` names (``alert:CS09``, a device
    alert; ``dcc-alert:NAME``, a DCC alert), or None for a response."""
    for prefix in (ALERT_PREFIX, DCC_ALERT_PREFIX):
        if report.startswith(prefix):
            return report.removeprefix(prefix)
    return None


CRITICAL_LIFE_CYCLE: Final = ("to-history", "refuse")


@dataclass(frozen=True, slots=True)
class Exemption:
    """A request still accepted by an E5 row that would otherwise reject it, with its
    Command Variant and SMETS conditions."""

    srv: str
    command_variant: int | None
    smets: int | None
    source: str

    def matches(self, srv: str, command_variant: int | None, smets: int | None) -> bool:
        """True when a request meets this entry, Command Variant and SMETS included."""
        return (
            srv == self.srv
            and (self.command_variant is None or command_variant == self.command_variant)
            and (self.smets is None or smets == self.smets)
        )

    def describe(self) -> str:
        conditions = []
        if self.command_variant is not None:
            conditions.append(f"Command Variant {self.command_variant}")
        if self.smets is not None:
            conditions.append(f"SMETS{self.smets} only")
        return f"SR{self.srv}" + (f" ({', '.join(conditions)})" if conditions else "")


@dataclass(frozen=True, slots=True)
class NonDeviceRule:
    """Whether an E5 row gates one Non-Device Request (seed:MP105 shows SR11.1 is gated)."""

    srv: str
    gated: bool
    source: str
    why: str


@dataclass(frozen=True, slots=True)
class E5Row:
    """One row of check E5: what a device in ``status`` admits.

    ``admits`` is ``all``, ``critical`` (Critical requests, plus ``exceptions``) or ``none``
    (only ``exceptions``); a request not admitted is rejected with ``reject_code``. A
    Non-Device Request named in ``non_device`` with ``gated = false`` passes whatever the row
    admits; one not named is gated like any other request. A request on ``deny`` is rejected
    whatever the row admits.
    """

    status: str
    admits: Admits
    reject_code: str
    exceptions: tuple[Exemption, ...]
    non_device: tuple[NonDeviceRule, ...]
    source: str
    why: str
    #: Requests this row rejects whatever it admits, each entry with its own source.
    deny: tuple[Exemption, ...] = ()

    def non_device_rule(self, srv: str) -> tuple[int, NonDeviceRule] | None:
        for number, rule in enumerate(self.non_device):
            if rule.srv == srv:
                return number, rule
        return None


@dataclass(frozen=True, slots=True)
class UpdateRule:
    """A message that updates the SMI firmware version, optionally only for some SMI
    statuses and device types.

    ``SRV:success`` (a success response), ``SRV:with-version`` (any response that carries a
    version) or ``alert:CODE`` (a device alert that carries a version).
    """

    message: str
    kind: UpdateKind
    statuses: frozenset[str] | None = None
    device_types: frozenset[str] | None = None
    source: str = ""
    #: Only a message that carries this outcome (a device alert's ``ActivationSuccess``).
    outcome: str | None = None
    #: The alert is a DCC alert (``dcc-alert:NAME``), not one from the device.
    dcc: bool = False

    @property
    def srv(self) -> str:
        return self.message

    def applies(
        self,
        message: str,
        success: bool,
        version: str | None,
        status: str | None = None,
        device_type: str | None = None,
        outcome: str | None = None,
    ) -> bool:
        """Does this rule update the SMI from this message, for a device in ``status``?"""
        if message != self.message or version is None:
            return False
        if self.statuses is not None and status not in self.statuses:
            return False
        if self.device_types is not None and device_type not in self.device_types:
            return False
        if self.outcome is not None and outcome != self.outcome:
            return False
        return success or self.kind != "success"

    def __str__(self) -> str:
        prefix = DCC_ALERT_PREFIX if self.dcc else ALERT_PREFIX
        text = f"{prefix}{self.message}" if self.kind == "alert" else self.base()
        conditions = []
        if self.statuses is not None:
            conditions.append("while " + "/".join(sorted(self.statuses)))
        if self.device_types is not None:
            conditions.append("for " + "/".join(sorted(self.device_types)))
        if self.outcome is not None:
            conditions.append(f"on {self.outcome}")
        return text + (f" ({', '.join(conditions)})" if conditions else "")

    def base(self) -> str:
        return f"{self.message}:{self.kind}"


@dataclass(frozen=True, slots=True)
class FirmwareRoute:
    """How one device type's firmware moves over the DCC: which request delivers an image,
    which activates it, and which message reports the new version (the activating request's
    response, or a device alert). A type with neither has no firmware route over the DCC."""

    device_type: str
    deliver: str | None
    activate: str | None
    report: str
    source: str
    why: str
    #: The device alert is sent on a failed activation too, with its failure outcome
    #: (without this, only a successful activation sends it).
    report_failure: bool = False
    #: Rows of their own for a SMETS generation (``[firmware.routes.TYPE.smets1]``).
    by_smets: tuple[tuple[int, FirmwareRoute], ...] = ()

    def for_smets(self, smets: int) -> FirmwareRoute:
        return next((route for g, route in self.by_smets if g == smets), self)

    @property
    def exists(self) -> bool:
        return self.deliver is not None and self.activate is not None

    @property
    def alert(self) -> str | None:
        """The alert (a device alert, or a DCC alert) that reports activation, if activation
        is reported by an alert."""
        return report_alert(self.report)

    def describe(self) -> str:
        if not self.exists:
            return f"{self.device_type}: no firmware route over the DCC"
        steps = (
            f"SR{self.deliver} delivers and activates"
            if self.deliver == self.activate
            else f"SR{self.deliver} delivers, SR{self.activate} activates"
        )
        told = "its response" if self.alert is None else f"alert {self.alert}"
        if self.alert is not None and self.report_failure:
            told += " (sent on failure too)"
        return f"{self.device_type}: {steps}; {told} reports the new version"


@dataclass(frozen=True, slots=True)
class ApplicabilityRow:
    """The device types one request applies to; others are refused before check E5."""

    srv: str
    device_types: frozenset[str]
    source: str
    why: str


@dataclass(frozen=True, slots=True)
class RemovalReason:
    """Why the DCC removed a version from the CPL, and whether that removal suspends."""

    reason: str
    suspends: bool
    source: str
    why: str
    #: Whom a suspending removal suspends: these device types only (None: every type).
    device_types: frozenset[str] | None = None

    def suspends_type(self, device_type: str) -> bool:
        return self.suspends and (self.device_types is None or device_type in self.device_types)

    def describe(self) -> str:
        if not self.suspends:
            return f"a removal for {self.reason} suspends nobody"
        whom = "" if self.device_types is None else " " + ", ".join(sorted(self.device_types))
        return f"a removal for {self.reason} suspends{whom}"


@dataclass(frozen=True, slots=True)
class CplRules:
    """What the DSP does when the CPL changes, or the SMI firmware moves off it."""

    removal_suspends: frozenset[str]
    relisting_restores: bool
    off_cpl_update_suspends: bool
    #: Removal reasons a CPL change may name (``[cpl.reasons.NAME]``); a removal that names
    #: none suspends as ``removal_suspends`` says.
    reasons: tuple[RemovalReason, ...] = ()

    def reason(self, name: str | None) -> RemovalReason | None:
        return next((r for r in self.reasons if r.reason == name), None)


CHECKS: Final = (
    "applicability",
    "role",
    "e5",
    "join-validation",
    "cpl-image",
    "responsible-supplier",
)
#: The response code a check refuses with when its row names none: the model's own names
#: (assumption: the reference data names no DUIS code for either refusal).
DEFAULT_REJECT_CODES: Final = {
    "cpl-image": "DSP:IMAGE_NOT_ON_CPL",
    "responsible-supplier": "DSP:NOT_RESPONSIBLE_SUPPLIER",
}
#: Events outside the status chart a variant can attach rules to (``[events.NAME]``).
ACTOR_EVENTS: Final = ("change_of_supplier",)
#: What such an event can clear on a device: ``image``, the firmware image the outgoing
#: supplier delivered and did not activate (the model's one per-supplier setting).
CLEARABLE: Final = ("image",)


@dataclass(frozen=True, slots=True)
class ActorEvent:
    """An event among Service Users (a change of supplier) and what it clears."""

    event: str
    clears: tuple[str, ...]
    source: str
    why: str

    def describe(self) -> str:
        cleared = ", ".join(self.clears) or "nothing"
        return f"{self.event.replace('_', ' ')} clears {cleared}"


@dataclass(frozen=True, slots=True)
class PipelineCheck:
    """One step of the DSP's validation, in order: ``check`` names what it reads
    (``applicability``: [applicability]; ``role``: the Eligible User Roles; ``e5``: check E5's
    row for the status; ``join-validation``: [joins])."""

    check: str
    source: str
    why: str
    #: The response code a ``cpl-image`` check refuses with (the model's name by default).
    reject_code: str = "DSP:IMAGE_NOT_ON_CPL"


@dataclass(frozen=True, slots=True)
class RequestRow:
    """A Service Request a variant declares (``[requests."SRV"]``): not in the DUIS
    catalogue, with its name, criticality and Eligible User Roles, and its own source."""

    request: ServiceRequest
    source: str
    why: str

    def describe(self) -> str:
        request = self.request
        kind = "Critical" if request.critical else "Non-Critical"
        kind += ", Non-Device" if request.non_device else ""
        return f"{request.label} ({kind}), from {', '.join(request.roles)}"


@dataclass(frozen=True, slots=True)
class RoleRow:
    """The Service User roles eligible to send one request (the catalogue's, or a
    variant's own row)."""

    srv: str
    roles: frozenset[str]
    source: str
    why: str


@dataclass(frozen=True, slots=True)
class Cascade:
    """What a life-cycle event on a device does to its joins, and the DCC alert it raises."""

    event: str
    unjoin: bool
    alert: str | None
    source: str
    why: str

    def describe(self) -> str:
        parts = ["unjoins the device's associated devices" if self.unjoin else "keeps its joins"]
        if self.alert:
            parts.append(f"raises DCC alert {self.alert}")
        return f"{self.event}: " + ", ".join(parts)
