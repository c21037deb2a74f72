from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("tickets/", views.TicketListView.as_view(), name="ticket_list"),
    path("tickets/new/", views.TicketCreateView.as_view(), name="ticket_create"),
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket_detail"),
    path("tickets/<int:pk>/reply/", views.TicketReplyView.as_view(), name="ticket_reply"),
    path("tickets/<int:pk>/note/", views.TicketNoteView.as_view(), name="ticket_note"),
    path("tickets/<int:pk>/resolve/", views.TicketResolveView.as_view(), name="ticket_resolve"),
    path("tickets/<int:pk>/reopen/", views.TicketReopenView.as_view(), name="ticket_reopen"),
    path("tickets/<int:pk>/close/", views.TicketCloseView.as_view(), name="ticket_close"),
    path("tickets/<int:pk>/assign/", views.TicketAssignView.as_view(), name="ticket_assign"),
    path("tickets/<int:pk>/priority/", views.TicketPriorityView.as_view(), name="ticket_priority"),
    path("tickets/<int:pk>/status/", views.TicketStatusView.as_view(), name="ticket_status"),
]
