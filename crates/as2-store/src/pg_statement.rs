//! A PostgreSQL statement written as a query type of its own, for the hot paths where one
//! statement does the work of several: one SQL text whatever the bound values, so diesel
//! prepares it once per connection (`sql_query` is parsed and planned by the server at
//! every execution).

/// Makes `$statement<'_>` (a type implementing `QueryFragment<Pg>` that writes one SQL text
/// whatever its values) a query diesel runs on a `PgConnection` and keeps prepared.
macro_rules! prepared_pg_statement {
    ($statement:ident) => {
        impl diesel::query_builder::QueryId for $statement<'_> {
            type QueryId = $statement<'static>;
            // one SQL text whatever the values: prepared once per connection
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::Query for $statement<'_> {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl diesel::RunQueryDsl<diesel::PgConnection> for $statement<'_> {}
    };
}
pub(crate) use prepared_pg_statement;
