from erp.roles import has_role, user_roles


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {
        "user_roles": sorted(user_roles(user)),
        "can_edit_master_data": user.has_perm("erp.change_sku"),
        "is_manager": has_role(user, "manager"),
    }
