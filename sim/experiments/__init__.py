"""Experiments built on the engine: strategy comparison, parameter sweeps, sensitivity indices."""
