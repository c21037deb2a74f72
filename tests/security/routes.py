"""Every URL pattern of the project, discovered from the URL configuration (pages, the API router, the admin).

Nothing here is listed by hand: a new `path()`, a new viewset or a new admin model appears in `all_routes()`
by itself, and the permission matrix then fails until its table says who may reach it.
"""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


@dataclass(frozen=True)
class Route:
    """One URL pattern: `key` names its row in the table (the URL name, or the route when unnamed)."""

    key: str
    route: str  # the full pattern, prefixes included, as Django shows it
    callback: object
    parts: tuple  # (prefix pattern, ...) from the root to the pattern, to build a URL

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")

    @property
    def parameters(self) -> list[str]:
        names = []
        for part in self.parts:
            if isinstance(part, RoutePattern):
                names += [match["name"] for match in _ROUTE_PARAMETER.finditer(str(part))]
            else:
                names += [match["name"] for match in _REGEX_GROUP.finditer(str(part))]
        return names

    def url(self, values: dict[str, str]) -> str:
        """The path of this pattern with its parameters filled in."""
        path = "/"
        for part in self.parts:
            text = str(part)
            if isinstance(part, RoutePattern):
                text = _ROUTE_PARAMETER.sub(lambda match: str(values[match["name"]]), text)
            elif isinstance(part, RegexPattern):
                text = _REGEX_GROUP.sub(lambda match: str(values[match["name"]]), text)
                text = text.removeprefix("^").removesuffix("$").replace("/?", "/").replace("\\.", ".")
            path += text
        return path

    def handled_methods(self) -> tuple[str, ...]:
        """The methods the view itself answers (not with 405), as far as the view says.

        Class-based views and DRF views declare them; a plain function view is taken to answer GET and POST
        (the table still states what each answer must be, decorators such as require_GET included).
        """
        callback = self.callback
        actions = getattr(callback, "actions", None)
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if actions is not None:  # a DRF viewset route: the router maps methods to actions
            allowed = set(getattr(view_class, "http_method_names", ()))
            return tuple(method for method in METHODS if method.lower() in actions and method.lower() in allowed)
        if view_class is not None:
            allowed = set(view_class.http_method_names)
            return tuple(
                method for method in METHODS if method.lower() in allowed and hasattr(view_class, method.lower())
            )
        return ("GET", "POST")


def _walk(patterns, parts=(), namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, (*parts, pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            full = (*parts, pattern.pattern)
            route = "".join(str(part) for part in full)
            key = f"{namespace}{pattern.name}" if pattern.name else route
            yield Route(key=key, route=route, callback=pattern.callback, parts=full)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))
