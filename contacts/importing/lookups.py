"""`field__any_of=[...]`: membership in a long list, sent as one array parameter on PostgreSQL.

`__in` with thousands of values makes a statement with thousands of placeholders, which psycopg binds
(client-side, Django's default) and PostgreSQL plans, value by value: for the import's batches of 5,000
keys that cost more than the lookups themselves. `= ANY(%s)` with one array costs nothing of the sort.
Other databases get the plain `IN (...)`.

Give the values as a set (or a dict, any iterable but a list or a tuple): Django goes through a list or a
tuple value by value before a lookup sees it, which for thousands of keys costs milliseconds a query.
"""

from django.db.models import CharField, Field, ForeignObject, Lookup, TextField


def text_array(values: list) -> str | None:
    """Strings as one PostgreSQL array literal, `{"a","b \\"c\\""}`; None when they are not all strings.

    psycopg adapts a list element by element in Python (milliseconds for a batch of keys); this is a few
    string operations in C. NUL, which PostgreSQL text cannot hold, stands for the commas meanwhile.
    """
    try:
        joined = "\0".join(values)
    except TypeError:
        return None
    if joined.count("\0") != len(values) - 1:
        return None
    return '{"' + joined.replace("\\", "\\\\").replace('"', '\\"').replace("\0", '","') + '"}'


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            if values and isinstance(self.lhs.output_field, CharField | TextField):
                literal = text_array(values)
                if literal is not None:
                    # In a sub-select the planner cannot count the keys and goes by the index, where seeing
                    # thousands it would read the whole table (5 to 10 times slower at 100,000 rows); cast
                    # again, or ANY() would take the sub-select for a set of rows.
                    return f"{lhs} = ANY((SELECT %s::text[])::text[])", [*lhs_params, literal]
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys have lookups of their own
