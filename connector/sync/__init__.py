"""Runs that compose the parts: pull -> score -> decide -> plan -> push -> checkpoint."""
