"""Typed, frozen records of the catalog, as the loader builds them.

Used by the loader and the compiler (build time). The runtime validator does
not build these: it reads the compiled index (see ``_catalog.py``).
Parameter specs stay plain dicts (resolved YAML): they are nested JSON-Schema
shapes, and the compiler is the one place that turns them into schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Catalog",
    "Deprecation",
    "Endpoint",
    "Legacy",
    "Model",
    "ModelEndpoint",
    "Recorded",
    "Removal",
]

Spec = dict[str, Any]


def _text(s: str) -> str:
    """YAML folded text as one line: hints are shown on one line everywhere."""
    return " ".join(s.split())


@dataclass(frozen=True, slots=True, kw_only=True)
class Deprecation:
    """A parameter that still works but should be migrated."""

    action: str  # rename | remove | replace-value
    hint: str
    since: str | None = None
    to: str | None = None  # rename target
    value: Any = None  # replace-value: the value to use instead
    source: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Deprecation:
        return cls(action=d["action"], hint=_text(d["hint"]), since=d.get("since"),
                   to=d.get("to"), value=d.get("value"), source=d.get("source"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action}
        for k in ("since", "to", "value"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        out["hint"] = self.hint
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Removal:
    """A parameter the model no longer takes on one endpoint."""

    hint: str
    since: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Removal:
        return cls(hint=_text(d["hint"]), since=d.get("since"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.since is not None:
            out["since"] = self.since
        out["hint"] = self.hint
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Legacy:
    """An endpoint (or model × endpoint) that has been superseded."""

    replaced_by: str  # endpoint name
    hint: str
    since: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Legacy:
        return cls(replaced_by=d["replaced_by"], hint=_text(d["hint"]), since=d.get("since"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    name: str
    path: str
    title: str
    aliases: tuple[str, ...] = ()
    detect: tuple[str, ...] = ()
    content_type: str = "json"  # json | multipart (form fields, validated as an object)
    legacy: Legacy | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelEndpoint:
    """The parameters one model takes on one endpoint, fully resolved."""

    endpoint: str  # endpoint name
    family: str | None
    parameters: dict[str, Spec]
    removed: dict[str, Removal] = field(default_factory=dict)
    legacy: Legacy | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """Modalities and capabilities a family or a model writes down, and where.

    The compiler adds them to what it derives from the parameters, and
    reports a recorded fact the parameters contradict at ``file``:``line``."""

    owner: str  # "family NAME" or "model ID", for messages
    file: str
    line: int | None
    input: tuple[str, ...] = ()
    output: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    #: Lines of the `modalities` and `capabilities` keys (for messages).
    lines: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Model:
    id: str
    aliases: tuple[str, ...]
    developer: str
    kind: str
    status: str  # active | deprecated | removed
    status_since: str | None
    replacement: str | None
    base_model: str | None
    context_window: int | None
    notes: str | None
    endpoints: tuple[ModelEndpoint, ...]
    file: str
    line: int | None
    #: What its families and the model itself record (see :class:`Recorded`).
    recorded: tuple[Recorded, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalog:
    version: str
    source: str
    endpoints: dict[str, Endpoint]
    synonyms: tuple[tuple[str, ...], ...]
    vocabulary: dict[str, Spec]
    definitions: dict[str, Spec]
    families: dict[str, dict[str, Any]]
    models: dict[str, Model]
    #: The modality and capability vocabulary (catalog/capabilities.yaml): name ->
    #: entry; ``kinds``: model kind -> {input?, output}.
    modalities: dict[str, dict[str, Any]] = field(default_factory=dict)
    capabilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)
