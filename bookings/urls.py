from django.urls import path

from bookings import views

urlpatterns = [
    path("vessels/<str:token>.ics", views.vessel_feed, name="vessel-feed"),
]
