"""Lean multi-row writes for hot paths (order ingestion, reservations).

The ORM spends about a millisecond of CPU building and compiling each statement; on a
path that writes an order, its lines, reservations, allocations and timeline rows in one
request that is most of the request. These helpers write model instances with one
hand-built statement each, preparing every value exactly as the ORM's insert compiler
does (`field.pre_save` then `get_db_prep_save`), so defaults, `auto_now_add`, JSON
encoders and time zones behave the same. The SQL is portable between PostgreSQL and
SQLite (≥ 3.35: `RETURNING`, `ON CONFLICT DO NOTHING`).

Statements go through `cursor()`: on PostgreSQL it binds parameters server-side, so
psycopg prepares a statement that a connection keeps running (after a few executions it
is parsed and planned once, not once per order), and the database spends less on each.

No signals are sent (as with `bulk_create`): callers use them only for models whose
creation needs no receiver (history starts at the first change after creation).
"""

from contextlib import contextmanager
from functools import cache, lru_cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


def cursor():
    """A cursor for hand-written hot-path statements.

    On PostgreSQL: a psycopg cursor with server-side parameter binding (so statements
    the connection repeats are prepared), wrapped like Django's own cursors: query
    logging, execute wrappers, query counts and error translation all see it. Elsewhere
    (SQLite for `make run`): Django's cursor.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the proxy costs per attribute
    if db.vendor != "postgresql" or not settings.FASTSQL_SERVER_BINDING:
        return db.cursor()
    import psycopg

    db.close_if_health_check_failed()
    db.ensure_connection()
    raw = db.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's automatic preparation off (for connection poolers); its
        # own cursors bind client-side and never prepare, so this affects only these.
        raw.prepare_threshold = PREPARE_THRESHOLD
    db.validate_thread_sharing()
    kept = getattr(db, "_fastsql_cursor", None)
    if kept is None or kept[0] is not raw:
        # One psycopg cursor per connection, kept: creating one costs more than a statement.
        kept = db._fastsql_cursor = (raw, psycopg.Cursor(raw))
    if db.queries_logged:
        return _KeptDebugCursor(kept[1], db)
    return _KeptCursor(kept[1], db)


class _KeptCursor(CursorWrapper):
    def __exit__(self, *exc_info):
        pass  # the psycopg cursor stays open for the connection's next statement


class _KeptDebugCursor(_KeptCursor, CursorDebugWrapper):
    """Logs the statement as written (psycopg keeps no composed text for a prepared one)."""

    def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
        return super().debug_sql(sql, params, use_last_executed_query=False, many=many)


PREPARE_THRESHOLD = 2  # executions before psycopg prepares a statement (keeps 100)


@lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int, suffix: str) -> str:
    quote = connection.ops.quote_name
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return (
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES {', '.join([placeholders] * rows)}{suffix}"
    )


# Fields whose database value is the Python value itself (no conversion on any backend).
_PLAIN = (
    models.CharField,
    models.TextField,
    models.EmailField,
    models.SlugField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
    models.BooleanField,
)


def _is_plain(field) -> bool:
    if isinstance(field, models.ForeignKey):
        return type(field.target_field) in (models.AutoField, models.BigAutoField)
    return type(field) in _PLAIN


@cache
def _insert_plan(model, with_pk: bool = False) -> tuple[list, tuple[str, ...]]:
    """(attname or field to prepare, …) and the column names, once per model."""
    fields = [
        f for f in model._meta.concrete_fields if with_pk or not f.primary_key or f.has_default()
    ]
    steps = [f.attname if _is_plain(f) else f for f in fields]
    return steps, tuple(f.column for f in fields)


@cache
def _array_casts(model, with_pk: bool = False) -> tuple[str, ...] | None:
    """Each inserted column's array type on PostgreSQL with server-side binding (None
    elsewhere, or when a column's type has no plain array form, e.g. JSON)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or not settings.FASTSQL_SERVER_BINDING:
        return None
    fields = [
        f for f in model._meta.concrete_fields if with_pk or not f.primary_key or f.has_default()
    ]
    types = [f.cast_db_type(db) for f in fields]
    if any(not t or "json" in t or "serial" in t for t in types):
        return None
    return tuple(f"{t}[]" for t in types)


@lru_cache(maxsize=128)
def _unnest_insert_sql(table: str, columns: tuple[str, ...], casts: tuple[str, ...], suffix):
    quote = connection.ops.quote_name
    arrays = ", ".join(f"%s::{cast}" for cast in casts)
    return (
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
        f"SELECT * FROM unnest({arrays}){suffix}"
    )


def _row(obj, steps, db) -> list:
    values = []
    for step in steps:
        if type(step) is str:
            values.append(getattr(obj, step))
        else:
            values.append(step.get_db_prep_save(step.pre_save(obj, True), db))
    return values


def insert(
    objs: list,
    *,
    on_conflict_do_nothing: bool = False,
    returning: bool = True,
    with_pk: bool = False,
) -> list:
    """INSERT `objs` (instances of one model) in one statement; sets each one's primary key.

    With `on_conflict_do_nothing`, rows that hit a unique constraint are skipped: their
    objects keep `pk = None` (one object per statement, so which one was skipped is known).
    With `returning=False` no key comes back (nothing waits for the answer inside a
    `pipeline()`); `with_pk` writes the primary keys the objects carry (drawn with
    `next_id`) instead of letting the database assign them. Returns the objects written.
    """
    if not objs:
        return []
    if on_conflict_do_nothing and len(objs) != 1:
        raise ValueError("on_conflict_do_nothing writes one object at a time")
    model = type(objs[0])
    meta = model._meta
    steps, columns = _insert_plan(model, with_pk)
    db = connections[DEFAULT_DB_ALIAS]
    params = []
    for obj in objs:
        params.extend(_row(obj, steps, db))
    pk = meta.pk
    suffix = (" ON CONFLICT DO NOTHING" if on_conflict_do_nothing else "") + (
        f" RETURNING {db.ops.quote_name(pk.column)}" if returning or on_conflict_do_nothing else ""
    )
    casts = _array_casts(model, with_pk) if len(objs) > 1 else None
    if casts:
        # One array per column: the statement's text (and the statement PostgreSQL has
        # prepared for it) is the same however many rows are written.
        width = len(columns)
        params = [params[index::width] for index in range(width)]
        sql = _unnest_insert_sql(meta.db_table, columns, casts, suffix)
    else:
        sql = _insert_sql(meta.db_table, columns, len(objs), suffix)
    if not (returning or on_conflict_do_nothing):
        with cursor() as cur:
            cur.execute(sql, params)
        for obj in objs:
            obj._state.adding, obj._state.db = False, db.alias
        return objs
    with cursor() as cur:
        cur.execute(sql, params)
        ids = [row[0] for row in cur.fetchall()]
    if on_conflict_do_nothing and not ids:
        return []
    for obj, value in zip(objs, ids, strict=True):
        setattr(obj, pk.attname, value)
        obj._state.adding = False
        obj._state.db = db.alias
    return objs


def insert_new(objs: list, *, key: str) -> list:
    """INSERT … ON CONFLICT DO NOTHING of `objs` (one model, `key` a unique field): one
    statement for all of them. The objects written get their primary key and are
    returned; those whose key was already taken keep `pk = None`."""
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    steps, columns = _insert_plan(model)
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    field = meta.get_field(key)
    params = []
    for obj in objs:
        params.extend(_row(obj, steps, db))
    suffix = f" ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}, {quote(field.column)}"
    with cursor() as cur:
        cur.execute(_insert_sql(meta.db_table, columns, len(objs), suffix), params)
        written = dict((value, pk) for pk, value in cur.fetchall())
    created = []
    for obj in objs:
        pk = written.pop(getattr(obj, field.attname), None)
        if pk is not None:
            setattr(obj, meta.pk.attname, pk)
            obj._state.adding, obj._state.db = False, db.alias
            created.append(obj)
    return created


def update(obj, fields: list[str]) -> None:
    """UPDATE one row's `fields` from the instance (no signals, no history row)."""
    meta = type(obj)._meta
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    targets = [meta.get_field(name) for name in fields]
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "
        + ", ".join(f"{quote(f.column)} = %s" for f in targets)
        + f" WHERE {quote(meta.pk.column)} = %s"
    )
    params = [f.get_db_prep_save(f.pre_save(obj, False), db) for f in targets]
    with cursor() as cur:
        cur.execute(sql, [*params, obj.pk])


def insert_keys(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT … ON CONFLICT DO NOTHING of `rows` (values of `fields`, primary key included,
    prepared as the ORM does): a work queue whose rows are keys that may already be there."""
    insert_values(model, fields, rows, on_conflict_do_nothing=True)


def insert_values(
    model,
    fields: tuple[str, ...],
    rows: list[tuple],
    *,
    returning: bool = False,
    on_conflict_do_nothing: bool = False,
) -> list | None:
    """INSERT `rows` — tuples of values for `fields`, with no model instances built (no
    defaults, no `pre_save`: the caller gives every value) — in one statement; each value
    is prepared for the database as the ORM would (plain columns as they are). With
    `returning`, the new primary keys come back in the order of `rows`."""
    if not rows:
        return [] if returning else None
    meta = model._meta
    db = connections[DEFAULT_DB_ALIAS]
    targets = _fields(model, fields)
    columns = tuple(f.column for f in targets)
    suffix = (" ON CONFLICT DO NOTHING" if on_conflict_do_nothing else "") + (
        f" RETURNING {db.ops.quote_name(meta.pk.column)}" if returning else ""
    )
    prepare = [None if _is_plain(f) else f for f in targets]
    casts = _column_casts(model, fields) if len(rows) > 1 else None
    if casts:
        params = [
            list(column) if field is None else [field.get_db_prep_save(v, db) for v in column]
            for field, column in zip(prepare, zip(*rows, strict=True), strict=True)
        ]
        sql = _unnest_insert_sql(meta.db_table, columns, casts, suffix)
    else:
        params = [
            value if field is None else field.get_db_prep_save(value, db)
            for row in rows
            for field, value in zip(prepare, row, strict=True)
        ]
        sql = _insert_sql(meta.db_table, columns, len(rows), suffix)
    with cursor() as cur:
        cur.execute(sql, params)
        if returning:
            return [row[0] for row in cur.fetchall()]
    return None


@cache
def _fields(model, names: tuple[str, ...]) -> list:
    return [model._meta.get_field(name) for name in names]


@cache
def _column_casts(model, names: tuple[str, ...]) -> tuple[str, ...] | None:
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or not settings.FASTSQL_SERVER_BINDING:
        return None
    types = [f.cast_db_type(db) for f in _fields(model, names)]
    if any(not t or "json" in t or "serial" in t for t in types):
        return None
    return tuple(f"{t}[]" for t in types)


def update_rows(model, rows, fields: list[str]) -> None:
    """One UPDATE per (locked) row of `fields` from the instances, sent together: for the
    few rows a movement or a parcel touches this is cheaper than `bulk_update`'s CASE
    expressions, and one round trip however many. Values are prepared as the ORM does; no
    signals, no history rows (callers of models with history record it themselves)."""
    rows = list(rows)
    if not rows:
        return
    meta = model._meta
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    targets = [meta.get_field(name) for name in fields]
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "
        + ", ".join(f"{quote(f.column)} = %s" for f in targets)
        + f" WHERE {quote(meta.pk.column)} = %s"
    )
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), db) for f in targets] + [row.pk]
        for row in rows
    ]
    with db.cursor() as cur:
        cur.executemany(sql, params)


def set_by_pk(model, field_name: str, values: dict, *, touch: str | None = None) -> None:
    """Set one column on many rows (pk → value) with a single UPDATE … CASE, and `touch`
    (a timestamp column) to now."""
    if not values:
        return
    from django.utils import timezone

    meta = model._meta
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    field = meta.get_field(field_name)
    ids = sorted(values)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {quote(field.column)} = CASE {quote(meta.pk.column)} "
        + " ".join(["WHEN %s THEN %s"] * len(ids))
        + " END"
    )
    params = [value for pk in ids for value in (pk, field.get_db_prep_save(values[pk], db))]
    if touch:
        sql += f", {quote(meta.get_field(touch).column)} = %s"
        params.append(db.ops.adapt_datetimefield_value(timezone.now()))
    sql += f" WHERE {quote(meta.pk.column)} IN ({in_list(ids)})"
    with cursor() as cur:
        cur.execute(sql, [*params, *ids])


def next_id(model) -> int | None:
    """Draw the next primary key of `model` from its PostgreSQL sequence (None elsewhere):
    a document number can then be derived from the id before the row is written."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return None
    with db.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [model._meta.db_table])
        return cur.fetchone()[0]


@contextmanager
def pipeline():
    """Send the block's statements without waiting for each answer (PostgreSQL pipeline
    mode): a statement whose result is fetched waits for everything sent before it, the
    others are answered together at the end of the block, where an error raises (as
    Django's exception) and the surrounding transaction rolls back. Elsewhere: nothing."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or not settings.FASTSQL_SERVER_BINDING:
        yield
        return
    db.ensure_connection()
    with db.wrap_database_errors, db.connection.pipeline():
        yield


def in_list(values) -> str:
    """`%s, %s, …` for an IN (…) of `values` (callers refuse empty lists first)."""
    return ", ".join(["%s"] * len(values))


def copy_rows(model, fields: tuple[str, ...], rows) -> int:
    """Bulk-load `rows` (tuples of values for `fields` — field names or attnames; a
    foreign key takes the related row's id — that the database takes as they are: ints,
    str, Decimal, dates, None) with COPY on PostgreSQL, `bulk_create` elsewhere. For large
    set-based writes (a replenishment run's proposal lines, a settlement's lines) where
    the ORM's per-value preparation costs more than the database does. No signals.
    Returns the number of rows written."""
    rows = list(rows)
    if not rows:
        return 0
    db = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    if db.vendor != "postgresql":
        attnames = [meta.get_field(name).attname for name in fields]
        model.objects.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=1000
        )
        return len(rows)
    quote = db.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    db.ensure_connection()
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    with db.wrap_database_errors, db.connection.cursor() as raw, raw.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


@cache
def _select_plan(model) -> tuple[tuple[str, ...], tuple[str, ...], tuple]:
    """(attnames, columns, (index, converters) of the fields the database's value is not
    the Python value of), once per model: what `column_list`/`build` need to load a row as the
    ORM does."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = model._meta.concrete_fields
    converting = []
    for index, field in enumerate(fields):
        converters = db.ops.get_db_converters(field.cached_col) + field.get_db_converters(db)
        if converters:
            converting.append((index, field.cached_col, tuple(converters)))
    return (
        tuple(f.attname for f in fields),
        tuple(f.column for f in fields),
        tuple(converting),
    )


@cache
def column_list(model, alias: str) -> str:
    """Every column of `model` qualified by `alias`, in field order, for a hand-written
    SELECT whose rows `build` turns into instances."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(column)}" for column in _select_plan(model)[1])


def width(model) -> int:
    """How many values `column_list(model, …)` selects."""
    return len(_select_plan(model)[0])


def build(model, row, start: int = 0):
    """An instance of `model` from `row[start:start + width(model)]` (selected with
    `column_list`), with the values converted as the ORM converts them."""
    attnames, _columns, converting = _select_plan(model)
    values = list(row[start : start + len(attnames)])
    if converting:
        db = connections[DEFAULT_DB_ALIAS]
        for index, expression, converters in converting:
            for converter in converters:
                values[index] = converter(values[index], expression, db)
    return model.from_db(DEFAULT_DB_ALIAS, attnames, values)


def for_update(of: str) -> str:
    """` FOR UPDATE OF <of>` where the database locks rows (not SQLite)."""
    if not connections[DEFAULT_DB_ALIAS].features.has_select_for_update:
        return ""
    return f" FOR UPDATE OF {of}"


_HISTORY_OWN = ("history_date", "history_type", "history_change_reason", "history_user")


@cache
def _history_plan(model) -> tuple:
    """The historical model's table, columns and, per column, where its value comes from
    (a field of the instance, one of the history row's own, a default) and the field to
    prepare it with (None when the value goes as it is)."""
    history_model = getattr(model, model._meta.simple_history_manager_attribute).model
    tracked = {f.attname for f in history_model.tracked_fields}
    steps, columns_ = [], []
    for field in history_model._meta.concrete_fields:
        if field.primary_key and not field.has_default():
            continue
        if field.name in _HISTORY_OWN:
            source = ("own", _HISTORY_OWN.index(field.name))
        elif field.attname in tracked:
            source = ("obj", field.attname)
        else:
            source = ("default", field.get_default())
        steps.append((source, None if _is_plain(field) else field))
        columns_.append(field.column)
    return history_model._meta.db_table, tuple(columns_), steps


def insert_history(
    objs: list, *, actor, history_type: str = "~", reason: str | None = None
) -> None:
    """The history rows django-simple-history would write for `objs` (instances of one
    model with `HistoricalRecords`, as they now are: after a save, "~"; after a create,
    "+"), in one INSERT, without its per-instance manager, historical instances or ORM
    insert. The user is the object's own `_history_user`, else `actor`; the change reason
    the object's own `_change_reason`, else `reason` (none: NULL, as simple_history). The
    project has no receivers of simple_history's create-record signals: none are sent."""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    from django.utils import timezone

    table, columns_, steps = _history_plan(type(objs[0]))
    db = connections[DEFAULT_DB_ALIAS]
    now = timezone.now()
    params = []
    for obj in objs:
        user = getattr(obj, "_history_user", actor)
        own = (
            getattr(obj, "_history_date", now),
            history_type,
            getattr(obj, "_change_reason", None) or reason,
            user.pk if user is not None else None,
        )
        for (kind, key), field in steps:
            if kind == "obj":
                value = getattr(obj, key)
            elif kind == "own":
                value = own[key]
            else:
                value = key
            params.append(value if field is None else field.get_db_prep_save(value, db))
    with cursor() as cur:
        cur.execute(_insert_sql(table, columns_, len(objs), ""), params)


def update_with_history(obj, fields: list[str], *, actor, reason: str | None = None) -> None:
    """`obj.save(update_fields=fields)` with its history row, as two hand-built statements
    (no signals: the project has no receivers on the models that use it)."""
    update(obj, fields)
    insert_history([obj], actor=actor, reason=reason)


@lru_cache(maxsize=256)
def _select_sql(model, where: str, order_by: str) -> str:
    sql = (
        f"SELECT {column_list(model, 't')} FROM {connection.ops.quote_name(model._meta.db_table)} t"
    )
    sql += f" WHERE {where}" if where else ""
    return sql + (f" ORDER BY {order_by}" if order_by else "")


def select(model, where: str = "", params=(), *, order_by: str = "") -> list:
    """Instances of `model` whose row (alias `t`) matches `where` — every column loaded,
    as the ORM loads them — through one prepared statement: for the small reads a hot
    path repeats (a node, the boxes in use), whose ORM query costs more to compile than
    to run."""
    with cursor() as cur:
        cur.execute(_select_sql(model, where, order_by), list(params))
        return [build(model, row) for row in cur.fetchall()]


def update_values(model, rows, fields: list[str]) -> None:
    """Write `fields` of several rows (instances of `model`) from the instances with one
    UPDATE … FROM (VALUES …): one statement however many rows, and none of the CASE
    expressions `bulk_update` compiles per row and field. Values are prepared as the ORM
    does; no signals, no history rows (`update_many_with_history` writes them)."""
    rows = list(rows)
    if not rows:
        return
    meta = model._meta
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":  # SQLite names no columns of a VALUES list
        update_rows(model, rows, fields)
        return
    targets = [meta.pk] + [meta.get_field(name) for name in fields]
    params = []
    for row in rows:
        params.append(row.pk)
        params += [f.get_db_prep_save(getattr(row, f.attname), db) for f in targets[1:]]
    with cursor() as cur:
        cur.execute(_update_values_sql(model, tuple(fields), len(rows)), params)


@lru_cache(maxsize=64)
def _update_values_sql(model, fields: tuple[str, ...], rows: int) -> str:
    meta = model._meta
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    targets = [meta.pk] + [meta.get_field(name) for name in fields]
    # Typed without length or precision: an explicit cast would truncate or round a value
    # the column refuses, the assignment checks it as any UPDATE does.
    casts = "(" + ", ".join(f"CAST(%s AS {_bare_type(f, db)})" for f in targets) + ")"
    names = ", ".join(f"c{n}" for n in range(len(targets)))
    return (
        f"UPDATE {quote(meta.db_table)} SET "
        + ", ".join(f"{quote(f.column)} = v.c{n}" for n, f in enumerate(targets) if n)
        + f" FROM (VALUES {', '.join([casts] * rows)}) AS v({names})"
        + f" WHERE {quote(meta.db_table)}.{quote(meta.pk.column)} = v.c0"
    )


def update_many_with_history(
    objs: list, fields: list[str], *, actor, reason: str | None = None
) -> None:
    """`bulk_update_with_history(objs, model, fields, default_user=actor)` in two
    hand-built statements: one UPDATE for every row, one INSERT of their history rows."""
    if not objs:
        return
    update_values(type(objs[0]), objs, fields)
    insert_history(objs, actor=actor, reason=reason)


def _bare_type(field, db) -> str:
    return field.cast_db_type(db).split("(")[0].strip()
