"""`field__any_of=[...]`: membership in a long list, sent as one array parameter on PostgreSQL.

`__in` with thousands of values makes a statement with thousands of placeholders, which psycopg binds
(client-side, Django's default) and PostgreSQL plans, value by value: for the import's batches of 5,000
keys that cost more than the lookups themselves. `= ANY(%s)` with one array costs nothing of the sort.
Other databases get the plain `IN (...)`.
"""

from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys have lookups of their own
