"""Signatures in linear time: the same masks as before on ordinary text, bounded work on any."""

from __future__ import annotations

import sys
import time

import re2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.model import Failure, Outcome, Phase
from bot.core.signature import _SPACE, PASSES, SCAN, Meter, mask, signature
from tests.core.signature_reference import reference_mask

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Pieces of every shape the masks look for, and the characters at their edges, including
# non-ASCII letters, digits and spaces (Python's \w, \d, \s are Unicode) and a lone surrogate.
PIECES = [
    "a", "B", "7", "0x", "f", ".", ":", "-", "/", "\\", "[", "]", " ", "\n", "'", '"', ",",
    "(", ")", "=", "_", "+", "~", "@", "<", ">", "e", "x", "T", "Z", "tmp", "/tmp",
    "/var/folders", "private/", "pytest-of-", "\\Temp", "Temp", "C:\\", "localhost",
    "-localhost", "::1", ":80", ":6379", "a.b", "é", "٣", "\u2003", "\x1c", "\ud800",
    "2026-11-24", "12:30:45", "10.0.0.1", "deadbeef", "Ab1" * 7,
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "123e4567-e89b-12d3-a456-426614174000",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


def failure(message: str, text: str = "") -> Failure:
    return Failure(
        nodeid="tests/test_a.py::test_x", phase=Phase.CALL, outcome=Outcome.FAILED,
        exception="ValueError", chain=("ValueError",), message=message, text=text,
    )  # fmt: skip


@SETTINGS
@given(texts)
def test_mask_equals_the_first_version_on_ordinary_text(text: str) -> None:
    assert mask(text) == reference_mask(text)


def test_the_space_class_given_to_re2_is_pythons_own() -> None:
    space = re2.compile(f"[{_SPACE}]")
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue  # not encodable for RE2; the masks replace them before matching
        char = chr(code)
        assert (space.match(char) is not None) == char.isspace(), hex(code)


UNITS = ["a", "aB3", "a.", "a-", ":", "a:\\", "/a", "ab12", "1", "x/", "pytest-of", "@", "-/"]


@SETTINGS
@given(st.sampled_from(UNITS), st.integers(1, 4000))
def test_masking_work_doubles_when_the_input_doubles(unit: str, size: int) -> None:
    # Count the passes over the text and the characters each reads: doubling the message adds
    # at most twice the work, and past the cap on what is scanned it adds none.
    counts = []
    for n in (size, 2 * size):
        meter = Meter()
        signature(failure("[" + unit * n), meter)
        counts.append(meter)
    one, two = counts
    assert one.passes == two.passes == PASSES
    # (a short text can grow by a token or two when a mask starts to apply: a constant)
    assert two.chars <= 2 * one.chars + 8 * PASSES * len(unit)
    assert two.chars <= PASSES * 3 * SCAN  # masks can lengthen the text; the cap bounds it


def test_a_megabyte_token_of_any_shape_costs_about_an_ordinary_message() -> None:
    # The old masks took 246 s for 50,000 characters of one token; compare CPU time with an
    # ordinary message of the same scanned size, measured here, with a generous factor.
    words = " ".join(f"field_{i} expected {i} got {i + 1}" for i in range(800))[:SCAN]
    started = time.process_time()
    signature(failure(words))
    ordinary = time.process_time() - started
    for unit in UNITS:
        message = "[" + unit * (1_000_000 // len(unit))
        started = time.process_time()
        for text in (message, message.replace(unit[0], unit[0].upper())):
            signature(failure(text, text))
        assert time.process_time() - started < 40 * ordinary + 0.05, unit
