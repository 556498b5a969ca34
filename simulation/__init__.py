"""Simulation and fleet planning: realistic rural demand driven through the real dispatcher.

:mod:`simulation.generator` draws a seeded day of demand from a region's places and hubs
(:mod:`routing.stops`), :mod:`simulation.demand_csv` reads and writes the shared demand CSV,
:mod:`simulation.fleet` makes the simulated buses, :mod:`simulation.engine` runs a day on a simulated
clock against :class:`dispatch.dispatcher.Dispatcher`, :mod:`simulation.kpis` computes the key figures
(definitions shared with the live service: :mod:`dispatch.kpis`), :mod:`simulation.figures` and
:mod:`simulation.report` draw the HTML report, :mod:`simulation.runner` and :mod:`simulation.study` tie a
region, a fleet, rules and demand together for ``rufbus simulate`` and ``rufbus sweep``
(:mod:`simulation.cli`). The package imports nothing from the service (``api/``); the live demo against
a running service is :mod:`loadtests.demo`.
"""
