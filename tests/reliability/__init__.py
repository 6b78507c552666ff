"""Reliability and safety under load, faults and hostile input; each module records its figures in report.py."""
