"""Fill msgstr values of a zh_CN catalog from a JSON mapping {msgid: msgstr} (a translator's aid).

  python scripts/fill_po.py translations/zh_CN/LC_MESSAGES/messages.po mapping.json
"""
import json
import sys

from babel.messages.pofile import read_po, write_po

po_path, mapping_path = sys.argv[1], sys.argv[2]
with open(mapping_path, encoding="utf-8") as fh:
    mapping = json.load(fh)
with open(po_path, "rb") as fh:
    catalog = read_po(fh)
for message in catalog:
    if message.id and message.id in mapping:
        message.string = mapping[message.id]
        message.flags.discard("fuzzy")
with open(po_path, "wb") as fh:
    write_po(fh, catalog, width=0, omit_header=False)
