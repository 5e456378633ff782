"""The OpenAPI document describes exactly the /api/v1 routes the app serves."""
import re

from portal.api import openapi


def api_rules(app):
    rules = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            rules[path] = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
    return rules


def test_every_api_route_is_documented_and_every_documented_path_exists(app):
    doc = openapi.document()
    rules = api_rules(app)
    assert set(rules) == set(doc["paths"])
    for path, methods in rules.items():
        assert methods == set(doc["paths"][path]), path


def test_path_parameters_are_declared(app):
    for path, item in openapi.document()["paths"].items():
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path)), path


def test_every_reference_resolves():
    doc = openapi.document()
    refs = re.findall(r"'\$ref': '#/([^']+)'", str(doc))
    assert refs
    for ref in refs:
        node = doc
        for part in ref.split("/"):
            node = node[part]


def test_every_operation_documents_its_errors():
    for path, item in openapi.document()["paths"].items():
        for operation in item.values():
            params = [p for p in operation.get("parameters", []) if p["in"] != "header"]
            if params:
                assert "400" in operation["responses"], path
            assert "200" in operation["responses"]


def test_query_parameters_match_what_the_list_endpoint_accepts():
    from portal.api.views import LIST_PARAMS

    params = openapi.document()["paths"]["/api/v1/enterprises"]["get"]["parameters"]
    assert {p["name"] for p in params if p["in"] == "query"} == set(LIST_PARAMS)


def test_every_get_documents_conditional_requests_and_cors():
    for path, item in openapi.document()["paths"].items():
        if "get" not in item:
            continue
        operation = item["get"]
        assert {"If-None-Match", "If-Modified-Since"} <= {p["name"] for p in operation["parameters"]}, path
        assert "304" in operation["responses"], path
        headers = operation["responses"]["200"].get("headers", {})
        assert {"ETag", "Last-Modified", "Access-Control-Allow-Origin"} <= set(headers), path


def test_documented_headers_are_sent(client, db):
    from tests.factories import make_enterprise

    make_enterprise("华能化工有限公司")
    db.session.commit()
    first = client.get("/api/v1/enterprises?q=华能")
    assert first.headers["Access-Control-Allow-Origin"] == "*" and first.headers["ETag"] and first.last_modified
    again = client.get("/api/v1/enterprises?q=华能", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_document_is_served_as_json(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["openapi"] == "3.1.0"
    assert "/api/v1/enterprises/{uscc}" in body["paths"]
