//! Graph's `$filter`, in the forms clients send. On service principals and applications, the
//! forms `az` sends: `servicePrincipalNames/any(c:c eq 'X')` (how `az role assignment create
//! --assignee APPID` resolves an assignee), `identifierUris/any(s:s eq 'X')` (how `az ad app
//! show` resolves a name that is not a GUID; Strongroom's apps have no identifier URIs),
//! `appId eq 'X'`, `displayName eq 'X'`, `id eq 'X'`, and `startswith(displayName,'X')`. On
//! users ([`UserFilter`]): `eq` and `startswith` on their string properties and
//! `accountEnabled eq true|false`, joined by `and` (`az ad user list --upn U --display-name N`
//! sends both). A filter in any other form is refused, never ignored: an ignored filter answers
//! with every object, and a client that takes the first would act on the wrong one.

use crate::arm::arm_error;
use crate::error::ApiError;
use crate::odata;
use axum::http::StatusCode;
use strongroom_identity::UserAccount;
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
        Err(unsupported(filter))
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

fn unsupported(filter: &str) -> ApiError {
    arm_error(
        StatusCode::BAD_REQUEST,
        "Request_UnsupportedQuery",
        format!("Unsupported or invalid query filter clause specified: '{filter}'."),
    )
}

/// A user's string property that a filter may compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserField {
    Id,
    UserPrincipalName,
    DisplayName,
    GivenName,
    Surname,
    /// Always null in Strongroom (no mailboxes): nothing equals or starts with anything.
    Mail,
    MailNickname,
}

impl UserField {
    fn parse(name: &str) -> Option<Self> {
        Some(match name.trim() {
            f if f.eq_ignore_ascii_case("id") => Self::Id,
            f if f.eq_ignore_ascii_case("userPrincipalName") => Self::UserPrincipalName,
            f if f.eq_ignore_ascii_case("displayName") => Self::DisplayName,
            f if f.eq_ignore_ascii_case("givenName") => Self::GivenName,
            f if f.eq_ignore_ascii_case("surname") => Self::Surname,
            f if f.eq_ignore_ascii_case("mail") => Self::Mail,
            f if f.eq_ignore_ascii_case("mailNickname") => Self::MailNickname,
            _ => return None,
        })
    }

    fn value(self, user: &UserAccount) -> Option<String> {
        match self {
            Self::Id => Some(user.object_id().to_owned()),
            Self::UserPrincipalName => Some(user.user_principal_name.clone()),
            Self::DisplayName => Some(user.display_name().to_owned()),
            Self::GivenName => user.given_name.clone(),
            Self::Surname => user.surname.clone(),
            Self::Mail => None,
            Self::MailNickname => Some(super::users::mail_nickname(user).to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum UserClause {
    Equals(UserField, String),
    StartsWith(UserField, String),
    AccountEnabled(bool),
}

/// A `$filter` on users: every clause must hold. String comparisons ignore case, as Graph's
/// do on directory objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UserFilter(Vec<UserClause>);

impl UserFilter {
    pub(super) fn parse(filter: &str) -> Result<Self, ApiError> {
        let clauses = split_and(filter)
            .into_iter()
            .map(|clause| UserClause::parse(clause).ok_or_else(|| unsupported(filter.trim())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(clauses))
    }

    pub(super) fn matches(&self, user: &UserAccount) -> bool {
        self.0.iter().all(|clause| clause.matches(user))
    }
}

impl UserClause {
    fn parse(clause: &str) -> Option<Self> {
        if let Some(body) = strip_prefix_ignore_case(clause, "startswith(")
            && let Some(body) = body.strip_suffix(')')
            && let Some((field, value)) = body.split_once(',')
        {
            return Some(Self::StartsWith(
                UserField::parse(field)?,
                odata::string_literal(value)?,
            ));
        }
        let (field, value) = clause.split_once(" eq ")?;
        if field.trim().eq_ignore_ascii_case("accountEnabled") {
            return match value.trim() {
                "true" => Some(Self::AccountEnabled(true)),
                "false" => Some(Self::AccountEnabled(false)),
                _ => None,
            };
        }
        Some(Self::Equals(
            UserField::parse(field)?,
            odata::string_literal(value)?,
        ))
    }

    fn matches(&self, user: &UserAccount) -> bool {
        match self {
            Self::Equals(field, wanted) => field
                .value(user)
                .is_some_and(|value| value.to_lowercase() == wanted.to_lowercase()),
            Self::StartsWith(field, prefix) => field
                .value(user)
                .is_some_and(|value| value.to_lowercase().starts_with(&prefix.to_lowercase())),
            Self::AccountEnabled(enabled) => user.account_enabled == *enabled,
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The clauses of `filter` joined by ` and ` outside string literals (a display name may
/// contain " and "), trimmed.
fn split_and(filter: &str) -> Vec<&str> {
    let mut clauses = Vec::new();
    let mut in_literal = false;
    let mut start = 0;
    let bytes = filter.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            // A doubled quote inside a literal toggles twice: still inside.
            in_literal = !in_literal;
        } else if !in_literal && bytes[i..].starts_with(b" and ") {
            clauses.push(filter[start..i].trim());
            i += " and ".len();
            start = i;
            continue;
        }
        i += 1;
    }
    clauses.push(filter[start..].trim());
    clauses
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

    fn user(upn: &str, display_name: &str, enabled: bool) -> UserAccount {
        UserAccount {
            principal: PrincipalRow {
                object_id: "0c1d".to_owned(),
                app_id: upn.to_ascii_lowercase(),
                tenant_id: "t".to_owned(),
                display_name: display_name.to_owned(),
                kind: strongroom_identity::USER_KIND.to_owned(),
                is_admin: false,
                created: strongroom_model::UnixTime(0),
                credentials: Vec::new(),
            },
            user_principal_name: upn.to_owned(),
            account_enabled: enabled,
            given_name: Some("Ann".to_owned()),
            surname: None,
        }
    }

    #[test]
    fn user_filters_take_and_joined_clauses_and_ignore_case() {
        let ann = user("Ann@Contoso.com", "Ann and Bob", true);
        let matches = |text: &str| UserFilter::parse(text).map(|f| f.matches(&ann)).ok();
        assert_eq!(
            matches("userPrincipalName eq 'ann@contoso.com'"),
            Some(true)
        );
        assert_eq!(matches("startswith(displayName,'ann AND')"), Some(true));
        assert_eq!(
            matches(
                "userPrincipalName eq 'ann@contoso.com' and startswith(displayName,'Ann and B')"
            ),
            Some(true)
        );
        assert_eq!(matches("displayName eq 'Ann'"), Some(false));
        assert_eq!(matches("accountEnabled eq false"), Some(false));
        assert_eq!(
            matches("givenName eq 'ann' and accountEnabled eq true"),
            Some(true)
        );
        assert_eq!(matches("surname eq 'x'"), Some(false));
        assert_eq!(matches("mail eq 'ann@contoso.com'"), Some(false));
        assert_eq!(matches("mailNickname eq 'ANN'"), Some(true));
        assert_eq!(matches("id eq '0C1D'"), Some(true));
        for refused in [
            "",
            "jobTitle eq 'x'",
            "userPrincipalName ne 'x'",
            "accountEnabled eq 'true'",
            "userPrincipalName eq 'a' or userPrincipalName eq 'b'",
            "endswith(mail,'@contoso.com')",
        ] {
            assert!(UserFilter::parse(refused).is_err(), "{refused:?}");
        }
    }
}
