"""HJ 212-2017 parser: CRC vectors from the standard's appendix algorithm, framing, fields and items."""
from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.monitoring.hj212 import Hj212Error, build_frame, crc16, parse_frame
from tests.monitoring.hj212_device import crc as appendix_crc  # the appendix algorithm, bit by bit

# HJ 212-2017 appendix example (request for the real-time interval); CRC 1C80 as printed in the standard.
APPENDIX = (b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
            b"CP=&&RtdInterval=30&&1C80\r\n")
# A 2005-edition real-time packet (no QN) with a lower-case CRC, as found in public driver test suites.
EDITION_2005 = (b"##0178ST=32;CN=2011;PW=123456;MN=0873HHMZWSLH02;CP=&&DataTime=20160103133030;060-Rtd=3.0943,"
                b"060-Flag=N;011-Rtd=18.0412,011-Flag=N;001-Rtd=8.2137,001-Flag=N;B01-Rtd=10.9890,B01-Flag=N&&a9c1\r\n")

HOURLY = ("QN=20261101100000001;ST=32;CN=2061;PW=123456;MN=MN0001;Flag=4;"
          "CP=&&DataTime=20261101090000;w01018-Avg=35.2,w01018-Min=30.1,w01018-Max=40.0,w01018-Flag=N;"
          "w21003-Avg=1.5,w21003-Flag=N&&")


@pytest.mark.parametrize("segment, expected", [
    (b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&",
     0x1C80),
    (EDITION_2005[6:-6], 0xA9C1),
    (b"", 0xFFFF),
])
def test_crc16_matches_the_standards_appendix_vectors(segment, expected):
    assert crc16(segment) == expected


def test_the_appendix_example_packet_parses():
    packet = parse_frame(APPENDIX)
    assert (packet.qn, packet.st, packet.cn, packet.pw, packet.mn, packet.flag) == (
        "20160801085857223", "32", "1062", "100000", "010000A8900016F000169DC0", 5)
    assert packet.cp == {"RtdInterval": "30"}
    assert packet.items == {}


def test_a_2005_edition_packet_without_qn_is_read_with_its_items():
    packet = parse_frame(EDITION_2005)
    assert packet.qn is None
    assert packet.cn == "2011"
    assert packet.data_time == datetime(2016, 1, 3, 13, 30, 30)
    assert packet.items["060"] == {"Rtd": 3.0943, "Flag": "N"}
    assert packet.items["B01"]["Rtd"] == 10.989


def test_an_hourly_packet_gives_avg_min_max_and_flag_per_pollutant():
    packet = parse_frame(build_frame(HOURLY))
    assert packet.items["w01018"] == {"Avg": 35.2, "Min": 30.1, "Max": 40.0, "Flag": "N"}
    assert packet.items["w21003"] == {"Avg": 1.5, "Flag": "N"}


def test_fields_may_come_in_any_order_and_cp_need_not_be_last():
    segment = "CP=&&DataTime=20261101090000;a21026-ZsAvg=12.5&&;MN=X1;PNO=1;CN=2061;PNUM=2;PW=p;ST=31"
    packet = parse_frame(build_frame(segment))
    assert (packet.mn, packet.cn, packet.st, packet.pnum, packet.pno) == ("X1", "2061", "31", 2, 1)
    assert packet.items["a21026"] == {"ZsAvg": 12.5}


def test_a_crc_written_in_lower_case_is_accepted():
    frame = build_frame(HOURLY)
    assert parse_frame(frame[:-6] + frame[-6:-2].lower() + b"\r\n").cn == "2061"


def test_the_terminator_may_be_left_off_by_a_line_based_sender():
    assert parse_frame(build_frame(HOURLY)[:-2]).mn == "MN0001"


@pytest.mark.parametrize("mutate, code", [
    (lambda f: f[:-6] + b"0000\r\n", "bad_crc"),
    (lambda f: f[:-6] + b"ZZZZ\r\n", "bad_crc"),
    (lambda f: f.replace(b"35.2", b"35.3"), "bad_crc"),
    (lambda f: b"$" + f[1:], "bad_header"),
    (lambda f: b"garbage" + f, "bad_header"),
    (lambda f: f[:2] + b"0x12" + f[6:], "bad_length"),
    (lambda f: f[:2] + b"9999" + f[6:], "bad_length"),
    (lambda f: f[:2] + b"0010" + f[6:], "bad_length"),
    (lambda f: f[:40], "bad_length"),
    (lambda f: f[:-2] + b"\r\nextra", "bad_terminator"),
    (lambda f: f[:6], "bad_length"),
    (lambda f: b"##", "bad_length"),
])
def test_broken_frames_are_refused_with_a_specific_code(mutate, code):
    with pytest.raises(Hj212Error) as info:
        parse_frame(mutate(build_frame(HOURLY)))
    assert info.value.code == code


@pytest.mark.parametrize("segment, code, position", [
    ("ST=32;CN=2061;PW=1;MN=A;MN=B;CP=&&&&", "duplicate_field", None),
    ("ST=32;CN=2061;PW=1;MN=A;CP=&&w01018-Avg&&", "malformed_item", 1),
    ("ST=32;CN=2061;PW=1;MN=A;CP=&&DataTime=20261101090000;DataTime=20261101100000&&", "duplicate_item", 2),
    ("ST=32;CN=2061;PW=1;MN=A;CP=&&DataTime=20261331090000&&", "bad_datetime", None),
    ("ST=32;CN=2061;PW=1;CP=&&&&", "missing_field", None),
    ("ST=32;CN=2061;MN=A;CP=&&&&", "missing_field", None),
    ("ST=32;CN=2061;PW=1;MN=A", "missing_field", None),
    ("ST=32;CN=2061;PW=1;MN=A;CP=&&w01018-Avg=1", "malformed_field", None),
    ("ST=32;CN=20x1;PW=1;MN=A;CP=&&&&", "malformed_field", None),
    ("QN=123;ST=32;CN=2061;PW=1;MN=A;CP=&&&&", "malformed_field", None),
    ("ST=32;CN=2061;PW=1;MN=A;Flag=x;CP=&&&&", "malformed_field", None),
    ("ST=32;CN=2061;PW=1;MN=A;oops;CP=&&&&", "malformed_field", None),
    ("ST=32;CN=2061;PW=1;MN=A;CP=&&&&;CP=&&&&", "duplicate_field", None),
])
def test_bad_segments_name_the_problem_and_the_item_position(segment, code, position):
    with pytest.raises(Hj212Error) as info:
        parse_frame(build_frame(segment))
    assert info.value.code == code
    assert info.value.position == position


@pytest.mark.parametrize("cp, kept, issues", [
    # a real logger sends flow rate and totaliser both as w00000-Avg: neither copy is kept, COD is
    ("w01018-Avg=35.2,w01018-Flag=N;w00000-Avg=1.2;w00000-Avg=900", {"w01018": {"Avg": 35.2, "Flag": "N"}},
     [(4, "w00000-Avg", "ambiguous_duplicate")]),
    ("w01018-Avg=35.2,w01018-ValidNum=24,w01018-Flag=N", {"w01018": {"Avg": 35.2, "Flag": "N"}},
     [(2, "w01018-ValidNum", "extra_field")]),
    ("w01018-Avg=abc;w21003-Avg=1.5", {"w21003": {"Avg": 1.5}}, [(1, "w01018-Avg", "malformed_value")]),
    ("w01018-Avg=nan;w01018-Max=1e999;w21003-Avg=1.5", {"w21003": {"Avg": 1.5}},
     [(1, "w01018-Avg", "malformed_value"), (2, "w01018-Max", "malformed_value")]),
    # an unknown flag letter keeps the value with its raw flag (never valid), reported
    ("w01018-Avg=1,w01018-Flag=X", {"w01018": {"Avg": 1.0, "Flag": "X"}}, [(2, "w01018-Flag", "flag_unrecognised")]),
    # a repeated flag: the value stays but with an unclear flag, so it never counts as normal data
    ("w01018-Avg=1,w01018-Flag=N,w01018-Flag=D", {"w01018": {"Avg": 1.0, "Flag": "?"}},
     [(3, "w01018-Flag", "ambiguous_duplicate")]),
    ("LA-Data=55.1,LA-DayData=58,LA-NightData=49", {"LA": {"Data": 55.1}},
     [(2, "LA-DayData", "extra_field"), (3, "LA-NightData", "extra_field")]),
    ("a_b-Avg=1;w21003-Avg=2", {"w21003": {"Avg": 2.0}}, [(1, "a_b-Avg", "malformed_code")]),
])
def test_an_unclear_item_is_left_out_and_reported_while_the_others_are_kept(cp, kept, issues):
    packet = parse_frame(build_frame(f"ST=32;CN=2061;PW=1;MN=A;Flag=4;CP=&&DataTime=20261101090000;{cp}&&"))
    assert packet.items == kept
    assert [(i["position"] - 1, i["key"], i["issue"]) for i in packet.issues] == issues


def _modbus(data: bytes) -> int:
    reg = 0xFFFF
    for byte in data:
        reg ^= byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return reg


def test_a_byte_swapped_or_modbus_crc_is_refused_but_diagnosed():
    segment = HOURLY.encode()
    good = appendix_crc(segment)
    swapped = ((good & 0xFF) << 8) | (good >> 8)
    modbus = _modbus(segment)
    cases = [(swapped, "crc_byte_swapped"), (((modbus & 0xFF) << 8) | (modbus >> 8), "crc_modbus_swapped"),
             (modbus, "crc_modbus"), (good ^ 0x1111, "bad_crc")]
    for sent, code in cases:
        assert sent != good
        with pytest.raises(Hj212Error) as info:
            parse_frame(b"##%04d%s%04X\r\n" % (len(segment), segment, sent))
        assert info.value.code == code


def test_non_ascii_bytes_in_the_segment_are_refused():
    segment = "ST=32;CN=2061;PW=1;MN=A;CP=&&&&".encode() + "污".encode("utf-8")
    frame = b"##%04d%s%04X\r\n" % (len(segment), segment, crc16(segment))
    with pytest.raises(Hj212Error) as info:
        parse_frame(frame)
    assert info.value.code == "bad_encoding"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_nothing_but_hj212error(data):
    try:
        parse_frame(data)
    except Hj212Error:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200))
def test_any_correctly_framed_segment_raises_nothing_but_hj212error(segment):
    try:
        parse_frame(build_frame(segment))
    except Hj212Error:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["ST=32", "CN=2061", "PW=1", "MN=A", "CP=&&w01018-Avg=1.5&&", "Flag=4",
                                 "QN=20261101100000001", ";", "=", "&&", "-Avg=", ",", "DataTime=2026"]),
                max_size=12))
def test_shuffled_segment_pieces_raise_nothing_but_hj212error(pieces):
    try:
        parse_frame(build_frame(";".join(pieces)))
    except Hj212Error:
        pass



@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_the_table_driven_crc_equals_the_appendix_bit_loop(data):
    assert crc16(data) == appendix_crc(data)
