"""What the admin hands Handoff: environment settings, secrets and the rules file."""
