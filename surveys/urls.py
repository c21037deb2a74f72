from django.urls import path

from . import views, views_public

app_name = "surveys"

urlpatterns = [
    # Public: the customer's answer page (no login).
    path("s/<str:token>/", views_public.answer, name="answer"),
    path("s/<str:token>/unsubscribe/", views_public.unsubscribe, name="unsubscribe"),
    # Staff.
    path("surveys/", views.SurveyListView.as_view(), name="survey_list"),
    path("surveys/new/", views.SurveyCreateView.as_view(), name="survey_create"),
    path("surveys/responses/", views.ResponseListView.as_view(), name="response_list"),
    path("surveys/<int:pk>/", views.SurveyDetailView.as_view(), name="survey_detail"),
    path("surveys/<int:pk>/edit/", views.SurveyUpdateView.as_view(), name="survey_update"),
    path("surveys/<int:pk>/send/", views.SurveySendView.as_view(), name="survey_send"),
]
