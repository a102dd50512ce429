def dashboard_card_context(request):
    return {}
