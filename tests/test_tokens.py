"""Prompt-token bounds (aimlcat/_tokens.py) against real tokenizers, and AML510/AML511.

The real tokenizers are toktok's (test extra ``toktok-rs``: cl100k_base, o200k_base and
Qwen 3.5 with their vocabularies compiled in, so nothing is downloaded). Tests that need
it skip when it is not installed; the findings are tested either way.
"""

from __future__ import annotations

import base64
import json
import math
import random
import statistics
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aimlcat
from aimlcat._cli import run
from aimlcat._tokens import (
    HIGH_FACTOR,
    MAX_TOKEN_ALNUM,
    MAX_TOKEN_BYTES,
    context_findings,
    estimate_tokens,
    output_reservation,
    text_bounds,
)

REPO = Path(__file__).resolve().parent.parent
ENCODINGS = ("cl100k_base", "o200k_base", "qwen3.5")

try:
    import toktok  # type: ignore[import-untyped]  # no py.typed
except ImportError:  # the test extra is not installed
    toktok = None

needs_tokenizer = pytest.mark.skipif(toktok is None, reason="toktok-rs (test extra) not installed")


def real(texts: list[str], encoding: str) -> list[int]:
    assert toktok is not None
    return list(toktok.batch_count(texts, encoding, threads=1))


# -- a varied corpus ----------------------------------------------------------------------

# Sentences written for this test (not copied from anywhere), one language each.
LANGUAGES = {
    "zh": "今天下午我们在会议室讨论了下一季度的销售计划，大家都同意先把重点放在老客户身上。",
    "ja": "昨日の夜は雨が強かったので、駅まで歩くのをやめてタクシーを呼びました。",
    "ko": "우리 팀은 다음 주 월요일까지 보고서를 마무리하고 고객에게 보낼 예정입니다.",
    "ru": "Вчера вечером мы долго спорили о том, какой маршрут выбрать для летней поездки.",
    "de": "Die Besprechung wurde verschoben, weil zwei Kolleginnen krank geworden sind.",
    "ar": "ذهبنا صباح اليوم إلى السوق لشراء الخضار والفاكهة قبل أن يشتد الحر.",
    "hi": "कल शाम हम सब दोस्त पार्क में मिले और देर रात तक बातें करते रहे।",
    "th": "เมื่อวานนี้ฝนตกหนักมาก เราจึงตัดสินใจอยู่บ้านและดูหนังด้วยกัน",
}


def corpus() -> dict[str, list[str]]:
    rng = random.Random(510)
    out: dict[str, list[str]] = {}
    docs = sorted((REPO / "docs").glob("*.md")) + [REPO / "README.md"]
    out["english"] = [p.read_text(encoding="utf-8")[:6000] for p in docs]
    code = sorted((REPO / "aimlcat").glob("*.py"))
    out["code"] = [p.read_text(encoding="utf-8")[:6000] for p in code[:12]]
    schemas = sorted((REPO / "schemas" / "models").rglob("*.json"))[:10]
    texts = [p.read_text(encoding="utf-8") for p in schemas]
    out["json"] = texts + [json.dumps(json.loads(t), separators=(",", ":")) for t in texts]
    out["languages"] = [" ".join([s] * rng.randint(1, 6)) for s in LANGUAGES.values()]
    out["numbers"] = [" ".join(str(rng.randint(0, 10 ** rng.randint(1, 14))) for _ in range(200)),
                      ",".join(f"{rng.random():.7f}" for _ in range(150)),
                      "".join(str(rng.randint(0, 9)) for _ in range(1000))]
    out["whitespace"] = ["".join(rng.choice([" ", "  ", "\n", "\t", "    ", "\r\n", "a", "x.",
                                             "\n/", "//", "word", "\u3000", "\xa0"])
                                 for _ in range(800)) for _ in range(4)]
    emoji = [chr(c) for c in range(0x1F300, 0x1F64F)] + ["👍🏽", "👨‍👩‍👧", "🇫🇷"]
    out["emoji"] = ["".join(rng.choice([*emoji, " "]) for _ in range(300)) for _ in range(3)]
    out["random unicode"] = ["".join(chr(rng.choice([rng.randint(32, 0x2FFF),
                                                      rng.randint(0x3000, 0xD7FF),
                                                      rng.randint(0xE000, 0x10FFFF)]))
                                     for _ in range(400)) for _ in range(6)]
    out["base64"] = [base64.b64encode(rng.randbytes(2000)).decode() for _ in range(3)]
    out["edges"] = ["", " ", "a", ".\n/", "x.\n/y", "a\x1cb", "don't", "e\u0301", "\u0958" * 9,
                    "\ufb2c" * 5, "-" * 300, " " * 300, "A" * 500, "1²1²1", "\U0001d160" * 4]
    return out


CORPUS = corpus()


@needs_tokenizer
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_bounds_hold_on_the_corpus(encoding: str) -> None:
    for kind, texts in CORPUS.items():
        for text, count in zip(texts, real(texts, encoding), strict=True):
            lower, estimate, upper = text_bounds(text)
            assert lower <= count <= upper, (kind, encoding, text[:80], lower, count, upper)
            assert lower <= estimate <= upper


@needs_tokenizer
def test_estimate_error_is_as_documented() -> None:
    """docs/tokens.md states the estimate's error against the largest of the three counts;
    this corpus is smaller than the one the figures come from, so the check is the envelope:
    natural text within 0.7-1.45 of the count, and ``high`` covers every natural sample."""
    natural = ("english", "code", "json", "languages", "numbers")
    counts = {e: {k: real(v, e) for k, v in CORPUS.items()} for e in ENCODINGS}
    ratios: dict[str, list[float]] = {}
    for kind, texts in CORPUS.items():
        for i, text in enumerate(texts):
            top = max(counts[e][kind][i] for e in ENCODINGS)
            if top < 20:
                continue
            _, est, upper = text_bounds(text)
            ratios.setdefault(kind, []).append(est / top)
            if kind in natural:
                assert min(round(est * HIGH_FACTOR), upper) >= top, (kind, text[:60])
    for kind in natural:
        assert 0.7 <= min(ratios[kind]) and max(ratios[kind]) <= 1.45, (kind, ratios[kind])
    print({k: round(statistics.median(v), 2) for k, v in ratios.items()})


@needs_tokenizer
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_no_token_is_longer_than_the_constant(encoding: str) -> None:
    tok = toktok._encoding(encoding)  # the vocabulary itself (toktok's documented test hook)
    vocab = tok.token_byte_values()
    assert max(len(v) for v in vocab) <= MAX_TOKEN_BYTES
    alnum = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    assert max(sum(b in alnum for b in v) for v in vocab) <= MAX_TOKEN_ALNUM


# The characters where tokenizers and Python disagree, or where the bounds have cases.
TRICKY = st.sampled_from(["a", "Z", "7", ".", "/", "'", "_", " ", "  ", "\n", "\r", "\t",
                          "\x1c", "\x1f", "\xa0", "\u3000", "\u2028", "é", "e\u0301", "中",
                          "한", "😀", "\u0958", "\ufb2c", "\U0001d160", "²", "Ⅷ", "s", "'s"])


@needs_tokenizer
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), st.lists(TRICKY, max_size=60).map("".join)))
def test_bounds_hold_on_any_text(text: str) -> None:
    lower, estimate, upper = text_bounds(text)
    assert lower <= estimate <= upper
    for encoding in ENCODINGS:
        count = real([text], encoding)[0]
        assert lower <= count <= upper, (encoding, text, lower, count, upper)


@needs_tokenizer
@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.lists(TRICKY, max_size=20).map("".join)),
                min_size=1, max_size=6))
def test_chat_bounds_hold_with_the_openai_template(contents: list[str]) -> None:
    """A chat's lower bound holds against the OpenAI chat format counted for real
    (3 template tokens a message and 3 priming the reply, as OpenAI documents), and its
    upper bound against the message texts plus those tokens."""
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": c} for c in contents]}
    est = estimate_tokens(body)
    counts = real(contents, "o200k_base")
    total = sum(counts) + 3 * len(contents) + 3
    assert est.lower <= total <= est.upper


# -- bodies ---------------------------------------------------------------------------------

def test_a_part_list_counts_its_texts_and_images() -> None:
    body = {"model": "gpt-4o", "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 40000}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]}]}
    est = estimate_tokens(body)
    assert est.images == 1
    assert est.uncounted == ("/messages/1/content/2",)
    # The image's data is not text: the bounds do not grow with it.
    assert est.upper < 6000
    assert 8 <= est.lower <= est.estimate <= est.upper


def test_responses_messages_and_embeddings_bodies() -> None:
    responses = estimate_tokens({"model": "gpt-4o", "instructions": "Answer in French.",
                                 "input": [{"role": "user", "content": [
                                     {"type": "input_text", "text": "Where is the station?"},
                                     {"type": "input_file", "file_id": "file-1"}]},
                                     {"type": "function_call_output", "call_id": "c",
                                      "output": "{\"temp\": 21}"}],
                                 "previous_response_id": "resp_1"},
                                endpoint="/v1/responses")
    assert responses.lower >= 8 and responses.uncounted == ("/input/0/content/1",
                                                            "/previous_response_id")
    anthropic = estimate_tokens({"model": "claude-x", "system": [{"type": "text", "text":
                                                                  "Be brief."}],
                                 "messages": [{"role": "user", "content": "Hi there"}],
                                 "max_tokens": 100}, endpoint="/v1/messages")
    assert 4 <= anthropic.lower <= anthropic.upper
    emb = estimate_tokens({"model": "text-embedding-3-small",
                           "input": ["one two three", [1, 2, 3, 4]]})
    assert emb.lower == 3 + 4 and emb.upper >= 14 + 4
    ids = estimate_tokens({"model": "text-embedding-3-small", "input": [5, 6, 7]})
    assert (ids.lower, ids.estimate) == (3, 3)


def test_tools_count_from_below_by_their_descriptions() -> None:
    tool = {"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city, in Celsius.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "The city name."}}}}}
    bare = estimate_tokens({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]})
    with_tool = estimate_tokens({"model": "gpt-4o", "tools": [tool],
                                 "messages": [{"role": "user", "content": "Hi"}]})
    assert with_tool.lower >= bare.lower + 10
    assert with_tool.upper > bare.upper + len(json.dumps(tool))


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(TypeError, match="JSON object"):
        estimate_tokens(["not", "a", "body"])
    with pytest.raises(ValueError, match="no prompt"):
        estimate_tokens({"model": "flux/dev", "prompt": "x"}, endpoint="/v1/images/generations")
    # Odd shapes inside a body are skipped, never a traceback.
    odd = estimate_tokens({"messages": [None, 3, {"role": 5, "content": {"x": [1]}},
                                        {"content": [None, {"type": "text", "text": 9}]}]})
    assert odd.lower == 0 <= odd.upper


def test_the_output_reservation() -> None:
    assert output_reservation({"max_completion_tokens": 500}, {}) == (
        500, "`max_completion_tokens` 500")
    assert output_reservation({"max_tokens": True}, {}) == (0, "")
    params = {"max_tokens": {"type": "integer", "maximum": 8192}}
    assert output_reservation({}, params) == (8192, "the model's largest `max_tokens` 8,192")
    assert output_reservation({}, {"max_tokens": {"deprecated": {}, "maximum": 9}}) == (0, "")


# -- findings -------------------------------------------------------------------------------

WORDS = ["the", "quarterly", "revenue", "grew", "in", "every", "region", "while", "costs",
         "stayed", "flat", "and", "team", "expects", "similar", "results", "next", "year"]


def prose(words: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


def lint(tmp_path: Path, body: dict[str, Any], *args: str) -> tuple[int, dict[str, Any]]:
    import contextlib
    import io

    path = tmp_path / "request.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run(["lint", "--format", "json", *args, str(path)])
    return code, json.loads(out.getvalue())


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for file in report["files"] for f in file["findings"]]


def test_a_300000_token_prompt_to_a_128k_model_is_an_error(tmp_path: Path) -> None:
    text = prose(300_000)
    if toktok is not None:
        assert real([text], "o200k_base")[0] >= 300_000
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}],
            "max_completion_tokens": 1000}
    code, report = lint(tmp_path, body)
    assert code == 1
    (f,) = findings(report)
    assert (f["code"], f["severity"], f["pointer"]) == ("AML510", "error", "/messages")
    assert "at least 300,001 tokens" in f["message"]
    assert "with `max_completion_tokens` 1,000 that is more than" in f["message"]
    assert "gpt-4o's 128,000-token context window" in f["message"]


def test_a_prompt_near_the_window_is_a_warning(tmp_path: Path) -> None:
    # At least 99,001 tokens (one a word and the full stop): with 27,000 for the answer
    # that certainly fits, but the estimate with its margin (1.5x) does not.
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": prose(99_000)}],
            "max_completion_tokens": 27_000}
    code, report = lint(tmp_path, body)
    (f,) = findings(report)
    assert (f["code"], f["severity"]) == ("AML511", "warning")
    assert "at least 99,001" in f["message"]
    assert code == 0  # warnings do not fail a lint by default
    assert lint(tmp_path, body, "--strict")[0] == 1
    # Well inside the margin: nothing.
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": prose(60_000)}],
            "max_completion_tokens": 1000}
    assert findings(lint(tmp_path, body)[1]) == []


def test_an_embedding_input_over_the_limit_is_named(tmp_path: Path) -> None:
    body = {"model": "text-embedding-3-small", "input": ["short", prose(9000)]}
    _, report = lint(tmp_path, body)
    (f,) = findings(report)
    assert (f["code"], f["pointer"]) == ("AML510", "/input/1")
    assert "the input is at least 9,001 tokens" in f["message"]


def test_normal_bodies_have_no_window_finding() -> None:
    cat = aimlcat.load_catalog()
    bodies = [json.loads((REPO / "bench" / "data" / "chat_valid.json").read_text())]
    bodies += [json.loads(p.read_text()) for p in sorted((REPO / "examples").rglob("*.json"))]
    for body in bodies:
        body = body.get("body", body)
        codes = [f.code for f in cat.validate(body).findings]
        assert "AML510" not in codes and "AML511" not in codes


def test_the_cheap_path_says_nothing_and_the_output_limit_alone_can_overflow() -> None:
    hello = [{"role": "user", "content": "Hello"}]
    assert context_findings({"messages": hello}, "/v1/chat/completions", 128_000, {},
                            "gpt-4o") == []
    ((code, ptr, message, _),) = context_findings(
        {"messages": hello, "max_completion_tokens": 200_000}, "/v1/chat/completions",
        128_000, {}, "gpt-4o")
    assert (code, ptr) == ("AML510", "/messages")
    assert message.startswith("the prompt is at least 1 token ")
    assert context_findings({"prompt": "x"}, "/v1/images/generations", 10, {}, "m") == []


@pytest.mark.parametrize("limit", [10 ** 15, 1e16, 2 ** 64, 10 ** 30, 1e300])
def test_an_absurd_output_limit_is_still_the_bodys_limit(limit: float) -> None:
    """The cheap path and the findings read a huge limit the same way: it overflows the
    window, and the finding names it (it used to be dropped past 1e15, so the finding said
    a 1-token prompt overflowed, or nothing was said at all)."""
    hello = [{"role": "user", "content": "Hello"}]
    body = {"messages": hello, "max_completion_tokens": limit}
    ((code, ptr, message, _),) = context_findings(body, "/v1/chat/completions", 128_000, {},
                                                  "gpt-4o")
    assert (code, ptr) == ("AML510", "/messages")
    assert f"with `max_completion_tokens` {int(limit):,} that is more than" in message


@pytest.mark.parametrize("limit", [math.inf, math.nan, -1, True, "9"])
def test_a_limit_that_is_no_count_reserves_nothing_from_the_body(limit: Any) -> None:
    body = {"messages": [{"role": "user", "content": "Hello"}], "max_completion_tokens": limit}
    assert context_findings(body, "/v1/chat/completions", 128_000, {}, "gpt-4o") == []


# -- the cheap check ------------------------------------------------------------------------

TEXT = st.one_of(st.text(max_size=30), st.lists(TRICKY, max_size=10).map("".join))
PART = st.one_of(
    st.builds(lambda t: {"type": "text", "text": t}, TEXT),
    st.builds(lambda t: {"type": "input_text", "text": t}, TEXT),
    st.just({"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}),
    st.just({"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}),
    st.builds(lambda t: {"type": "tool_result", "tool_use_id": "t", "content": [
        {"type": "text", "text": t}, {"type": "image", "source": {"type": "url", "url": "u"}}]},
        TEXT),
    st.builds(lambda t: {"type": "tool_use", "id": "t", "name": "f", "input": {"q": t}}, TEXT),
    st.builds(lambda t: {"type": "document", "source": {"type": "text", "data": t}}, TEXT),
    st.just({"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}),
    st.builds(lambda t: {"type": t, "text": "x"}, st.one_of(
        st.dictionaries(TEXT, st.integers(), max_size=2), st.lists(TEXT, max_size=2))),
    TEXT, st.none(), st.integers())
MESSAGE = st.one_of(
    st.fixed_dictionaries({"role": st.one_of(st.sampled_from(["user", "assistant", "system"]),
                                             TEXT, st.none())}, optional={
        "content": st.one_of(TEXT, st.none(), st.lists(PART, max_size=4)), "name": TEXT,
        "tool_calls": st.lists(st.builds(lambda a: {"id": "c", "type": "function", "function":
                                                    {"name": "f", "arguments": a}}, TEXT),
                               max_size=2)}),
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "tool"]),
                           "content": st.one_of(TEXT, st.lists(PART, max_size=4))}),
    st.builds(lambda a: {"type": "function_call", "name": "f", "arguments": a}, TEXT),
    st.builds(lambda o: {"type": "function_call_output", "call_id": "c", "output": o},
              st.one_of(TEXT, st.lists(PART, max_size=3))),
    TEXT, st.integers())
TOOL = st.builds(lambda d, p: {"type": "function", "function": {
    "name": "f", "description": d, "parameters": {"type": "object", "properties": {
        "x": {"type": "string", "description": p}}}}}, TEXT, TEXT)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={
    "system": st.one_of(TEXT, st.lists(PART, max_size=2)), "instructions": TEXT,
    "messages": st.lists(MESSAGE, max_size=5), "input": st.one_of(TEXT, st.lists(MESSAGE,
                                                                                  max_size=5)),
    "tools": st.lists(TOOL, max_size=2), "response_format": st.just({"type": "json_object"})}),
    st.sampled_from(["chat", "responses"]))
def test_the_cheap_check_is_never_below_the_upper_bound(body: dict[str, Any],
                                                        family: str) -> None:
    from aimlcat._tokens import _gather, quick_upper

    ((_, prompt),) = _gather(body, family)
    assert quick_upper(body, family) >= prompt.bounds().upper


@settings(max_examples=100, deadline=None)
@given(st.one_of(TEXT, st.lists(st.one_of(TEXT, st.lists(st.integers(0, 99), max_size=9)),
                                max_size=4), st.lists(st.integers(0, 99), max_size=9)))
def test_the_cheap_check_holds_for_every_embedding_input(value: Any) -> None:
    from aimlcat._tokens import _gather, quick_upper

    body = {"input": value}
    assert quick_upper(body, "embeddings") >= max(
        p.bounds().upper for _, p in _gather(body, "embeddings"))


PLAIN_MESSAGE = st.one_of(
    MESSAGE,
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "tool",
                                                    "developer", "function"]),
                           "content": st.one_of(TEXT, st.lists(st.one_of(
                               st.builds(lambda t: {"type": "text", "text": t}, TEXT),
                               st.just({"type": "image_url", "image_url": {"url": "u"}})),
                               max_size=4))}))


@settings(max_examples=400, deadline=None)
@given(st.lists(PLAIN_MESSAGE, max_size=6))
def test_the_plain_sum_in_c_is_the_python_sum(items: list[Any]) -> None:
    """_tokens._quick_plain runs in C where aimlcat's extension is built: the same sum, or
    "not plain", as the Python loop (which the other builds run)."""
    from aimlcat import _tokens

    if _tokens._PLAIN_BOUND is None:
        pytest.skip("aimlcat._verdict is not built")
    try:
        want: int | None = _tokens._quick_plain_py(items)
    except _tokens._NotPlain:
        want = None
    got = _tokens._PLAIN_BOUND(items, _tokens._ROLES, _tokens._WIDE, _tokens.PER_STRING,
                               _tokens.IMAGE_UPPER, _tokens._ROLE_BYTES)
    assert got == want


@pytest.mark.parametrize("items", [
    [{"role": ["user"], "content": "x"}], [{"role": "user", "content": ("a",)}],
    [{"role": "user", "content": [{"type": "text", "text": b"x"}]}], ["ab"], [None],
    [{"role": "user", "content": [{"type": ["text"], "text": "x"}]}],
    [{"role": "user", "content": [{"type": "text", "text": "x" * 10, "extra": 1}]}],
])
def test_the_plain_sum_in_c_says_not_plain_where_python_does(items: list[Any]) -> None:
    from aimlcat import _tokens

    if _tokens._PLAIN_BOUND is None:
        pytest.skip("aimlcat._verdict is not built")
    with pytest.raises(_tokens._NotPlain):
        _tokens._quick_plain_py(items)
    assert _tokens._PLAIN_BOUND(items, _tokens._ROLES, _tokens._WIDE, _tokens.PER_STRING,
                                _tokens.IMAGE_UPPER, _tokens._ROLE_BYTES) is None


@settings(max_examples=400, deadline=None)
@given(st.one_of(TEXT, st.text(max_size=60), st.text(
    alphabet=st.characters(categories=["Zs", "Cc", "Zl", "Zp", "Ll", "Nd", "Po"]), max_size=60)))
def test_matches_are_counted_as_findall_and_split_count_them(text: str) -> None:
    """text_bounds counts words and pattern matches without building their lists: the same
    counts as ``len(text.split())`` and ``len(pattern.findall(text))``."""
    from aimlcat import _tokens

    assert _tokens._count(_tokens._WORD, text) == len(text.split())
    for pattern in _tokens._patterns():
        assert _tokens._count(pattern, text) == len(pattern.findall(text))
