"""The compiled HJ 212 fast path (_hj212c.c) against the Python parser it stands in for: same packet, or the same
error, for every frame; and `make native` really built it (the suite runs through `make test`)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.monitoring import hj212
from portal.monitoring.hj212 import Hj212Error, build_frame

from .test_hj212 import APPENDIX, EDITION_2005, HOURLY


def _outcome(frame: bytes, compiled) -> tuple:
    """What parse_frame gives with or without the compiled module: the packet, or the error's code/message/item."""
    saved, hj212.compiled = hj212.compiled, compiled
    try:
        return ("packet", hj212.parse_frame(frame))
    except Hj212Error as exc:
        return ("error", exc.code, exc.message, exc.position)
    finally:
        hj212.compiled = saved


def _same(frame: bytes) -> tuple:
    fast, reference = _outcome(frame, hj212.compiled), _outcome(frame, None)
    assert fast == reference
    return fast


def test_the_compiled_module_is_built_and_in_use():
    assert hj212.compiled is not None, "portal/monitoring/_hj212c.c is not built: run `make native`"
    assert hj212.compiled.parse(build_frame(HOURLY)) is not None


def test_good_frames_come_out_of_the_fast_path_exactly_as_the_python_parser_reads_them():
    for frame in (APPENDIX, EDITION_2005, build_frame(HOURLY), build_frame(HOURLY)[:-2]):
        assert hj212.compiled.parse(frame) is not None
        assert _same(frame)[0] == "packet"


@pytest.mark.parametrize("frame", [
    build_frame(HOURLY.replace("w21003-Flag=N", "w21003-Flag=Q")),
    build_frame(HOURLY.replace("35.2", "35,2x")),
    build_frame(HOURLY.replace("w21003-Avg=1.5", "w21003-Avg=1e999")),
    build_frame(HOURLY.replace("w21003-Avg=1.5", "w21003-Avg=1.5,w21003-Avg=1.6")),
    build_frame(HOURLY.replace("w21003-Avg", "w21003-Avgg")),
    build_frame(HOURLY.replace("MN=MN0001;", "")),
    build_frame(HOURLY.replace("MN=MN0001;", "MN=MN0001;MN=MN0002;")),
    build_frame(HOURLY + "CP=&&a=1&&"),
    build_frame(HOURLY.replace("w21003-Flag=N", "w21003-SampleTime=20261101093000")),
    build_frame(HOURLY.replace("DataTime=20261101090000", "DataTime=20261301090000")),
    build_frame(HOURLY)[:-4] + b"0000\r\n",
    build_frame(HOURLY).replace(b"##0", b"##1"),
    build_frame(HOURLY).lower(),
    b"##" + build_frame(HOURLY)[2:].replace(b"MN0001", b"MN\xe60001"),
    HOURLY.encode(),
    b"",
])
def test_frames_the_fast_path_refuses_or_the_fields_fail_give_the_python_parsers_error(frame):
    assert _same(frame)[0] in ("error", "packet")


NUMBERS = ["1", "1.", ".5", "+1e5", "-2.5E-3", "1e1234", "1e0010", "1e999", "-0", "1_0", " 1", "nan", "inf", "1e", ".", "+",
           "00012.3400", "1.7976931348623157e308", "1.8e308", "", "e5", "1.2.3"]
CODES = ["w01018", "a21026", "B01", "", "a-b", "x" * 16, "x" * 17, "ab_c", "a21026-Avg", "a.b"]
NAMES = ["Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "ZsMin", "ZsMax", "Flag", "EFlag", "Info", "Ala",
         "UpValue", "LowValue", "SampleTime", "Bad", ""]
VALUES = NUMBERS + ["N", "F", "M", "S", "D", "C", "T", "B", "NN", "X", "20261101093000", "a=b"]
FIELDS = ["QN=20261101100000001", "QN=123", "ST=32", "ST=3a", "CN=2061", "CN=2011", "PW=123456", "MN=ABC",
          "Flag=4", "Flag=x", "PNUM=1", "PNO=1", "Foo=bar", "=x", "novalue", "", "CP=x", "ST=31", "MN="]
BASE = ["QN=20261101100000001", "ST=32", "CN=2061", "PW=123456", "MN=ABC"]
any_element = st.one_of(
    st.builds(lambda c, n, v: f"{c}-{n}={v}", st.sampled_from(CODES), st.sampled_from(NAMES), st.sampled_from(VALUES)),
    st.sampled_from(["DataTime=20261101090000", "DataTime=2026", "RtdInterval=30", "=1", "noequals", ""]))
good_element = st.one_of(
    st.builds(lambda c, n, v: f"{c}-{n}={v}", st.sampled_from(CODES[:3]), st.sampled_from(NAMES[:9]),
              st.sampled_from(NUMBERS[:6])),
    st.builds(lambda c, v: f"{c}-Flag={v}", st.sampled_from(CODES[:3]), st.sampled_from("NFMSDCTB")),
    st.builds(lambda c, x: f"{c}-Avg={x!r}", st.sampled_from(CODES[:3]),
              st.floats(allow_nan=False, allow_infinity=False)))
# Mostly good packets with one or two odd parts, so both parsers get past the fields to the items
element = st.one_of(good_element, good_element, good_element, any_element)


def test_every_code_field_and_value_of_the_tables_gives_the_same_outcome_on_both_paths():
    """Each single item, in an otherwise good packet: every rule of the item checks is met on both paths."""
    for code in CODES:
        for name in NAMES:
            for value in VALUES:
                for where in ("{}", "DataTime=20261101090000;{}", "{},a21026-Avg=1;RtdInterval=30"):
                    item = where.format(f"{code}-{name}={value}")
                    _same(build_frame(f"QN=20261101100000001;ST=32;CN=2061;PW=1;MN=A;CP=&&{item}&&"))


@settings(max_examples=600, deadline=None)
@given(st.permutations(BASE), st.lists(st.sampled_from(FIELDS), max_size=2), st.lists(element, max_size=10),
       st.lists(st.sampled_from([";", ","]), min_size=10, max_size=10), st.integers(0, 7),
       st.sampled_from(["frame", "frame", "no-crlf", "lower-crc", "short"]))
def test_any_segment_gives_the_same_packet_or_error_on_both_paths(base, noise, elements, separators, at, framing):
    cp = "".join(e + s for e, s in zip(elements, separators))
    pieces = list(base) + list(noise)
    pieces.insert(min(at, len(pieces)), f"CP=&&{cp}&&")
    frame = build_frame(";".join(pieces))
    if framing == "no-crlf":
        frame = frame[:-2]
    elif framing == "lower-crc":
        frame = frame[:-6] + frame[-6:-2].lower() + b"\r\n"
    elif framing == "short":
        frame = frame[:-7] + frame[-6:]
    _same(frame)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_the_same_outcome_on_both_paths(data):
    _same(data)
    _same(b"##" + data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_the_compiled_crc_equals_the_python_crc(data):
    assert hj212.compiled.crc16(data) == hj212.crc16(data)
