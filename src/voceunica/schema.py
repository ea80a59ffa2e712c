"""JSON Schemas for positions, dossiers, annexes and labels, so editors validate YAML as people type.

The sample files point at them with a `# yaml-language-server: $schema=...`
comment (VS Code's YAML extension, JetBrains IDEs and Neovim read it).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from voceunica.glossary import Glossary
from voceunica.model import Annex, Dossier, Kpi, EUFileRecord, Labels, Position

SCHEMAS: dict[str, type[BaseModel]] = {
    "position": Position,
    "dossier": Dossier,
    "annex": Annex,
    "labels": Labels,
    "kpi": Kpi,
    "eu-file": EUFileRecord,
    "glossary": Glossary,
}


def schema_text(kind: str) -> str:
    model = SCHEMAS[kind]
    schema = model.model_json_schema(mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://voceunica.example.eu/schemas/{kind}.schema.json",
        **schema,
    }
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def all_schemas() -> dict[str, str]:
    """File name → content, for `voceunica schema`."""
    return {f"{kind}.schema.json": schema_text(kind) for kind in SCHEMAS}


def write_schemas(out_dir: Path) -> list[Path]:
    from voceunica.write import write_all

    return write_all(out_dir, dict(all_schemas()))
