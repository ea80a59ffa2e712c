"""The committed JSON Schemas are the ones the models generate, and they describe the rules."""

from __future__ import annotations

import json
from pathlib import Path

from voceunica.schema import all_schemas

REPO = Path(__file__).resolve().parents[1]


def test_committed_schemas_are_up_to_date() -> None:
    for name, text in all_schemas().items():
        committed = (REPO / "schemas" / name).read_text(encoding="utf-8")
        assert committed == text, f"schemas/{name} is stale: run `voceunica schema`"


def test_schema_forbids_unknown_fields_and_checks_identifiers() -> None:
    position = json.loads(all_schemas()["position.schema.json"])
    assert position["additionalProperties"] is False
    eu_file = position["$defs"]["EUFile"]["properties"]
    celex = next(a for a in eu_file["celex"]["anyOf"] if a.get("type") == "string")
    assert celex["pattern"].startswith("^(?:[0-9CE]")
    assert set(position["$defs"]["Text"]["required"]) == {"it", "en"}


def test_one_regions_table_names_the_sign_offs_the_authors_and_the_labels() -> None:
    from voceunica.model import Signoffs
    from voceunica.regions import REGIONS

    position = json.loads(all_schemas()["position.schema.json"])
    dossier = json.loads(all_schemas()["dossier.schema.json"])
    assert tuple(Signoffs.model_fields) == REGIONS
    assert tuple(position["$defs"]["Signoffs"]["properties"]) == REGIONS
    assert tuple(dossier["$defs"]["Office"]["properties"]["region"]["enum"]) == REGIONS
    labels = (REPO / "templates" / "labels.yaml").read_text(encoding="utf-8")
    assert all(f"  region.{code}: " in labels for code in REGIONS)
