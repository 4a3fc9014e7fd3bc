"""Triage: suggesting a catalogue class for an appeal and finding duplicates (DESIGN §3).
Plain functions; the event services call them."""
