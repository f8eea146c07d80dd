"""The score breakdown ``handoff explain`` and the demo print."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from connector.model import Decision, Qualification


def print_explanation(console: Console, who: str, q: Qualification, decision: Decision) -> None:
    """The score breakdown a RevOps admin reads: every reason with its points, then the decision."""
    status = "disqualified" if q.disqualified else q.stage.value
    console.print(
        f"[bold]{who}[/] (record {q.id}): score {q.score} = fit {q.fit} + engagement {q.engagement}, "
        f"grade {q.grade}, {status}, rules {q.rules_version}"
    )
    table = Table(show_header=True, box=None, pad_edge=False)
    table.add_column("points", justify="right")
    table.add_column("kind")
    table.add_column("reason")
    for reason in q.reasons:
        table.add_row(f"{reason.points:+.0f}" if reason.points else "", reason.kind, reason.text)
    console.print(table)
    if q.missing:
        console.print(f"still unknown: {', '.join(q.missing)}")
    action = f"move to {decision.target_stage.value}" if decision.target_stage else "no stage change"
    if decision.reset_stage:
        action = f"recycle: back to {decision.target_stage.value if decision.target_stage else 'nurture'}"
    console.print(f"decision: {action}" + "".join(f"; {n}" for n in decision.notes))
    if decision.task is not None:
        task = decision.task
        console.print(
            f"task for owner {task.owner_id or 'unassigned'}, {task.priority.value}, due "
            f"{task.due_at:%Y-%m-%d %H:%M} UTC: {task.subject}"
        )
        console.print(task.body, style="dim")
