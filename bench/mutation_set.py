"""Which mutants ``bench/mutation.py`` runs: the scopes its generic operators mutate, the
named mutants of issue 26's survivor classes, the data mutants, and the survivors excluded
by name (equivalent: no observable difference, each with why)."""

from __future__ import annotations

from pathlib import Path

from mutants import Mutant, _capped, generated, json_row, replace_in, toml_row, toml_value

#: The rule code the generic operators mutate: file -> scopes (functions, methods).
RULE_SCOPES: dict[str, tuple[str, ...]] = {
    "model/checks.py": ("check_applicable", "check_e5"),
    "model/pipeline.py": ("check_role", "_cpl_image", "_join_validation", "decide"),
    "model/rule_tables.py": ("Exemption.matches", "UpdateRule.applies"),
    "model/dsp_gate.py": ("gate",),
    "model/smi_update.py": ("settle_status", "update_smi_firmware"),
    "model/device_requests.py": ("_device_side", "serve_device_request", "_life_cycle"),
    "model/join_requests.py": ("serve_join_request", "serve_read_device_log"),
    "model/dcc_events.py": ("cpl_change", "_removal_suspends"),
    "model/dsp.py": ("cascade",),
    "model/device.py": ("activate_firmware", "accepts_join", "accepts_unjoin"),
}

#: The property code the generic operators mutate.
PROPERTY_SCOPES: dict[str, tuple[str, ...]] = {
    "properties/safety.py": (
        "suspended_gate",
        "leaves_suspended",
        "prior_status_restored",
        "no_false_restore",
        "unjoin_validated",
        "device_violations",
        "violations",
    ),
    "properties/recoverability.py": (
        "firmware_good_device",
        "suspension_good_device",
        "join_good_pair",
    ),
    "properties/ways_back.py": ("is_recovery_action", "in_step"),
    "properties/armed.py": ("armed_by",),
}

#: Issue 26's survivor classes, each a named mutant: (name, file, scope, old, new, what).
NAMED: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("access-memo-forgets-smets", "model/access.py", "authorise",
     "(srv, status, device_type, command_variant, smets, role, image_listed, sender_responsible)",
     "(srv, status, device_type, command_variant, role, image_listed, sender_responsible)",
     "check E5's memo key forgets the SMETS version"),
    ("e5-rejects-with-suspended-code", "model/checks.py", "check_e5",
     "Decision(False, row.reject_code, rejected)",
     "Decision(False, variant.e5[SUSPENDED].reject_code, rejected)",
     "every E5 row rejects with the Suspended row's code"),
    ("gate-assumes-smets2", "model/dsp_gate.py", "_asked", "spec.smets", "2",
     "the gate passes SMETS2 whatever the device's SMETS version"),
    ("gate-drops-command-variant", "model/dsp_gate.py", "_asked", "request.command_variant",
     "None",
     "the gate drops the request's Command Variant"),
    ("settle-ignores-off-cpl-update-suspends", "model/smi_update.py", "settle_status",
     "state.status in OPERATIONAL and not on_cpl and variant.cpl.off_cpl_update_suspends",
     "state.status in OPERATIONAL and not on_cpl",
     "[cpl] off_cpl_update_suspends ignored"),
    ("no-mismatch-alert", "model/smi_update.py", "update_smi_firmware",
     "answer.version is not None and answer.version != state.smi_firmware", "False",
     "no FirmwareVersionMismatch alert (nor its effect) when a reported version is not taken"),
    ("life-cycle-without-success", "model/device_requests.py", "serve_device_request",
     "code == dev.SUCCESS and request.srv in SRV_STATUS_EVENTS",
     "request.srv in SRV_STATUS_EVENTS",
     "a life-cycle request changes the SMI status even when its response is lost"),
    ("alert-route-reports-failure", "model/device_requests.py", "_device_side",
     "activation.success or route.report_failure", "True",
     "a device-alert route sends its activation alert even when activation failed"),
    ("activate-same-image-succeeds", "model/device.py", "activate_firmware",
     "device.image is not None and device.image != device.firmware",
     "device.image is not None",
     "activating the image already running answers success"),
    ("read-reports-delivered-image", "model/device.py", "read_firmware_version",
     "device.firmware", "device.image or device.firmware",
     "SR11.2 reports a delivered but not activated image as the running version"),
    ("recovery-from-any-operational", "model/status_chart.py", "DeviceStatusChart",
     "operational.commissioned.to(recovery)", "operational.to(recovery)",
     "recovery allowed from any operational status"),
    ("gate-critical-whatever-admits", "properties/safety.py", "suspended_gate",
     "request_entry.critical and row.admits == 'critical'", "request_entry.critical",
     "suspended-gate lets a Critical request pass whatever the Suspended row admits"),
    ("gate-non-device-ignores-gated", "properties/safety.py", "suspended_gate",
     "r.srv == request.srv and (not r.gated)", "r.srv == request.srv",
     "suspended-gate lets a listed Non-Device Request pass even where it is gated"),
    ("safety-first-device-only", "properties/safety.py", "violations",
     "enumerate(setup.devices)", "enumerate(setup.devices[:1])",
     "the safety properties judged on the first device of a setup only"),
    ("recovery-allows-faults", "properties/ways_back.py", "is_recovery_action",
     "action.faulty or action.srv in ENDS_LIFE or not way.requests",
     "action.srv in ENDS_LIFE or not way.requests",
     "a way back may itself lose messages"),
    ("join-good-counts-smi-only", "properties/recoverability.py", "join_good_pair",
     "pair_state in IN_SYNC", "pair_state in IN_SYNC or pair_state == 'smi_only'",
     "join-recoverable counts a join held by the SMI only as good"),
    ("armed-never-suspended-gate", "properties/armed.py", "armed_by",
     "outcome.accepted and target.status == SUSPENDED", "False",
     "suspended-gate never counted as armed"),
)  # fmt: skip

#: Statements dropped by name: (name, file, scope, statement, what).
NAMED_DROPS: tuple[tuple[str, str, str, str, str], ...] = (
    ("explorer-drops-cpl-violations", "checker/search.py", "Search.run",
     "if found:\n    note(found, index, a)",
     "safety violations of CPL changes not recorded"),
)  # fmt: skip


def _drop_line(line: str) -> str:
    return ""


def _flip_gated(line: str) -> str:
    return (
        line.replace("gated = true", "gated = X")
        .replace("gated = false", "gated = true")
        .replace("gated = X", "gated = false")
    )


def data_mutants() -> list[Mutant]:
    """Rows dropped, booleans flipped and values changed in the rule data."""
    base, mp105 = "model/variants/baseline.toml", "model/variants/mp105.toml"
    out: list[Mutant] = []
    for srv in ("11.1", "6.23", "2.2"):
        out.append(_row(base, "suspended", "exceptions", srv, "drop-row", _drop_line))
    out.append(_row(mp105, "suspended", "exceptions", "11.2", "drop-row", _drop_line))
    for srv in ("11.1", "8.3", "5.1"):
        out.append(_row(base, "suspended", "non_device", srv, "flip-bool", _flip_gated))
    for section, key, old, new in (
        ("suspended", "allow_critical", "true", "false"),
        ("cpl", "relisting_restores", "false", "true"),
        ("cpl", "off_cpl_update_suspends", "true", "false"),
        ("joins", "unjoin_requires_smi_join", "true", "false"),
        ("suspended", "critical_life_cycle", '{ value = "to-history",', '{ value = "refuse",'),
        ("joins", "unjoin_reject_code", '"E080801"', '"E51"'),
        ('applicability."11.2"', "device_types", '["ESME", "GSME"]', '["ESME"]'),
        ("firmware", "update_smi_on", '["11.3:success"]', '["11.3:success", "11.2:with-version"]'),
    ):
        name = f"{base}:[{section}] {key} {old} -> {new}"
        op = "flip-bool" if old in ("true", "false") else "set-value"
        edit = toml_value(section, key, old, new)
        out.append(Mutant(name, "rule", base, op, f"[{section}] {key} = {new}", edit))
    out.append(
        Mutant(f"{mp105}:[firmware] update_smi_on drops 11.2:with-version", "rule", mp105,
               "drop-row", "MP105's SR11.2 no longer updates the SMI",
               toml_row("firmware", "update_smi_on", 'message = "11.2:with-version"', _drop_line))
    )  # fmt: skip
    cat = "model/data/catalogue.json"
    for srv, field in (("8.1.1", "critical"), ("8.3", "non_device"), ("11.2", "critical")):
        edit = json_row("requests", "srv", srv, lambda r, f=field: {**r, f: not r.get(f)})
        out.append(Mutant(f"{cat}:{srv} {field} flipped", "rule", cat, "flip-bool",
                          f"SR{srv}'s {field} flag flipped", edit))  # fmt: skip
    return out


def _row(path: str, section: str, array: str, srv: str, op: str, change) -> Mutant:  # type: ignore[no-untyped-def]
    name = f"{path}:[{section}] {array} {op} srv {srv}"
    what = f"[{section}] {array}: the row of SR{srv} " + (
        "dropped" if op == "drop-row" else "flipped"
    )
    return Mutant(name, "rule", path, op, what, toml_row(section, array, f'srv = "{srv}"', change))


def kind_of(path: str) -> str:
    return "property" if path.startswith("properties/") else "rule"


#: How many generic mutants each scope gives by default (rule scopes, property scopes).
CAPS = {"rule": 2, "property": 3}


def all_mutants(root: Path, caps: dict[str, int | None] | None = None) -> list[Mutant]:
    """Every mutant, named ones first, then data, then generic ones (at most ``caps`` per
    scope; None: every site). A generic mutant that makes the same edit as an earlier one
    is left out (it would be judged twice)."""
    caps = CAPS if caps is None else caps  # type: ignore[assignment]
    out: list[Mutant] = []
    for name, path, scope, old, new, what in NAMED:
        out.append(Mutant(name, kind_of(path), path, "named", what, replace_in(scope, old, new)))
    for name, path, scope, old, what in NAMED_DROPS:
        edit = replace_in(scope, old, "pass", statement=True)
        out.append(Mutant(name, kind_of(path), path, "named", what, edit))
    out += data_mutants()
    texts: dict[str, str] = {}
    made = set()
    for m in out:
        text = texts.setdefault(m.path, (root / m.path).read_text(encoding="utf-8"))
        made.add((m.path, m.edit(text)))
    for table in (RULE_SCOPES, PROPERTY_SCOPES):
        for path, names in table.items():
            text = texts.setdefault(path, (root / path).read_text(encoding="utf-8"))
            for scope in names:
                candidates = generated(path, text, scope, kind_of(path))
                fresh = [m for m in candidates if (path, m.edit(text)) not in made]
                cap = caps.get(kind_of(path))  # type: ignore[union-attr]
                chosen = fresh if cap is None else _capped(fresh, cap)
                made.update((path, m.edit(text)) for m in chosen)
                out += chosen
    return out


#: Survivors with no observable difference, excluded by name, each with why. A name that no
#: longer matches a mutant is reported as a stale exclusion.
EQUIVALENT: dict[str, str] = {
    "model.smi_update.settle_status:drop-condition:state.status in OPERATIONAL and "
    "(not on_cpl) and variant.cpl -> (not on_cpl) and (variant.cpl.off_cpl_up": (
        "the status chart takes suspend_on_off_cpl_update from the operational statuses only "
        "(model/status_chart.py), so from any other status the event leaves the state as it "
        "is and settle_status returns it unchanged: the DSP's own guard repeats the chart's"
    ),
    "model.device_requests._life_cycle:drop-condition:state.status != SUSPENDED or "
    "state.prior is None -> (state.prior is None)": (
        "the status to return to is set only while Suspended (the chart's (status, prior) "
        "pairs; no reachable state of any built-in variant, with or without DCC events, has "
        "a prior status outside Suspended), so `state.prior is None` already implies the rest"
    ),
    "properties.safety.unjoin_validated:drop-condition:request.srv in UNJOIN_SRVS and "
    "outcome.forwarded and (not JO -> (outcome.forwarded) and (not JOIN_STATES": (
        "its one caller, `violations`, calls it only for an Unjoin (`action.srv in "
        "UNJOIN_SRVS`), so the dropped test is always true where it is evaluated"
    ),
    "properties.recoverability.suspension_good_device:drop-condition:cpl_listed and status == "
    "SUSPENDED and (firmware in cpl) -> (status == SUSPENDED) and (firmware in c": (
        "a device type not on the CPL is never Suspended: a CPL removal and an SMI firmware "
        "update suspend only CPL-listed devices (`spec.cpl_listed` guards both, in "
        "model/dcc_events.py and model/smi_update.py) and no other event suspends; no "
        "reachable state of any built-in variant, with or without DCC events, has one"
    ),
}

#: Survivors known not to be caught yet, each with why (they count against the kill rate).
KNOWN_GAPS: dict[str, str] = {}
