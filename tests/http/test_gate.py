"""The request gate as a state machine: made-up times, no threads, no waiting.

It admits requests under a limit that halves when the provider throttles and grows
back one at a time after a run of good answers; the level the provider refused is
asked for again only after a while that grows with each refusal.
"""

from __future__ import annotations

import threading
import time

import pytest

from lo_sync.http import Deadline, DeadlineExceeded
from lo_sync.http.gate import MIN_REFUSAL_COST, PROBE_SPACING, TRUSTED_AFTER, RequestGate


def admit_all(gate: RequestGate, now: float = 0.0) -> list:
    """Every admission the gate grants at `now`, until it says wait."""
    admitted = []
    while True:
        admission, _ = gate.try_admit(now)
        if admission is None:
            return admitted
        admitted.append(admission)


def test_the_gate_admits_up_to_its_limit_and_one_more_once_a_slot_frees():
    gate = RequestGate(4)
    first = admit_all(gate)

    assert len(first) == 4
    assert gate.try_admit(0.0) == (None, None)  # full: wait for a slot, not for a time

    gate.succeeded(first[0], 0.0)
    assert len(admit_all(gate)) == 1


def test_a_throttled_answer_halves_the_limit_once_per_round():
    gate = RequestGate(8)
    sent = admit_all(gate)

    # Four of the eight sent at the old limit come back 429: one decrease, not four.
    for admission in sent[:4]:
        gate.refused(admission, 0.0, retry_after=None)

    assert (gate.limit, gate.throttled_answers) == (4, 4)

    # A 429 to a request sent at the new limit is news: halve again, down to 1 at most.
    for admission in sent[4:]:
        gate.succeeded(admission, 0.0)
    for _ in range(3):
        [admission, *rest] = admit_all(gate)
        gate.refused(admission, 0.0, retry_after=None)
        for other in rest:
            gate.failed(other)
    assert (gate.limit, gate.lowest) == (1, 1)


def test_retry_after_holds_every_lane_until_it_has_passed():
    gate = RequestGate(4)
    one, _ = gate.try_admit(10.0)
    two, _ = gate.try_admit(10.0)

    gate.refused(one, now=10.0, retry_after=3.0)  # two in flight refused: the limit is 1
    gate.succeeded(two, 10.5)

    assert gate.try_admit(11.0) == (None, 2.0)  # no lane sends before 13.0
    assert gate.try_admit(13.0)[0] is not None


def test_retry_after_is_capped_by_the_longest_pause():
    gate = RequestGate(2, max_pause=60.0)
    admission, _ = gate.try_admit(0.0)

    gate.refused(admission, now=0.0, retry_after=86_400)

    assert gate.try_admit(0.0) == (None, 60.0)


def answer_well(gate: RequestGate, times: int, now: float = 0.0) -> None:
    """`times` requests answered well at `now`, sent as many at a time as the limit
    allows (the ones sent beyond `times` fail)."""
    answered = 0
    while answered < times:
        sent = admit_all(gate, now)
        assert sent
        for admission in sent:
            if answered < times:
                gate.succeeded(admission, now)
                answered += 1
            else:
                gate.failed(admission)


def refuse_one_of(gate: RequestGate, now: float, retry_after: float | None = None) -> None:
    """Fill the limit at `now`; the provider refuses the last request sent."""
    *others, last = admit_all(gate, now)
    gate.refused(last, now, retry_after)
    for admission in others:
        gate.failed(admission)


def test_the_limit_grows_by_one_after_as_many_good_answers_as_it_allows():
    gate = RequestGate(8)
    refuse_one_of(gate, 0.0)  # 8 in flight refused: 8 -> 4
    assert gate.limit == 4

    answer_well(gate, 3)
    assert gate.limit == 4
    answer_well(gate, 1)
    assert gate.limit == 5  # four good answers at 4


def test_a_limit_the_lanes_never_filled_does_not_grow():
    # The reader was the slower side: one request at a time says nothing about five.
    gate = RequestGate(8)
    refuse_one_of(gate, 0.0)  # limit 4
    for _ in range(100):
        admission, _ = gate.try_admit(0.0)
        gate.succeeded(admission, 0.0)

    assert gate.limit == 4
    answer_well(gate, 4)  # four at once, answered well
    assert gate.limit == 5


def test_the_level_refused_is_what_was_in_flight_and_the_limit_stays_below_it():
    gate = RequestGate(8)
    sent = [gate.try_admit(0.0)[0] for _ in range(3)]  # the lanes had sent 3 of 8

    gate.refused(sent[-1], 0.0, None)
    for admission in sent[:-1]:
        gate.succeeded(admission, 0.0)

    assert gate.limit == 2  # below the 3 refused, not half of 8
    answer_well(gate, 100)
    assert gate.limit == 2  # 3 is not asked for again yet


def test_a_refused_level_is_asked_for_again_after_many_times_its_pause():
    gate = RequestGate(8)
    refuse_one_of(gate, 0.0, retry_after=2.0)  # 8 refused, for 2 s: limit 4
    answer_well(gate, 4 + 5 + 6, now=2.0)  # back to 7 at the usual pace: 4, 5 and 6
    assert gate.limit == 7

    # 8 is asked for again once 20 times its 2-second pause has gone by.
    answer_well(gate, 1000, now=PROBE_SPACING * 2.0 - 0.1)
    assert gate.limit == 7
    answer_well(gate, 7, now=PROBE_SPACING * 2.0)
    assert gate.limit == 8


def test_each_refused_probe_doubles_the_wait_before_the_next():
    gate = RequestGate(8)
    refuse_one_of(gate, 0.0)  # 8 refused, no Retry-After: limit 4
    answer_well(gate, 4)  # 4 -> 5: below the refused level, the usual pace
    assert gate.limit == 5

    # The provider allows 4: 5 is refused, and 5 is the level to avoid.
    refuse_one_of(gate, 1.0)
    assert gate.limit == 2
    answer_well(gate, 2 + 3, now=1.0)  # 2 -> 3 -> 4, the usual pace up to below 5
    assert gate.limit == 4
    first_probe = 1.0 + PROBE_SPACING * MIN_REFUSAL_COST
    answer_well(gate, 4, now=first_probe)
    assert gate.limit == 5  # the probe

    refuse_one_of(gate, first_probe)  # refused again: twice as long before the next
    answer_well(gate, 2 + 3 + 4, now=first_probe + 2 * PROBE_SPACING - 0.1)
    assert gate.limit == 4
    answer_well(gate, 4, now=first_probe + 2 * PROBE_SPACING)
    assert gate.limit == 5


def test_one_refusal_at_a_level_that_held_is_not_a_limit_but_two_are():
    gate = RequestGate(8)
    refuse_one_of(gate, 0.0)  # 8 refused: limit 4
    answer_well(gate, 4)
    refuse_one_of(gate, 1.0)  # 5 refused: the limit goes back up to 4 only
    answer_well(gate, 2 + 3, now=1.0)
    assert gate.limit == 4
    # Four at a time, a long run of good answers: 4 holds.
    for _ in range(TRUSTED_AFTER // 4):
        for admission in admit_all(gate, 1.0):
            gate.succeeded(admission, 1.0)

    refuse_one_of(gate, 2.0)  # the provider's count lagged: 4 refused once
    assert gate.limit == 2
    answer_well(gate, 2 + 3, now=2.0)
    assert gate.limit == 4  # back at the usual pace: 4 is not the level to avoid

    refuse_one_of(gate, 3.0)  # refused again before holding again: now it is
    answer_well(gate, 2 + 1000, now=3.0)
    assert gate.limit == 3


def test_the_limit_never_grows_past_the_configured_concurrency():
    gate = RequestGate(3)
    answer_well(gate, 1000)
    assert gate.limit == 3


def test_max_requests_per_second_spaces_the_requests_out():
    gate = RequestGate(8, per_second=4)

    assert gate.try_admit(100.0)[0] is not None
    assert gate.try_admit(100.0) == (None, 0.25)
    assert gate.try_admit(100.25)[0] is not None
    assert gate.try_admit(100.3) == (None, pytest.approx(0.2))


def test_a_wait_that_would_pass_the_command_deadline_fails_at_once():
    gate = RequestGate(2)
    gate.refused(gate.try_admit(0.0)[0], gate.clock(), retry_after=30)
    deadline = Deadline.after(1.0, "the time limit for the whole command (--max-runtime 1s)")
    started = time.monotonic()

    with pytest.raises(DeadlineExceeded, match=r"rate limit would pass the time limit"):
        gate.admit(deadline, "coursera")

    assert time.monotonic() - started < 0.5


def test_a_lane_waiting_for_a_slot_goes_as_soon_as_one_frees():
    gate = RequestGate(1)
    held = gate.admit()
    admitted = threading.Event()

    def lane():
        gate.admit()
        admitted.set()

    thread = threading.Thread(target=lane)
    thread.start()
    assert not admitted.wait(0.1)
    gate.succeeded(held, gate.clock())
    assert admitted.wait(2)
    thread.join()


def test_the_summary_says_where_the_limit_settled_and_how_often_it_was_throttled():
    gate = RequestGate(8)
    sent = admit_all(gate)
    gate.refused(sent[0], 0.0, None)
    for admission in sent[1:]:
        gate.failed(admission)

    assert gate.summary() == (
        "up to 8, settled at 4 requests in flight; 1 throttled answers (429/503)"
    )


def test_the_request_given_the_retry_after_is_not_held_again_by_it():
    # Its retry policy waited the Retry-After out already; the other lanes wait here.
    gate = RequestGate(4)
    told, _ = gate.try_admit(10.0)
    gate.refused(told, now=10.0, retry_after=3.0)

    assert gate.try_admit(10.0)[0] is None
    assert gate.try_admit(10.0, told=True)[0] is not None
