"""Rebuild ``model/data/catalogue.json`` from the DUIS Service Request matrix (source: duis).

Run once when the reference matrix changes:
    python scripts/import_catalogue.py ../shared/reference/duis-request-matrix.json

The project keeps its own copy so that it runs without ``../shared``; the test
``tests/test_catalogue.py`` cross-checks every row against the reference when it is present.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "model" / "data" / "catalogue.json"


def yes(value: str) -> bool:
    if value not in ("Yes", "No"):
        raise ValueError(f"expected Yes or No, got {value!r}")
    return value == "Yes"


def service_reference(row: dict) -> str:
    """The Service Reference, corrected where the matrix lost a trailing zero: it gives "6.2"
    for SRVs 6.20.1 and 6.20.2, whose DUIS templates say 6.20 (a number-conversion slip)."""
    srv, given = row["Service Reference Variant"], row["Service Reference"]
    if srv == given or srv.startswith(given + "."):
        return given
    return ".".join(srv.split(".")[:2])


def convert(row: dict) -> dict:
    return {
        "srv": row["Service Reference Variant"],
        "service_reference": service_reference(row),
        "name": " ".join(row["Service Request Name"].split()),
        "critical": yes(row["Critical"]),
        "non_device": yes(row["Non-Device Request"]),
        "on_demand": yes(row["On Demand"]),
        "future_dated_response": row["Future Dated Response Pattern"],
        "dcc_scheduled": yes(row["DCC Scheduled"]),
        "roles": list(row["Eligible User Roles"]),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: import_catalogue.py PATH/TO/duis-request-matrix.json", file=sys.stderr)
        return 2
    rows = [convert(r) for r in json.loads(Path(argv[1]).read_text(encoding="utf-8"))]
    document = {
        "source": "duis",
        "about": "DUIS Service Reference Variants, from SmartDCCInnovation/duis-parser "
        "src/duis-request-matrix.json (GPL-3.0), commit 4afcaf05.",
        "requests": rows,
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} service reference variants to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
