// Draws the notebooks' interactive figures with the plotly.js bundled in the site (no network):
// scripts/build_site.py turns each application/vnd.plotly.v1+json output into a <div> holding its
// JSON, and this draws it once the page has loaded.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("div.plotly-figure[data-figure]").forEach(function (div) {
    var figure = JSON.parse(div.getAttribute("data-figure"));
    Plotly.newPlot(div, figure.data || [], figure.layout || {}, { responsive: true, displaylogo: false });
  });
});
