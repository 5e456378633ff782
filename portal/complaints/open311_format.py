"""GeoReport v2 response formats (wiki.open311.org/GeoReport_v2): JSON, or XML with the UTF-8 declaration; the
format follows the resource's extension. Lists are <root><item>…</item></root>, a single object (the service
definition) is <root>…</root>, errors are a list of {code, description}."""
from __future__ import annotations

from xml.etree import ElementTree as ET

from flask import Response, json, request


def fmt() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


def xml_value(parent: ET.Element, key: str, value) -> None:
    child = ET.SubElement(parent, key)
    if isinstance(value, list):
        for item in value:
            xml_value(child, key[:-1] if key.endswith("s") else "item", item)
    elif isinstance(value, dict):
        for k, v in value.items():
            xml_value(child, k, v)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def respond(items: list[dict], root: str, item: str, status: int = 200) -> Response:
    """A JSON array, or <root><item>…</item></root> with the XML declaration (the spec requires UTF-8)."""
    if fmt() == "json":
        return Response(json.dumps(items, ensure_ascii=False), status=status,
                        mimetype="application/json")
    top = ET.Element(root)
    for entry in items:
        node = ET.SubElement(top, item)
        for key, value in entry.items():
            xml_value(node, key, value)
    body = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return Response(body, status=status, mimetype="text/xml", headers={"Content-Type": "text/xml; charset=utf-8"})


def respond_one(entry: dict, root: str) -> Response:
    """One object: a JSON object, or <root>…</root> (the service definition, GET services/<code>)."""
    if fmt() == "json":
        return Response(json.dumps(entry, ensure_ascii=False), mimetype="application/json")
    top = ET.Element(root)
    for key, value in entry.items():
        xml_value(top, key, value)
    body = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="text/xml", headers={"Content-Type": "text/xml; charset=utf-8"})


def error(status: int, description: str, headers: dict | None = None) -> Response:
    """GeoReport v2 errors: a list of {code, description} (<errors><error><code/><description/></error></errors>)
    with the same HTTP status."""
    response = respond([{"code": status, "description": description}], "errors", "error", status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
