"""Sessions kept on the server. The cookie holds only a random token; the data (the
signed-in account, the CSRF token, the language) lives in the database, or in Redis
when SESSION_REDIS_URL is set, under the token's hash. So signing out really ends a
session, an account's sessions can all be ended at once, and a cookie forged with a
leaked secret key opens nothing.

Every session ends 12 hours after sign-in; a staff session also after 30 minutes
without an action (polls do not count as actions)."""
import datetime as dt
import hashlib
import re
import secrets

from flask import current_app, request, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from peewee import JOIN, InterfaceError, OperationalError
from werkzeug.datastructures import CallbackDict

from models import User, WebSession, utcnow
from models.base import Prepared, slot
from web.readiness import is_probe

LIFETIME = dt.timedelta(hours=12)
STAFF_IDLE = dt.timedelta(minutes=30)
TOUCH_EVERY = dt.timedelta(minutes=1)  # seen_at is written at most this often
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
serializer = TaggedJSONSerializer()


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


class StoreUnavailable(Exception):
    """The session store (the database or Redis) did not answer."""


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, data=None, token=None, created_at=None, seen_at=None):
        def on_update(self):
            self.modified = True
            self.accessed = True
        super().__init__(data, on_update)
        self.token = token
        self.created_at = created_at
        self.seen_at = seen_at
        self.modified = False
        self.rotate = False
        self.unavailable = None  # why the store could not be read, if it could not
        self.account = None  # the signed-in User, when the store read it with the session

    def regenerate(self):
        """A new token at sign-in: a token seen before it (session fixation) is dead."""
        self.rotate = True
        self.modified = True

    def expired(self, now):
        return is_expired(self.created_at, self.seen_at, bool(self.get("_staff")), now)


def is_expired(created_at, seen_at, staff, now):
    """12 hours after sign-in for everyone; 30 minutes without an action for staff."""
    return now - created_at > LIFETIME or (staff and now - seen_at > STAFF_IDLE)


def is_poll():
    """A page refreshing itself (the status panel, the queue), not a person acting."""
    return "X-Shown-Version" in request.headers


def cookie_name(config, secure):
    """The session cookie's name: with the `__Host-` prefix when the cookie is Secure
    (HTTPS, or SESSION_COOKIE_SECURE), for the whole site and no domain, so the
    browser refuses one planted by a sub-domain or over plain HTTP."""
    name = config["SESSION_COOKIE_NAME"]
    whole_site = config.get("SESSION_COOKIE_PATH") in (None, "/") and not config.get("SESSION_COOKIE_DOMAIN")
    return f"__Host-{name}" if secure and whole_site else name


class ServerSessionInterface(SessionInterface):
    def __init__(self, store):
        self.store = store

    def get_cookie_name(self, app):
        return cookie_name(app.config, self.secure(app))

    def secure(self, app):
        return self.get_cookie_secure(app) or request.is_secure

    def open_session(self, app, request):
        token = request.cookies.get(self.get_cookie_name(app), "")
        if not TOKEN.fullmatch(token):
            return ServerSession()
        try:
            record = self.store.load(token_hash(token))
        except self.store.unavailable as error:
            # An empty session, so the error page can still be drawn; refuse_if_unavailable
            # turns the error into a 503 once the request is being handled.
            session = ServerSession()
            session.unavailable = error
            return session
        if record is None:
            return ServerSession()
        data, created_at, seen_at, account = record
        session = ServerSession(serializer.loads(data), token, created_at, seen_at)
        session.account = account  # read with the session: the user loader needs no query of its own
        if session.expired(utcnow()):
            self.store.delete(token_hash(token))
            return ServerSession()
        return session

    def save_session(self, app, session, response):
        if session.unavailable or response.status_code == 503:
            return  # the store is not answering: nothing to save, and the cookie stays as it is
        try:
            self._save(app, session, response)
        except self.store.unavailable as error:
            raise StoreUnavailable() from error  # drawn as a 503 (web/errors.py)

    def _save(self, app, session, response):
        """Store what changed: a new session gets a new token (and cookie), an emptied
        one is deleted (and its cookie), an unchanged one is only marked as seen."""
        if session.accessed:
            response.vary.add("Cookie")
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if session.token and (session.rotate or not session):
            self.store.delete(token_hash(session.token))
            session.token = None
            if not session:
                response.delete_cookie(name, domain=domain, path=path)
                return
        now = utcnow()
        if session.token is None and session:
            session.token = secrets.token_urlsafe(32)
            self.store.create(token_hash(session.token), self.dumps(session), user_id(session), now)
            response.set_cookie(name, session.token, domain=domain, path=path, httponly=self.get_cookie_httponly(app),
                                secure=self.secure(app),
                                samesite=self.get_cookie_samesite(app))
        elif session.token and session.modified:
            seen_at = session.seen_at if is_poll() else now
            if not self.store.update(token_hash(session.token), self.dumps(session), seen_at):
                response.delete_cookie(name, domain=domain, path=path)  # ended meanwhile: never brought back
        elif session.token and now - session.seen_at > TOUCH_EVERY and not is_poll():
            self.store.touch(token_hash(session.token), now)

    @staticmethod
    def dumps(session):
        return serializer.dumps(dict(session))


def user_id(session):
    value = session.get("_user_id")
    return int(value) if value else None


SESSION_WITH_ACCOUNT = Prepared(lambda: WebSession.select(WebSession, User).join(User, JOIN.LEFT_OUTER)
                                .where(WebSession.token_hash == slot("key")).limit(1))


class DatabaseStore:
    """Sessions in the `websession` table of the app's database."""
    unavailable = (OperationalError, InterfaceError)

    def load(self, key):
        """(data, created, seen, the signed-in User or None), in one query."""
        row = SESSION_WITH_ACCOUNT.first(key=key)
        if row is None:
            return None
        return row.data, row.created_at, row.seen_at, row.user if row.user_id else None

    def create(self, key, data, user, now):
        WebSession.insert(token_hash=key, data=data, user=user, created_at=now, seen_at=now).execute()

    def update(self, key, data, seen_at):
        """Only a session that still exists: one ended by sign-out everywhere (or a
        password change) while this request ran stays ended. False when it is gone."""
        return WebSession.update(data=data, seen_at=seen_at).where(WebSession.token_hash == key).execute() == 1

    def touch(self, key, seen_at):
        WebSession.update(seen_at=seen_at).where(WebSession.token_hash == key).execute()

    def delete(self, key):
        WebSession.delete().where(WebSession.token_hash == key).execute()

    def end_all_of(self, user, keep=None):
        return WebSession.end_all_of(user, keep_token_hash=keep)

    def purge(self, now):
        """Rows of sessions that have expired (flask sessions purge)."""
        return WebSession.delete().where(WebSession.created_at < now - LIFETIME).execute()


class RedisStore:
    """Sessions in Redis: one hash per session, expiring with it, and a set of each
    account's sessions so they can all be ended at once."""

    def __init__(self, url, prefix="tawasul:"):
        import redis
        self.redis = redis.Redis.from_url(url, socket_timeout=5)
        self.prefix = prefix
        self.unavailable = (redis.ConnectionError, redis.TimeoutError)
        # HSET only while the session exists, in one step: an ended session stays ended.
        self.write_if_live = self.redis.register_script(
            "if redis.call('exists', KEYS[1]) == 0 then return 0 end "
            "redis.call('hset', KEYS[1], unpack(ARGV)) return 1")

    def _key(self, key):
        return f"{self.prefix}session:{key}"

    def _account(self, user):
        return f"{self.prefix}account-sessions:{user}"

    def load(self, key):
        found = self.redis.hgetall(self._key(key))
        if b"data" not in found:
            return None
        return (found[b"data"].decode(), dt.datetime.fromisoformat(found[b"created_at"].decode()),
                dt.datetime.fromisoformat(found[b"seen_at"].decode()), None)

    def create(self, key, data, user, now):
        pipe = self.redis.pipeline()
        pipe.hset(self._key(key), mapping=dict(data=data, created_at=now.isoformat(),
                                               seen_at=now.isoformat(), user=user or ""))
        pipe.expire(self._key(key), int(LIFETIME.total_seconds()))
        if user:
            pipe.sadd(self._account(user), key)
            pipe.expire(self._account(user), int(LIFETIME.total_seconds()))
        pipe.execute()

    def update(self, key, data, seen_at):
        return self.write_if_live(keys=[self._key(key)], args=["data", data, "seen_at", seen_at.isoformat()]) == 1

    def touch(self, key, seen_at):
        self.write_if_live(keys=[self._key(key)], args=["seen_at", seen_at.isoformat()])

    def delete(self, key):
        user = self.redis.hget(self._key(key), "user")
        pipe = self.redis.pipeline()
        pipe.delete(self._key(key))
        if user:
            pipe.srem(self._account(user.decode()), key)
        pipe.execute()

    def end_all_of(self, user, keep=None):
        keys = [k.decode() for k in self.redis.smembers(self._account(user)) if k.decode() != keep]
        pipe = self.redis.pipeline()
        for key in keys:
            pipe.delete(self._key(key))
            pipe.srem(self._account(user), key)
        pipe.execute()
        return len(keys)

    def purge(self, now):
        return 0  # Redis expires them itself


def init_app(app):
    url = app.config.get("SESSION_REDIS_URL")
    app.session_interface = ServerSessionInterface(RedisStore(url) if url else DatabaseStore())
    app.before_request(refuse_if_unavailable)


def refuse_if_unavailable():
    """The session could not be read: the error handler answers 503 (web/errors.py);
    not to /healthz and /readyz, which say themselves what answers."""
    if session.unavailable and not is_probe():
        raise StoreUnavailable() from session.unavailable


def end_sessions_of(user, keep_current=False):
    """End every session of `user` (a User or its id), here and on every server;
    keep_current spares the session of this request (a password change)."""
    interface = current_app.session_interface
    keep = None
    if keep_current:
        keep = token_hash(session.token) if session.token else None
    return interface.store.end_all_of(getattr(user, "id", user), keep=keep)

