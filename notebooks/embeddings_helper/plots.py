"""Drawing for the lessons: the figures they repeat, so that a lesson's cells keep to the idea.

    from embeddings_helper import plots

    plots.score_histograms({"panel title": {"model": scores, ...}, ...}, threshold=0.3)
    labels, dropped = plots.picture_words(PCA_GROUPS, words)   # which words a picture can show
    plots.word_map(points, names, groups, title)                 # 2-D scatter, labels that do not overlap
    plots.projector(points, names, groups, title)                # 3-D: a still image and one you can rotate

The lesson computes what is drawn (the cosines, the principal components); these functions only draw
it. Axis labels and messages follow the lesson's language.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .lesson import ParameterError, fold, say

# Where a label may sit around its point, in typographic points: right, left, above, below, then farther out.
_AROUND = [(4, 3, "left", "bottom"), (4, -3, "left", "top"), (-4, 3, "right", "bottom"),
           (-4, -3, "right", "top"), (0, 6, "center", "bottom"), (0, -6, "center", "top")]  # fmt: skip
_SPOTS = [(dx * reach, dy * reach, ha, va) for reach in (1, 2.5, 4) for dx, dy, ha, va in _AROUND]
_MARKER = 6  # pixels: the box a scatter point is taken to cover


def group_colors(groups: Iterable[str]) -> dict[str, str]:
    """One colour of matplotlib's cycle per group, in order, the same in every figure of a lesson."""
    import matplotlib.pyplot as plt

    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {group: cycle[i % len(cycle)] for i, group in enumerate(dict.fromkeys(groups))}


# ---------------------------------------------------------------- labels


def place_labels(ax, xy, names: Sequence[str], fontsize: float = 8) -> list:
    """Write each name next to its point, where it covers the fewest points and earlier labels.

    ``xy`` are the points in the axes' data coordinates (for a 3-D axes, their projection on screen).
    Each label tries the spots around its point in turn and takes the first that covers nothing and
    stays inside the axes, else the one that covers least. Returns the labels' boxes on screen.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()  # fixes the layout, so that each label's size on screen is known
    renderer, frame = fig.canvas.get_renderer(), ax.get_window_extent()
    half = _MARKER / 2
    taken = [Bbox.from_bounds(x - half, y - half, _MARKER, _MARKER) for x, y in ax.transData.transform(xy)]
    placed = []
    style = {"textcoords": "offset points", "fontsize": fontsize}
    for point, name in zip(np.asarray(xy), names, strict=True):
        tries = []
        for dx, dy, ha, va in _SPOTS:
            label = ax.annotate(name, point, xytext=(dx, dy), ha=ha, va=va, **style)
            box = label.get_window_extent(renderer)
            label.remove()
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            covered = sum(box.overlaps(seen) for seen in taken) + (not inside)
            tries.append((covered, len(tries), (dx, dy), ha, va, box))
            if covered == 0:
                break
        _, _, offset, ha, va, box = min(tries, key=lambda t: t[:2])
        ax.annotate(name, point, xytext=offset, ha=ha, va=va, **style)
        taken.append(box)
        placed.append(box)
    return placed


# ---------------------------------------------------------------- similarity scores


def score_histograms(panels: Mapping[str, Mapping[str, Sequence[float]]], threshold: float | None = None,
                     xlabel: str | None = None, ylabel: str | None = None, bins: int = 50):
    """Histograms of similarity scores: one panel per item of ``panels`` ({title: {label: scores}}).

    Every panel shares the same bins, from the lowest score drawn to 1, and the same axes, so that
    where each model's scores sit can be compared at a glance. ``threshold`` draws a dashed line.
    Returns the figure (show it with ``plt.show()``).
    """
    import matplotlib.pyplot as plt

    if not panels or not all(panels.values()):
        raise ParameterError(say("There are no scores to draw.", "No hay puntajes que dibujar."))
    lowest = min(float(np.min(s)) for series in panels.values() for s in series.values())
    edges = np.linspace(min(lowest, threshold if threshold is not None else lowest), 1, bins)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels) + 1.5, 3.8), sharex=True, sharey=True,
                             squeeze=False)  # fmt: skip
    for ax, (title, series) in zip(axes[0], panels.items(), strict=True):
        for label, scores in series.items():
            ax.hist(np.asarray(scores), bins=edges, alpha=0.6, label=label)
        if threshold is not None:
            ax.axvline(threshold, color="black", linewidth=1, linestyle="--",
                       label=say(f"threshold {threshold:g}", f"umbral {threshold:g}"))  # fmt: skip
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel or say("cosine similarity", "similitud coseno"))
        ax.legend(fontsize=8, loc="upper left")
    axes[0][0].set_ylabel(ylabel or say("how many", "cuántos"))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- pictures of the space


def picture_words(groups: Mapping[str, Iterable[str]], vocabulary: Iterable[str], what: str = "PCA_GROUPS",
                  least: int = 3) -> tuple[list[tuple[str, str]], list[str]]:
    """The (word, group) pairs of ``groups`` that are in ``vocabulary``, ignoring case and accents.

    A word in two groups is drawn once, in the first. Prints the words left out; raises a
    ParameterError when fewer than ``least`` words are left, since there is nothing to see then.
    """
    if not isinstance(groups, Mapping):
        raise ParameterError(say(f"{what} must be a dict of groups, like {{\"animals\": [\"dog\", \"cat\"]}}, "
                                 f"not {groups!r}.",
                                 f"{what} debe ser un dict de grupos, como {{\"animales\": [\"perro\", \"gato\"]}}, "
                                 f"no {groups!r}."))  # fmt: skip
    known: dict[str, str] = {}
    for word in sorted(vocabulary, key=lambda w: (fold(w), w)):
        known.setdefault(fold(word), word)
    labels: list[tuple[str, str]] = []
    dropped: list[str] = []
    for group, words in groups.items():
        for word in [words] if isinstance(words, str) else words:
            found = known.get(fold(str(word)))
            if found is None:
                dropped.append(word)
            elif found not in {w for w, _ in labels}:
                labels.append((found, group))
    if dropped:
        print(say(f"Left out of the picture, not in the data: {', '.join(map(str, dropped))}.",
                  f"Quedan fuera de la imagen, no están en los datos: {', '.join(map(str, dropped))}."))  # fmt: skip
    if len(labels) < least:
        raise ParameterError(say(f"The picture needs at least {least} words of {what} that are in the data; "
                                 f"found {len(labels)}.",
                                 f"La imagen necesita al menos {least} palabras de {what} que estén en los datos; "
                                 f"hay {len(labels)}."))  # fmt: skip
    return labels, dropped


def word_map(points, names: Sequence[str], groups: Sequence[str], title: str, explained=None):
    """A 2-D scatter of ``points`` (their first two columns), coloured by group, every point labelled.

    ``explained`` (the share of variance of each component) goes into the axis labels. Returns the figure.
    """
    import matplotlib.pyplot as plt

    points, groups = np.asarray(points), np.asarray(groups)
    colors = group_colors(groups)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for group, color in colors.items():
        ax.scatter(points[groups == group, 0], points[groups == group, 1], label=group, color=color)
    ax.set_title(title, fontsize=10)
    axis = [say(f"component {i}", f"componente {i}") for i in (1, 2)]
    if explained is not None:
        share = [say(f"{explained[i]:.0%} of variance", f"{explained[i]:.0%} de la varianza") for i in (0, 1)]
        axis = [f"{a} ({s})" for a, s in zip(axis, share, strict=True)]
    ax.set_xlabel(axis[0])
    ax.set_ylabel(axis[1])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    place_labels(ax, points[:, :2], names)
    return fig


def _still_3d(points, names, groups, title: str, colors: dict[str, str]) -> bytes:
    """The 3-D picture drawn by matplotlib, labelled, as PNG bytes."""
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d import proj3d

    fig = plt.figure(figsize=(7, 5.5))
    ax = fig.add_subplot(projection="3d")
    for group, color in colors.items():
        p = points[groups == group]
        ax.scatter(p[:, 0], p[:, 1], p[:, 2], label=group, color=color, depthshade=False)
    ax.set(xlabel=say("component 1", "componente 1"), ylabel=say("component 2", "componente 2"),
           zlabel=say("component 3", "componente 3"))  # fmt: skip
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    fig.canvas.draw()  # fixes the view, so that the points' places on screen are known
    x, y, _ = proj3d.proj_transform(points[:, 0], points[:, 1], points[:, 2], ax.get_proj())
    place_labels(ax, np.column_stack([x, y]), names, fontsize=7)
    still = io.BytesIO()
    fig.savefig(still, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return still.getvalue()


def projector(points, names: Sequence[str], groups: Sequence[str], title: str, interactive: bool = True,
              show: bool = True) -> dict:
    """Show ``points`` (three columns) in 3-D as one output: a still image, and with ``interactive`` a
    plotly version to rotate, zoom and hover. Each viewer shows the best it can: JupyterLab and VS Code
    the plotly one, GitHub the still image. Returns the output's data (its MIME bundle)."""
    import plotly.graph_objects as go

    points, groups, names = np.asarray(points, dtype=float), np.asarray(groups), list(names)
    colors = group_colors(groups)
    bundle = {
        "image/png": base64.b64encode(_still_3d(points, names, groups, title, colors)).decode(),
        "text/plain": say("A 3-D picture of the words", "Una imagen 3D de las palabras"),
    }
    if interactive:
        traces = [
            go.Scatter3d(x=points[groups == g, 0], y=points[groups == g, 1], z=points[groups == g, 2],
                         mode="markers+text", text=[n for n, gg in zip(names, groups, strict=True) if gg == g],
                         name=g, marker={"size": 4, "color": c}, hovertemplate="%{text}<extra>" + g + "</extra>")
            for g, c in colors.items()
        ]  # fmt: skip
        figure = go.Figure(traces)
        scene = {f"{axis}axis_title": say(f"component {i}", f"componente {i}") for i, axis in enumerate("xyz", 1)}
        figure.update_layout(title=title + say(": drag to rotate", ": arrastra para girar"), scene=scene,
                             height=550, margin={"l": 0, "r": 0, "t": 40, "b": 0}, template="none")  # fmt: skip
        bundle["application/vnd.plotly.v1+json"] = json.loads(figure.to_json())
    if show:
        from IPython.display import display

        display(bundle, raw=True)
    return bundle
