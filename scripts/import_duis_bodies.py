"""Rebuild ``model/data/duis-bodies.json``: which SRVs each DUIS request body element serves
(source: duis).

Run once when the reference templates change:
    python scripts/import_duis_bodies.py ../shared/reference/duis-templates

For every request template (root ``sr:Request``) it pairs the local name of the first child
element of ``sr:Body`` with the ``sr:Header/sr:ServiceReferenceVariant``. The reader
(``model/duis.py``) uses the result to refuse a message whose SRV and body disagree. The
templates are GPL-3.0 and stay outside the project: only this derived mapping is kept.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from defusedxml import ElementTree

NS = "{http://www.dccinterface.co.uk/ServiceUserGateway}"
OUT = Path(__file__).resolve().parent.parent / "model" / "data" / "duis-bodies.json"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: import_duis_bodies.py PATH/TO/duis-templates", file=sys.stderr)
        return 2
    bodies: dict[str, set[str]] = defaultdict(set)
    requests = 0
    for path in sorted(Path(argv[1]).iterdir()):
        root = ElementTree.parse(str(path), forbid_dtd=True).getroot()
        if root.tag != f"{NS}Request":
            continue
        requests += 1
        srv = (root.findtext(f"{NS}Header/{NS}ServiceReferenceVariant") or "").strip()
        body = root.find(f"{NS}Body")
        if not srv or body is None or len(body) == 0:
            raise SystemExit(f"{path}: no SRV or no body element")
        bodies[body[0].tag.removeprefix(NS)].add(srv)
    document = {
        "source": "duis",
        "about": "DUIS request body element (local name) -> the SRVs whose templates use it; "
        f"derived by scripts/import_duis_bodies.py from {requests} request templates of the "
        "DCC Reference Test Data Set (SmartDCCInnovation/duis-templates, GPL-3.0).",
        "bodies": {name: sorted(srvs) for name, srvs in sorted(bodies.items())},
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(bodies)} body elements from {requests} request templates to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
