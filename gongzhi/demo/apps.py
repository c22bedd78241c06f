from django.apps import AppConfig


class DemoConfig(AppConfig):
    # No models and no admin pages: installed only for its management commands (generate, demo_cases).
    name = "gongzhi.demo"
