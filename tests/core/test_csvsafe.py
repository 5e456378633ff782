import csv
import io

import pytest

from portal.core.csvsafe import safe_cell, writer


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1"])
def test_formula_starts_are_neutralised(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-0.5", "+12", "-3e5", -7, 1.5, None, "华能化工", "a=b", ""])
def test_numbers_and_plain_text_are_untouched(value):
    assert safe_cell(value) == value


def test_writer_applies_to_every_cell():
    out = io.StringIO()
    writer(out).writerows([["=1+1", "-4", "ok"], ["@x", 3, "-1.25"]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["'=1+1", "-4", "ok"], ["'@x", "3", "-1.25"]]
