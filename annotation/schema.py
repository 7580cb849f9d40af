"""The label schema (SCHEMA.md v1.1) as code: the one place labels and roles are listed.

Everything else in ghara -- BIO tag ids, the relation head's classes, the Label Studio
labeling config, validation of exports -- is derived from :data:`SCHEMA`, so a schema
change is a one-line change here and nowhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

SCHEMA_VERSION = "1.1"


@dataclass(frozen=True)
class Schema:
    """Entity labels, relation roles and the argument label each role allows."""

    version: str
    entity_labels: tuple[str, ...]
    #: role -> the entity label its tail must carry; the head is always ``trigger_label``.
    roles: dict[str, str]
    #: one line per label and per role, for guidelines tables and model cards.
    descriptions: dict[str, str] = field(default_factory=dict, compare=False)
    trigger_label: str = "STRIKE"
    #: Label Studio control/object names used by the generated labeling config.
    labels_name: str = "label"
    text_name: str = "text"
    bio_tags: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if len(set(self.entity_labels)) != len(self.entity_labels):
            raise ValueError(f"entity labels repeat: {list(self.entity_labels)}")
        if "none" in self.roles:  # relation class 0 is "none" (no relation)
            raise ValueError("'none' cannot be a role: it is the relation head's no-relation "
                             "class")
        if self.trigger_label not in self.entity_labels:
            raise ValueError(f"trigger label {self.trigger_label!r} is not an entity label")
        for role, label in self.roles.items():
            if label not in self.entity_labels:
                raise ValueError(f"role {role!r} takes unknown label {label!r}")
        described = set(self.descriptions)
        if described and described != set(self.entity_labels) | set(self.roles):
            raise ValueError(f"descriptions must cover exactly the labels and roles, got {described}")
        tags = ["O"] + [f"{p}-{lab}" for lab in self.entity_labels for p in ("B", "I")]
        object.__setattr__(self, "bio_tags", tuple(tags))

    # -- tag ids -------------------------------------------------------------------------
    @property
    def tag2id(self) -> dict[str, int]:
        return {tag: i for i, tag in enumerate(self.bio_tags)}

    @property
    def id2tag(self) -> dict[int, str]:
        return dict(enumerate(self.bio_tags))

    # -- relation classes ---------------------------------------------------------------
    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(self.roles)

    @property
    def relation_classes(self) -> tuple[str, ...]:
        """Classes of the relation head: ``none`` first (id 0), then the roles."""
        return ("none",) + self.role_names

    @property
    def argument_labels(self) -> tuple[str, ...]:
        """Entity labels that can be the tail of some relation (ordered, unique)."""
        return tuple(dict.fromkeys(self.roles.values()))

    def roles_for(self, tail_label: str) -> tuple[str, ...]:
        return tuple(role for role, label in self.roles.items() if label == tail_label)

    def allows(self, head_label: str, role: str, tail_label: str) -> bool:
        return head_label == self.trigger_label and self.roles.get(role) == tail_label

    # -- Label Studio ----------------------------------------------------------------------
    def label_studio_config(self) -> str:
        """The labeling config XML: right-to-left text, one Labels control, relations."""
        relations = "".join(f"<Relation value={quoteattr(r)}/>" for r in self.roles)
        labels = "".join(f"<Label value={quoteattr(lab)}/>" for lab in self.entity_labels)
        return (
            '<View style="direction: rtl">\n'
            f"  <Relations>{relations}</Relations>\n"
            f'  <Labels name="{self.labels_name}" toName="{self.text_name}">{labels}</Labels>\n'
            f'  <Text name="{self.text_name}" value="${self.text_name}"/>\n'
            "</View>\n"
        )

    def to_dict(self) -> dict:
        """JSON-ready form saved with every model, so a checkpoint knows its schema."""
        return {
            "version": self.version,
            "entity_labels": list(self.entity_labels),
            "roles": dict(self.roles),
            "trigger_label": self.trigger_label,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Schema":
        """The inverse of :meth:`to_dict`; ``ValueError`` naming the key that is missing or
        of the wrong type (a hand-written schema file goes through here)."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object with {', '.join(_SCHEMA_KEYS)}, "
                             f"got {type(data).__name__}")
        if missing := [k for k in _SCHEMA_KEYS[:3] if k not in data]:
            raise ValueError(f"missing key(s) {', '.join(map(repr, missing))}")
        version, labels = data["version"], data["entity_labels"]
        roles, trigger = data["roles"], data.get("trigger_label", "STRIKE")
        if not isinstance(version, str) or not version:
            raise ValueError(f"'version' must be a non-empty string, got {version!r}")
        if not (isinstance(labels, list) and labels and all(_name(x) for x in labels)):
            raise ValueError(f"'entity_labels' must be a non-empty list of names, got {labels!r}")
        if not (isinstance(roles, dict) and all(_name(k) and isinstance(v, str)
                                                for k, v in roles.items())):
            raise ValueError(f"'roles' must map role names to entity labels, got {roles!r}")
        if not isinstance(trigger, str):
            raise ValueError(f"'trigger_label' must be a string, got {trigger!r}")
        return cls(version=version, entity_labels=tuple(labels), roles=dict(roles),
                   trigger_label=trigger)

    @classmethod
    def from_file(cls, path: str | Path) -> "Schema":
        """A schema written in :meth:`to_dict` form (a JSON file: ``version``,
        ``entity_labels``, ``roles``, optional ``trigger_label``), e.g. for a model with a
        label of its own. Every problem is one ``ValueError`` line naming the file: not
        found, not JSON, an unknown or missing key, a role whose label is not listed."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"{path}: schema file not found") from None
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"{path}: cannot read the schema file: {err}") from None
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON: {err}") from None
        if isinstance(data, dict) and (unknown := sorted(set(data) - set(_SCHEMA_KEYS))):
            raise ValueError(f"{path}: unknown key(s) {unknown} (known: {list(_SCHEMA_KEYS)})")
        try:
            return cls.from_dict(data)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None


#: the keys of :meth:`Schema.to_dict` (the first three required)
_SCHEMA_KEYS = ("version", "entity_labels", "roles", "trigger_label")


def _name(value: Any) -> bool:
    """A label or role name: a non-empty string without white space (a BIO tag part)."""
    return isinstance(value, str) and bool(value) and not any(c.isspace() for c in value)


SCHEMA = Schema(
    version=SCHEMA_VERSION,
    entity_labels=("STRIKE", "ACTOR", "TARGET", "PLACE", "DATE", "COUNT"),
    roles={
        "actor": "ACTOR",
        "target": "TARGET",
        "place": "PLACE",
        "date": "DATE",
        "strikes": "COUNT",
        "killed": "COUNT",
        "injured": "COUNT",
    },
    descriptions={
        "STRIKE": "a word or phrase reporting an air, drone, missile or artillery strike "
        "(غارة، قصف، استهدفت)",
        "ACTOR": "an armed party, state, alliance or force (التحالف الدولي، قوات النظام)",
        "TARGET": "what a strike hit or aimed at: facilities, positions, vehicles, people "
        "(مصافي النفط)",
        "PLACE": "a geographic location (دير الزور، ريف حلب الشرقي)",
        "DATE": "a time expression (فجر اليوم، الليلة الماضية)",
        "COUNT": "the number of strikes, killed or injured (27، عشرات، ثلاثة)",
        "actor": "who carried out the strike",
        "target": "what it hit or aimed at",
        "place": "where it happened",
        "date": "when it happened",
        "strikes": "how many strikes",
        "killed": "how many people were killed",
        "injured": "how many people were injured",
    },
)
