"""Property ids: a public contract (docs/design.md, "Contracts"). Kept free of imports so the
model can read it."""

from __future__ import annotations

from typing import Final

SUSPENDED_GATE: Final = "suspended-gate"
PRIOR_STATUS_RESTORED: Final = "prior-status-restored"
NO_FALSE_RESTORE: Final = "no-false-restore"
FIRMWARE_RECOVERABLE: Final = "firmware-recoverable"
JOIN_RECOVERABLE: Final = "join-recoverable"
UNJOIN_VALIDATED: Final = "unjoin-validated"
#: DP105's defect, named precisely: a device stranded Suspended although it runs an
#: approved version (added beside the six ids of the design contract).
SUSPENSION_RECOVERABLE: Final = "suspension-recoverable"

PROPERTY_IDS: Final = (
    SUSPENDED_GATE,
    PRIOR_STATUS_RESTORED,
    NO_FALSE_RESTORE,
    FIRMWARE_RECOVERABLE,
    JOIN_RECOVERABLE,
    UNJOIN_VALIDATED,
    SUSPENSION_RECOVERABLE,
)

VERDICTS: Final = ("holds", "violated")
