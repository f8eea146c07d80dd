"""Pure decisions after scoring: the lifecycle policy, business time for SLAs, the diff planner."""
