//! Graph's `$filter` on service principals and applications, in the forms `az` sends:
//! `servicePrincipalNames/any(c:c eq 'X')` (how `az role assignment create --assignee APPID`
//! resolves an assignee), `identifierUris/any(s:s eq 'X')` (how `az ad app show` resolves a
//! name that is not a GUID; Strongroom's apps have no identifier URIs), `appId eq 'X'`,
//! `displayName eq 'X'`, `id eq 'X'`, and `startswith(displayName,'X')`. A filter in any other form is refused, never ignored: an
//! ignored filter answers with every principal, and a client that takes the first would act on
//! the wrong one.

use crate::arm::arm_error;
use crate::error::ApiError;
use crate::odata;
use axum::http::StatusCode;
use strongroom_store::PrincipalRow;

/// One supported clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PrincipalFilter {
    ServicePrincipalName(String),
    IdentifierUri(String),
    AppId(String),
    DisplayName(String),
    Id(String),
    DisplayNameStartsWith(String),
}

impl PrincipalFilter {
    pub(super) fn parse(filter: &str) -> Result<Self, ApiError> {
        let filter = filter.trim();
        let quoted = odata::string_literal;
        for (collection, clause) in [
            (
                "servicePrincipalNames",
                Self::ServicePrincipalName as fn(String) -> Self,
            ),
            ("identifierUris", Self::IdentifierUri),
        ] {
            if let Some(rest) = filter.strip_prefix(collection)
                && let Some(rest) = rest.strip_prefix("/any(")
                && let Some(body) = rest.strip_suffix(')')
                && let Some((variable, condition)) = body.split_once(':')
                && let Some((left, right)) = condition.split_once(" eq ")
                && left.trim() == variable.trim()
                && let Some(value) = quoted(right)
            {
                return Ok(clause(value));
            }
        }
        if let Some(rest) = filter.strip_prefix("startswith(")
            && let Some(body) = rest.strip_suffix(')')
            && let Some((field, value)) = body.split_once(',')
            && field.trim().eq_ignore_ascii_case("displayName")
            && let Some(value) = quoted(value)
        {
            return Ok(Self::DisplayNameStartsWith(value));
        }
        if let Some((field, value)) = odata::equality(filter) {
            match field {
                f if f.eq_ignore_ascii_case("appId") => return Ok(Self::AppId(value)),
                f if f.eq_ignore_ascii_case("displayName") => return Ok(Self::DisplayName(value)),
                f if f.eq_ignore_ascii_case("id") => return Ok(Self::Id(value)),
                _ => {}
            }
        }
        Err(arm_error(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            format!("Unsupported or invalid query filter clause specified: '{filter}'."),
        ))
    }

    /// Whether the directory object `id` (a service principal's object id, or its
    /// application's) of `principal` passes.
    pub(super) fn matches(&self, principal: &PrincipalRow, id: &str) -> bool {
        match self {
            // A principal's names are its app id (Azure adds identifier URIs Strongroom has not).
            Self::ServicePrincipalName(name) | Self::AppId(name) => {
                principal.app_id.eq_ignore_ascii_case(name)
            }
            Self::IdentifierUri(_) => false,
            Self::DisplayName(name) => principal.display_name == *name,
            Self::Id(wanted) => id.eq_ignore_ascii_case(wanted),
            Self::DisplayNameStartsWith(prefix) => principal
                .display_name
                .to_lowercase()
                .starts_with(&prefix.to_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_az_sends_parse_and_anything_else_is_refused() {
        let parse = |text: &str| PrincipalFilter::parse(text).ok();
        assert_eq!(
            parse("servicePrincipalNames/any(c:c eq '757fd8c7-1c99-4069-9249-2d98997ea337')"),
            Some(PrincipalFilter::ServicePrincipalName(
                "757fd8c7-1c99-4069-9249-2d98997ea337".to_owned()
            ))
        );
        assert_eq!(
            parse("identifierUris/any(s:s eq 'api://x')"),
            Some(PrincipalFilter::IdentifierUri("api://x".to_owned()))
        );
        assert_eq!(
            parse("appId eq 'abc'"),
            Some(PrincipalFilter::AppId("abc".to_owned()))
        );
        assert_eq!(
            parse("displayName eq 'it''s'"),
            Some(PrincipalFilter::DisplayName("it's".to_owned()))
        );
        assert_eq!(
            parse("startswith(displayName,'web')"),
            Some(PrincipalFilter::DisplayNameStartsWith("web".to_owned()))
        );
        for refused in [
            "",
            "appId ne 'x'",
            "servicePrincipalNames/any(c:d eq 'x')",
            "appId eq x",
            "tags/any(t:t eq 'x')",
            "appId eq 'x' or appId eq 'y'",
        ] {
            assert!(parse(refused).is_none(), "{refused:?}");
        }
    }
}
