"""Hostile answers, files and faults (issue 28): never a crash, never a silent loss."""
