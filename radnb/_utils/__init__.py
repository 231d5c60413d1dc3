"""Helpers shared by several study steps: argument checks, number formatting,
feature-name parsing and the data home. Nothing here imports another radnb package.
"""
