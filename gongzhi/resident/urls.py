from django.urls import path

from gongzhi.resident import (
    boards_views,
    library_views,
    merchant_views,
    points_views,
    publications_affairs_views,
    publications_views,
    views,
)
from gongzhi.web import inbox
from gongzhi.web.access import login_required
from gongzhi.web.report import photo_upload

app_name = "resident"
urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("large-type/", views.large_type, name="large_type"),
    *inbox.urlpatterns_for(login_required, list_view=views.inbox_or_own_portal),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/photos/", login_required(photo_upload), name="photo_upload"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/follow-up/", views.case_follow_up, name="case_follow_up"),
    path("cases/<int:case_id>/rate/", views.case_rate, name="case_rate"),
    path("merchant/", merchant_views.home, name="merchant_home"),
    path("merchant/<int:shop_id>/", merchant_views.desk, name="merchant_desk"),
    path("merchant/<int:shop_id>/capture/", merchant_views.capture, name="merchant_capture"),
    # 积分
    path("points/", points_views.points, name="points"),
    path("points/history/", points_views.history, name="points_history"),
    path("points/claim/", points_views.catalogue, name="points_catalogue"),
    path("points/claim/<int:item_id>/", points_views.claim_new, name="points_claim_new"),
    path("points/claims/", points_views.claims, name="points_claims"),
    path("points/claims/<int:claim_id>/", points_views.claim_detail, name="points_claim"),
    path("points/claims/<int:claim_id>/supplement/", points_views.claim_supplement, name="points_claim_supplement"),
    path("points/claims/<int:claim_id>/withdraw/", points_views.claim_withdraw, name="points_claim_withdraw"),
    path("points/shop/", points_views.shop, name="points_shop"),
    path("points/shop/<int:item_id>/", points_views.shop_item, name="points_shop_item"),
    path("points/redemptions/", points_views.redemption_list, name="points_redemptions"),
    path("points/redemptions/<int:redemption_id>/", points_views.redemption_detail, name="points_redemption"),
    path("points/redemptions/<int:redemption_id>/cancel/", points_views.redemption_cancel,
         name="points_redemption_cancel"),
    path("privacy/", views.privacy, name="privacy"),
    path("public/assessment/", views.public_assessments, name="public_assessments"),
    path("public/assessment/<str:code>/", views.public_assessment, name="public_assessment"),
    # 公开事务: notices, 三务公开, 村民说事, 红黑榜, libraries, volunteers, suggestions (resident/publications_views.py)
    path("public/", publications_views.public_index, name="public"),
    path("public/<int:pk>/", publications_views.publication, name="publication"),
    path("public/<int:pk>/comment/", publications_views.comment, name="publication_comment"),
    path("public/<slug:group>/", publications_views.public_group, name="public_group"),
    # 红黑榜 appeals, 建言献策 (resident/boards_views.py); 三务公开 by category and period, 村民说事 evaluations
    *boards_views.urlpatterns,
    *publications_affairs_views.urlpatterns,
    # 志愿服务: activities, teams, my volunteer record (resident/library_views.py)
    *library_views.urlpatterns,
    path("dev/sms/", views.dev_sms, name="dev_sms"),
]
