"""Write a fresh `templates/reference.docx`: the Word styles every dossier uses.

    python -m voceunica.docx.reference templates/reference.docx

The file is a normal Word document: open it in Word (or LibreOffice), change
the styles (fonts, colours, spacing, page margins), save, and every dossier
built afterwards looks that way — pandoc's reference-doc idea.  The styles
it must keep are listed in `voceunica.docx.styles`; `voceunica check` says
when one is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from voceunica.docx.package import deterministic_zip
from voceunica.docx.styles import numbering_xml, styles_xml

_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_R = "http://schemas.openxmlformats.org/package/2006/relationships"

# A4, 2.5 cm margins, header and footer 1.25 cm from the edge.
SECT_PR = ('<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1418" w:right="1418" w:bottom="1418" '
           'w:left="1418" w:header="709" w:footer="709" w:gutter="0"/><w:cols w:space="708"/>'
           '<w:docGrid w:linePitch="360"/></w:sectPr>')


def reference_parts() -> dict[str, bytes]:
    ct = (_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Default Extension="png" ContentType="image/png"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'wordprocessingml.document.main+xml"/>'
          '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'wordprocessingml.styles+xml"/>'
          '<Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'wordprocessingml.numbering+xml"/>'
          '<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'wordprocessingml.settings+xml"/>'
          '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.'
          'core-properties+xml"/>'
          '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'extended-properties+xml"/>'
          '</Types>')
    rels = (_DECL + f'<Relationships xmlns="{_PKG_R}">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'extended-properties" Target="docProps/app.xml"/>'
            '</Relationships>')
    doc_rels = (_DECL + f'<Relationships xmlns="{_PKG_R}">'
                f'<Relationship Id="rId1" Type="{_R}/styles" Target="styles.xml"/>'
                f'<Relationship Id="rId2" Type="{_R}/numbering" Target="numbering.xml"/>'
                f'<Relationship Id="rId3" Type="{_R}/settings" Target="settings.xml"/>'
                '</Relationships>')
    document = (_DECL + f'<w:document xmlns:w="{_W}" xmlns:r="{_R}"><w:body>'
                '<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>voceunica reference document</w:t></w:r></w:p>'
                '<w:p><w:pPr><w:pStyle w:val="BodyText"/></w:pPr><w:r><w:t xml:space="preserve">Change the styles of '
                'this document in Word (Home › Styles › Modify) and save it: every dossier takes its look from them.'
                '</w:t></w:r></w:p>' + SECT_PR + '</w:body></w:document>')
    settings = (_DECL + f'<w:settings xmlns:w="{_W}"><w:zoom w:percent="100"/><w:defaultTabStop w:val="709"/>'
                '<w:characterSpacingControl w:val="doNotCompress"/>'
                '<w:footnotePr><w:footnote w:id="-1"/><w:footnote w:id="0"/></w:footnotePr>'
                '<w:compat><w:compatSetting w:name="compatibilityMode" '
                'w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat>'
                '<w:themeFontLang w:val="it-IT"/></w:settings>')
    core = (_DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>voceunica reference document</dc:title>'
            '<dc:creator>voceunica</dc:creator><cp:revision>1</cp:revision>'
            '<dcterms:created xsi:type="dcterms:W3CDTF">2026-03-10T00:00:00Z</dcterms:created>'
            '<dcterms:modified xsi:type="dcterms:W3CDTF">2026-03-10T00:00:00Z</dcterms:modified>'
            '</cp:coreProperties>')
    app = (_DECL + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           '<Application>voceunica</Application></Properties>')
    return {
        "[Content_Types].xml": ct.encode(),
        "_rels/.rels": rels.encode(),
        "docProps/core.xml": core.encode(),
        "docProps/app.xml": app.encode(),
        "word/document.xml": document.encode(),
        "word/_rels/document.xml.rels": doc_rels.encode(),
        "word/styles.xml": styles_xml().encode(),
        "word/numbering.xml": numbering_xml().encode(),
        "word/settings.xml": settings.encode(),
    }


def write_reference(path: Path) -> None:
    from voceunica.write import atomic_write

    parts = reference_parts()
    atomic_write(path, deterministic_zip(list(parts.items()), 315532800))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m voceunica.docx.reference PATH.docx\n")
        return 2
    write_reference(Path(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
