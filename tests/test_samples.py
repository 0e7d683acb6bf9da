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
def test_show_example_is_accepted(mid: str) -> None:
    out = io.StringIO()
    assert run(["show", mid, "--example"], out=out) == 0
    doc = json.loads(out.getvalue())
    eps = {p: e for p, e in CAT.model_record(mid)["endpoints"].items() if not e.get("legacy")}
    bodies = doc.items() if len(eps) > 1 else [(next(iter(eps)), doc)]
    for path, body in bodies:
        assert body["model"] == mid
        report = CAT.validate(body, path)
        assert [f for f in report.findings if f.severity != "info"] == [], (path, body)


def test_example_for_a_legacy_endpoint_when_named() -> None:
    out = io.StringIO()
    kling = "kling-video/v1.6/pro/image-to-video"
    legacy = "/v2/generate/video/kling/generation"
    assert run(["show", kling, "--example", "--endpoint", legacy], out=out) == 0
    body = json.loads(out.getvalue())
    assert [f.code for f in CAT.validate(body, legacy).findings] == ["AML203"]
