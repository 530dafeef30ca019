//! The little of OData's `$filter` that the ARM and Graph routes accept: `field eq 'literal'`
//! clauses and function calls joined by `and`. Each route decides which clauses it knows and
//! refuses the rest: a filter that is ignored answers with everything, and clients act on the
//! first answer.

/// The `$filter` of a query string, decoded; `None` when there is none.
pub(crate) fn filter(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(key, _)| key == "$filter")
        .map(|(_, filter)| filter.into_owned())
}

/// The clauses of a filter joined by ` and `, trimmed.
pub(crate) fn clauses(filter: &str) -> impl Iterator<Item = &str> {
    filter.split(" and ").map(str::trim)
}

/// `field eq 'literal'` as (field, literal); `None` for any other shape.
pub(crate) fn equality(clause: &str) -> Option<(&str, String)> {
    let (field, value) = clause.split_once(" eq ")?;
    Some((field.trim(), string_literal(value)?))
}

/// A quoted OData string literal, unquoted: `'it''s'` is `it's`. `None` when the text is not
/// exactly one literal (`'x' or appId eq 'y'` is more than one: a lone quote ends it).
pub(crate) fn string_literal(text: &str) -> Option<String> {
    let inner = text.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_equalities() {
        assert_eq!(string_literal(" 'it''s' ").as_deref(), Some("it's"));
        assert_eq!(string_literal("''").as_deref(), Some(""));
        assert_eq!(string_literal("'x' or appId eq 'y'"), None);
        assert_eq!(string_literal("x"), None);
        assert_eq!(
            equality("roleName eq 'Reader'"),
            Some(("roleName", "Reader".to_owned()))
        );
        assert_eq!(equality("roleName ne 'Reader'"), None);
        let all: Vec<&str> = clauses(" a eq 'b' and  atScope() ").collect();
        assert_eq!(all, ["a eq 'b'", "atScope()"]);
        assert_eq!(
            filter(Some("api-version=1&%24filter=name%20eq%20%27v%27")).as_deref(),
            Some("name eq 'v'")
        );
        assert_eq!(filter(Some("api-version=1")), None);
    }
}
