"""The real population the synthetic one stands for: published totals (each metric's denominator),
each province's residence and age mix, internet access by group, firm units and sizes.

Everything here is read from ``sim/data/`` or from a documented prior in ``conf/population/``;
:mod:`sim.population` samples agents so that their weights add up to these figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

from sim import data
from sim.spec.model import PopulationSpec
from sim.vocab import LEGAL_SIZE_CLASSES


def internet_access_by_group(
    facts: dict[str, float], group_share: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Internet access of each person group (``PERSON_GROUPS`` order), from CNNIC marginals.

    Solves a logit model ``logit P = a + b rural + c aged60+`` for the three published marginals
    (urban, rural, aged 60+). No joint table of age and residence is published: ``group_share``
    (shape (4,), the national share of each group) carries the joint mix the provinces imply;
    without it age and residence are taken as independent at the national shares.
    """
    u, o = facts["urban_share_2024"], facts["age60plus_share_2024"]
    gs = (
        np.array([u * (1 - o), u * o, (1 - u) * (1 - o), (1 - u) * o])
        if group_share is None
        else np.asarray(group_share, dtype=float) / np.sum(group_share)
    )
    targets = np.array(
        [
            facts["internet_share_urban_2024"],
            facts["internet_share_rural_2024"],
            facts["internet_share_age60plus_2025h1"],
        ]
    )

    def groups(x: NDArray) -> NDArray:
        a, b, c = x
        return special.expit([a, a + c, a + b, a + b + c])

    def gaps(x: NDArray) -> NDArray:
        g = groups(x) * gs
        return (
            np.array(
                [
                    (g[0] + g[1]) / (gs[0] + gs[1]),
                    (g[2] + g[3]) / (gs[2] + gs[3]),
                    (g[1] + g[3]) / (gs[1] + gs[3]),
                ]
            )
            - targets
        )

    return groups(optimize.fsolve(gaps, [1.0, -1.0, -1.0], xtol=1e-12))


@dataclass(frozen=True)
class ProvinceMix:
    """Residence and age mix of each province (``data.provinces()`` order), end 2024.

    Attributes
    ----------
    urban, age60 : ndarray, shape (n_provinces,)
        Share of residents living in towns, and aged 60 or over.
    unverified : tuple of str
        Provinces with a figure marked ``unverified`` in ``province_demography.csv`` (used as
        recorded under ``unverified: flag``; replaced by the national figure under ``national``).
    """

    urban: NDArray[np.float64]
    age60: NDArray[np.float64]
    unverified: tuple[str, ...]


def province_mix(spec: PopulationSpec) -> ProvinceMix:
    """Each province's urban share and share aged 60+ at end 2024.

    Urbanisation is the published end-2024 rate where there is one, else the end-2023 rate plus
    the mean 2023-24 change of the provinces that published both years. The 2020 census shares aged
    60+ are aged to 2024 by one common factor, the national 2024 share over their
    population-weighted mean (22.0% / 18.70%), which keeps the provinces' order and ratios.
    ``spec.demography == "national"`` gives every province the national mix.
    """
    facts, dem = data.national(), data.province_demography()
    n_prov = dem["province"].size
    u_nat, o_nat = facts["urban_share_2024"], facts["age60plus_share_2024"]
    if spec.demography == "national":
        return ProvinceMix(np.full(n_prov, u_nat), np.full(n_prov, o_nat), ())
    u23, u24 = dem["urban_share_2023"], dem["urban_share_2024"]
    both = np.isfinite(u24)
    urban = np.where(both, u24, u23 + np.mean(u24[both] - u23[both]))
    age = dem["age60plus_share_2020"].copy()
    bad_u = np.char.startswith(dem["urban_2023_confidence"], "unverified")
    bad_a = np.char.startswith(dem["age_confidence"], "unverified")
    if spec.unverified == "national":
        urban = np.where(bad_u, u_nat, urban)
        age = np.where(bad_a, facts["age60plus_share_2020"], age)
    pop = data.provinces()["population_2024_10k"]
    age = age * o_nat / np.average(age, weights=pop)
    return ProvinceMix(urban, age, tuple(dem["province"][bad_u | bad_a].tolist()))


def firm_size_employees(spec: PopulationSpec) -> NDArray[np.float64]:
    """Mean employees per unit of each size class in ``SIZE_CLASSES`` order.

    The legal-person classes keep the prior's relative sizes, rescaled so that
    ``units x sum(share x employees)`` is the census employment (428.98 M); individual businesses
    have the census mean (179.56 M / 87.995 M). Units: persons per unit.
    """
    facts = data.national()
    sizes = {s.name: s for s in spec.size_classes}
    share = np.array([sizes[s].share for s in LEGAL_SIZE_CLASSES])
    rel = np.array([sizes[s].employees for s in LEGAL_SIZE_CLASSES])
    mean = facts["legal_person_employees_2023"] / facts["legal_person_units_2023"]
    indiv = facts["individual_business_employees_2023"] / facts["individual_businesses_2023"]
    return np.append(rel * mean / np.dot(share, rel), indiv)


def denominators(spec: PopulationSpec) -> dict[str, float]:
    """What each metric's weights add up to (``METRICS`` order), in persons, firms or employees.

    Persons: the national resident population of end 2024 (1,408.28 M, which CNNIC's shares
    divide by); the 2.0 M not assigned to a province (active military) are spread over the
    provinces pro rata. Internet users: persons times the modelled access (about 78.6%). Firms and
    firm employment: the legal-person units of the 5th Economic Census (end 2023), plus the
    individual businesses under ``individual_businesses: include``.
    """
    facts = data.national()
    persons = facts["population_total_2024"] * 1e6
    units = facts["legal_person_units_2023"] * 1e6
    employees = facts["legal_person_employees_2023"] * 1e6
    if spec.individual_businesses == "include":
        units += facts["individual_businesses_2023"] * 1e6
        employees += facts["individual_business_employees_2023"] * 1e6
    return {"population": persons, "firms": units, "firm_employment": employees}


def firm_units(spec: PopulationSpec) -> str:
    """One sentence: which units the firm readings count."""
    facts = data.national()
    legal = (
        f"{facts['legal_person_units_2023']:.2f} M legal-person units with "
        f"{facts['legal_person_employees_2023']:.2f} M employees (5th Economic Census, end 2023)"
    )
    indiv = (
        f"{facts['individual_businesses_2023']:.3f} M individual businesses with "
        f"{facts['individual_business_employees_2023']:.2f} M employees"
    )
    if spec.individual_businesses == "include":
        return f"Firm readings count the {legal} and the {indiv} (their own size class)."
    return (
        f"Firm readings count the {legal}; the {indiv} are left out "
        "(population.individual_businesses: exclude)."
    )


def describe(spec: PopulationSpec) -> str:
    """Who the readings count, in plain sentences for the report: each metric's denominator, the
    firm units, where the provinces' mix comes from (and which figures are unverified), and the
    floor of agents per province. Empty for the single-market population."""
    if spec.kind != "national":
        return ""
    facts = data.national()
    persons = (
        f"Population readings divide by the national {facts['population_total_2024']:,.2f} M "
        "residents of end 2024 (NBS), the base of CNNIC's shares; the 2.0 M not assigned to a "
        "province (active military) are spread over the provinces pro rata."
    )
    mix = province_mix(spec)
    if spec.demography == "national":
        provinces = "Every province has the national residence and age mix."
    else:
        how = "used as recorded" if spec.unverified == "flag" else "replaced by national figures"
        provinces = (
            "Each province has its own residence and age mix (urbanisation 2024; the 2020 census "
            "share aged 60+, aged to 2024 by the factor 22.0 / 18.70), which sets its internet "
            f"access and adoption; unverified figures ({how}): {', '.join(mix.unverified)}."
        )
    floor = (
        f"At least {spec.min_agents_per_province} person and firm agents per province where the "
        "run has enough agents, their weights adjusted so totals are unchanged."
    )
    return " ".join([persons, firm_units(spec), provinces, floor])
