"""The label schema (SCHEMA.md v1.1) as code: the one place labels and roles are listed.

Everything else in ghara -- BIO tag ids, the relation head's classes, the Label Studio
labeling config, validation of exports -- is derived from :data:`SCHEMA`, so a schema
change is a one-line change here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
        return cls(
            version=data["version"],
            entity_labels=tuple(data["entity_labels"]),
            roles=dict(data["roles"]),
            trigger_label=data.get("trigger_label", "STRIKE"),
        )


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
