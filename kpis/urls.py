from django.urls import path

from . import views

app_name = "kpis"

urlpatterns = [
    path("", views.KpiOverviewView.as_view(), name="overview"),
    path("cohorts/", views.KpiCohortView.as_view(), name="cohorts"),
    path("refresh/", views.KpiRefreshView.as_view(), name="refresh"),
    path("digest/", views.KpiDigestView.as_view(), name="digest"),
    path("targets/", views.KpiTargetListView.as_view(), name="targets"),
    path("targets/new/", views.KpiTargetFormView.as_view(), name="target_create"),
    path("targets/<int:pk>/edit/", views.KpiTargetFormView.as_view(), name="target_update"),
    path("targets/<int:pk>/delete/", views.KpiTargetDeleteView.as_view(), name="target_delete"),
    path("<slug:key>/", views.KpiDetailView.as_view(), name="detail"),
    path("<slug:key>/export.csv", views.KpiExportView.as_view(), name="export"),
]
