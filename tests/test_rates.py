"""A proportion's 95% Wilson interval against values computed by hand, and how a rate is written."""
import pytest

from esd.rates import Rate, rate_html, rate_text, wilson_interval

# By hand with z = 1.96: centre = (p + z²/2n) / (1 + z²/n), half-width = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
# 3 of 3:    centre 1.640267 / 2.280533 = 0.71925, half-width 0.640267 / 2.280533 = 0.28075 → 0.4385–1
# 0 of 5:    centre 0.38416 / 1.76832 = 0.21725,  half-width 0.38416 / 1.76832 = 0.21725  → 0–0.4345
# 87 of 100: centre 0.889208 / 1.038416 = 0.85631, half-width 0.068657 / 1.038416 = 0.06612 → 0.7902–0.9224
HAND_COMPUTED = [(3, 3, 0.4385, 1.0), (0, 5, 0.0, 0.4345), (87, 100, 0.7902, 0.9224),
                 (8, 10, 0.4902, 0.9433), (1, 1, 0.2065, 1.0)]


@pytest.mark.parametrize("found, n, low, high", HAND_COMPUTED)
def test_the_interval_matches_the_hand_computed_values(found, n, low, high):
    rate = Rate(found, n)
    assert rate.low == pytest.approx(low, abs=5e-4)
    assert rate.high == pytest.approx(high, abs=5e-4)
    assert (rate.low, rate.high) == wilson_interval(found, n)


def test_without_trials_the_rate_is_unknown_and_the_interval_covers_everything():
    rate = Rate(0, 0)
    assert rate.rate is None
    assert (rate.low, rate.high) == (0.0, 1.0)
    # An upper bound of 1 never counts as "below standard": no hides is "not yet known", not "failing".
    assert not rate.high < 0.9


def test_the_interval_always_contains_the_observed_rate():
    for found, n, *_ in HAND_COMPUTED:
        rate = Rate(found, n)
        assert rate.low <= rate.rate <= rate.high
        assert rate.missed == n - found


def test_a_rate_is_written_with_its_count_and_interval_never_bare():
    assert rate_text(Rate(2, 3)) == "67% (2 of 3; 95% CI 21–94%)"
    assert rate_text(Rate(87, 100), digits=1) == "87.0% (87 of 100; 95% CI 79.0–92.2%)"
    assert rate_text(Rate(0, 0)) == "no hides"


def test_on_a_page_the_count_and_interval_are_muted():
    assert str(rate_html(Rate(3, 3))) == '100% <span class="text-muted small">(3 of 3; 95% CI 44–100%)</span>'
    assert str(rate_html(Rate(0, 0))) == "no hides"


def test_the_rate_filter_is_what_templates_use(app):
    with app.app_context():
        rendered = app.jinja_env.from_string("{{ r|rate }}").render(r=Rate(87, 100))
    assert rendered == '87% <span class="text-muted small">(87 of 100; 95% CI 79–92%)</span>'


def test_a_matrix_cell_places_the_same_words_apart(app):
    with app.app_context():
        rendered = app.jinja_env.from_string(
            "{% set w = r|rate_words %}{{ w.percent }}|{{ w.count }}|{{ w.interval }}").render(r=Rate(2, 3))
    assert rendered == "67%|2 of 3|95% CI 21–94%"
    assert rate_text(Rate(2, 3)).startswith("67% (2 of 3; 95% CI 21–94%")
