"""Chart labels drawn without matplotlib Text: they must land where Text would put them."""
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from esd.reports import glyphs


def _drawn(**label) -> np.ndarray:
    """The pixels (row 0 at the top) of a 400 × 200 figure with one red label at its centre."""
    fig = Figure(figsize=(4, 2), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    glyphs.labels(ax, [0.5], [0.5], [label.pop("text", "88%")], colours="red", at=ax.transAxes, **label)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return (rgba[:, :, 0] > 200) & (rgba[:, :, 1] < 120)  # red, not the white background


def _box(red: np.ndarray) -> tuple[int, int, int, int]:
    rows, columns = np.nonzero(red)
    return rows.min(), rows.max(), columns.min(), columns.max()


def test_a_centred_label_is_drawn_in_its_colour_around_its_point():
    top, bottom, left, right = _box(_drawn(size=12))
    assert abs((left + right) / 2 - 200) <= 2 and abs((top + bottom) / 2 - 100) <= 3
    assert 20 <= right - left <= 40  # "88%" at 12 points: about 29 pixels wide


def test_alignment_puts_the_label_beside_its_point():
    assert _box(_drawn(size=12, ha="right"))[3] <= 201  # ends at the point
    assert _box(_drawn(size=12, ha="left"))[2] >= 199  # starts at the point
    top, bottom, left, right = _box(_drawn(size=12, ha="left", offset=(10, 0)))
    assert 210 <= left <= 215  # 10 points are 14 pixels at 100 dpi, less the glyph's own margin


def test_a_two_line_label_is_centred_on_its_point_too():
    one_top, one_bottom, _, _ = _box(_drawn(size=10))
    top, bottom, _, _ = _box(_drawn(size=10, text="88%\nn=1204"))
    assert bottom - top > 1.8 * (one_bottom - one_top)
    assert abs((top + bottom) / 2 - 100) <= 3


def test_turned_labels_are_drawn_as_well():
    top, bottom, left, right = _box(_drawn(size=12, text="Electrical outlet", ha="right", rotation=45))
    assert right <= 206 and bottom - top > 40  # turned: as tall as it is wide, ending at the point
