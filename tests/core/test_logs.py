import json
import logging

from portal.core.logs import RequestContext, json_formatter


def test_json_lines_carry_level_logger_and_the_path_without_its_query(app):
    record = logging.LogRecord("portal.test", logging.WARNING, __file__, 1, "登录失败 %s", ("wang",), None)
    with app.test_request_context("/complaints/track?case_no=12369-1&code=SECRET-CODE", method="POST"):
        assert RequestContext().filter(record)
    line = json_formatter().format(record)
    data = json.loads(line)
    assert data["level"] == "WARNING" and data["logger"] == "portal.test" and data["message"] == "登录失败 wang"
    assert data["http_method"] == "POST" and data["http_path"] == "/complaints/track"
    assert "SECRET-CODE" not in line and "time" in data


def test_records_outside_a_request_have_no_http_fields():
    record = logging.LogRecord("portal.jobs", logging.INFO, __file__, 1, "job done", (), None)
    assert RequestContext().filter(record)
    assert "http_path" not in json.loads(json_formatter().format(record))
