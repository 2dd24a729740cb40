"""The Mesa agent-based engine: the same rules as the vectorised core, one object per agent.

``engine=abm`` on the command line runs every draw through :class:`AdoptionModel` and writes the
same results as the core. The interactive explorer that drives it is ``sim/ui/explorer.py``.
"""

from sim.abm.agents import Adopter, Firm, Person
from sim.abm.model import AdoptionModel, model_rng, simulate_chunk

__all__ = ["Adopter", "AdoptionModel", "Firm", "Person", "model_rng", "simulate_chunk"]
