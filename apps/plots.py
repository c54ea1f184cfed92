"""Plotly figures that follow the page's light or dark theme.

gr.Plot hands the figure JSON to Plotly.js as it is, and Plotly's default template paints a white paper and a
blue-grey plot area with dark-slate text: in the dark theme every chart stayed a white card (review darkui). Plotly
cannot read CSS variables, so a figure gets transparent backgrounds here (`themed`) and the page's stylesheet
(`CSS`) gives the chart's own words (titles, axis ticks and titles, legend, colour-bar ticks, notes, scatter labels)
the theme's text colour and its grid the theme's border colour. Data colours stay the figure's: a heatmap's cell
labels keep Plotly's own contrast against their cell.
"""
from __future__ import annotations

import plotly.graph_objects as go

# read by Plotly where no stylesheet applies (an API client drawing the JSON itself): mid-grey on both themes
_GRID = "rgba(128, 128, 128, 0.35)"
_CLEAR = "rgba(0, 0, 0, 0)"


def themed(fig: go.Figure, grid: bool = True) -> go.Figure:
    """The figure with transparent paper, plot area and modebar; `grid=False` for heatmaps, whose cells are the
    grid (Plotly's lines crossed the empty diagonal)."""
    fig.update_layout(paper_bgcolor=_CLEAR, plot_bgcolor=_CLEAR, modebar={"bgcolor": _CLEAR})
    fig.update_xaxes(showgrid=grid, gridcolor=_GRID, zerolinecolor=_GRID, linecolor=_GRID)
    fig.update_yaxes(showgrid=grid, gridcolor=_GRID, zerolinecolor=_GRID, linecolor=_GRID)
    return fig


# Plotly writes its colours as inline styles (style="fill: rgb(42, 63, 95)"); only !important overrides them.
CSS = """
.js-plotly-plot .main-svg :is(.g-gtitle, .g-xtitle, .g-ytitle, .xtick, .ytick, .cbaxis, .cbtitle, .legend,
  .annotation, .textpoint) text { fill: var(--body-text-color) !important; }
.js-plotly-plot .main-svg :is(.gridlayer, .zerolinelayer) path { stroke: var(--border-color-primary) !important; }
.js-plotly-plot .plotly .modebar-btn path { fill: var(--body-text-color-subdued) !important; }
.js-plotly-plot .plotly .modebar-btn:hover path, .js-plotly-plot .plotly .modebar-btn.active path {
  fill: var(--body-text-color) !important; }
"""
