"""The schema module is the one source of labels; its Label Studio config matches SCHEMA.md."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from annotation import SCHEMA
from annotation.schema import Schema


def test_bio_tags_cover_every_label_once():
    assert SCHEMA.bio_tags[0] == "O"
    assert len(SCHEMA.bio_tags) == 1 + 2 * len(SCHEMA.entity_labels)
    assert SCHEMA.tag2id["B-STRIKE"] == 1 and SCHEMA.id2tag[2] == "I-STRIKE"


def test_roles_and_their_argument_labels():
    assert SCHEMA.relation_classes[0] == "none"
    assert SCHEMA.roles_for("COUNT") == ("strikes", "killed", "injured")
    assert SCHEMA.allows("STRIKE", "place", "PLACE")
    assert not SCHEMA.allows("STRIKE", "place", "TARGET")
    assert not SCHEMA.allows("ACTOR", "actor", "ACTOR")


def test_label_studio_config_is_rtl_and_lists_schema_labels():
    root = ET.fromstring(SCHEMA.label_studio_config())
    assert root.tag == "View" and "direction: rtl" in root.get("style")
    labels = root.find("Labels")
    assert labels.get("name") == "label" and labels.get("toName") == "text"
    assert [e.get("value") for e in labels] == list(SCHEMA.entity_labels)
    assert [e.get("value") for e in root.find("Relations")] == list(SCHEMA.roles)
    assert root.find("Text").get("value") == "$text"


def test_schema_round_trips_through_json_form():
    assert Schema.from_dict(SCHEMA.to_dict()) == SCHEMA
