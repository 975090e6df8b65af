"""Sphinx configuration of the course's website: both editions, built from the committed, executed
notebooks (myst-nb, nothing re-executed), with math, search and interactive figures that need no
network. scripts/build_site.py assembles the sources and runs Sphinx; see CONTRIBUTING.md."""

import re

project = "Vector embeddings in Python"
author = "The course's authors"
copyright = "the course's authors, MIT licence"
language = "en"

extensions = ["myst_nb", "sphinx-mathjax-offline"]  # MathJax from the package, not from a CDN
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
nb_execution_mode = "off"  # the notebooks are committed executed: the site shows those outputs
nb_output_stderr = "remove"  # progress bars and warnings of the run that made the outputs
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

html_theme = "sphinx_book_theme"
html_title = "Vector embeddings in Python"
html_static_path = ["_static"]
html_js_files = ["plotly.min.js", "plotly-render.js"]  # copied from the plotly package at build time
html_css_files = ["course.css"]
templates_path = ["_templates"]
html_theme_options = {
    "show_toc_level": 2,
    "article_header_end": ["language-switch.html"],
    "use_download_button": False,
    "use_fullscreen_button": False,
}
html_context = {"default_mode": "light"}  # the theme reports an empty mode as an error otherwise
html_favicon = "_static/favicon.svg"
html_last_updated_fmt = None
html_show_sourcelink = False

LESSON = re.compile(r"^(en|es)/(\d\d)_")


def twin_of(pagename: str, pages: list[str]) -> tuple[str, str] | None:
    """The other edition's page of a lesson or a home page, and the link's label."""
    if pagename in ("index", "es/index"):
        return ("es/index", "Español") if pagename == "index" else ("index", "English")
    match = LESSON.match(pagename)
    if not match:
        return None
    other = "es" if match.group(1) == "en" else "en"
    twin = next((p for p in pages if p.startswith(f"{other}/{match.group(2)}_")), None)
    return (twin, "Español" if other == "es" else "English") if twin else None


def add_twin(app, pagename, templatename, context, doctree):
    twin = twin_of(pagename, list(app.env.found_docs))
    if twin:
        context["twin_url"] = app.builder.get_relative_uri(pagename, twin[0])
        context["twin_label"] = twin[1]
        context["twin_lang"] = "es" if twin[1] == "Español" else "en"


def setup(app):
    app.connect("html-page-context", add_twin)
    return {"parallel_read_safe": True}

