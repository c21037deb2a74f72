from django.urls import path

from . import views_public

app_name = "surveys"

urlpatterns = [
    path("s/<str:token>/", views_public.answer, name="answer"),
    path("s/<str:token>/unsubscribe/", views_public.unsubscribe, name="unsubscribe"),
]
