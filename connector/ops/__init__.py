"""Running as a service: the scheduler daemon, health and metrics, logging."""
