"""What every tab shares for exports: the CSV button, the PNG hint and the "copy / apply settings" box.

The files and names themselves come from ``lm_demo.exports`` (no Gradio);
this module only builds components and turns pasted settings into input
values (clamped to each slider's range, checked against each menu's choices).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import gradio as gr

from lm_demo.errors import UserError
from lm_demo.locales import t
from lm_demo.ui.common import T, guard


def csv_button(elem_id: str) -> gr.DownloadButton:
    """A small "Descargar tabla (CSV)" button; the tab's handler gives it its file (``download``)."""
    return gr.DownloadButton(T("exp.csv"), value=None, size="sm", variant="secondary", elem_id=elem_id)


def download(path: Any) -> str | None:
    """The value for a ``csv_button``: the file's path as text (None leaves the button empty).

    A plain path, not a component update, so the handler's result is also
    usable from Python and the API returns the file.
    """
    return None if path is None else str(path)


def png_hint() -> gr.Markdown:
    return gr.Markdown(T("exp.png.hint"), elem_classes=["lm-export-hint"])


def _int_like(component: Any) -> bool:
    if isinstance(component, gr.Number):
        return getattr(component, "precision", None) == 0
    if isinstance(component, gr.Slider):
        step, lo = getattr(component, "step", 1) or 1, getattr(component, "minimum", 0) or 0
        return float(step).is_integer() and float(lo).is_integer()
    return False


def _choice_values(component: Any) -> list[Any]:
    return [c[1] if isinstance(c, (list, tuple)) else c for c in (getattr(component, "choices", None) or [])]


def coerce(key: str, value: Any, component: Any) -> Any:
    """A pasted ``value`` for ``component``: numbers clamped to its range, choices checked."""
    from lm_demo.exports import coerce_number

    def bad() -> UserError:
        import json

        return UserError("exp.err.bad_value", field=key, value=json.dumps(value, ensure_ascii=False)[:60])

    if isinstance(component, (gr.Slider, gr.Number)):
        return coerce_number(value, key, lo=getattr(component, "minimum", None),
                             hi=getattr(component, "maximum", None), integer=_int_like(component))
    if isinstance(component, gr.Checkbox):
        if not isinstance(value, bool):
            raise bad()
        return value
    if isinstance(component, (gr.CheckboxGroup,)) or getattr(component, "multiselect", False):
        values = _choice_values(component)
        if not isinstance(value, list) or (not getattr(component, "allow_custom_value", False)
                                           and any(v not in values for v in value)):
            raise bad()
        return value
    if isinstance(component, (gr.Dropdown, gr.Radio)):
        if getattr(component, "allow_custom_value", False):
            if not isinstance(value, str):
                raise bad()
            return value
        if value not in _choice_values(component):
            raise bad()
        return value
    if not isinstance(value, str):
        raise bad()
    return value


def settings_box(tab: str, fields: Mapping[str, Any], run_key: str, elem_prefix: str) -> gr.Code:
    """The closed "Ajustes para reproducir" accordion; returns the JSON box (an output of the tab's run).

    ``fields`` maps settings keys (``"model"``, ``"prompt"``, parameter names)
    to the tab's input components; "Aplicar ajustes" sets the ones present in
    the pasted JSON and leaves the others as they are.  A key mapped to None
    is accepted but not applied (e.g. the name of an uploaded file).
    """
    with gr.Accordion(T("exp.settings"), open=False, elem_id=f"{elem_prefix}-settings-box"):
        gr.Markdown(T("exp.settings.info"))
        code = gr.Code(value=None, language="json", interactive=True, lines=6, max_lines=30,
                       label=T("exp.settings.json"), buttons=["copy", "download"], elem_id=f"{elem_prefix}-settings")
        apply = gr.Button(T("exp.apply"), size="sm", elem_id=f"{elem_prefix}-apply")
    outputs = [c for c in fields.values() if c is not None]
    apply.click(apply_settings_fn(tab, fields, run_key), [code], outputs, api_visibility="private")
    return code


def apply_settings_fn(tab: str, fields: Mapping[str, Any], run_key: str) -> Callable[[str], list[Any]]:
    """The handler of "Aplicar ajustes": pasted JSON -> one value (or ``gr.skip()``) per settable field."""
    from lm_demo.exports import parse_settings

    keys = [k for k, c in fields.items() if c is not None]

    @guard
    def apply_settings(text: str | None) -> list[Any]:
        values = parse_settings(text, tab, list(fields))
        out = [coerce(k, values[k], fields[k]) if k in values else gr.skip() for k in keys]
        gr.Info(t("exp.applied", n=len(values), run=t(run_key)))
        return out

    return apply_settings
