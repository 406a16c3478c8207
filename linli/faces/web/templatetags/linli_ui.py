"""Small pieces of the interface other templates reuse: ``{% load linli_ui %}``.

- ``{% icon "map" %}``: an icon from ``static/img/icons.svg``, hidden from screen readers (give the
  surrounding link or button its own text).
- ``{% badge state label %}``: a state badge; ``state`` picks the colour (see ``.badge-*`` in linli.css).
- Pagination: ``{% include "includes/pagination.html" with page=page_obj %}``.
"""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def icon(name: str, css_class: str = "") -> str:
    classes = f"icon {css_class}".strip()
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        classes,
        static("img/icons.svg"),
        name,
    )


@register.simple_tag
def badge(state, label) -> str:
    return format_html('<span class="badge badge-{}">{}</span>', state, label)
