"""Local CRM emulators (sandboxes) and the synthetic data that fills them."""
