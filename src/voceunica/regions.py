"""The two regions: their codes, the one table of them.

A code is what YAML files, `signoff --region` and logo file names say
(`lombardia`, `veneto`), in the order documents list the regions.  What a
document prints for a region is a label (`region.lombardia` in
templates/labels.yaml: "Regione Lombardia" / "Lombardy Region").
"""

from __future__ import annotations

from typing import Literal, get_args

Region = Literal["lombardia", "veneto"]
REGIONS: tuple[str, ...] = get_args(Region)


def short_name(code: str) -> str:
    """The region as `check` names it in its (English) messages: 'Lombardia', 'Veneto'."""
    return code.capitalize()
