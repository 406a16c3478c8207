"""Feeds of published results for the district media centre (融媒体) and anyone else: Atom 1.0
(``django.contrib.syndication``) and JSON Feed 1.1. Both read only
``appeals.selectors.public_appeals``, which returns the public fields of published, non-private,
closed cases, so nothing the publication rules hide can reach a feed."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.http import Http404, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.domains.appeals.models import Category
from linli.domains.appeals.selectors import public_appeals

PAGE_SIZE = 50
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True)
class FeedFilter:
    area: Area | None = None
    category: Category | None = None

    def querystring(self) -> str:
        parts = []
        if self.area is not None:
            parts.append(f"{'street' if self.area.kind == AreaKind.STREET else 'community'}={self.area.code}")
        if self.category is not None:
            parts.append(f"category={self.category.code}")
        return "&".join(parts)

    def title(self) -> str:
        bits = [_("办理结果公开")]
        if self.area is not None:
            bits.append(self.area.name)
        if self.category is not None:
            bits.append(self.category.name)
        return " · ".join(bits)

    def rows(self):
        return public_appeals(
            area_path=self.area.path if self.area is not None else "",
            category_id=self.category.pk if self.category is not None else None,
        )


def feed_filter(params) -> FeedFilter:
    """``?street=<area code>`` or ``?community=<area code>``, and ``?category=<category code>``
    (a domain includes its items). An unknown code is a 404, not an empty feed."""
    area = None
    for kind in (AreaKind.COMMUNITY, AreaKind.STREET):
        code = (params.get(kind.value) or "").strip()
        if code:
            area = Area.objects.filter(kind=kind, code=code).first()
            if area is None:
                raise Http404(kind.value)
            break
    category = None
    code = (params.get("category") or "").strip()
    if code:
        category = Category.objects.filter(code=code).first()
        if category is None or not category.is_public:
            raise Http404("category")
    return FeedFilter(area=area, category=category)


def result_path(reference: str) -> str:
    try:
        return reverse("appeals:public_detail", args=[reference])
    except NoReverseMatch:  # the public pages are not installed in this deployment
        return reverse("feeds:results_json") + f"#{reference}"


def item_text(row: dict) -> str:
    parts = [row["public_body"]]
    if row["public_result"]:
        parts.append(_("办理结果：") + row["public_result"])
    if row["public_place"]:
        parts.append(_("地点：") + row["public_place"])
    return "\n\n".join(p for p in parts if p)


def item_tags(row: dict) -> list[str]:
    tags = [row["category__parent__name"], row["category__name"], row["street__name"], row["community__name"]]
    return [t for t in tags if t]


class ResultsAtomFeed(Feed):
    feed_type = Atom1Feed
    author_name = "邻里 · 金牛区"

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        response["Cache-Control"] = "public, max-age=300"
        return response

    def get_object(self, request):
        self.request = request
        return feed_filter(request.GET)

    def title(self, obj: FeedFilter):
        return obj.title()

    def subtitle(self, obj: FeedFilter):
        return _("已办结并公开的群众诉求及办理结果（已去除个人信息）")

    def link(self, obj: FeedFilter):
        try:
            return reverse("appeals:public")
        except NoReverseMatch:
            return "/"

    def feed_url(self, obj: FeedFilter):
        query = obj.querystring()
        return reverse("feeds:results_atom") + (f"?{query}" if query else "")

    def items(self, obj: FeedFilter):
        return list(obj.rows()[:PAGE_SIZE])

    def item_title(self, row):
        return row["public_title"]

    def item_description(self, row):
        return linebreaks(escape(item_text(row)))

    def item_link(self, row):
        return result_path(row["reference"])

    def item_guid(self, row):
        return self.request.build_absolute_uri(result_path(row["reference"]))

    item_guid_is_permalink = True

    def item_pubdate(self, row):
        return row["closed_at"]

    def item_updateddate(self, row):
        return row["closed_at"]

    def item_categories(self, row):
        return item_tags(row)


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def results_json(request):
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), newest first, ``PAGE_SIZE`` items a
    page; ``next_url`` leads to older ones."""
    flt = feed_filter(request.GET)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    rows = list(flt.rows()[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    query = flt.querystring()
    feed_url = request.build_absolute_uri(reverse("feeds:results_json") + (f"?{query}" if query else ""))
    try:
        home = request.build_absolute_uri(reverse("appeals:public"))
    except NoReverseMatch:
        home = request.build_absolute_uri("/")
    feed = {
        "version": JSON_FEED_VERSION,
        "title": flt.title(),
        "home_page_url": home,
        "feed_url": feed_url,
        "description": _("已办结并公开的群众诉求及办理结果（已去除个人信息）"),
        "language": "zh-CN",
        "authors": [{"name": "邻里 · 金牛区"}],
        "items": [
            {
                "id": row["reference"],
                "url": request.build_absolute_uri(result_path(row["reference"])),
                "title": row["public_title"],
                "content_text": item_text(row),
                "date_published": _iso(row["closed_at"]),
                "date_modified": _iso(row["closed_at"]),
                "tags": item_tags(row),
                "_linli": {
                    "reference": row["reference"],
                    "submitted_at": _iso(row["created_at"]),
                    "place": row["public_place"],
                    "street": row["street__name"],
                    "community": row["community__name"],
                    "category": row["category__name"],
                },
            }
            for row in rows
        ],
    }
    if more:
        sep = "&" if query else ""
        feed["next_url"] = request.build_absolute_uri(
            reverse("feeds:results_json") + f"?{query}{sep}page={page + 1}"
        )
    response = JsonResponse(
        feed, content_type="application/feed+json", json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = "public, max-age=300"
    return response
