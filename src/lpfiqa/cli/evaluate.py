"""Placeholder until implemented."""
COMMANDS = []
