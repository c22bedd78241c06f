from django.conf import settings

LARGE_TYPE_COOKIE = "large_type"


def preferences(request):
    """Large type (适老化) is a cookie so it survives logout and works before login."""
    return {
        "large_type": request.COOKIES.get(LARGE_TYPE_COOKIE) == "1",
        "show_dev_sms_page": settings.SHOW_DEV_SMS_PAGE,
    }
