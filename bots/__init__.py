"""Slack and Discord front ends: parse, call the application, render."""
