"""Distributed engines that run the build's stage functions (optional extras)."""
