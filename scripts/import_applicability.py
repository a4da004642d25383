"""Rebuild ``model/data/applicability.json``: the device types each SRV applies to.

Run when the reference data changes:
    python scripts/import_applicability.py ../shared/reference

Where the reference data says it, applicability is read from the GBCS use cases that serve
each Service Reference Variant (source: duis): the GBCS mapping table names each use case's
Service Reference, and the DUIS templates' file names (``USECASE_SRV_...``) link the use
cases the mapping table leaves as "See GBCS". A use case's code says its device type
(ECS: ESME, GCS: GSME, CCS and DBCH: the Communications Hub, PCS and PECS: PPMID, HECS:
HCALCS); a common use case (CS) names its types in its title ("Read PPMID/HCALCS Firmware
Version") or, failing that, applies to the two meters. Every row keeps the use cases it was
read from, so a reviewer can check it.

Where the reference data is silent (most Non-Device Requests), the row says
``assumption``: the request is taken to apply to every device type.

The reference data is from a later DUIS release than the seeds; the built-in variants
override rows where the seeds differ (``[applicability]`` in ``model/variants/*.toml``).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "model" / "data" / "applicability.json"
ALL_TYPES = ["ESME", "GSME", "CHF", "GPF", "PPMID", "HCALCS", "IHD", "CAD"]
METERS = ["ESME", "GSME"]

#: GBCS use case code prefix -> the device types it names.
PREFIX_TYPES = {
    "ECS": ["ESME"],
    "GCS": ["GSME"],
    "CCS": ["CHF"],
    "DBCH": ["CHF"],
    "PCS": ["PPMID"],
    "PECS": ["PPMID"],
    "HECS": ["HCALCS"],
}

#: Words in a common (CS) use case's title -> the device types it names.
TITLE_TYPES = [
    ("PPMID/HCALCS", ["PPMID", "HCALCS"]),
    ("ESME/SAPC/GSME/Comms Hub", ["ESME", "GSME", "CHF"]),
    ("ESME / GSME", ["ESME", "GSME"]),
    ("Communications Hub", ["CHF"]),
    ("PPMID", ["PPMID"]),
]


#: Use cases the mapping table leaves as "See GBCS" and no template name links: the firmware
#: distribution use cases, linked by name (GBCS 11.3-4 and 11.6: Distribute Firmware).
LINKS = {"11.1": ["CS05a", "CS05b"], "11.4": ["CS05c"]}

#: Where the model's abstraction differs from DUIS's Business Target, said once (assumption).
MODEL_ROWS = {
    "8.11": "the model sends SR8.11 Update HAN Device Log for the device being added to the "
    "CHF's device log (DUIS targets the CHF), so it applies to every device type",
    "8.1.1": "Commission Device applies to every device the SMI holds; the mapping table links "
    "Service Reference 8.1 only to ECS70, an ESME use case",
}


def use_case_types(code: str, title: str) -> list[str]:
    prefix = re.match(r"[A-Z]+", code)
    assert prefix is not None, code
    if prefix.group(0) in PREFIX_TYPES:
        return PREFIX_TYPES[prefix.group(0)]
    for words, types in TITLE_TYPES:
        if words in title:
            return types
    return METERS


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: import_applicability.py PATH/TO/shared/reference", file=sys.stderr)
        return 2
    reference = Path(argv[1])
    catalogue = json.loads((OUT.parent / "catalogue.json").read_text(encoding="utf-8"))
    mapping = json.loads((reference / "gbcs-mapping-table.json").read_text(encoding="utf-8"))
    titles = {row["Code"]: row["Use Case Title"] for row in mapping}
    serves: dict[str, set[str]] = {}
    for row in mapping:
        for ref in str(row["Service Reference"]).split(","):
            serves.setdefault(ref.strip(), set()).add(row["Code"])
    for template in sorted((reference / "duis-templates").glob("*.XML")):
        found = re.match(
            r"([A-Z]+[0-9]+[A-Za-z0-9]*?)(?:Critical|NonCritical)?_([0-9.]+)_", template.name
        )
        if found and found.group(1) in titles:
            serves.setdefault(found.group(2), set()).add(found.group(1))
    rows = []
    for request in catalogue["requests"]:
        srv, reference_no = request["srv"], request["service_reference"]
        cases = sorted(
            serves.get(srv, set()) | serves.get(reference_no, set()) | set(LINKS.get(srv, []))
        )
        if srv in MODEL_ROWS:
            rows.append(
                {
                    "srv": srv,
                    "device_types": ALL_TYPES,
                    "source": "assumption",
                    "why": MODEL_ROWS[srv],
                }
            )
        elif cases:
            types = sorted(
                {t for c in cases for t in use_case_types(c, titles[c])}, key=ALL_TYPES.index
            )
            rows.append({"srv": srv, "device_types": types, "source": "duis", "use_cases": cases})
        else:
            rows.append(
                {
                    "srv": srv,
                    "device_types": ALL_TYPES,
                    "source": "assumption",
                    "why": "no GBCS use case in the reference data names its device types",
                }
            )
    document = {
        "about": "Device types each DUIS Service Reference Variant applies to, read from the GBCS "
        "mapping table and the DUIS template names of SmartDCCInnovation/duis-templates "
        "(GPL-3.0) by scripts/import_applicability.py.",
        "requests": rows,
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote applicability of {len(rows)} service reference variants to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
