"""Property tests of the input boundaries: nesting, integers, metadata characters, redaction."""

from __future__ import annotations

import json
import re
import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import TriageError
from bot.core.redact import MASK, redact
from bot.core.webhook import (
    MAX_DEPTH,
    MAX_ID,
    WebhookError,
    WrongCommand,
    load_payload,
    parse_command,
    parse_run_id,
)
from bot.services.run_meta import RunMeta, check_meta

REFUSED = ("Cc", "Cf", "Cs", "Zl", "Zp")
OPENERS = st.sampled_from(["[", '{"a": '])


@given(depth=st.integers(1, 3 * MAX_DEPTH), opener=OPENERS)
@settings(max_examples=200, deadline=None)
def test_nesting_past_the_limit_is_bad_payload_and_within_it_loads(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    body = ('{"x": ' + opener * (depth - 1) + "1" + closer * (depth - 1) + "}").encode()
    if depth <= MAX_DEPTH:
        assert load_payload(body)["x"] is not None
        return
    with pytest.raises(WebhookError) as err:
        load_payload(body)
    assert err.value.reason == "bad_payload"


@given(depth=st.integers(1_000, 200_000))
@settings(max_examples=10, deadline=None)
def test_any_deep_nesting_is_a_clear_error_never_recursion(depth: int) -> None:
    with pytest.raises(WebhookError):
        load_payload(b"[" * depth + b"]" * depth)


@given(number=st.integers(-(2**200), 2**200), hashed=st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_integer_run_id_is_parsed_or_answered(number: int, hashed: bool) -> None:
    body = f"/triage wrong {'#' if hashed else ''}{number} tests/a.py::t"
    if 1 <= number <= MAX_ID:
        command = parse_command(body)
        assert isinstance(command, WrongCommand)
        assert parse_run_id(command.run_id) == number
        return
    with pytest.raises(WebhookError) as err:
        parse_command(body)
    assert err.value.reason == "bad_command"
    assert str(MAX_ID) in err.value.message  # the reply says what a run id may be


@given(text=st.text(max_size=40) | st.from_regex(r"#?[0-9]{1,25}", fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_any_run_id_text_is_parsed_in_range_or_refused(text: str) -> None:
    digits = re.fullmatch(r"#?([0-9]+)", text)
    if digits and 1 <= int(digits.group(1)) <= MAX_ID:
        assert parse_run_id(text) == int(digits.group(1))
        return
    with pytest.raises(WebhookError) as err:
        parse_run_id(text)
    assert err.value.reason == "bad_command"


@given(
    value=st.text(max_size=30),
    field=st.sampled_from(["suite", "environment", "branch", "commit"]),
)
@settings(max_examples=400, deadline=None)
def test_metadata_with_an_invisible_or_control_character_is_refused(value: str, field: str) -> None:
    meta = RunMeta(**{"suite": "s", field: f"x{value}"})  # type: ignore[arg-type]
    if not any(unicodedata.category(ch) in REFUSED for ch in value):
        check_meta(meta)
        return
    with pytest.raises(TriageError) as err:
        check_meta(meta)
    assert err.value.reason == "bad_meta"


SECRETS = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="@/:\"',;&)}] "),
    min_size=4,
    max_size=30,
)
NOISE = st.text(max_size=200)


@given(secret=SECRETS, before=NOISE, after=NOISE, shape=st.integers(0, 3))
@settings(max_examples=400, deadline=None)
def test_redaction_hides_credentials_wherever_they_sit(
    secret: str, before: str, after: str, shape: int
) -> None:
    secret = f"Zq{secret}"  # never a word the surrounding noise could complete
    text = [
        f"{before} postgres://u:{secret}@db:5432/x {after}",
        f"{before} https://user:{secret}@ci.example/x {after}",
        f"{before} password={secret} {after}",
        f"{before} Authorization: Bearer {secret} {after}",
    ][shape]
    masked = redact(text)
    assert MASK in masked
    assert f"{secret} " not in masked.replace(before, "").replace(after, "")
    assert redact(masked) == masked


@given(text=st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_redaction_of_anything_is_idempotent_and_never_longer_per_secret(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_redaction_is_linear_on_long_tokens() -> None:
    # Python's re was quadratic here: a 30,000-character word took seconds. Count, do not
    # time: the work of RE2 grows with the text, so 8 times the text costs about 8 times.

    def cost(n: int) -> float:
        text = ("a" * n + " ") + ("x" * n + "://") + ("password" * (n // 8))
        start = time.perf_counter()
        for _ in range(5):
            redact(text)
        return time.perf_counter() - start

    small, large = min(cost(20_000) for _ in range(3)), min(cost(160_000) for _ in range(3))
    assert large < 8 * small * 6, (small, large)  # linear, with a generous factor for noise


def test_masked_json_stays_json() -> None:
    data = {"dsn": "postgres://u:hunter2@db/app", "password": "hunter2"}
    assert "hunter2" not in redact(json.dumps(data))
    json.loads(redact(json.dumps(data)))
