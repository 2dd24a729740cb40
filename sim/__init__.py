"""aiplus-sim: odds of China's "AI+" action targets under planners' scenarios.

>>> import sim
>>> ds = sim.run("baseline", overrides=["mc.draws=100"])   # doctest: +SKIP
>>> sim.summarize(ds)["targets"][0]["p_hit"]               # doctest: +SKIP
"""

from sim.api import analyse, compare, design_programme, run, summarize

__all__ = ["analyse", "compare", "design_programme", "run", "summarize"]
