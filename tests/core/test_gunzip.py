"""The one capped gunzip that uploads, the reader and the digest share."""

from __future__ import annotations

import gzip
import io
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.digest import report_digest
from bot.core.errors import ReportError
from bot.core.gunzip import CHUNK, GzipError, gunzip
from bot.core.reports.limits import ReportStream


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@given(
    members=st.lists(st.binary(max_size=2000), min_size=1, max_size=4),
    padding=st.integers(0, 40),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_any_split_of_members_and_padding_decodes_to_their_concatenation(
    members: list[bytes], padding: int, cuts: list[int]
) -> None:
    data = b"".join(gzip.compress(m) for m in members) + b"\x00" * padding
    decoded = b"".join(gunzip(_split(data, cuts), max_bytes=10**6))
    assert decoded == b"".join(members)


def test_one_member_refuses_a_second_but_not_padding() -> None:
    one = gzip.compress(b"report")
    assert b"".join(gunzip([one + b"\x00\x00"], 100, one_member=True)) == b"report"
    with pytest.raises(GzipError) as caught:
        b"".join(gunzip([one, one], 100, one_member=True))
    assert caught.value.problem == "trailing"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "truncated"),
        (gzip.compress(b"x" * 5000, mtime=0)[:-9], "truncated"),
        (b"\x1f\x8bnot deflate at all", "corrupt"),
        (gzip.compress(b"a", mtime=0) + b"junk", "corrupt"),
    ],
    ids=["empty", "cut", "not-deflate", "junk-after"],
)
def test_bad_gzip_names_its_problem(data: bytes, problem: str) -> None:
    with pytest.raises(GzipError) as caught:
        b"".join(gunzip([data], 10**6))
    assert caught.value.problem == problem


def test_a_bomb_stops_one_chunk_past_the_cap() -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    seen = 0

    def drink() -> None:
        nonlocal seen
        for out in gunzip([bomb], max_bytes=1_000_000):
            seen += len(out)

    with pytest.raises(GzipError) as caught:
        drink()
    assert caught.value.problem == "too_large"
    # Nothing past the cap was handed out, and zlib never inflated more than a chunk beyond it.
    assert seen <= 1_000_000 < seen + CHUNK + 1


def test_reader_digest_and_cap_agree_on_the_same_bytes() -> None:
    members = gzip.compress(b'{"a": ') + gzip.compress(b"1}") + b"\x00" * 3
    plain = b'{"a": 1}'
    stream = ReportStream(io.BytesIO(members), max_bytes=100)
    assert stream.read() == plain
    assert report_digest(members, max_bytes=100) == report_digest(plain, max_bytes=100)
    with pytest.raises(ReportError) as caught:
        report_digest(gzip.compress(b"x" * 200), max_bytes=100)
    assert caught.value.reason == "too_large"
    with pytest.raises(ReportError) as bad:
        report_digest(gzip.compress(b"x" * 200)[:-5], max_bytes=1000)
    assert bad.value.reason == "bad_gzip"
