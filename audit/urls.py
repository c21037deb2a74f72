from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("deleted/", views.DeletedRecordListView.as_view(), name="deleted_list"),
    path("deleted/<int:pk>/restore/", views.DeletedRecordRestoreView.as_view(), name="restore"),
]
