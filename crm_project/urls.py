from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .api_router import router
from .login_throttle import AdminLoginForm, AuthTokenView, LoginForm

# The admin's login goes through the login throttle too, and says so when it refuses.
admin.site.login_form = AdminLoginForm

# An unknown address under /api/ answers JSON like the rest of the API; elsewhere, the 404 page.
handler404 = "crm_project.views.not_found"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("search/", views.search, name="search"),
    path("health/", views.health, name="health"),
    path(
        "accounts/login/",
        login_not_required(auth_views.LoginView.as_view(authentication_form=LoginForm)),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("", include("contacts.urls")),
    path("", include("sales.urls")),
    path("", include("surveys.urls")),
    path("", include("support.urls")),
    path("kpis/", include("kpis.urls")),
    path("audit/", include("audit.urls")),
    path("api/", include(router.urls)),
    path("api/auth/token/", AuthTokenView.as_view(), name="api_token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "api/docs/",
        # The split view serves Swagger UI's start-up script as a file: no inline script (strict CSP).
        SpectacularSwaggerSplitView.as_view(url_name="api_schema"),
        name="api_docs",
    ),
    path("admin/", admin.site.urls),
]
