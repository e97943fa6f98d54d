"""What must never appear in anything lo-sync prints, logs or stores."""

from __future__ import annotations


def never_shown(sim) -> list[str]:
    """What must never appear anywhere lo-sync writes: the simulator's client secrets,
    the HTTP Basic values that carry them, and every access token it has issued."""
    import base64

    from lo_sync.simulator import CREDENTIALS

    values = []
    for creds in CREDENTIALS.values():
        values.append(creds["client_secret"])
        pair = f"{creds['client_id']}:{creds['client_secret']}".encode()
        values.append(base64.b64encode(pair).decode())
    return values + (sim.issued_tokens() if sim is not None else [])
