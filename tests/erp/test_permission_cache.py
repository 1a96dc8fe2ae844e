"""Permissions are cached between requests, and any change of roles applies at once."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from erp import roles

PERM = "inventory.approve_write_off"


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def test_permissions_are_read_once_then_served_from_the_cache(
    warehouse_user, django_assert_num_queries
):
    assert fresh(warehouse_user).has_perm("inventory.add_stockledgerentry")
    # Another request of the same user: a new user object, no permission queries.
    again = get_user_model()(pk=warehouse_user.pk, is_active=True)
    with django_assert_num_queries(0):
        assert again.has_perm("inventory.add_stockledgerentry")
        assert not again.has_perm(PERM)


def test_joining_a_group_applies_at_once(warehouse_user):
    assert not fresh(warehouse_user).has_perm(PERM)
    warehouse_user.groups.add(Group.objects.get(name=roles.MANAGER))
    assert fresh(warehouse_user).has_perm(PERM)


def test_leaving_a_group_applies_at_once(manager):
    assert fresh(manager).has_perm(PERM)
    manager.groups.clear()
    assert not fresh(manager).has_perm(PERM)


def test_a_permission_taken_from_a_group_applies_at_once(manager):
    assert fresh(manager).has_perm(PERM)
    app_label, codename = PERM.split(".")
    Group.objects.get(name=roles.MANAGER).permissions.remove(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    assert not fresh(manager).has_perm(PERM)


def test_a_deactivated_user_has_no_permissions(manager):
    assert fresh(manager).has_perm(PERM)
    manager.is_active = False
    manager.save()
    assert not fresh(manager).has_perm(PERM)
