"""The state store: the daemon's only memory between cycles."""

from connector.state.store import DeadLetter, PendingWrite, RecordState, StateError, Store, TaskEntry

__all__ = ["DeadLetter", "PendingWrite", "RecordState", "StateError", "Store", "TaskEntry"]
