"""Modo aula: large type and high contrast for a projector (1280×720 seen from the back of a room).

All in the browser: a class on ``<body>`` switches the theme's size variables
(labels, info lines, tabs, example buttons, slider ends, tables), and charts
get larger fonts through plotly itself, since their text is SVG drawn with
sizes from the figure.  Gradio 6.31 draws a figure with ``Plotly.react`` of
the plotly bundle it loads on the first chart, which sets ``window.Plotly``:
``HEAD_JS`` catches that assignment and wraps ``react`` so that every figure
(those drawn later too) is drawn from a copy with every font size scaled and
axis margins grown to fit; switching the mode redraws the charts on show
from the figures Gradio gave (kept on each chart's element).

Also here, as it is the same plotly hook: a chart drawn while its tab was
hidden (a language switch redraws every tab's results) is sized when its tab
is shown, instead of keeping plotly's default width.
"""

from __future__ import annotations

CSS = """
.lm-status {font-size: 0.95em}
/* Classroom mode: large type and high contrast for a projector. */
body.lm-classroom, body.lm-classroom .gradio-container {font-size: 20px !important; color: #000 !important;
  background: #fff !important; --body-text-color: #000; --body-text-color-subdued: #222;
  --text-xxs: 14px; --text-xs: 16px; --text-sm: 18px; --text-md: 20px; --text-lg: 22px; --text-xl: 26px;
  --block-label-text-size: 18px; --block-info-text-size: 16px; --block-info-text-color: #222;
  --block-title-text-size: 20px; --section-header-text-size: 20px; --input-text-size: 20px;
  --button-small-text-size: 18px; --button-large-text-size: 22px; --checkbox-label-text-size: 18px;
  --color-accent: #0b3d91; --button-primary-background-fill: #0b3d91; --button-primary-text-color: #fff;}
/* Seven tabs on one line at 1280 px: large type, less padding (Gradio hides what does not fit). */
body.lm-classroom button[role=tab], body.lm-classroom .tab-container button {font-size: 18px !important;
  font-weight: 600; padding: 0 8px !important;}
/* The model line is read once, not from the back: smaller, and wider so the header stays short. */
body.lm-classroom #model-status {flex-grow: 2 !important;}
body.lm-classroom #model-status .prose, body.lm-classroom #model-status .md {font-size: 16px !important;
  line-height: 1.35;}
body.lm-classroom .gallery-item, body.lm-classroom .gallery button {font-size: 18px !important; padding: 6px 12px;}
body.lm-classroom .min_value, body.lm-classroom .max_value {font-size: 16px !important; color: #222 !important;}
body.lm-classroom input[type=number] {font-size: 18px !important;}
body.lm-classroom table, body.lm-classroom [role=grid] {font-size: 18px !important;}
body.lm-classroom .json-holder {font-size: 17px !important;}
body.lm-classroom .prose, body.lm-classroom .md {font-size: 20px !important; line-height: 1.5;}
"""

# The checkbox's event: the page class, then the charts drawn again.
TOGGLE_JS = "(on) => { window.lmClassroom && window.lmClassroom(!!on); return on; }"

HEAD_JS = """
<script>
(() => {
  const SCALE = 1.4, FONT_KEYS = ["font", "tickfont", "textfont", "titlefont"];
  let on = false, plotly;
  const grow = (obj) => {  // every font size in a figure's layout or trace, scaled; axes make room for it
    if (Array.isArray(obj)) return obj.map(grow);
    if (!obj || typeof obj !== "object") return obj;
    const out = {};
    for (const [k, v] of Object.entries(obj)) {
      if (FONT_KEYS.includes(k) && v && typeof v === "object" && !Array.isArray(v)) {
        out[k] = {...grow(v), size: Math.round((typeof v.size === "number" ? v.size : 12) * SCALE)};
      } else if (/^[xy]axis\\d*$/.test(k) && v && typeof v === "object") {
        out[k] = {automargin: true, ...grow(v)};
      } else out[k] = grow(v);
    }
    return out;
  };
  const big = (layout) => {
    const l = grow(layout || {});
    l.font = {...(l.font || {}), size: Math.round(((layout && layout.font && layout.font.size) || 12) * SCALE)};
    if (typeof l.height === "number") l.height = Math.round(l.height * 1.15);
    // room at the top for Gradio's label, drawn over the chart and larger now
    l.margin = {...(l.margin || {}), t: Math.max(90, ((layout.margin && layout.margin.t) || 40) + 20)};
    return l;
  };
  const fit = () => {  // charts drawn while their tab was hidden (or before the page changed size) fill their box
    if (plotly) document.querySelectorAll(".js-plotly-plot").forEach((gd) => {
      if (gd.offsetParent !== null) { try { plotly.Plots.resize(gd); } catch (e) { /* not drawn yet */ } }
    });
  };
  document.addEventListener("click", (e) => {
    if (e.target && e.target.closest && e.target.closest("[role=tab]")) setTimeout(fit, 60);
  }, true);
  const patch = (P) => {
    if (!P || P.lmPatched || typeof P.react !== "function") return;
    const react = P.react;
    P.react = function (gd, data, layout, config, ...rest) {
      // react(gd, figure): a whole figure, not how Gradio draws: as it is
      if (data && !Array.isArray(data) && data.data) return react.apply(this, arguments);
      if (gd && gd.nodeType === 1) gd.lmFigure = {data, layout, config};
      return on ? react.call(this, gd, grow(data), big(layout), config, ...rest) : react.apply(this, arguments);
    };
    P.lmPatched = true;
  };
  try {
    Object.defineProperty(window, "Plotly", {configurable: true, enumerable: true,
      get() { return plotly; }, set(v) { plotly = v; patch(v); }});
  } catch (e) { /* a page that defined it already: charts keep their size */ }
  window.lmClassroom = (value) => {
    on = !!value;
    document.body.classList.toggle("lm-classroom", on);
    if (!plotly) return;
    document.querySelectorAll(".js-plotly-plot").forEach((gd) => {
      const f = gd.lmFigure;
      if (f) Promise.resolve(plotly.react(gd, f.data, f.layout, f.config)).then(fit, () => {});
    });
    setTimeout(fit, 60);
  };
})();
</script>
"""
