"""Accounts: roles, jurisdictions, Argon2 passwords, throttled login, hashed revocable tokens."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client

from civicgrid.accounts import services
from civicgrid.accounts.models import ApiToken, User
from civicgrid.accounts.roles import ROLES
from civicgrid.audit.models import AuditRecord
from civicgrid.core.errors import ServiceError
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_every_role_is_a_group_with_its_permissions():
    for role in ROLES.values():
        group = Group.objects.get(name=role.code)
        perms = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert perms == set(role.permissions)


@pytest.mark.argon2
def test_user_gets_role_jurisdiction_department_and_argon2(make_user):
    user = make_user("zhang", "department", "440306", "440306-ZJ")
    assert user.roles == ["department"]
    assert user.jurisdiction.code == "440306"
    assert user.department.name == "宝安区住房和建设局"
    assert user.password.startswith("argon2")
    assert AuditRecord.objects.filter(action="accounts.user.create", object_id=str(user.pk))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role": "wizard", "region_code": "440306"}, "role"),
        ({"role": "dispatcher", "region_code": "449999"}, "region"),
        ({"role": "dispatcher", "region_code": None}, "region"),
        ({"role": "department", "region_code": "440306"}, "department"),
        (
            {"role": "department", "region_code": "440306", "department_code": "440305-ZJ"},
            "department",
        ),
        ({"role": "dispatcher", "region_code": "440306", "password": "123"}, "password"),
    ],
)
def test_bad_user_input_names_the_field_and_changes_nothing(kwargs, field):
    before = User.objects.count()
    with pytest.raises(ServiceError) as exc:
        services.save_user("test", "bad", **kwargs)
    assert field in {e.field for e in exc.value.errors}
    assert User.objects.count() == before


def test_user_command_creates_then_updates(capsys):
    call_command("user", "li", "--role", "grid_worker", "--region", "440306017001")
    out = capsys.readouterr().out
    assert "已创建用户 li" in out and "初始密码：" in out
    call_command("user", "li", "--role", "dispatcher", "--region", "440306017")
    assert "已更新用户 li" in capsys.readouterr().out
    user = User.objects.get(username="li")
    assert user.roles == ["dispatcher"] and user.jurisdiction.code == "440306017"
    with pytest.raises(CommandError, match="区域代码 123 不存在"):
        call_command("user", "wang", "--role", "leader", "--region", "123")


@pytest.mark.parametrize("cached", [0, 30])
def test_tokens_are_hashed_at_rest_and_revocable(make_user, capsys, settings, cached):
    settings.TOKEN_CACHE_SECONDS = cached
    make_user("tok", "leader", "440300")
    call_command("token", "tok", "--purpose", "dashboard")
    clear = capsys.readouterr().out.strip()
    assert clear.startswith("cg_")
    token = ApiToken.objects.get(user__username="tok")
    assert clear not in (token.digest, token.prefix) and len(token.digest) == 64
    client = Client(headers={"Authorization": f"Bearer {clear}"})
    assert client.get("/api/v1/me").json()["username"] == "tok"
    call_command("token", "tok", "--revoke", token.prefix)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert (
        Client(headers={"Authorization": "Bearer cg_forged"}).get("/api/v1/me").status_code == 401
    )


def test_login_is_throttled_after_repeated_failures(make_user, settings):
    make_user("guess", "leader", "440300")
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        page = client.post("/accounts/login/", {"username": "guess", "password": "wrong-one-x"})
        assert page.status_code == 200  # the form again, with an error
    page = client.post("/accounts/login/", {"username": "guess", "password": PASSWORD})
    assert "登录失败次数过多" in page.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_with_the_right_password(make_user):
    make_user("right", "leader", "440300")
    client = Client()
    response = client.post("/accounts/login/", {"username": "right", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/me").json()["username"] == "right"


def test_throttling_is_shared_through_redis_in_production_mode(make_user, settings):
    """With a Redis cache every server process sees the same failure counts."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    server = redis.Redis.from_url(url)
    server.flushdb()
    try:
        make_user("shared", "leader", "440300")
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            Client().post("/accounts/login/", {"username": "shared", "password": "wrong-one-x"})
        assert any(k.startswith(b":1:login-fail:u:") for k in server.keys("*"))
        # a fresh client (another process, another browser) is locked out too
        page = Client().post("/accounts/login/", {"username": "shared", "password": PASSWORD})
        assert "登录失败次数过多" in page.content.decode()
    finally:
        server.flushdb()


def test_a_role_change_takes_effect_at_once_despite_the_permission_cache(make_user, api):
    user = make_user("mover", "grid_worker", "440306017001")
    client = api(user)
    assert client.get("/api/v1/buildings").status_code == 200  # caches the permission set
    services.save_user("test", "mover", role="volunteer", region_code="440306017001")
    assert client.get("/api/v1/buildings").status_code == 403
    services.save_user("test", "mover", role="steward", region_code="440306017001")
    assert client.get("/api/v1/buildings").status_code == 200


def test_a_changed_user_is_seen_at_once_despite_the_token_cache(make_user, api, settings):
    from civicgrid.accounts import services as accounts

    settings.TOKEN_CACHE_SECONDS = 30  # as with Redis in production

    user = make_user("moving", "dispatcher", "440306", "440306-ZZ")
    client = api(user)
    assert client.get("/api/v1/me").json()["jurisdiction"]["code"] == "440306"
    accounts.save_user(
        "test", "moving", role="dispatcher", region_code="440305", department_code="440305-ZZ"
    )
    assert client.get("/api/v1/me").json()["jurisdiction"]["code"] == "440305"
    # the roles travel with the cached user: a new role is seen at once as well
    accounts.save_user("test", "moving", role="leader", region_code="440305")
    assert client.get("/api/v1/me").json()["roles"] == ["leader"]
    User = type(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    from civicgrid.accounts.backends import forget_permissions

    forget_permissions(user.pk)  # what every service and the admin do after a change
    assert client.get("/api/v1/me").status_code == 401


@pytest.fixture
def redis_cache(settings):
    """The production set-up: a Redis cache shared by every process (db 11 is ours)."""
    import redis

    url = "redis://127.0.0.1:6379/11"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    settings.TOKEN_CACHE_SECONDS = 30
    server = redis.Redis.from_url(url)  # stands for another process: a connection of its own
    server.flushdb()
    yield server
    server.flushdb()


def _token_client(make_user, capsys, username: str) -> tuple[Client, ApiToken]:
    make_user(username, "leader", "440300")
    call_command("token", username)
    clear = capsys.readouterr().out.strip().splitlines()[-1]
    return Client(headers={"Authorization": f"Bearer {clear}"}), ApiToken.objects.get(
        user__username=username
    )


def test_a_token_revoked_by_another_process_is_refused_on_the_next_call(
    make_user, capsys, redis_cache
):
    """A process keeps the tokens it has seen in memory, yet a revocation made anywhere
    else (the database row, then the shared cache entry deleted) is refused at once."""
    from django.core.cache import cache
    from django.utils import timezone

    from civicgrid.accounts import token_cache
    from civicgrid.accounts.services import token_cache_key

    client, token = _token_client(make_user, capsys, "far")
    assert client.get("/api/v1/me").json()["username"] == "far"
    assert client.get("/api/v1/me").json()["username"] == "far"
    key = cache.make_key(token_cache_key(token.digest))
    assert key in token_cache.tracker().entries  # served from this process's copy now
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert client.get("/api/v1/me").status_code == 200  # the copy, as the shared cache
    redis_cache.delete(key)  # what revoke_token does in the other process
    assert client.get("/api/v1/me").status_code == 401
    assert key not in token_cache.tracker().entries


def test_the_process_copy_follows_user_changes_and_cache_flushes(make_user, capsys, redis_cache):
    from civicgrid.accounts import services as accounts
    from civicgrid.accounts.backends import forget_permissions

    client, token = _token_client(make_user, capsys, "near")
    for _ in range(2):
        assert client.get("/api/v1/me").json()["jurisdiction"]["code"] == "440300"
    accounts.save_user("test", "near", role="leader", region_code="440305")
    assert client.get("/api/v1/me").json()["jurisdiction"]["code"] == "440305"
    User.objects.filter(pk=token.user_id).update(is_active=False)
    redis_cache.flushdb()  # a flush drops every copy too
    assert client.get("/api/v1/me").status_code == 401
    User.objects.filter(pk=token.user_id).update(is_active=True)
    forget_permissions(token.user_id)
    assert client.get("/api/v1/me").status_code == 200
    User.objects.filter(pk=token.user_id).update(is_active=False)
    forget_permissions(token.user_id)
    assert client.get("/api/v1/me").status_code == 401


def test_without_its_tracking_connection_the_process_keeps_no_copy(make_user, capsys, redis_cache):
    """If Redis cannot tell the process about changes, every call asks the shared cache."""
    from civicgrid.accounts import token_cache

    client, token = _token_client(make_user, capsys, "cut")
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    local = token_cache.tracker()
    assert local.entries
    redis_cache.client_kill_filter(_type="normal", skipme=True)  # every other connection
    assert client.get("/api/v1/me").status_code == 200  # from the shared cache / database
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)
    redis_cache.delete(*redis_cache.keys("*token:*"))
    assert client.get("/api/v1/me").status_code == 401


def test_without_tracking_every_call_asks_the_shared_cache_and_retries_only_later(
    make_user, capsys, redis_cache, monkeypatch
):
    """A Redis that refuses tracking (or is unreachable for it): no copy is kept, calls
    still work through the shared cache, and the connection is not retried on every call."""
    import redis

    from civicgrid.accounts import token_cache

    plain = redis.ConnectionPool.make_connection
    attempts = []

    def refuse_tracking(pool):  # the tracking connection is the only RESP3 one
        if pool.connection_kwargs.get("protocol") == 3:
            attempts.append(pool)
            raise redis.ConnectionError("unknown command 'CLIENT'")
        return plain(pool)

    monkeypatch.setattr(redis.ConnectionPool, "make_connection", refuse_tracking)
    client, token = _token_client(make_user, capsys, "old")
    local = token_cache.tracker()
    local._drop()
    for _ in range(3):
        assert client.get("/api/v1/me").status_code == 200
    assert local.conn is None and not local.entries
    assert len(attempts) == 1
    assert local.retry_at > time.monotonic() + token_cache.RETRY_SECONDS - 5
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)
    redis_cache.delete(*redis_cache.keys("*token:*"))
    assert client.get("/api/v1/me").status_code == 401
