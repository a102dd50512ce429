from django.urls import path

from . import views

app_name = "awareness"

urlpatterns = [
    path("", views.CampaignListView.as_view(), name="list"),
    path("new/", views.CampaignCreateView.as_view(), name="create"),
    path("<int:pk>/", views.CampaignDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.CampaignUpdateView.as_view(), name="edit"),
    path("<int:pk>/send/", views.CampaignSendView.as_view(), name="send"),
    path("<int:pk>/remind/", views.CampaignRemindView.as_view(), name="remind"),
    path("mine/", views.MyNoticesView.as_view(), name="mine"),
    path("mine/<int:pk>/", views.NoticeView.as_view(), name="notice"),
    path("mine/<int:pk>/acknowledge/", views.NoticeAcknowledgeView.as_view(), name="acknowledge"),
    path("ack/<str:token>/", views.AckLinkView.as_view(), name="ack"),
]
