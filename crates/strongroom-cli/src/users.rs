//! `user create|show|list|update|set-password|delete` (also as `ad user …`): user accounts
//! through the server's Graph `users` endpoints, printed as `az ad user …` prints them (Graph's
//! object as it came; a list as the array of its `value`; nothing for update and delete).
//!
//! A password is read from `--password`, `--password-stdin` (the first line of stdin) or the
//! `STRONGROOM_USER_PASSWORD` variable, so it need not be on the command line; it stays a
//! `SecretValue` until it is written into the request body. `--admin` sends Strongroom's own
//! `strongroomAdministrator: true` with the new user (Graph has no such property).

use clap::{ArgAction, Args, Subcommand};
use http::Method;
use serde_json::{Map, Value, json};
use strongroom_model::SecretValue;

use crate::Output;
use crate::error::CliError;
use crate::session::{Audience, SecretJson, Session};

/// The variable a password is read from when neither `--password` nor `--password-stdin` is
/// given.
pub const PASSWORD_ENV: &str = "STRONGROOM_USER_PASSWORD";

/// `strongroom user …` (and `strongroom ad user …`)
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who signs in with a password
    Create(CreateUserArgs),
    /// Show a user
    Show(UserIdArgs),
    /// List users, optionally by user principal name or display name prefix
    List(ListUsersArgs),
    /// Change a user's display name, password or whether the account is enabled
    Update(UpdateUserArgs),
    /// Replace a user's password; tokens obtained with the old one stop working
    SetPassword(SetPasswordArgs),
    /// Delete a user; the user's tokens stop working at once
    Delete(UserIdArgs),
}

/// Where a password comes from.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The password (8-256 characters, three of: lower case, upper case, digits, symbols).
    /// Prefer --password-stdin or STRONGROOM_USER_PASSWORD, which keep it off the command line
    #[arg(long, value_parser = parse_secret, conflicts_with = "password_stdin")]
    pub password: Option<SecretValue>,
    /// Read the password from the first line of stdin
    #[arg(long)]
    pub password_stdin: bool,
}

/// `user create`
#[derive(Debug, Args)]
pub struct CreateUserArgs {
    /// The name shown for the user
    #[arg(long)]
    pub display_name: String,
    /// The sign-in name, `alias@domain`
    #[arg(long, visible_alias = "upn")]
    pub user_principal_name: String,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Mail alias (default: the part of the user principal name before `@`)
    #[arg(long)]
    pub mail_nickname: Option<String>,
    /// Whether the user may sign in
    #[arg(long, action = ArgAction::Set, default_value_t = true)]
    pub account_enabled: bool,
    /// Accepted for `az` compatibility; Strongroom never forces a change
    #[arg(long, action = ArgAction::Set)]
    pub force_change_password_next_sign_in: Option<bool>,
    /// Make the user a deployment administrator (the management API: vaults, principals,
    /// users), as the administrator service principal in admin.json is
    #[arg(long)]
    pub admin: bool,
}

/// `--id ID_OR_UPN`
#[derive(Debug, Args)]
pub struct UserIdArgs {
    /// The user's object id or user principal name
    #[arg(long)]
    pub id: String,
}

/// `user list`
#[derive(Debug, Args)]
pub struct ListUsersArgs {
    /// Only the user with this user principal name
    #[arg(long)]
    pub upn: Option<String>,
    /// Only users whose display name starts with this
    #[arg(long)]
    pub display_name: Option<String>,
    /// A Graph `$filter` (e.g. "accountEnabled eq false")
    #[arg(long)]
    pub filter: Option<String>,
}

/// `user update`
#[derive(Debug, Args)]
pub struct UpdateUserArgs {
    /// The user's object id or user principal name
    #[arg(long)]
    pub id: String,
    /// New display name
    #[arg(long)]
    pub display_name: Option<String>,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Enable or disable sign-in
    #[arg(long, action = ArgAction::Set)]
    pub account_enabled: Option<bool>,
    /// New mail alias (checked as Graph checks it; Strongroom derives it from the name)
    #[arg(long)]
    pub mail_nickname: Option<String>,
    /// Accepted for `az` compatibility; Strongroom never forces a change
    #[arg(long, action = ArgAction::Set)]
    pub force_change_password_next_sign_in: Option<bool>,
}

/// `user set-password`
#[derive(Debug, Args)]
pub struct SetPasswordArgs {
    /// The user's object id or user principal name
    #[arg(long)]
    pub id: String,
    #[command(flatten)]
    pub password: PasswordArgs,
}

fn parse_secret(raw: &str) -> Result<SecretValue, std::convert::Infallible> {
    Ok(SecretValue::new(raw.to_owned()))
}

/// Runs one `user` command.
pub(crate) async fn run(session: &Session, command: UserCommand) -> Result<Output, CliError> {
    let token = session.token(Audience::Management).await?;
    match command {
        UserCommand::Create(args) => {
            let password =
                read_password(args.password)?.ok_or_else(|| missing_password("user create"))?;
            let mut body = json!({
                "accountEnabled": args.account_enabled,
                "displayName": args.display_name,
                "mailNickname": args.mail_nickname.clone().unwrap_or_else(|| {
                    alias(&args.user_principal_name).to_owned()
                }),
                "userPrincipalName": args.user_principal_name,
            });
            body["passwordProfile"] = password_profile(
                &password,
                args.force_change_password_next_sign_in.unwrap_or(false),
            );
            if args.admin {
                body["strongroomAdministrator"] = Value::Bool(true);
            }
            let user = session
                .call_json(Method::POST, &session.endpoints.users(None), &token, &body)
                .await?;
            Ok(Output::Json(user))
        }
        UserCommand::Show(args) => {
            let target = session.endpoints.user(&args.id);
            Ok(Output::Json(
                session.call(Method::GET, &target, &token).await?,
            ))
        }
        UserCommand::List(args) => {
            let target = session.endpoints.users(list_filter(&args).as_deref());
            let users = session.list_all(target, &token).await?;
            Ok(Output::Json(Value::Array(users)))
        }
        UserCommand::Update(args) => {
            let password = read_password(args.password)?;
            let mut body = Map::new();
            if let Some(name) = args.display_name {
                body.insert("displayName".to_owned(), Value::String(name));
            }
            if let Some(enabled) = args.account_enabled {
                body.insert("accountEnabled".to_owned(), Value::Bool(enabled));
            }
            if let Some(nickname) = args.mail_nickname {
                body.insert("mailNickname".to_owned(), Value::String(nickname));
            }
            if let Some(password) = &password {
                let force = args.force_change_password_next_sign_in.unwrap_or(false);
                body.insert(
                    "passwordProfile".to_owned(),
                    password_profile(password, force),
                );
            }
            if body.is_empty() {
                return Err(CliError::Usage(
                    "`user update` needs --display-name, --password (or --password-stdin), \
                     --account-enabled or --mail-nickname"
                        .to_owned(),
                ));
            }
            patch(session, &token, &args.id, &Value::Object(body)).await
        }
        UserCommand::SetPassword(args) => {
            let password = read_password(args.password)?
                .ok_or_else(|| missing_password("user set-password"))?;
            let body = json!({ "passwordProfile": password_profile(&password, false) });
            patch(session, &token, &args.id, &body).await
        }
        UserCommand::Delete(args) => {
            let target = session.endpoints.user(&args.id);
            session.call(Method::DELETE, &target, &token).await?;
            Ok(Output::Nothing)
        }
    }
}

async fn patch(
    session: &Session,
    token: &SecretValue,
    id: &str,
    body: &Value,
) -> Result<Output, CliError> {
    let target = session.endpoints.user(id);
    session
        .call_json(Method::PATCH, &target, token, body)
        .await?;
    Ok(Output::Nothing)
}

/// `{"password": …, "forceChangePasswordNextSignIn": …}`; the password's only way out of its
/// `SecretValue` is into this body.
fn password_profile(password: &SecretValue, force_change: bool) -> Value {
    let password = serde_json::to_value(SecretJson(password)).unwrap_or(Value::Null);
    json!({ "password": password, "forceChangePasswordNextSignIn": force_change })
}

/// The password from `--password`, `--password-stdin` or [`PASSWORD_ENV`], in that order;
/// `None` when none is given.
fn read_password(args: PasswordArgs) -> Result<Option<SecretValue>, CliError> {
    if let Some(password) = args.password {
        return Ok(Some(password));
    }
    if args.password_stdin {
        let line = crate::read_passphrase(None, true).map_err(|source| CliError::ReadFile {
            path: "<stdin>".into(),
            source,
        })?;
        return Ok(line.map(|line| SecretValue::new(line.as_str().to_owned())));
    }
    Ok(std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|value| !value.is_empty())
        .map(SecretValue::new))
}

fn missing_password(command: &str) -> CliError {
    CliError::Usage(format!(
        "`{command}` needs a password: --password P, --password-stdin, or {PASSWORD_ENV}"
    ))
}

/// The part of a user principal name before the `@` (what `az` sends as `mailNickname`).
fn alias(upn: &str) -> &str {
    upn.split_once('@').map_or(upn, |(alias, _)| alias)
}

/// The `$filter` `az ad user list` builds: `userPrincipalName eq 'U'`,
/// `startswith(displayName,'N')` and `--filter`, joined by `and` (quotes doubled, which `az`
/// forgets).
fn list_filter(args: &ListUsersArgs) -> Option<String> {
    let literal = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let clauses: Vec<String> = args
        .filter
        .iter()
        .cloned()
        .chain(
            args.upn
                .iter()
                .map(|upn| format!("userPrincipalName eq {}", literal(upn))),
        )
        .chain(
            args.display_name
                .iter()
                .map(|name| format!("startswith(displayName,{})", literal(name))),
        )
        .collect();
    (!clauses.is_empty()).then(|| clauses.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use expect_test::{Expect, expect};

    #[derive(Debug, Parser)]
    struct TestCli {
        #[command(subcommand)]
        command: UserCommand,
    }

    #[track_caller]
    fn check(args: &str, expect: Expect) {
        let argv = std::iter::once("user").chain(args.split_whitespace());
        let actual = match TestCli::try_parse_from(argv) {
            Ok(cli) => format!("{:?}", cli.command),
            Err(error) => format!("error: {:?}", error.kind()),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn user_commands_parse_and_hide_passwords() {
        check(
            "create --display-name Ann --user-principal-name ann@contoso.com --password Pa55word! --admin",
            expect![[
                r#"Create(CreateUserArgs { display_name: "Ann", user_principal_name: "ann@contoso.com", password: PasswordArgs { password: Some(SecretValue(<redacted>)), password_stdin: false }, mail_nickname: None, account_enabled: true, force_change_password_next_sign_in: None, admin: true })"#
            ]],
        );
        check(
            "create --display-name Ann --upn ann@contoso.com --password-stdin --account-enabled false",
            expect![[
                r#"Create(CreateUserArgs { display_name: "Ann", user_principal_name: "ann@contoso.com", password: PasswordArgs { password: None, password_stdin: true }, mail_nickname: None, account_enabled: false, force_change_password_next_sign_in: None, admin: false })"#
            ]],
        );
        check(
            "create --display-name Ann --upn a@b.c --password x --password-stdin",
            expect![[r#"error: ArgumentConflict"#]],
        );
        check(
            "update --id a@b.c --account-enabled true",
            expect![[
                r#"Update(UpdateUserArgs { id: "a@b.c", display_name: None, password: PasswordArgs { password: None, password_stdin: false }, account_enabled: Some(true), mail_nickname: None, force_change_password_next_sign_in: None })"#
            ]],
        );
        check(
            "set-password --id a@b.c --password P",
            expect![[
                r#"SetPassword(SetPasswordArgs { id: "a@b.c", password: PasswordArgs { password: Some(SecretValue(<redacted>)), password_stdin: false } })"#
            ]],
        );
        check("show", expect![[r#"error: MissingRequiredArgument"#]]);
    }

    #[test]
    fn list_filters_are_what_az_sends_with_quotes_doubled() {
        let args = |upn: Option<&str>, name: Option<&str>, filter: Option<&str>| ListUsersArgs {
            upn: upn.map(str::to_owned),
            display_name: name.map(str::to_owned),
            filter: filter.map(str::to_owned),
        };
        assert_eq!(list_filter(&args(None, None, None)), None);
        assert_eq!(
            list_filter(&args(Some("a@b.c"), Some("O'Brien"), None)).as_deref(),
            Some("userPrincipalName eq 'a@b.c' and startswith(displayName,'O''Brien')")
        );
        assert_eq!(
            list_filter(&args(None, None, Some("accountEnabled eq false"))).as_deref(),
            Some("accountEnabled eq false")
        );
    }

    #[test]
    fn password_profiles_carry_the_password() {
        let profile = password_profile(&SecretValue::new("Pa55word!".to_owned()), false);
        assert_eq!(
            profile,
            json!({"password": "Pa55word!", "forceChangePasswordNextSignIn": false})
        );
        assert_eq!(alias("ann@contoso.com"), "ann");
    }
}
