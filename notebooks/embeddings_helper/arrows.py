"""Vectors drawn as arrows from the origin, true to scale: the pictures of lesson 04 (distance metrics).

    from embeddings_helper import arrows
    arrows.show_arrows([([a, b], ["a", "b"], "Two vectors")])   # one or more 3-D panels side by side
    arrows.show_measure(a, b, "cosine", "The angle between a and b")   # a, b and what a measure looks at
    arrows.show_flat(query, {"long": v, "short": w}, "Which one is closest?")   # 2-D arrows

Two settings keep a 3-D picture honest: every axis gets the same scale (``set_box_aspect``), so
lengths and angles are not stretched, and the projection is orthographic (no perspective), so that
parallel lines stay parallel. A measure that lives in the plane of ``a`` and ``b`` (a segment, a
projection, an angle) is seen face on: the camera looks along ``a × b``, the direction perpendicular
to both. The Manhattan staircase leaves that plane, so its panel keeps an oblique view.

``show_*`` draw and show; ``*_figure`` return the matplotlib figure instead (for tests, or to save it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .lesson import say

OBLIQUE = (25.0, -60.0)  # elevation and azimuth, in degrees: matplotlib's usual 3-D view
MEASURES = ("euclidean", "manhattan", "dot", "cosine")
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple")  # the arrows of a 3-D panel, in order
FLAT_COLORS = ("tab:red", "tab:green", "tab:purple", "tab:brown", "tab:pink")  # a 2-D picture's items
RED = {"color": "red", "linewidth": 3}
SHADOW = {"color": "red", "linewidth": 6, "alpha": 0.6}  # drawn over an arrow: wider and see-through
GUIDE = {"color": "grey", "linestyle": "--"}


def _vector(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float64).reshape(-1)


# ---------------------------------------------------------------- geometry


def face_on(a, b) -> tuple[float, float]:
    """Elevation and azimuth (degrees) of a camera that looks straight at the plane holding ``a`` and ``b``.

    The camera looks along the cross product ``a × b`` (from above, so the elevation is not negative). For
    parallel vectors there is no such plane, and the usual oblique view is returned.
    """
    normal = np.cross(_vector(a), _vector(b))
    length = float(np.linalg.norm(normal))
    if length < 1e-12:
        return OBLIQUE
    normal = normal if normal[2] >= 0 else -normal
    return math.degrees(math.asin(normal[2] / length)), math.degrees(math.atan2(normal[1], normal[0]))


def camera_direction(view: tuple[float, float]) -> np.ndarray:
    """The unit vector from the origin towards a camera at (elevation, azimuth), as matplotlib places it."""
    elevation, azimuth = map(math.radians, view)
    return np.array([math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth),
                     math.sin(elevation)])  # fmt: skip


def projection_foot(a, b) -> np.ndarray:
    """The point of ``a``'s line nearest to ``b``'s tip: where ``b``'s shadow on ``a`` ends."""
    a, b = _vector(a), _vector(b)
    return (a @ b) / (a @ a) * a


def staircase(a, b) -> np.ndarray:
    """The points of a path from ``a``'s tip to ``b``'s tip moving along one axis at a time (Manhattan)."""
    a, b = _vector(a), _vector(b)
    points = [a.copy()]
    for axis in range(len(a)):
        step = points[-1].copy()
        step[axis] = b[axis]
        points.append(step)
    return np.array(points)


def arc(a, b, radius: float = 0.35, points: int = 30) -> np.ndarray:
    """Points at ``radius`` from the origin turning from ``a``'s direction to ``b``'s, in their plane."""
    a, b = _vector(a), _vector(b)
    along = a / np.linalg.norm(a)
    across = b - (b @ along) * along  # the part of b perpendicular to a
    if np.linalg.norm(across) < 1e-12:  # parallel: no angle to draw
        return np.array([radius * along])
    across /= np.linalg.norm(across)
    angle = math.acos(max(-1.0, min(1.0, float(along @ b / np.linalg.norm(b)))))
    turns = np.linspace(0.0, angle, points)
    return radius * (np.cos(turns)[:, None] * along + np.sin(turns)[:, None] * across)


def guide_lines(a, b, measure: str) -> list[tuple[np.ndarray, dict]]:
    """What ``measure`` looks at, as (points, line style) pairs: red for the quantity itself.

    euclidean: the segment between the tips; manhattan: the staircase between them; dot: ``b``'s
    shadow on ``a``, with the dashed perpendicular from ``b``'s tip and a right-angle mark; cosine: an arc
    for the angle.
    """
    a, b = _vector(a), _vector(b)
    if measure == "euclidean":
        return [(np.array([a, b]), RED)]
    if measure == "manhattan":
        return [(staircase(a, b), RED)]
    if measure == "dot":
        foot = projection_foot(a, b)
        along, across = a / np.linalg.norm(a), b - foot
        lines = [(np.array([np.zeros_like(a), foot]), SHADOW), (np.array([b, foot]), GUIDE)]
        if np.linalg.norm(across) > 1e-12:
            size = 0.06 * max(np.linalg.norm(a), np.linalg.norm(b))
            across = across / np.linalg.norm(across)
            mark = [foot - size * along, foot - size * along + size * across, foot + size * across]
            lines.append((np.array(mark), {"color": "grey"}))
        return lines
    if measure == "cosine":
        return [(arc(a, b, 0.35 * min(np.linalg.norm(a), np.linalg.norm(b))), RED)]
    raise ValueError(say(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}.",
                         f"measure debe ser una de {', '.join(MEASURES)}, no {measure!r}."))  # fmt: skip


# ---------------------------------------------------------------- drawing


def draw_arrows(ax, vectors: Sequence, labels: Sequence[str], view=OBLIQUE, limit: float | None = None) -> None:
    """Arrows from the origin on a 3-D axes, every axis on the same scale, orthographic, seen from ``view``."""
    vectors = [_vector(v) for v in vectors]
    if limit is None:
        limit = max(1.0, 1.07 * max(float(v.max()) for v in vectors))
    low = min(0.0, 1.07 * min(float(v.min()) for v in vectors))
    for v, label, color in zip(vectors, labels, COLORS, strict=False):
        ax.quiver(0, 0, 0, *v, color=color, arrow_length_ratio=0.1, linewidth=2)
        ax.text(*v, f" {label}", color=color)
    ax.set(xlim=(low, limit), ylim=(low, limit), zlim=(low, limit), xlabel="x", ylabel="y", zlabel="z")
    ax.set_box_aspect((1, 1, 1))  # one unit is as long on every axis
    ax.set_proj_type("ortho")
    ax.view_init(*view)


def arrows_figure(panels: Sequence[tuple], suptitle: str = "", size: float = 4.5):
    """One 3-D panel per (vectors, labels, title) side by side, each with its own scale from 0."""
    fig = plt.figure(figsize=(size * len(panels), size))
    for n, (vectors, labels, title) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), n, projection="3d")
        draw_arrows(ax, vectors, labels)
        ax.set_title(title, fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def measure_figure(a, b, measure: str, title: str, labels: Sequence[str] = ("a", "b"), size: float = 4.5):
    """``a`` and ``b`` as arrows with, in red, what ``measure`` looks at; face on unless it leaves their plane."""
    lines = guide_lines(a, b, measure)  # first, so that an unknown measure fails before drawing anything
    fig = plt.figure(figsize=(size, size))
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    draw_arrows(ax, [a, b], labels, OBLIQUE if measure == "manhattan" else face_on(a, b))
    for points, style in lines:
        ax.plot(*points.T, **style)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def flat_figure(query, items: dict, title: str, query_label: str | None = None):
    """2-D arrows: ``query`` in black and each of ``items`` ({label: vector}) in its own color, to scale."""
    fig, ax = plt.subplots(figsize=(7, 4))
    label = query_label or say("query", "consulta")
    ax.quiver(0, 0, *_vector(query), angles="xy", scale_units="xy", scale=1, color="black", width=0.004,
              label=label, zorder=3)  # fmt: skip
    every = [_vector(query)]
    for (name, v), color in zip(items.items(), FLAT_COLORS, strict=False):
        every.append(_vector(v))
        ax.quiver(0, 0, *every[-1], angles="xy", scale_units="xy", scale=1, color=color, width=0.008, label=name)
    points = np.array(every)
    ax.set(xlim=(min(0, points[:, 0].min()) - 0.1, points[:, 0].max() * 1.07),
           ylim=(min(0, points[:, 1].min()) - 0.1, points[:, 1].max() * 1.1),
           xlabel=say("dimension 1", "dimensión 1"), ylabel=say("dimension 2", "dimensión 2"))  # fmt: skip
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig


def show_arrows(panels: Sequence[tuple], suptitle: str = "") -> None:
    """Draw and show ``arrows_figure``."""
    arrows_figure(panels, suptitle)
    plt.show()


def show_measure(a, b, measure: str, title: str, labels: Sequence[str] = ("a", "b")) -> None:
    """Draw and show ``measure_figure``."""
    measure_figure(a, b, measure, title, labels)
    plt.show()


def show_flat(query, items: dict, title: str, query_label: str | None = None) -> None:
    """Draw and show ``flat_figure``."""
    flat_figure(query, items, title, query_label)
    plt.show()
