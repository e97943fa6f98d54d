"""A local stand-in for the Coursera and OpenClassrooms APIs.

No machine here reaches the real providers, so lo-sync's tests, demo and
benchmarks run against this simulator: a real HTTP server on 127.0.0.1 that
follows `docs/provider-contracts.md` strictly, serves deterministic data of any
size (generated per page, never held in memory), can play "the next night"
(`day=2`) and can misbehave on demand (`Fault`).

    from lo_sync.simulator import Simulator, SimulatorConfig, Fault

    with Simulator(SimulatorConfig(coursera_contents=50)) as sim:
        urls = sim.provider_urls()
        sim.set_faults([Fault.parse("rate_limit:every=3")])

The modules, by what they are:

    config.py          SimulatorConfig: sizes, night, faults, page cache, variance, scopes
    client_config.py   where each provider is served, its credentials, a config text
    server.py          HTTP plumbing, control endpoint, Simulator, serve_forever
    guard.py           the one request path: path, method, faults, token, org, page
    coursera.py        Coursera's data and API
    openclassrooms.py  OpenClassrooms' data and API
    variance.py        the same data as real answers spell it (`variance=True`), and
                       OpenClassrooms' share of it
    coursera_variance.py  Coursera's share of it
    faults.py          the faults and the counters that make them deterministic
    nights.py          day 1 and day 2: snapshot times, which catalog indices a night lists
    learners.py        the learners, and how their stats rows move on day 2
    randomness.py      deterministic per-record draws
    word_pools.py      titles, names and blurbs records are made of
    messages.py        Request, Response and the answer shapes both providers share
    tokens.py          issued bearer tokens
    page_cache.py      the optional cache of rendered pages
"""

from lo_sync.simulator.client_config import CREDENTIALS
from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.faults import FAULT_KINDS, Fault, parse_faults
from lo_sync.simulator.server import Simulator, serve_forever

__all__ = [
    "CREDENTIALS",
    "FAULT_KINDS",
    "Fault",
    "Simulator",
    "SimulatorConfig",
    "parse_faults",
    "serve_forever",
]
