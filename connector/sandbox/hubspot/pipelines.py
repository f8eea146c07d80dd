"""The portal's pipelines: deals (the default one and a custom one) and leads.

Served at ``/crm/v3/pipelines/{deals|leads}`` in the v3 shape the SDK models: stage
``metadata`` values are strings (``{"isClosed": "true", "probability": "1.0"}``), as
HubSpot sends them. The default deal pipeline's closed stages are ``closedwon`` /
``closedlost``; the custom pipeline's stages have numeric ids, as portal-made ones
do, so won and lost can only be told by ``isClosed`` and ``probability`` (1.0 won,
0.0 lost). The leads pipeline uses HubSpot's string stage ids (``new-stage-id`` ...).
Lead stages carry ``isClosed`` only: the sandbox's reading, not a recorded reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_DEAL_PIPELINE = "default"
LEAD_PIPELINE = "lead-pipeline-id"
#: when the portal's pipelines were made (fixed: they predate any sandbox run)
_CREATED = "2019-08-06T02:41:09.102Z"


@dataclass(frozen=True, slots=True)
class Stage:
    id: str
    label: str
    closed: bool = False
    #: deals only: the stage's win probability (1.0 is won, 0.0 on a closed stage is lost)
    probability: float | None = None

    @property
    def won(self) -> bool:
        return self.closed and self.probability == 1.0

    @property
    def lost(self) -> bool:
        return self.closed and not self.won


@dataclass(frozen=True, slots=True)
class Pipeline:
    id: str
    label: str
    display_order: int
    stages: tuple[Stage, ...]

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if not s.closed)

    @property
    def won_stage(self) -> Stage:
        return next(s for s in self.stages if s.won)

    @property
    def lost_stage(self) -> Stage:
        return next(s for s in self.stages if s.lost)


DEAL_PIPELINES = (
    Pipeline(
        DEFAULT_DEAL_PIPELINE,
        "Sales Pipeline",
        0,
        (
            Stage("appointmentscheduled", "Appointment Scheduled", probability=0.2),
            Stage("qualifiedtobuy", "Qualified To Buy", probability=0.4),
            Stage("presentationscheduled", "Presentation Scheduled", probability=0.6),
            Stage("decisionmakerboughtin", "Decision Maker Bought-In", probability=0.8),
            Stage("contractsent", "Contract Sent", probability=0.9),
            Stage("closedwon", "Closed Won", closed=True, probability=1.0),
            Stage("closedlost", "Closed Lost", closed=True, probability=0.0),
        ),
    ),
    Pipeline(
        "705209413",
        "Enterprise Pipeline",
        1,
        (
            Stage("1058723914", "Discovery", probability=0.1),
            Stage("1058723915", "Solution Design", probability=0.3),
            Stage("1058723916", "Security Review", probability=0.5),
            Stage("1058723917", "Procurement", probability=0.8),
            Stage("1058723918", "Signed", closed=True, probability=1.0),
            Stage("1058723919", "No Decision", closed=True, probability=0.0),
        ),
    ),
)
LEAD_PIPELINES = (
    Pipeline(
        LEAD_PIPELINE,
        "Lead pipeline",
        0,
        (
            Stage("new-stage-id", "New"),
            Stage("attempting-stage-id", "Attempting"),
            Stage("connected-stage-id", "Connected"),
            Stage("qualified-stage-id", "Qualified", closed=True),
            Stage("unqualified-stage-id", "Disqualified", closed=True),
        ),
    ),
)
#: object type name -> its pipelines
PIPELINES: dict[str, tuple[Pipeline, ...]] = {"deals": DEAL_PIPELINES, "leads": LEAD_PIPELINES}


def find_pipeline(object_type: str, pipeline_id: str) -> Pipeline | None:
    """A pipeline of ``object_type`` (a plural name) by id."""
    return next((p for p in PIPELINES.get(object_type, ()) if p.id == pipeline_id), None)


def stage_json(stage: Stage, display_order: int) -> dict[str, Any]:
    """A PipelineStage."""
    metadata = {"isClosed": "true" if stage.closed else "false"}
    if stage.probability is not None:
        metadata["probability"] = str(stage.probability)
    return {
        "label": stage.label,
        "displayOrder": display_order,
        "metadata": metadata,
        "id": stage.id,
        "createdAt": _CREATED,
        "updatedAt": _CREATED,
        "archived": False,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def pipeline_json(pipeline: Pipeline) -> dict[str, Any]:
    """A Pipeline with its stages."""
    return {
        "label": pipeline.label,
        "displayOrder": pipeline.display_order,
        "id": pipeline.id,
        "stages": [stage_json(s, i) for i, s in enumerate(pipeline.stages)],
        "createdAt": _CREATED,
        "updatedAt": _CREATED,
        "archived": False,
    }
