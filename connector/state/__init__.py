"""The state store: the daemon's only memory between cycles."""

from connector.state.database import StateError
from connector.state.failures import DeadLetter, PendingWrite
from connector.state.lease import Lease
from connector.state.records import RecordState
from connector.state.store import Store
from connector.state.tasks import TaskEntry, Waiting

__all__ = ["DeadLetter", "Lease", "PendingWrite", "RecordState", "StateError", "Store", "TaskEntry", "Waiting"]
