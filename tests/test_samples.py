"""Bodies made from compiled schemas: `show --example` gives a clean body for every model."""

from __future__ import annotations

import io
import json

import pytest

from aimlcat import load_catalog
from aimlcat._cli import run

CAT = load_catalog()
# Models without documented parameters (AML105) have no example to give.
ACTIVE = [m.id for m in CAT.models(status="active") if m.endpoints]


@pytest.mark.parametrize("mid", ACTIVE)
def test_show_example_lints_clean_with_strict(mid: str) -> None:
    # What a user does: `aimlcat show MID --example | aimlcat lint --strict -` (with
    # --endpoint for each body of a model served on several). No warning at all: a model
    # documented only on an endpoint others moved away from (runway-gen3/turbo/image-to-video
    # on Kling's former path) is current there, not told to move where it is not served.
    out = io.StringIO()
    assert run(["show", mid, "--example"], out=out) == 0
    doc = json.loads(out.getvalue())
    every = CAT.model_record(mid)["endpoints"]
    eps = {p: e for p, e in every.items() if not e.get("legacy")} or every
    bodies = doc.items() if len(eps) > 1 else [(None, doc)]
    for path, body in bodies:
        assert body["model"] == mid
        report = io.StringIO()
        argv = ["lint", "--strict", "-", *(["--endpoint", path] if path else [])]
        code = run(argv, out=report, stdin=io.StringIO(json.dumps(body)))
        assert code == 0, (path, body, report.getvalue())


def test_example_of_a_removed_model_says_so_on_stderr(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The body is a valid one for the model's last parameters, but sending it is AML103:
    standard error says so, standard output stays the body alone."""
    out = io.StringIO()
    assert run(["show", "dall-e-3", "--example"], out=out) == 0
    assert json.loads(out.getvalue())["model"] == "dall-e-3"
    assert capsys.readouterr().err == "aimlcat: note: dall-e-3 is removed since 2026-06-09\n"
    assert run(["show", "flux/dev", "--example"], out=io.StringIO()) == 0
    assert capsys.readouterr().err == ""


def test_example_for_a_legacy_endpoint_when_named() -> None:
    out = io.StringIO()
    kling = "kling-video/v1.6/pro/image-to-video"
    legacy = "/v2/generate/video/kling/generation"
    assert run(["show", kling, "--example", "--endpoint", legacy], out=out) == 0
    body = json.loads(out.getvalue())
    assert [f.code for f in CAT.validate(body, legacy).findings] == ["AML203"]


def test_sampled_strings_match_their_pattern() -> None:
    # Documented patterns (a US date, a country code) are met, so a sampled body is valid.
    import random

    from aimlcat._samples import sample

    schema = {"type": "object", "required": ["day", "country"], "properties": {
        "day": {"type": "string", "pattern": r"^(0?[1-9]|1[0-2])\/(0?[1-9]|[12]\d|3[01])\/\d{4}$"},
        "country": {"type": "string", "pattern": "^[A-Z]{2}$"}}}
    body = sample(schema, {"$defs": {}}, random.Random(0))
    assert body == {"day": "01/15/2025", "country": "US"}


@pytest.mark.parametrize("mid", ["Austism/chronos-hermes-13b", "veed/fabric-1.0-fast"])
def test_a_model_without_parameters_shows_its_id_and_no_schema(
        mid: str, capsys: pytest.CaptureFixture[str]) -> None:
    # No document describes its parameters (AML105): the example is the id alone, with a
    # note saying so; --schema says there is none, as `models` says when nothing matches.
    assert not CAT.model_record(mid)["endpoints"]
    out = io.StringIO()
    assert run(["show", mid, "--example"], out=out) == 0
    assert json.loads(out.getvalue()) == {"model": mid}
    err = capsys.readouterr().err
    assert f"only the id of {mid} is known" in err
    assert ("is removed since" in err) == (CAT.model_record(mid)["status"] == "removed")
    out = io.StringIO()
    assert run(["show", mid, "--schema"], out=out) == 0
    assert out.getvalue() == ""
    assert f"aimlcat: no schema: the catalog has no parameters for {mid}" in capsys.readouterr().err
