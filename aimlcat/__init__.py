"""aimlcat: a model catalog and request validator for the AI/ML API gateway.

    >>> import aimlcat
    >>> report = aimlcat.validate({"model": "gpt-4o", "messages": [], "max_tokens": 10})
    >>> [f.code for f in report.findings]
    ['AML302']

Public names are re-exported lazily (PEP 562), so ``import aimlcat`` stays
cheap: no YAML parser, no pure-Python schema engine, no HTTP client (httpx
is imported when a client or transport name is first used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._catalog import Catalog, ModelInfo, load_catalog
    from ._client import (
        AsyncPreflightTransport,
        BaseUrlProblem,
        PreflightTransport,
        async_client,
        check_base_url,
        client,
    )
    from ._exceptions import (
        AimlcatError,
        CatalogError,
        CatalogProblem,
        PayloadError,
        PreflightError,
        UsageError,
    )
    from ._findings import RULES, Finding, Report, Rule
    from ._tokens import TokenEstimate, estimate_tokens

__all__ = [
    "RULES",
    "AimlcatError",
    "AsyncPreflightTransport",
    "BaseUrlProblem",
    "Catalog",
    "CatalogError",
    "CatalogProblem",
    "Finding",
    "ModelInfo",
    "PayloadError",
    "PreflightError",
    "PreflightTransport",
    "Report",
    "Rule",
    "TokenEstimate",
    "UsageError",
    "__version__",
    "async_client",
    "check_base_url",
    "client",
    "estimate_tokens",
    "load_catalog",
    "validate",
]

_LAZY = {
    "Catalog": "_catalog", "ModelInfo": "_catalog", "load_catalog": "_catalog",
    "AimlcatError": "_exceptions", "CatalogError": "_exceptions",
    "CatalogProblem": "_exceptions", "PayloadError": "_exceptions", "UsageError": "_exceptions",
    "PreflightError": "_exceptions",
    "PreflightTransport": "_client", "AsyncPreflightTransport": "_client",
    "BaseUrlProblem": "_client", "check_base_url": "_client",
    "client": "_client", "async_client": "_client",
    "RULES": "_findings", "Finding": "_findings", "Report": "_findings", "Rule": "_findings",
    "TokenEstimate": "_tokens", "estimate_tokens": "_tokens",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'aimlcat' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"aimlcat.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def validate(payload: Any, endpoint: str | None = None) -> Report:
    """Check one request body against the bundled catalog.

    ``payload`` is the parsed JSON body (a dict). ``endpoint`` is a path such
    as ``/v1/chat/completions`` or a full URL, with or without the ``/v1``
    base; when omitted it is inferred from the model and the body. Returns a
    :class:`Report`; never raises for a bad payload.
    """
    if not _BUNDLED:  # (called in loops: after the first call, one list lookup)
        from . import _validator  # noqa: F401  (first: with orjson imported the index loads faster)
        from ._catalog import load_catalog

        _BUNDLED.append(load_catalog())
    return _BUNDLED[0].validate(payload, endpoint)


#: The bundled catalog, once validate() has loaded it (load_catalog's own, shared).
_BUNDLED: list[Catalog] = []
