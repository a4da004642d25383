"""The Service Request catalogue: every row, cross-checked against the DUIS matrix."""

from __future__ import annotations

import json

import pytest

from model.catalogue import catalogue, lookup
from model.errors import InputError
from tests.conftest import SHARED, cli_json, needs_shared


def test_catalogue_has_all_129_service_reference_variants() -> None:
    assert len(catalogue()) == 129
    assert len({r.srv for r in catalogue().values()}) == 129


def test_the_requests_the_seeds_name_have_their_duis_criticality() -> None:
    critical = {
        srv: lookup(srv).critical
        for srv in (
            "11.1",
            "11.2",
            "11.3",
            "6.23",
            "2.2",
            "8.7.1",
            "8.7.2",
            "8.8.1",
            "8.8.2",
            "8.9",
        )
    }
    assert critical == {
        "11.1": False,
        "11.2": False,
        "11.3": True,
        "6.23": False,
        "2.2": False,
        "8.7.1": True,
        "8.7.2": False,
        "8.8.1": True,
        "8.8.2": False,
        "8.9": False,
    }
    assert lookup("11.1").non_device and lookup("8.3").non_device and not lookup("11.2").non_device


def test_unknown_srv_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"unknown SRV .99\.9."):
        lookup("99.9")


@needs_shared()
def test_every_row_matches_the_duis_matrix() -> None:
    matrix = json.loads((SHARED / "reference" / "duis-request-matrix.json").read_text())
    assert len(matrix) == len(catalogue())
    for row in matrix:
        entry = catalogue()[row["Service Reference Variant"]]
        assert entry.name == " ".join(row["Service Request Name"].split())
        given = row["Service Reference"]
        if entry.srv == given or entry.srv.startswith(given + "."):
            assert entry.service_reference == given
        else:  # the matrix's "6.2" for 6.20.x: corrected to the SRV's own prefix
            assert (entry.srv, given, entry.service_reference) in {
                ("6.20.1", "6.2", "6.20"),
                ("6.20.2", "6.2", "6.20"),
            }
        assert entry.critical == (row["Critical"] == "Yes")
        assert entry.non_device == (row["Non-Device Request"] == "Yes")
        assert entry.on_demand == (row["On Demand"] == "Yes")
        assert entry.dcc_scheduled == (row["DCC Scheduled"] == "Yes")
        assert entry.future_dated_response == row["Future Dated Response Pattern"]
        assert list(entry.roles) == row["Eligible User Roles"]


def test_catalogue_command_lists_every_row_as_json() -> None:
    rows = cli_json("catalogue")
    assert [r["srv"] for r in rows] == list(catalogue())
    assert {r["srv"]: r["critical"] for r in rows}["11.3"] is True
