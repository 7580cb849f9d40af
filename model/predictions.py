"""Plain prediction types, torch-free, so that their consumers can name them.

``model.inference`` makes these with the network; ``model.events``, ``model.evaluation``,
``model.metrics``, ``model.active`` and the batch code only read them. Keeping the type here
lets those modules (and the tests) import it without pulling in torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from annotation.documents import Relation, Span


@dataclass
class ParagraphPrediction:
    """Spans and relations of one paragraph, in paragraph coordinates, with scores.

    ``span_scores[i]``: mean probability of the decoded tags over the words of ``spans[i]``
    (1.0 for given gold spans); ``relation_scores[i]``: the relation head's probability of
    ``relations[i].role``.
    """

    spans: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    span_scores: list[float] = field(default_factory=list)
    relation_scores: list[float] = field(default_factory=list)
