"""Pieces every layer shares and that are about no one noun: the bad-input exception (errors.py), quarter
labels (quarters.py) and atomic file writes (atomic.py). Imports nothing of sites, models or optimizer."""
