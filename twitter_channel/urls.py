app_name = "twitter_channel"

urlpatterns: list = []
