"""What an opponent can learn from how long the site takes to answer, not from what it says.

An opponent with a list of its scholars' addresses posts each to the sign form: the page is the same
("check your email") whether the address has signed or not, so the time it takes must be the same too.
These are statistical tests: many requests, interleaved, compared with the Mann-Whitney U test.
"""

import gc
import itertools
import math
import random
import time

import pytest

from tests.support import confirmed_signature, csrf_token, signature_form

PAIRS = 200
WARM_UP = 30
# Below this, the two sets of timings differ by more than chance would make them.
SIGNIFICANCE = 0.01


def mann_whitney_p(first, second):
    """The two-sided p-value of the Mann-Whitney U test, by its normal approximation with the
    correction for ties (scipy.stats.mannwhitneyu(..., method="asymptotic", use_continuity=True))."""
    n1, n2 = len(first), len(second)
    ranked = sorted([(value, 0) for value in first] + [(value, 1) for value in second])
    ranks = [0.0] * len(ranked)
    ties = 0.0
    start = 0
    while start < len(ranked):
        end = start
        while end + 1 < len(ranked) and ranked[end + 1][0] == ranked[start][0]:
            end += 1
        for k in range(start, end + 1):
            ranks[k] = (start + end) / 2 + 1
        size = end - start + 1
        ties += size**3 - size
        start = end + 1
    rank_sum = sum(rank for rank, (_, group) in zip(ranks, ranked, strict=True) if group == 0)
    u = rank_sum - n1 * (n1 + 1) / 2
    n = n1 + n2
    mean = n1 * n2 / 2
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance == 0:
        return 1.0
    z = (abs(u - mean) - 0.5) / math.sqrt(variance)
    return min(1.0, math.erfc(max(z, 0) / math.sqrt(2)))


def test_the_u_test_tells_apart_what_differs_and_not_what_does_not():
    same = random.Random(1)
    a = [same.gauss(5, 1) for _ in range(100)]
    b = [same.gauss(5, 1) for _ in range(100)]
    assert mann_whitney_p(a, b) > 0.05
    shifted = [value + 1 for value in b]
    assert mann_whitney_p(a, shifted) < 1e-6
    # Close to the exact p-value, from every way of splitting twelve values with ties into two sixes.
    first, second = [1, 2, 3, 4, 5, 5], [4, 5, 6, 7, 8, 9]
    values = first + second

    def u(x, y):
        return sum((a > b) + 0.5 * (a == b) for a in x for b in y)

    seen = abs(u(first, second) - 18)
    splits = [
        abs(u([values[i] for i in chosen], [values[i] for i in range(12) if i not in chosen]) - 18) >= seen
        for chosen in itertools.combinations(range(12), 6)
    ]
    exact = sum(splits) / len(splits)
    assert abs(exact - 0.0216) < 0.0001 and abs(mann_whitney_p(first, second) - exact) < 0.005


def went_to_check_your_email(response):
    return response.status_code == 302 and response.headers["Location"].endswith("/sign/check-your-email")


def timed_posts(client, path, form_for, taken, fresh_prefix, pairs, order, answered=went_to_check_your_email):
    """Post the form at `path` (its fields for an address from `form_for`) `pairs` times with the taken
    address and as often with fresh ones, one of each in turn, which goes first chosen at random by
    `order` (each first in half the pairs); the milliseconds each took, per kind."""
    token = csrf_token(client, path)
    taken_first = [True, False] * (pairs // 2) + [True] * (pairs % 2)
    order.shuffle(taken_first)
    times = {"taken": [], "fresh": []}
    for i, first in enumerate(taken_first):
        for kind in ("taken", "fresh") if first else ("fresh", "taken"):
            address = taken if kind == "taken" else f"{fresh_prefix}-{i}@example.org"
            form = {**form_for(address), "csrf_token": token}
            started = time.perf_counter()
            response = client.post(path, data=form)
            elapsed = time.perf_counter() - started
            assert answered(response)
            times[kind].append(elapsed * 1000)
    return times


def probe(app, client, path, form_for, answered=went_to_check_your_email):
    """The audit's probe of the form at `path`: an unlisted scholar who signed and confirmed, posted
    again and again between fresh addresses through the real stack and the real database, after a
    warm-up. Fails if the U test tells the two apart.

    Other processes on the machine can slow a run of requests down; so a difference must show twice
    running: a run in which the U test finds one is measured again, and the probe fails only if the
    second run finds one too (a leak like the one the audit found, 3 ms in 5, shows in every run)."""
    with app.app_context():
        confirmed_signature(email="quiet.scholar@example.edu", listed=False)
    order = random.Random(20241201)
    timed_posts(client, path, form_for, "quiet.scholar@example.edu", "warm-up", WARM_UP, order, answered)
    runs = []
    for run in range(2):
        gc.collect()
        gc.disable()  # a collection in the middle of one request is noise, not a signal
        try:
            times = timed_posts(
                client, path, form_for, "quiet.scholar@example.edu", f"fresh-{run}", PAIRS, order, answered
            )
        finally:
            gc.enable()
        p = mann_whitney_p(times["taken"], times["fresh"])
        medians = {kind: sorted(values)[len(values) // 2] for kind, values in times.items()}
        runs.append(f"median {medians['taken']:.3f} ms vs {medians['fresh']:.3f} ms (p = {p:.2g})")
        if p > SIGNIFICANCE:
            return
    pytest.fail(
        f"an opponent can tell an address that signed from fresh ones by the time {path} takes: " + "; then ".join(runs)
    )


def test_the_sign_form_takes_as_long_for_an_address_that_signed_as_for_a_fresh_one(app, client):
    probe(
        app,
        client,
        "/en/sign",
        lambda address: signature_form(email=address, name="Probe", affiliation="Probe Institute"),
    )


def test_asking_for_the_email_again_takes_as_long_for_an_address_that_signed_as_for_a_fresh_one(app, client):
    """The form that sends a signer their link again answers the same page whoever asks; its timing
    must not tell either."""
    probe(app, client, "/en/resend", lambda address: {"email": address})


def test_a_wrong_code_takes_as_long_for_an_address_that_signed_as_for_a_fresh_one(app, client):
    """The page that confirms with the emailed code answers a wrong code for a signer's address and
    any code for an address that never signed with one page; its timing must not tell them apart."""
    probe(
        app,
        client,
        "/en/confirm",
        lambda address: {"email": address, "code": "1234 5678"},
        answered=lambda response: response.status_code == 422,
    )
