"""The lock-out after failed logins is per account AND address (accounts/adapters.py): someone
guessing from one address cannot lock the account's owner out from another, and one address
failing across many accounts is still stopped."""

from django.core.cache import cache
from django.urls import reverse

from accounts.models import Role
from tests.conftest import make_user

PASSWORD = "mật-khẩu-đủ-dài-1"
TOO_MANY = "Đăng nhập sai quá nhiều lần"
ATTACKER, OWNER = "198.51.100.66", "203.0.113.7"


def log_in(client, username: str, password: str, address: str):
    client.cookies.clear()
    return client.post(
        reverse("account_login"), {"login": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(client, school_a):
    cache.clear()
    user = make_user("gv.owner", school_a, Role.TEACHER)
    user.set_password(PASSWORD)
    user.save()
    for _ in range(5):
        assert TOO_MANY not in log_in(client, user.username, "sai", ATTACKER).content.decode()
    locked = log_in(client, user.username, PASSWORD, ATTACKER)  # even the right password
    assert TOO_MANY in locked.content.decode() and not logged_in(client)
    assert log_in(client, user.username, PASSWORD, OWNER).status_code == 302
    assert logged_in(client)


def test_the_lock_out_keys_ipv6_addresses_by_their_network(client, school_a):
    """An IPv6 client holds a whole /64: changing the last bits does not give fresh attempts."""
    cache.clear()
    user = make_user("gv.ipv6", school_a, Role.TEACHER)
    for number in range(5):
        log_in(client, user.username, "sai", f"2001:db8:1:2::{number + 1}")
    assert TOO_MANY in log_in(client, user.username, "sai", "2001:db8:1:2::99").content.decode()


def test_one_address_failing_across_many_accounts_is_still_stopped(client, school_a):
    """10 failures a minute from one address, whatever the accounts: the 11th is refused, and
    so is a right password from that address for that minute."""
    cache.clear()
    users = [make_user(f"gv.{number:02d}", school_a, Role.TEACHER) for number in range(12)]
    answers = [log_in(client, user.username, "sai", ATTACKER) for user in users[:11]]
    assert not any(TOO_MANY in a.content.decode() for a in answers[:10])
    assert TOO_MANY in answers[10].content.decode()
    users[11].set_password(PASSWORD)
    users[11].save()
    assert TOO_MANY in log_in(client, users[11].username, PASSWORD, ATTACKER).content.decode()
    assert log_in(client, users[11].username, PASSWORD, OWNER).status_code == 302
