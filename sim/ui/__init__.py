"""User interfaces beside the command line: the interactive explorer (:mod:`sim.ui.explorer`),
served by ``solara run sim/ui/explorer.py``."""
