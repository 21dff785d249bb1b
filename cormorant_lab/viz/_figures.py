r"""Two static plotly figures of the tutorials: a molecule with its bonds, and one Cormorant level as a diagram.

* :func:`molecule_figure` — atoms as element-coloured markers with their indices, bonds as lines (the covalent-radius
  rule of :func:`~cormorant_lab.viz.bonds`), equal axis scales: the picture to read a forward pass against.
* :func:`level_diagram` — the data flow of level ``s`` in the paper's notation (eqs. of §4 of Anderson et al. 2019):
  the edge level :math:`g^s_{ij} = \mu^s(r_{ij})\,W^s_{\rm edge}[g^{s-1}_{ij} \oplus F^{s-1}_i\!\cdot F^{s-1}_j \oplus
  \eta^s(r_{ij})]`, :math:`G^s_{ij} = g^s_{ij}\,Y(\hat r_{ij})`, and the atom level
  :math:`F^s_i = \mathcal N(W^s[F^{s-1}_i \oplus F^{s-1}_i\otimes_{\rm cg}F^{s-1}_i \oplus \sum_j G^s_{ij}\otimes_{\rm cg}F^{s-1}_j])`.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from ._molecule_view import bonds

#: CPK-like colours of the elements in QM9 and MD-17 (H white with a grey rim, C dark grey, N blue, O red, F green)
ELEMENT_COLORS = {1: "#f2f2f2", 6: "#404040", 7: "#3050f8", 8: "#ff0d0d", 9: "#90e050"}
ELEMENT_SYMBOLS = {1: "H", 6: "C", 7: "N", 8: "O", 9: "F"}


def molecule_figure(positions, charges, *, title: str | None = None, size: int = 440) -> go.Figure:
    """A 3D scatter of ``positions`` ``(N, 3)`` Å with ``charges`` ``(N,)``: atoms labelled by index, bonds drawn."""
    p = torch.as_tensor(positions, dtype=torch.float64).detach().cpu()
    z = torch.as_tensor(charges).detach().cpu().reshape(-1)
    if p.shape != (len(z), 3):
        raise ValueError(f"positions must be (N, 3) for N = {len(z)} charges, got {tuple(p.shape)}")
    pairs = bonds(p, z)
    xs, ys, zs = [], [], []
    for i, j in pairs:  # one trace for all bonds: segments separated by None
        for axis, values in zip((xs, ys, zs), p.T.tolist(), strict=False):
            axis += [values[i], values[j], None]
    atoms = go.Scatter3d(
        x=p[:, 0].tolist(),
        y=p[:, 1].tolist(),
        z=p[:, 2].tolist(),
        mode="markers+text",
        name="atoms",
        text=[f"{ELEMENT_SYMBOLS.get(int(q), int(q))}{i}" for i, q in enumerate(z.tolist())],
        textposition="top center",
        marker=dict(
            size=[12 if q > 1 else 7 for q in z.tolist()],
            color=[ELEMENT_COLORS.get(int(q), "#ff69b4") for q in z.tolist()],
            line=dict(width=2, color="#777"),
        ),
    )
    figure = go.Figure(
        [go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", name="bonds", line=dict(width=6, color="#999")), atoms]
    )
    axis = dict(title="", showticklabels=False, showbackground=False)
    figure.update_layout(
        width=size,
        height=size,
        showlegend=False,
        margin=dict(l=0, r=0, t=40 if title else 0, b=0),
        title=title,
        scene=dict(
            aspectmode="data", xaxis=dict(axis, title="x"), yaxis=dict(axis, title="y"), zaxis=dict(axis, title="z")
        ),
    )
    return figure


# (x, y, label, kind): kind "in" inputs, "cov" covariant, "inv" invariant, "op" a learnable or fixed map
_NODES = {
    "F_prev": (0.0, 2.0, "F<sup>s−1</sup><sub>i</sub>, F<sup>s−1</sup><sub>j</sub><br>(covariant)", "in"),
    "g_prev": (0.0, 4.0, "g<sup>s−1</sup><sub>ij</sub><br>(invariant)", "in"),
    "r": (0.0, 0.0, "r<sub>ij</sub> = r<sub>i</sub> − r<sub>j</sub>", "in"),
    "dot": (1.6, 3.2, "F<sub>i</sub>·F<sub>j</sub><br>(invariant)", "inv"),
    "eta": (1.6, 4.6, "η<sup>s</sup>(|r<sub>ij</sub>|), μ<sup>s</sup>", "inv"),
    "edge": (3.2, 4.0, "edge level<br>g<sup>s</sup> = μ W<sub>edge</sub>[g ⊕ F·F ⊕ η]", "op"),
    "Y": (3.2, 0.0, "Y<sub>l</sub>(r̂<sub>ij</sub>)", "cov"),
    "G": (4.8, 2.6, "G<sup>s</sup><sub>ij</sub> = g<sup>s</sup><sub>ij</sub> Y(r̂<sub>ij</sub>)", "cov"),
    "square": (4.8, 1.2, "F<sub>i</sub> ⊗<sub>cg</sub> F<sub>i</sub><br>(CG square)", "cov"),
    "message": (6.4, 2.6, "Σ<sub>j</sub> G<sub>ij</sub> ⊗<sub>cg</sub> F<sub>j</sub><br>(CG message)", "cov"),
    "cat": (8.0, 1.6, "⊕ per degree l", "cov"),
    "mix": (9.4, 1.6, "W<sup>s</sup> (mix channels)<br>then 𝒩", "op"),
    "F": (10.8, 1.6, "F<sup>s</sup><sub>i</sub>", "cov"),
}
_EDGES = [
    ("g_prev", "edge"),
    ("F_prev", "dot"),
    ("dot", "edge"),
    ("r", "eta"),
    ("eta", "edge"),
    ("edge", "G"),
    ("r", "Y"),
    ("Y", "G"),
    ("G", "message"),
    ("F_prev", "message"),
    ("F_prev", "square"),
    ("F_prev", "cat"),
    ("square", "cat"),
    ("message", "cat"),
    ("cat", "mix"),
    ("mix", "F"),
]
_COLORS = {"in": "#eeeeee", "cov": "#d9ecd0", "inv": "#dde7f5", "op": "#fbe5c8"}


def level_diagram(level: int | str = "s", *, width: int = 900, height: int = 430) -> go.Figure:
    """The data flow of one Cormorant level (edge level, then atom level) as a plotly figure.

    Green boxes are covariant (they turn with D^l(R)), blue boxes invariant, orange boxes the learnable maps.
    """
    s = str(level)
    previous = str(level - 1) if isinstance(level, int) else f"{s}−1"
    figure = go.Figure()
    for a, b in _EDGES:
        (x0, y0, *_), (x1, y1, *_) = _NODES[a], _NODES[b]
        figure.add_annotation(
            x=x1,
            y=y1,
            ax=x0,
            ay=y0,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            text="",
            showarrow=True,
            arrowhead=3,
            arrowsize=1.2,
            arrowwidth=1.5,
            arrowcolor="#666",
            standoff=28,
            startstandoff=28,
        )
    for name, (x, y, label, kind) in _NODES.items():
        figure.add_annotation(
            x=x,
            y=y,
            text=label.replace("<sup>s−1", f"<sup>{previous}").replace("<sup>s", f"<sup>{s}"),
            showarrow=False,
            bgcolor=_COLORS[kind],
            bordercolor="#555",
            borderwidth=1,
            borderpad=6,
            font=dict(size=12),
            name=name,
        )
    figure.update_xaxes(visible=False, range=[-0.9, 11.6])
    figure.update_yaxes(visible=False, range=[-0.7, 5.3])
    figure.update_layout(
        width=width,
        height=height,
        plot_bgcolor="white",
        margin=dict(l=10, r=10, t=50, b=10),
        title=f"one Cormorant level s = {s}: edge level (top) feeds the atom level (bottom right); "
        "green covariant, blue invariant, orange learnable",
    )
    return figure
