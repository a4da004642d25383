"""The report's HTML machinery: the Jinja2 templates in ``smi_spec/templates`` with
autoescaping on, each property's one-line statement from its own docstring, and the
project's own diagram SVG, checked before it is inlined (no script, no external link).
"""

from __future__ import annotations

import inspect
import math
import re
from functools import cache
from typing import Any, Final
from xml.etree import ElementTree as XmlTree

from defusedxml import ElementTree
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from checker.explorer import why_stuck
from model.errors import InputError
from properties import safety
from properties.recoverability import GOOD
from smi_spec import diagrams as dg

#: The smallest text a diagram may show at desktop width, in CSS pixels.
MIN_DIAGRAM_TEXT_PX: Final = 11.0


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "variant"


@cache
def environment() -> Environment:
    """The report's templates, autoescaping every value they are given."""
    return Environment(
        loader=PackageLoader("smi_spec", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **data: Any) -> str:
    return environment().get_template(template).render(**data)


# ---------------------------------------------------------------------------------------
# What each property says, read from the properties' own docstrings


def property_text(property_id: str) -> str:
    """The one-line statement of a property, from the docstring of its check."""
    if property_id in GOOD:
        # The explorer's own account of a violation, turned round into what must hold.
        stuck = why_stuck(property_id)
        found = re.fullmatch(r"no way back: from here, (.*), no state is reachable (.*)", stuck)
        if found:
            with_, where = found.groups()
            return f"From every reachable state, {with_}, a state is reachable {where}."
        return inspect.getdoc(GOOD[property_id]) or ""
    for _, function in inspect.getmembers(safety, inspect.isfunction):
        doc = inspect.getdoc(function) or ""
        if doc.startswith(f"{property_id}:"):
            text = " ".join(doc.split(":", 1)[1].split())
            return text[:1].upper() + text[1:]
    return ""


# ---------------------------------------------------------------------------------------
# Diagrams, inlined

_SVG_NS: Final = "http://www.w3.org/2000/svg"
_XLINK_NS: Final = "http://www.w3.org/1999/xlink"
# Serialised SVG keeps SVG as its default namespace and xlink:title as HTML parses it.
XmlTree.register_namespace("", _SVG_NS)
XmlTree.register_namespace("xlink", _XLINK_NS)
_ACTIVE: Final = frozenset({"script", "foreignObject", "iframe", "object", "embed", "handler"})
_SAFE_HREF: Final = re.compile(r"(#|diagrams/|[A-Za-z0-9_.-]+\.(svg|dot|html)(#|$))")


def inline_svg(name: str, data: bytes) -> Markup:
    """A diagram's SVG for inlining in a page, sized so its smallest text is at least
    ``MIN_DIAGRAM_TEXT_PX`` pixels; ids prefixed with the diagram's name (one page holds
    several diagrams).

    Only SVG from the project's own renderer comes here, and it is checked, not trusted:
    well-formed XML with no DTD (defusedxml), no script or foreign content, no event
    handler, no link outside the report. Anything else is refused, never inlined.
    """
    try:
        root = ElementTree.fromstring(data)
    except Exception as exc:  # defusedxml's and expat's errors alike
        raise InputError(f"diagram {name}: not safe SVG to inline ({exc})") from None
    if root.tag != f"{{{_SVG_NS}}}svg":
        raise InputError(f"diagram {name}: not safe SVG to inline (no SVG root element)")
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1]
        if local in _ACTIVE:
            raise InputError(f"diagram {name}: refused to inline a <{local}> element")
        for attribute, value in element.attrib.items():
            key = attribute.rsplit("}", 1)[-1]
            if key.lower().startswith("on"):
                raise InputError(f"diagram {name}: refused to inline an {key} attribute")
            if key == "href" and not _SAFE_HREF.match(value.strip()):
                raise InputError(f"diagram {name}: refused to inline a link to {value!r}")
    for element in root.iter():
        if "id" in element.attrib:
            element.set("id", f"{name}-{element.attrib['id']}")
    _scale(root)
    # Ids prefixed and size set on the parsed tree, serialised anew (no XML prologue, DTD or
    # comment), every text and attribute XML-escaped by ElementTree's serialiser.
    text = XmlTree.tostring(root, encoding="unicode")
    return Markup(text)  # checked above


def _scale(root: Any) -> None:
    """Size the root ``<svg>`` (given in pt) in CSS px so its smallest text is at least
    ``MIN_DIAGRAM_TEXT_PX``: 1pt is 4/3 px, scaled up further when the smallest text would
    be under the floor."""
    width, height = (root.get(key, "") for key in ("width", "height"))
    if not (width.endswith("pt") and height.endswith("pt")):
        return
    sizes = []
    for element in root.iter():
        try:
            sizes.append(float(element.get("font-size", "")))
        except ValueError:
            continue
    scale = max(4 / 3, MIN_DIAGRAM_TEXT_PX / min(sizes, default=MIN_DIAGRAM_TEXT_PX))
    root.set("width", str(math.ceil(float(width[:-2]) * scale)))
    root.set("height", str(math.ceil(float(height[:-2]) * scale)))


def figure(diagram: dg.Diagram | None, svgs: dict[str, bytes], note: str = "") -> Any:
    if diagram is None:
        return None
    return {
        "name": diagram.name,
        "title": diagram.title,
        "alt": diagram.alt,
        "note": note,
        "svg": inline_svg(diagram.name, svgs[f"{diagram.name}.svg"]),
    }
